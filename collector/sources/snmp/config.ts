// The snmp source's config schema, defaults beside it. Documented in docs/sources/snmp.md.
import { z } from 'zod';
import { durationSchema } from '../../../common/config-schema.js';
import { isValidLabelName, isValidMetricName } from '../../../proto/index.js';
import { BUILT_IN_SERIES } from './oids.js';

const NUMERIC_OID = /^\.?[0-9]+(\.[0-9]+)+$/;
const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::([0-9]{1,5}))?$/;

/** `host`, `host:port`, `[v6]` or `[v6]:port` split; undefined when it is none of those. */
export function parseTarget(target: string): { host: string; port: number; ipv6: boolean } | undefined {
  const m = HOST_PORT.exec(target);
  if (m === null) return undefined;
  const port = m[3] === undefined ? 161 : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  return m[1] !== undefined ? { host: m[1], port, ipv6: true } : { host: m[2]!, port, ipv6: false };
}

/** Password-to-key localization (RFC 3414 §A.2) needs at least 8 characters. */
const passphrase = z.string().min(8, 'expected a passphrase of at least 8 characters (RFC 3414)');

const v3Schema = z.strictObject({
  user: z.string().min(1),
  level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']),
  authProtocol: z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']).optional(),
  authKey: passphrase.optional(),
  /** A file holding the auth passphrase (trailing newline ignored), read at every collection. */
  authKeyFile: z.string().min(1).optional(),
  privProtocol: z.enum(['des', 'aes', 'aes256b', 'aes256r']).optional(),
  privKey: passphrase.optional(),
  privKeyFile: z.string().min(1).optional(),
  /** SNMPv3 context name; default empty. */
  context: z.string().default(''),
});

const extraOidSchema = z.strictObject({
  /** The metric name of the series. */
  name: z.string().refine(isValidMetricName, 'expected a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)'),
  /** A numeric OID including the instance, e.g. 1.3.6.1.4.1.9.9.25.1.1.1.2.5 or ....0 for a scalar. */
  oid: z.string().regex(NUMERIC_OID, 'expected a numeric OID such as 1.3.6.1.2.1.1.1.0').transform((o) => o.replace(/^\./, '')),
  type: z.enum(['string', 'float']),
  /** Extra labels on this series (besides `target`). */
  labels: z.record(z.string(), z.string()).superRefine((r, ctx) => {
    for (const k of Object.keys(r)) {
      if (!isValidLabelName(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected a valid label name, found ${JSON.stringify(k)}` });
    }
  }).default({}),
});

export const snmpConfigSchema = z.strictObject({
  kind: z.literal('snmp'),
  name: z.string().min(1),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  /** `host`, `host:port`, `[v6]:port`; default port 161. */
  target: z.string().refine((t) => parseTarget(t) !== undefined, 'expected host, host:port or [ipv6]:port with a port in 1..65535'),
  version: z.enum(['2c', '3']).default('2c'),
  /** v2c community. */
  community: z.string().min(1).optional(),
  /** A file holding the v2c community (trailing newline ignored), read at every collection. */
  communityFile: z.string().min(1).optional(),
  v3: v3Schema.optional(),
  oids: z.array(extraOidSchema).default([]),
  walkEntity: z.boolean().default(true),
  walkInterfaces: z.boolean().default(true),
  /** Re-sends of a request that got no answer, within the deadline. */
  retries: z.number().int().min(0).max(10).default(1),
  /** Rows read at most per walked table (ENTITY-MIB, IF-MIB); the rest is left out with a warning. */
  maxRows: z.number().int().min(1).max(100_000).default(1000),
}).superRefine((c, ctx) => {
  const issue = (path: (string | number)[], message: string): void => { ctx.addIssue({ code: 'custom', path, message }); };
  if (c.version === '2c') {
    if ((c.community === undefined) === (c.communityFile === undefined)) {
      issue(['community'], 'expected exactly one of community or communityFile for version 2c');
    }
    if (c.v3 !== undefined) issue(['v3'], 'expected no v3 block for version 2c (set version: "3")');
  } else {
    if (c.v3 === undefined) issue(['v3'], 'expected a v3 block (user, level, keys) for version 3');
    if (c.community !== undefined || c.communityFile !== undefined) issue(['community'], 'expected no community for version 3');
    const v3 = c.v3;
    if (v3 !== undefined) {
      const needAuth = v3.level !== 'noAuthNoPriv';
      const needPriv = v3.level === 'authPriv';
      const check = (what: 'auth' | 'priv', need: boolean): void => {
        const proto = v3[`${what}Protocol`];
        const key = v3[`${what}Key`];
        const file = v3[`${what}KeyFile`];
        if (need) {
          if (proto === undefined) issue(['v3', `${what}Protocol`], `expected ${what}Protocol for level ${v3.level}`);
          if ((key === undefined) === (file === undefined)) issue(['v3', `${what}Key`], `expected exactly one of ${what}Key or ${what}KeyFile for level ${v3.level}`);
        } else if (proto !== undefined || key !== undefined || file !== undefined) {
          issue(['v3', `${what}Protocol`], `expected no ${what} settings for level ${v3.level}`);
        }
      };
      check('auth', needAuth);
      check('priv', needPriv);
    }
  }
  const names = new Map<string, number>();
  c.oids.forEach((o, i) => {
    const key = `${o.name}${JSON.stringify(Object.entries(o.labels).sort())}`;
    if (names.has(key)) issue(['oids', i, 'name'], `expected each name and label set once, found ${o.name} again (oids[${names.get(key)}])`);
    names.set(key, i);
    if (BUILT_IN_SERIES.has(o.name)) issue(['oids', i, 'name'], `expected a name of your own, found ${o.name}, which the source produces itself`);
    if ('target' in o.labels) issue(['oids', i, 'labels', 'target'], 'expected no target label: the source sets it');
  });
});

/** The snmp source's config, defaults applied, durations in ms. */
export type SnmpConfig = z.output<typeof snmpConfigSchema>;

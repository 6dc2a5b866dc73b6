// The snmp source: routers, switches and gateways over SNMP v2c or v3 (docs/sources/snmp.md).
import { readFile } from 'node:fs/promises';
import snmp from 'net-snmp';
import type { User } from 'net-snmp';
import { SourceError, SourceErrorCode, collectionBudget } from '../errors.js';
import type { Source, SourceDeps } from '../source.js';
import { openSnmpClient, type SnmpClientOptions } from './client.js';
import { collectSnmp, type SnmpState } from './collect.js';
import { parseTarget, type SnmpConfig } from './config.js';

export { snmpConfigSchema, type SnmpConfig } from './config.js';

async function readSecret(path: string, what: string, target: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'an error';
    throw new SourceError(SourceErrorCode.Failed, `expected a readable ${what} file at ${path}, found ${code}`, { where: target, cause: err });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new SourceError(SourceErrorCode.Failed, `expected a ${what} in ${path}, found an empty file`, { where: target });
  return secret;
}

async function credentials(config: SnmpConfig): Promise<SnmpClientOptions['credentials']> {
  if (config.version === '2c') {
    const community = config.community ?? await readSecret(config.communityFile!, 'community', config.target);
    return { version: '2c', community };
  }
  const v3 = config.v3!;
  const user: User = { name: v3.user, level: snmp.SecurityLevel[v3.level]! };
  if (v3.level !== 'noAuthNoPriv') {
    user.authProtocol = snmp.AuthProtocols[v3.authProtocol!];
    user.authKey = v3.authKey ?? await readSecret(v3.authKeyFile!, 'authKey', config.target);
  }
  if (v3.level === 'authPriv') {
    user.privProtocol = snmp.PrivProtocols[v3.privProtocol!];
    user.privKey = v3.privKey ?? await readSecret(v3.privKeyFile!, 'privKey', config.target);
  }
  return { version: '3', user, context: v3.context };
}

/**
 * An snmp source for a config parsed by `snmpConfigSchema`. Each `collect` opens one UDP session
 * (key files are read again, so rotated secrets apply), reads the system group, the extra OIDs
 * and the ENTITY-MIB and IF-MIB walks within `min(ctx.deadline, now + timeout)`, and closes it.
 * Rejects with a SourceError: DW_SOURCE_TIMEOUT when no answer came (over UDP that is also what
 * a down agent or a wrong v2c community looks like), DW_SOURCE_PERMISSION_DENIED for a refused
 * SNMPv3 user or an authorizationError, DW_SOURCE_BAD_RESPONSE for undecodable or mistyped
 * answers, DW_SOURCE_UNREACHABLE when the host does not resolve or has no route. The source
 * remembers the last sysUpTime to report a `reboot` event; it holds no socket between collections.
 */
export function createSnmpSource(config: SnmpConfig, deps: SourceDeps): Source {
  const target = parseTarget(config.target);
  if (target === undefined) throw new TypeError(`snmp source ${config.name}: expected a target host[:port], found ${JSON.stringify(config.target)}`);
  const state: SnmpState = {};
  return {
    name: config.name,
    kind: 'snmp',
    async collect(ctx) {
      const { deadline, budgetMs } = collectionBudget(ctx, config.timeout, `collect from ${config.target}`, config.target);
      const client = openSnmpClient({
        ...target,
        target: config.target,
        retries: config.retries,
        budgetMs,
        signal: ctx.signal,
        deadlinePassed: () => ctx.now() >= deadline,
        credentials: await credentials(config),
      });
      try {
        return await collectSnmp(client, config, ctx.roundTime, state, deps.logger);
      } finally {
        client.close();
      }
    },
  };
}

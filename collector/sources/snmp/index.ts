// The snmp source: routers, switches and gateways over SNMP v2c or v3 (docs/sources/snmp.md).
// net-snmp costs about 6 MiB of RSS to load, so it is loaded on the first collection of a
// configured snmp source (./session.ts), never by importing this module or its config schema.
import { errorMessage } from '../../../common/errors.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { Source, SourceDeps } from '../source.js';
import type { SnmpState } from './collect.js';
import { parseTarget, type SnmpConfig } from './config.js';
import type { collectOnce } from './session.js';

export { snmpConfigSchema, type SnmpConfig } from './config.js';

/**
 * An snmp source for a config parsed by `snmpConfigSchema`. Each `collect` opens one UDP session
 * (key files are read again, so rotated secrets apply), reads the system group, the extra OIDs
 * and the ENTITY-MIB and IF-MIB walks within `min(ctx.deadline, now + timeout)`, and closes it.
 * Rejects with a SourceError: DW_SOURCE_TIMEOUT when no answer came (over UDP that is also what
 * a down agent or a wrong v2c community looks like), DW_SOURCE_PERMISSION_DENIED for a refused
 * SNMPv3 user or an authorizationError, DW_SOURCE_BAD_RESPONSE for undecodable or mistyped
 * answers, DW_SOURCE_UNREACHABLE when the host does not resolve or has no route. The source
 * remembers the last sysUpTime to report a `reboot` event; it holds no socket between collections.
 * net-snmp is loaded on the first `collect` (DW_SOURCE_FAILED when it cannot be, retried next time).
 */
export function createSnmpSource(config: SnmpConfig, deps: SourceDeps): Source {
  const target = parseTarget(config.target);
  if (target === undefined) throw new TypeError(`snmp source ${config.name}: expected a target host[:port], found ${JSON.stringify(config.target)}`);
  const state: SnmpState = {};
  let session: Promise<typeof collectOnce> | undefined;
  return {
    name: config.name,
    kind: 'snmp',
    async collect(ctx) {
      session ??= import('./session.js').then(
        (m) => m.collectOnce,
        (err: unknown) => {
          session = undefined;
          throw new SourceError(SourceErrorCode.Failed, `cannot load net-snmp for snmp source ${config.name}: ${errorMessage(err)}`, { where: config.target, cause: err });
        },
      );
      return (await session)(config, target, ctx, state, deps.logger);
    },
  };
}

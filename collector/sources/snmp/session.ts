// One SNMP collection: read the credentials, open a session, collect, close. Loaded by the
// snmp source on its first collection, so that net-snmp is loaded only when an snmp source is
// configured (index.ts).
import { readFile } from 'node:fs/promises';
import snmp from 'net-snmp';
import type { User } from 'net-snmp';
import { SourceError, SourceErrorCode, collectionBudget } from '../errors.js';
import type { CollectContext, SourceLogger, SourceResult } from '../source.js';
import { openSnmpClient, type SnmpClientOptions } from './client.js';
import { collectSnmp, type SnmpState } from './collect.js';
import type { SnmpConfig } from './config.js';

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

/** One collection from `config.target` within the context's deadline; see createSnmpSource. */
export async function collectOnce(
  config: SnmpConfig, target: { host: string; port: number; ipv6: boolean }, ctx: CollectContext, state: SnmpState, logger: SourceLogger,
): Promise<SourceResult> {
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
    return await collectSnmp(client, config, ctx.roundTime, state, logger);
  } finally {
    client.close();
  }
}

// `driftwatch aggregator credentials add|list|revoke`: the site credentials file. `add` makes a
// random token for a site, stores only its SHA-256 and prints the token once (on stdout alone,
// so a script can capture it); the notes go to stderr. See docs/security.md.
import { addCredential, AggregatorError, AggregatorErrorCode, keyId, loadCredentials, revokeCredential } from '../aggregator/index.js';
import { DriftwatchError } from '../common/errors.js';
import type { CliIo } from './cli.js';

const USAGE = `usage: driftwatch aggregator credentials add --site ID --credentials FILE
       driftwatch aggregator credentials list --credentials FILE
       driftwatch aggregator credentials revoke --site ID --key KEYID --credentials FILE`;

function usageError(found: string): DriftwatchError {
  return new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.replace(/^usage: /, '').replace(/\n\s+/g, ' | ')}, found ${found}`);
}

function options(args: readonly string[], allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i]!);
    if (m === null || !allowed.includes(m[1]!)) throw usageError(JSON.stringify(args[i]));
    const value = m[2] ?? args[++i];
    if (value === undefined || value === '') throw usageError(`${args[i - 1] ?? args[i]} without a value`);
    if (m[1]! in out) throw usageError(`--${m[1]} given twice`);
    out[m[1]!] = value;
  }
  for (const name of allowed) if (out[name] === undefined) throw usageError(`no --${name}`);
  return out;
}

/** The `aggregator credentials` command. Throws DW_CLI_USAGE or DW_AGGREGATOR_CREDENTIALS_* (exit 2). */
export async function credentialsCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.stdout.write(`${USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action === 'add') {
    const o = options(rest, ['site', 'credentials']);
    const { token, keyId: key } = await addCredential(o.credentials!, o.site!, new Date());
    io.stderr.write(`site ${o.site}: new token, key id ${key}, its SHA-256 added to ${o.credentials}.\n`
      + 'Give the token to the site\'s agent now (shipping.tokenFile or DRIFTWATCH_TOKEN); it is not stored and cannot be shown again.\n'
      + 'A running aggregator picks it up on SIGHUP.\n');
    io.stdout.write(`${token}\n`);
    return 0;
  }
  if (action === 'list') {
    const o = options(rest, ['credentials']);
    const creds = await loadCredentials(o.credentials!);
    for (const [site, entries] of creds.sites) {
      for (const e of entries) io.stdout.write(`${site}\t${keyId(e.sha256)}\t${e.created ?? '-'}\n`);
    }
    return 0;
  }
  if (action === 'revoke') {
    const o = options(rest, ['site', 'key', 'credentials']);
    if (!/^[0-9a-f]{6,64}$/i.test(o.key!)) throw usageError(`--key ${JSON.stringify(o.key)} (expected a key id of at least 6 hex digits, as list shows)`);
    const removed = await revokeCredential(o.credentials!, o.site!, o.key!);
    if (removed === 0) {
      throw new AggregatorError(AggregatorErrorCode.CredentialsInvalid, `expected a token of site ${o.site} with key id ${o.key} in ${o.credentials}, found none`);
    }
    io.stderr.write(`site ${o.site}: ${removed} token${removed === 1 ? '' : 's'} revoked; a running aggregator drops ${removed === 1 ? 'it' : 'them'} on SIGHUP.\n`);
    return 0;
  }
  throw usageError(JSON.stringify(action));
}

// Site credentials: each site's bearer token(s), stored as SHA-256 hashes only. The file maps
// site id → a list of { sha256, created }; a site may hold several tokens at once (rotation).
// `driftwatch aggregator credentials add` creates a token, stores its hash and prints the token
// once. See docs/security.md.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { configErrorMap, formatPath, problemsOf } from '../../common/config-issues.js';
import { describeReadError } from '../../common/config-load.js';
import { writeFileDurably } from '../../common/durable-file.js';
import { errorMessage } from '../../common/errors.js';
import { isValidSiteId } from '../../common/site-id.js';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';

/** The credentials file's layout version. */
export const CREDENTIALS_VERSION = 1;
/** The prefix of every token, so a leaked one is recognisable (secret scanners). */
export const TOKEN_PREFIX = 'dwt_';

/** One accepted token of a site: its SHA-256 (hex) and when it was made. */
export interface CredentialEntry {
  readonly sha256: string;
  readonly created: string | undefined;
}

/** Which site each token hash belongs to. */
export interface Credentials {
  /** The site of a token, or undefined when the token is unknown. */
  siteOf(token: string): string | undefined;
  /** Sites and their entries, sorted by site. */
  readonly sites: ReadonlyMap<string, readonly CredentialEntry[]>;
}

/** SHA-256 of a token (its UTF-8 bytes), lowercase hex: what the file stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: `dwt_` and 32 random bytes in base64url (43 characters). */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The short id of a credential, as `credentials list` shows it: the first 12 hex digits of its hash. */
export function keyId(sha256: string): string {
  return sha256.slice(0, 12);
}

const entrySchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: (iss) => `expected a SHA-256 as 64 lowercase hex digits (never the token itself), found ${JSON.stringify(iss.input)}` }),
  created: z.string().optional(),
});

const fileSchema = z.strictObject({
  version: z.literal(CREDENTIALS_VERSION),
  sites: z.record(
    z.string().refine(isValidSiteId, { error: 'expected a site id of letters, digits, ".", "_" and "-" starting with a letter or digit' }),
    z.array(entrySchema),
  ).default({}),
});

/** Credentials from a site → hashes map (for in-process use and tests). */
export function credentialsFromHashes(sites: Readonly<Record<string, readonly (string | CredentialEntry)[]>>): Credentials {
  const map = new Map<string, CredentialEntry[]>();
  for (const site of Object.keys(sites).sort()) {
    map.set(site, sites[site]!.map((e) => (typeof e === 'string' ? { sha256: e, created: undefined } : e)));
  }
  return build(map);
}

function build(sites: Map<string, CredentialEntry[]>): Credentials {
  const byHash = new Map<string, string>();
  for (const [site, entries] of sites) for (const e of entries) byHash.set(e.sha256, site);
  return {
    sites,
    siteOf: (token) => byHash.get(hashToken(token)),
  };
}

function invalid(file: string, problems: string[]): AggregatorError {
  return new AggregatorError(AggregatorErrorCode.CredentialsInvalid,
    `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, { problems });
}

/**
 * Parses a credentials file's text. Throws DW_AGGREGATOR_CREDENTIALS_INVALID listing every
 * problem: YAML errors, unknown keys, bad site ids or hashes, one hash under two sites.
 */
export function parseCredentials(text: string, file: string): Credentials {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true }) ?? {};
  } catch (err) {
    throw invalid(file, [`expected valid YAML, found a syntax error: ${errorMessage(err).split('\n')[0]}`]);
  }
  const parsed = fileSchema.safeParse(raw, { error: configErrorMap });
  if (!parsed.success) throw invalid(file, problemsOf(parsed.error).map((p) => `${formatPath(p.path)}: ${p.message}`));
  const sites = new Map<string, CredentialEntry[]>();
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const site of Object.keys(parsed.data.sites).sort()) {
    const entries = parsed.data.sites[site]!.map((e) => ({ sha256: e.sha256, created: e.created }));
    entries.forEach((e, i) => {
      const other = seen.get(e.sha256);
      if (other !== undefined && other !== site) problems.push(`sites.${site}.${i}.sha256: expected a hash no other site has, found the hash of ${other} again`);
      seen.set(e.sha256, site);
    });
    sites.set(site, entries);
  }
  if (problems.length > 0) throw invalid(file, problems);
  return build(sites);
}

/** Reads and parses a credentials file. Throws DW_AGGREGATOR_CREDENTIALS_UNREADABLE or _INVALID. */
export async function loadCredentials(file: string): Promise<Credentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.CredentialsUnreadable, `expected a readable credentials file at ${file}, found ${describeReadError(err)}`, { cause: err });
  }
  return parseCredentials(text, file);
}

/** The file's text for `sites`. */
export function formatCredentials(sites: ReadonlyMap<string, readonly CredentialEntry[]>): string {
  const body: Record<string, { sha256: string; created?: string }[]> = {};
  for (const site of [...sites.keys()].sort()) {
    body[site] = sites.get(site)!.map((e) => (e.created === undefined ? { sha256: e.sha256 } : { sha256: e.sha256, created: e.created }));
  }
  return '# driftwatch aggregator site credentials (docs/security.md).\n'
    + '# Each site id maps to the SHA-256 of its bearer tokens; the tokens themselves are never stored.\n'
    + stringify({ version: CREDENTIALS_VERSION, sites: body });
}

/** Writes `text` to `file` durably: a temporary file, fsync, rename, fsync of the directory. Mode 0600. */

async function readForUpdate(file: string): Promise<Map<string, CredentialEntry[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new AggregatorError(AggregatorErrorCode.CredentialsUnreadable, `expected a readable credentials file at ${file}, found ${describeReadError(err)}`, { cause: err });
  }
  const creds = parseCredentials(text, file);
  return new Map([...creds.sites].map(([s, e]) => [s, [...e]]));
}

/**
 * Adds a new token for `site` to the credentials file (created when missing), keeping the site's
 * other tokens, and returns the token — the only time it exists outside the agent. Throws
 * DW_AGGREGATOR_CREDENTIALS_INVALID for a bad site id or file, _UNREADABLE when it cannot be
 * read or written.
 */
export async function addCredential(file: string, site: string, now: Date): Promise<{ token: string; keyId: string }> {
  if (!isValidSiteId(site)) throw invalid(file, [`site: expected a site id of letters, digits, ".", "_" and "-" starting with a letter or digit, found ${JSON.stringify(site)}`]);
  const sites = await readForUpdate(file);
  const token = newToken();
  const sha256 = hashToken(token);
  sites.set(site, [...(sites.get(site) ?? []), { sha256, created: now.toISOString() }]);
  try {
    await writeFileDurably(file, formatCredentials(sites));
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.CredentialsUnreadable, `expected to write the credentials file ${file}, found ${describeReadError(err)}`, { cause: err });
  }
  return { token, keyId: keyId(sha256) };
}

/**
 * Removes the tokens of `site` whose key id (hash prefix) starts with `key`; resolves to how
 * many were removed (0: none matched, the file is unchanged).
 */
export async function revokeCredential(file: string, site: string, key: string): Promise<number> {
  const sites = await readForUpdate(file);
  const entries = sites.get(site) ?? [];
  const kept = entries.filter((e) => !e.sha256.startsWith(key.toLowerCase()));
  const removed = entries.length - kept.length;
  if (removed === 0) return 0;
  if (kept.length === 0) sites.delete(site);
  else sites.set(site, kept);
  try {
    await writeFileDurably(file, formatCredentials(sites));
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.CredentialsUnreadable, `expected to write the credentials file ${file}, found ${describeReadError(err)}`, { cause: err });
  }
  return removed;
}

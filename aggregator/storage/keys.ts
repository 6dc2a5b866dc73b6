// The key layout of the aggregator's level store (docs/aggregator.md, "Data directory"). Keys
// are ASCII strings; each kind of record has its own prefix so that a range scan reads one kind.
// Site ids never contain "!" (common/site-id.ts), so "!" separates the parts.

/** The store's own record: layout version and creation time (JSON). */
export const META_KEY = 'meta';

export const BLOCK_PREFIX = 'b!';
export const BLOCK_META_PREFIX = 'm!';
export const ARRIVAL_PREFIX = 'a!';
export const PARTIAL_PREFIX = 'p!';
export const CHUNK_PREFIX = 'c!';
export const SITE_PREFIX = 's!';
export const HISTORY_PREFIX = 'h!';
export const KNOWN_SITE_PREFIX = 'k!';
export const LABELS_PREFIX = 'l!';

// '~' sorts after every character that follows a prefix (site ids, Crockford base32, hex, '!').
const END = '~';

/** The iterator range of every key under `prefix`. */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix + END };
}

/** A time or offset as 14 hex digits: key order is numeric order for every safe integer >= 0. */
export function hex14(n: number): string {
  return n.toString(16).padStart(14, '0');
}

/** A block's bytes: `b!<site>!<ULID>`. */
export function blockKey(site: string, id: string): string {
  return `${BLOCK_PREFIX}${site}!${id}`;
}

/** A block's BlockMeta (JSON): `m!<site>!<ULID>`. */
export function blockMetaKey(site: string, id: string): string {
  return `${BLOCK_META_PREFIX}${site}!${id}`;
}

/** The arrival index (empty value): `a!<arrivedAt:14 hex>!<site>!<ULID>`, key order is arrival order. */
export function arrivalKey(arrivedAt: number, site: string, id: string): string {
  return `${ARRIVAL_PREFIX}${hex14(arrivedAt)}!${site}!${id}`;
}

/** Site and block id of an arrival key. */
export function parseArrivalKey(key: string): { arrivedAt: number; site: string; id: string } {
  const rest = key.slice(ARRIVAL_PREFIX.length);
  const site = rest.slice(15, rest.lastIndexOf('!'));
  return { arrivedAt: parseInt(rest.slice(0, 14), 16), site, id: rest.slice(rest.lastIndexOf('!') + 1) };
}

/** A partial upload's target and times (JSON): `p!<site>!<ULID>`. */
export function partialKey(site: string, id: string): string {
  return `${PARTIAL_PREFIX}${site}!${id}`;
}

/** One chunk of a partial upload: `c!<site>!<ULID>!<offset:14 hex>`. */
export function chunkKey(site: string, id: string, offset: number): string {
  return `${CHUNK_PREFIX}${site}!${id}!${hex14(offset)}`;
}

/** The prefix of every chunk of one partial upload. */
export function chunkPrefix(site: string, id: string): string {
  return `${CHUNK_PREFIX}${site}!${id}!`;
}

/** A site's contact record (JSON): `s!<site>`. */
export function siteKey(site: string): string {
  return `${SITE_PREFIX}${site}`;
}

/** A known site (JSON: when it was first seen): `k!<site>`, written with its first block or contact. */
export function knownSiteKey(site: string): string {
  return `${KNOWN_SITE_PREFIX}${site}`;
}

/** A contact history record (JSON): `h!<site>!<at:14 hex>!<n:8 hex>`. */
export function historyKey(site: string, at: number, n: number): string {
  return `${HISTORY_PREFIX}${site}!${hex14(at)}!${n.toString(16).padStart(8, '0')}`;
}

/** The prefix of a site's history records. */
export function historyPrefix(site: string): string {
  return `${HISTORY_PREFIX}${site}!`;
}

/** A change of a site's labels (JSON): `l!<site>!<arrivedAt:14 hex>!<n:8 hex>`, key order is arrival order. */
export function labelsKey(site: string, arrivedAt: number, n: number): string {
  return `${LABELS_PREFIX}${site}!${hex14(arrivedAt)}!${n.toString(16).padStart(8, '0')}`;
}

/** Splits `<site>!<id>` (the rest of a b!/m!/p! key after its prefix). */
export function splitSiteId(rest: string): { site: string; id: string } {
  const i = rest.lastIndexOf('!');
  return { site: rest.slice(0, i), id: rest.slice(i + 1) };
}

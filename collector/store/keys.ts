// The store's key layout (docs/store.md, "Key layout"). Keys are ASCII strings; each kind of
// record has its own prefix so that a range scan reads one kind only.

/** The store's own record: layout version, site, next block sequence, counters (JSON). */
export const META_KEY = 'meta';

/** Prefixes of the record kinds; see the key table in docs/store.md. */
export const SERIES_PREFIX = 's!';
export const HEAD_PREFIX = 'h!';
export const BLOCK_PREFIX = 'b!';
export const BLOCK_INFO_PREFIX = 'i!';
export const EVENT_PREFIX = 'e!';
export const QUARANTINE_BLOCK_PREFIX = 'q!b!';
export const QUARANTINE_INFO_PREFIX = 'q!i!';
export const QUARANTINE_HEAD_PREFIX = 'q!h!';
export const QUARANTINE_META_KEY = 'q!meta';

// '~' sorts after every character used after a prefix (hex digits, Crockford base32, '!').
const END = '~';

/** The iterator range of every key under `prefix`. */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix + END };
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** A series definition: `s!<ref as 8 hex digits>`. */
export function seriesDefKey(ref: number): string {
  return SERIES_PREFIX + hex(ref, 8);
}

/** A head round: `h!<t as 14 hex digits>`, so key order is time order (2^53 needs 14 digits). */
export function headRoundKey(t: number): string {
  return HEAD_PREFIX + hex(t, 14);
}

/** The round time in a head round key. */
export function headRoundTime(key: string): number {
  return parseInt(key.slice(HEAD_PREFIX.length), 16);
}

/** The encoded bytes of a sealed block: `b!<ULID>`. */
export function blockKey(id: string): string {
  return BLOCK_PREFIX + id;
}

/** A sealed block's metadata (JSON): `i!<ULID>`. */
export function blockInfoKey(id: string): string {
  return BLOCK_INFO_PREFIX + id;
}

/** An event waiting for the next sealed block (JSON): `e!<number as 12 hex digits>`. */
export function pendingEventKey(n: number): string {
  return EVENT_PREFIX + hex(n, 12);
}

/** A quarantined block's bytes: `q!b!<ULID>`. */
export function quarantineBlockKey(id: string): string {
  return QUARANTINE_BLOCK_PREFIX + id;
}

/** Why a block was quarantined (JSON): `q!i!<ULID>`. */
export function quarantineInfoKey(id: string): string {
  return QUARANTINE_INFO_PREFIX + id;
}

/** A quarantined head round record: `q!h!<t as 14 hex digits>`. */
export function quarantineHeadKey(t: number): string {
  return QUARANTINE_HEAD_PREFIX + hex(t, 14);
}

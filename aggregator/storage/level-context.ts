// What the level storage's modules share: the database, the group commit, the per-block and
// per-site locks, and the in-memory indexes that mirror the disk (changed only after a write is
// durable, or, for partial uploads, written).
import type { Level } from 'level';
import { parseUlid } from '../../common/ulid.js';
import { isValidSiteId } from '../../common/site-id.js';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import type { GroupCommit } from './group-commit.js';
import type { KeyedLock } from './keyed-lock.js';
import type { ContactHistoryRecord, SiteContact, SiteLabels } from './storage.js';

/** The database: string keys, binary values. */
export type StorageDb = Level<string, Uint8Array>;

/** A partial upload as the storage tracks it. */
export interface PartialState {
  readonly size: number;
  readonly sha256: string;
  readonly startedAt: number;
  updatedAt: number;
  /** Bytes held from 0 without gaps. */
  offset: number;
  /** Offsets of the chunk records, ascending. */
  readonly chunks: number[];
}

/** The last history records of a site, for thinning (loaded on first use). */
export interface HistoryTail {
  last: ContactHistoryRecord | undefined;
  lastHeartbeat: ContactHistoryRecord | undefined;
  /** A counter that keeps keys of records with the same arrival time apart. */
  n: number;
}

/** A site's label history as the storage tracks it. */
export interface SiteLabelsState {
  readonly records: SiteLabels[];
  /** The counter of the next key (keeps keys of records with the same arrival time apart). */
  n: number;
}

/** Reports a problem the storage handled (a corrupt record skipped). */
export type StorageWarning = (fields: Record<string, unknown>, message: string) => void;

export interface LevelContext {
  readonly db: StorageDb;
  readonly group: GroupCommit;
  /** Serialises every operation on one block (`<site>!<id>`) and on one site's contact (`site:<site>`). */
  readonly locks: KeyedLock;
  /** Partial uploads by `<site>!<id>`. */
  readonly partials: Map<string, PartialState>;
  /** Known sites and when they were first seen. */
  readonly sites: Map<string, number>;
  readonly contacts: Map<string, SiteContact>;
  readonly history: Map<string, HistoryTail>;
  /** Every site's label history, oldest first (changes are rare: all of it is held in memory). */
  readonly labels: Map<string, SiteLabelsState>;
  /** Arrival times of putBlock, recordSiteLabels and recordContact calls not yet settled, with their counts. */
  readonly pendingArrivals: Map<number, number>;
  readonly warn: StorageWarning;
}

/** The in-memory key of one block. */
export function blockRef(site: string, id: string): string {
  return `${site}!${id}`;
}

/** Throws DW_AGGREGATOR_STORE_INVALID_ARGUMENT unless `site` is a valid site id. */
export function checkSite(site: string): void {
  if (typeof site !== 'string' || !isValidSiteId(site)) {
    throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, `expected a site id of letters, digits, ".", "_" and "-", found ${JSON.stringify(site)}`);
  }
}

/** Throws DW_AGGREGATOR_STORE_INVALID_ARGUMENT unless `site` and `id` (ULID text, upper case) are valid. */
export function checkBlock(site: string, id: string): void {
  checkSite(site);
  if (typeof id !== 'string' || id.length !== 26 || id !== id.toUpperCase() || parseUlid(id) === undefined) {
    throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, `expected a block id as 26 upper-case ULID characters, found ${JSON.stringify(id)}`);
  }
}

/** Throws DW_AGGREGATOR_STORE_INVALID_ARGUMENT unless `v` is a safe integer >= 0. */
export function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, `expected ${name} to be a whole number >= 0, found ${v}`);
  }
}

import { decodeJsonRecord, encodeJsonRecord, isObject } from './json-record.js';
// The store's own record under `meta`: layout version, site, the next block sequence and the
// lifetime counters that stats() reports. Rewritten only in the batches that seal, compact,
// drop or quarantine, never per round.

/** The layout version of the keys and records in docs/store.md. */
export const STORE_FORMAT = 1;

/** Lifetime counters reported by `stats().totals`; see docs/store.md, Stats. */
export interface StoreCounters {
  blocksSealed: number;
  compactions: number;
  blocksCompacted: number;
  shippedBlocksDeleted: number;
  unshippedBlocksDropped: number;
  roundsDropped: number;
  blocksQuarantined: number;
  headRoundsQuarantined: number;
  clockStepBacks: number;
}

/** The `meta` record. */
export interface StoreMeta {
  format: number;
  siteId: string;
  createdAt: number;
  nextSequence: number;
  /**
   * The store's own id (ULID text), made when the store was created (or when a store from before
   * it existed is opened): blocks carry it, and seal indexes count per store id.
   */
  storeId?: string;
  /** The seal index the next block sealed from the head gets: 1, 2, 3, … without gaps. */
  nextSealIndex?: number;
  counters: StoreCounters;
}

/** Counters of a new store: all 0. */
export function newCounters(): StoreCounters {
  return {
    blocksSealed: 0, compactions: 0, blocksCompacted: 0, shippedBlocksDeleted: 0, unshippedBlocksDropped: 0,
    roundsDropped: 0, blocksQuarantined: 0, headRoundsQuarantined: 0, clockStepBacks: 0,
  };
}

/** The stored (JSON) form of the meta record. */
export function encodeStoreMeta(meta: StoreMeta): Uint8Array {
  return encodeJsonRecord(meta);
}

function isStoreMeta(v: unknown): v is StoreMeta {
  return isObject(v) && typeof v.format === 'number' && typeof v.siteId === 'string' && Number.isSafeInteger(v.nextSequence) && isObject(v.counters);
}

/** Parses the meta record; undefined when it is not one (the store then rebuilds it). */
export function decodeStoreMeta(bytes: Uint8Array): StoreMeta | undefined {
  const m = decodeJsonRecord(bytes, isStoreMeta);
  if (m === undefined) return undefined;
  return { ...m, counters: { ...newCounters(), ...m.counters } };
}

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
  counters: StoreCounters;
}

/** Counters of a new store: all 0. */
export function newCounters(): StoreCounters {
  return {
    blocksSealed: 0, compactions: 0, blocksCompacted: 0, shippedBlocksDeleted: 0, unshippedBlocksDropped: 0,
    roundsDropped: 0, blocksQuarantined: 0, headRoundsQuarantined: 0, clockStepBacks: 0,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The stored (JSON) form of the meta record. */
export function encodeStoreMeta(meta: StoreMeta): Uint8Array {
  return encoder.encode(JSON.stringify(meta));
}

/** Parses the meta record; undefined when it is not one (the store then rebuilds it). */
export function decodeStoreMeta(bytes: Uint8Array): StoreMeta | undefined {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  const m = v as StoreMeta;
  if (typeof m !== 'object' || m === null || typeof m.format !== 'number' || typeof m.siteId !== 'string'
    || !Number.isSafeInteger(m.nextSequence) || typeof m.counters !== 'object' || m.counters === null) return undefined;
  return { ...m, counters: { ...newCounters(), ...m.counters } };
}

// The part of the edge store the shipper uses, declared here so that shipper/ does not import
// collector/ (the agent's EdgeStore matches it structurally; cmd/ passes one in). See
// docs/store.md, "The shipper's API".

/** What the shipper reads of a sealed block's info. */
export interface ShipperBlockInfo {
  /** The block id: a ULID in its 26-character text form. */
  readonly id: string;
  /** The header's time range, ms since the epoch, inclusive. */
  readonly minT: number;
  readonly maxT: number;
  /** Strictly increasing per site over every block the store seals or compacts. */
  readonly sequence: number;
  /** Encoded size in bytes. */
  readonly bytes: number;
  readonly shipped: boolean;
}

/** Where a block id is when it is not a live block. */
export type ShipperBlockElsewhere =
  | { readonly status: 'replaced'; readonly by: string }
  | { readonly status: 'quarantined'; readonly code: string; readonly reason: string }
  | { readonly status: 'unknown' };

/** `readBlock`: the verified bytes, or where the id went. */
export type ShipperReadResult =
  | { readonly status: 'ok'; readonly info: ShipperBlockInfo; readonly bytes: Uint8Array }
  | ShipperBlockElsewhere;

/** `markShipped`: recorded (synced) or already recorded, or where the id went (a no-op). */
export type ShipperMarkResult = { readonly status: 'marked' | 'already_shipped' } | ShipperBlockElsewhere;

/** The store's backlog figures the heartbeat and the metrics report. */
export interface ShipperStoreStats {
  readonly unshippedBlocks: number;
  readonly unshippedBytes: number;
  readonly oldestUnshippedMinT: number | undefined;
}

/**
 * The edge store as the shipper sees it. Operations may interleave with the collector's appends,
 * seals and compactions; `pin` keeps a block from being compacted or deleted until `unpin`.
 */
export interface ShipperStore {
  /** Unshipped blocks; `oldest-first` by minT then sequence, `newest-first` its exact reverse. */
  listUnshipped(options: { readonly order: 'newest-first' | 'oldest-first' }): Promise<readonly ShipperBlockInfo[]>;
  /** Resolves false, pinning nothing, when `id` is no longer live. */
  pin(id: string): Promise<boolean>;
  /** Releases one pin; never throws. */
  unpin(id: string): void;
  /** The block's bytes after a full decode; a block that fails is quarantined and reported so. */
  readBlock(id: string): Promise<ShipperReadResult>;
  /** Records durably that the center holds `id`. Idempotent. */
  markShipped(id: string): Promise<ShipperMarkResult>;
  /** Synchronous and cheap. */
  stats(): ShipperStoreStats;
}

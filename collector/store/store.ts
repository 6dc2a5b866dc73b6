// The edge store: one LevelDB directory per site holding the head (recent rounds as delta
// records) and sealed blocks waiting to be shipped. Every operation runs in one serial queue,
// so a seal, a compaction and a read never interleave. See docs/store.md.
import type { BlockEvent, Round } from '../../proto/index.js';
import { compareOldestFirst, type BlockInfo } from './block-info.js';
import { compactBlocks, type CompactionResult } from './compact.js';
import type { StoreContext } from './context.js';
import { StoreError, StoreErrorCode } from './errors.js';
import { appendToHead } from './head-append.js';
import { replayHead } from './head-replay.js';
import { HeadState } from './head-state.js';
import { freshMeta, loadIndexes, openDb, readMeta, settleMeta } from './open.js';
import { resolveStoreOptions, type EdgeStoreOptions } from './options.js';
import { appendPendingEvents } from './append-events.js';
import { enforceRetention, storedBytes } from './retention.js';
import { sealHead } from './seal.js';
import { SerialQueue } from './serial-queue.js';
import {
  listUnshippedBlocks, markBlockShipped, readBlockBytes, type ListOrder, type MarkShippedResult, type ReadBlockResult,
} from './shipping.js';
import type { StoreCounters } from './store-meta.js';

/** A point-in-time view of the store for logs, metrics and tests. */
export interface EdgeStoreStats {
  /** Rounds in the head (appended, not yet sealed). */
  readonly headRounds: number;
  /** Stored bytes of the head: its round records and the series definitions they use (kept across seals). */
  readonly headBytes: number;
  /** Of headBytes, the series definitions. */
  readonly seriesDefBytes: number;
  readonly headMinT: number | undefined;
  readonly headMaxT: number | undefined;
  /** Series in the head's last round. */
  readonly headSeries: number;
  /** Live sealed blocks (quarantined ones not included). */
  readonly blocks: number;
  readonly unshippedBlocks: number;
  readonly shippedBlocks: number;
  readonly pinnedBlocks: number;
  readonly unshippedBytes: number;
  readonly oldestUnshippedMinT: number | undefined;
  /** Logical bytes held: blocks, quarantined blocks, head records. Retention keeps it within diskBudget. */
  readonly storedBytes: number;
  readonly diskBudget: number;
  /** Blocks in quarantine now. */
  readonly quarantinedBlocks: number;
  /** data_dropped (and other store) events waiting for the next sealed block. */
  readonly pendingEvents: number;
  readonly nextSequence: number;
  /** Lifetime counters, kept across restarts. */
  readonly totals: Readonly<StoreCounters>;
}

/** The options of `listUnshipped`. */
export interface ListUnshippedOptions {
  /** Default 'oldest-first' (minT, then sequence); 'newest-first' is its exact reverse. */
  readonly order?: ListOrder;
}

/**
 * An open edge store. Every method except `close` rejects with DW_STORE_CLOSED once `close` was
 * called. Operations run one at a time in call order.
 */
export interface EdgeStore {
  /** The site this store belongs to. */
  readonly siteId: string;
  /**
   * Appends one round, durably: resolves after one synced batch holding the round's delta record
   * (and new series definitions). Seals the head first when the round reaches the head's aligned
   * block end, steps back in time (t ≤ the last round's t; the blocks then overlap in time) or
   * changes a series' type; resolves to that block's info, else undefined. Throws
   * DW_STORE_INVALID_ROUND (nothing written) for a round that cannot be stored.
   */
  appendRound(round: Round): Promise<BlockInfo | undefined>;
  /**
   * Stores events that belong to no round (the agent stopping between rounds), durably: resolves
   * after one synced batch holding them as pending events. The next sealed block takes them with
   * their own times (`flush` seals them at once, with the head). Throws DW_STORE_INVALID_EVENTS
   * (nothing written) when one cannot be stored; an empty list writes nothing.
   */
  appendEvents(events: readonly BlockEvent[]): Promise<void>;
  /**
   * Seals the head and any pending events into a block now (for shutdown, and for the shipper on
   * reconnect), then applies retention. Resolves to the sealed block, or undefined when there
   * was nothing to seal.
   */
  flush(): Promise<BlockInfo | undefined>;
  /** Seals the head when the clock has passed its aligned block end; else does nothing. */
  sealIfDue(): Promise<BlockInfo | undefined>;
  /**
   * Merges consecutive unshipped, unpinned, non-overlapping blocks inside each aligned
   * compaction window that is entirely in the past (by the clock, and before the head), then
   * applies retention. Inputs that fail to decode are quarantined and their run left for later.
   */
  compact(): Promise<CompactionResult>;
  /** Infos of the unshipped blocks in upload order (default oldest first). Never quarantined ones. */
  listUnshipped(options?: ListUnshippedOptions): Promise<BlockInfo[]>;
  /** Infos of every live block, shipped or not, oldest first. */
  listBlocks(): Promise<BlockInfo[]>;
  /**
   * The encoded bytes of block `id`, verified by a full decode first. A block that fails is
   * quarantined and reported as such; an id compacted away reports the block holding it now.
   */
  readBlock(id: string): Promise<ReadBlockResult>;
  /**
   * Records (synced) that the center holds block `id`. Idempotent: `already_shipped` the second
   * time; `replaced`, `quarantined` or `unknown` (a no-op) for an id that is no longer live.
   */
  markShipped(id: string): Promise<MarkShippedResult>;
  /**
   * Keeps block `id` from being compacted or deleted by retention until `unpin` (pins count up;
   * they last for the process only). Resolves false, pinning nothing, when `id` is not live.
   */
  pin(id: string): Promise<boolean>;
  /** Releases one pin of `id`. Unpinning an unpinned or unknown id does nothing. Never throws after close. */
  unpin(id: string): void;
  /** A copy of the head's rounds, oldest first (row form, made on each call; samples in no particular order). */
  headRounds(): Round[];
  stats(): EdgeStoreStats;
  /** Waits for queued operations, then closes the database. Idempotent. */
  close(): Promise<void>;
}

class LevelEdgeStore implements EdgeStore {
  readonly #ctx: StoreContext;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  get siteId(): string {
    return this.#ctx.meta.siteId;
  }

  #open(): void {
    if (this.#closed) throw new StoreError(StoreErrorCode.Closed, 'expected an open store, found it closed', this.#ctx.opts.dir);
  }

  #run<T>(task: (ctx: StoreContext) => Promise<T>): Promise<T> {
    try {
      this.#open();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#queue.run(() => task(this.#ctx));
  }

  appendRound(round: Round): Promise<BlockInfo | undefined> {
    return this.#run(async (ctx) => {
      const sealed = await appendToHead(ctx, round);
      if (sealed !== undefined) await enforceRetention(ctx);
      return sealed;
    });
  }

  appendEvents(events: readonly BlockEvent[]): Promise<void> {
    return this.#run((ctx) => appendPendingEvents(ctx, events));
  }

  flush(): Promise<BlockInfo | undefined> {
    return this.#run(async (ctx) => {
      const sealed = await sealHead(ctx, 'flush');
      await enforceRetention(ctx);
      return sealed;
    });
  }

  sealIfDue(): Promise<BlockInfo | undefined> {
    return this.#run(async (ctx) => {
      const end = ctx.head.endT;
      if (end === undefined || ctx.opts.clock.now() < end) return undefined;
      const sealed = await sealHead(ctx, 'due');
      await enforceRetention(ctx);
      return sealed;
    });
  }

  compact(): Promise<CompactionResult> {
    return this.#run(async (ctx) => {
      const result = await compactBlocks(ctx);
      await enforceRetention(ctx);
      return result;
    });
  }

  listUnshipped(options: ListUnshippedOptions = {}): Promise<BlockInfo[]> {
    return this.#run(async (ctx) => listUnshippedBlocks(ctx, options.order ?? 'oldest-first'));
  }

  listBlocks(): Promise<BlockInfo[]> {
    return this.#run(async (ctx) => [...ctx.blocks.values()].sort(compareOldestFirst));
  }

  readBlock(id: string): Promise<ReadBlockResult> {
    return this.#run((ctx) => readBlockBytes(ctx, id));
  }

  markShipped(id: string): Promise<MarkShippedResult> {
    return this.#run((ctx) => markBlockShipped(ctx, id));
  }

  pin(id: string): Promise<boolean> {
    return this.#run(async (ctx) => {
      if (!ctx.blocks.has(id)) return false;
      ctx.pins.set(id, (ctx.pins.get(id) ?? 0) + 1);
      return true;
    });
  }

  unpin(id: string): void {
    const n = this.#ctx.pins.get(id);
    if (n === undefined) return;
    if (n <= 1) this.#ctx.pins.delete(id);
    else this.#ctx.pins.set(id, n - 1);
  }

  headRounds(): Round[] {
    this.#open();
    return this.#ctx.head.rows();
  }

  stats(): EdgeStoreStats {
    this.#open();
    const ctx = this.#ctx;
    let unshippedBlocks = 0;
    let unshippedBytes = 0;
    let oldestUnshippedMinT: number | undefined;
    for (const b of ctx.blocks.values()) {
      if (b.shipped) continue;
      unshippedBlocks += 1;
      unshippedBytes += b.bytes;
      if (oldestUnshippedMinT === undefined || b.minT < oldestUnshippedMinT) oldestUnshippedMinT = b.minT;
    }
    return {
      headRounds: ctx.head.roundCount,
      headBytes: ctx.head.bytes,
      seriesDefBytes: ctx.head.defBytes,
      headMinT: ctx.head.firstT,
      headMaxT: ctx.head.lastT,
      headSeries: ctx.head.lastSeries,
      blocks: ctx.blocks.size,
      unshippedBlocks,
      shippedBlocks: ctx.blocks.size - unshippedBlocks,
      pinnedBlocks: [...ctx.pins.keys()].filter((id) => ctx.blocks.has(id)).length,
      unshippedBytes,
      oldestUnshippedMinT,
      storedBytes: storedBytes(ctx),
      diskBudget: ctx.opts.diskBudget,
      quarantinedBlocks: ctx.quarantined.size,
      pendingEvents: ctx.pendingEvents.length,
      nextSequence: ctx.meta.nextSequence,
      totals: { ...ctx.meta.counters },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.idle();
    if (this.#ctx.opts.db === undefined) await this.#ctx.db.close(); // a given database is its owner's to close
  }
}

/**
 * Opens (creating when missing) the edge store in `options.dir` and replays its head. Throws
 * DW_STORE_INVALID_OPTIONS (every problem listed), DW_STORE_LOCKED when another process holds
 * the directory, DW_STORE_SITE_MISMATCH for another site's store, DW_STORE_UNSUPPORTED_VERSION,
 * or DW_STORE_OPEN_FAILED. Corrupt records found while opening are quarantined, not fatal.
 */
export async function openEdgeStore(options: EdgeStoreOptions): Promise<EdgeStore> {
  const opts = resolveStoreOptions(options);
  // Without a site id only an existing store can be opened: create nothing.
  const db = opts.db ?? await openDb(opts.dir, opts.siteId !== undefined);
  try {
    const found = await readMeta(db, opts.siteId, opts.dir);
    const siteId = opts.siteId ?? (found.kind === 'ok' ? found.meta.siteId : undefined);
    if (siteId === undefined) {
      throw new StoreError(StoreErrorCode.InvalidOptions, `edge store options: siteId: expected a site id to ${found.kind === 'missing' ? 'create a new store' : 'open a store whose meta record is unreadable'}, found none`, opts.dir);
    }
    const ctx: StoreContext = {
      db, opts: { ...opts, siteId },
      meta: found.kind === 'ok' ? found.meta : freshMeta(siteId, opts.clock.now()),
      head: new HeadState(opts.blockDuration),
      blocks: new Map(),
      replacedBy: new Map(),
      quarantined: new Map(),
      pins: new Map(),
      pendingEvents: [],
      nextEventSeq: 1,
      lastAppendedT: undefined,
    };
    await loadIndexes(ctx);
    await settleMeta(ctx, found);
    await replayHead(ctx);
    let lastT = ctx.head.lastT;
    if (lastT === undefined) for (const b of ctx.blocks.values()) if (b.numRounds > 0 && (lastT === undefined || b.maxT > lastT)) lastT = b.maxT;
    ctx.lastAppendedT = lastT;
    return new LevelEdgeStore(ctx);
  } catch (err) {
    if (opts.db === undefined) await db.close().catch(() => undefined);
    throw err;
  }
}

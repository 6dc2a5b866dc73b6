// Keeping the merge index up to date from the storage, and rebuilding it (`driftwatch aggregator
// reindex`): the stored blocks are the source of truth, read in arrival order.
import type { AggregatorStorage, BlockMeta } from '../storage/index.js';
import { FleetIndex, type FleetIndexOptions } from './merge-index.js';

/** What a catch-up did. */
export interface CatchUpResult {
  /** Blocks read and given to the index (duplicates and skipped ones included). */
  readonly blocks: number;
  /** The index's watermark afterwards (`indexedThrough`). */
  readonly indexedThrough: number;
}

export interface CatchUpOptions {
  /** The current time on the aggregator's clock: nothing past it is indexed. */
  readonly now: number;
  /** Blocks read ahead of the one being indexed. Default 16. */
  readonly readAhead?: number;
  /** Block records listed at once (about: a batch ends between two arrival times). Default 10,000. */
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
}

/** The part of the storage the index reads blocks through. */
export type BlockSource = Pick<AggregatorStorage, 'listBlocks' | 'readBlock' | 'oldestPendingArrival'>;

function byArrival(a: BlockMeta, b: BlockMeta): number {
  return a.arrivedAt - b.arrivedAt || (a.site < b.site ? -1 : a.site > b.site ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The next batch of block records after `after` (up to `cut`), sorted by arrival, then site and
 * id. When the storage lists in arrival order (the level storage reads its arrival index), a batch
 * stops at the first arrival time past `maxBatch` records, so a reindex never holds every record at
 * once; `through` is then the last arrival time the batch holds completely. Otherwise it is
 * everything, through `cut`.
 */
async function nextBatch(storage: BlockSource, after: number, cut: number, maxBatch: number): Promise<{ metas: BlockMeta[]; through: number }> {
  const metas: BlockMeta[] = [];
  let ordered = true;
  let last = -Infinity;
  const it = storage.listBlocks(undefined, { arrivedAfter: after, arrivedBy: cut })[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      const m = r.value;
      if (m.arrivedAt < last) ordered = false;
      if (ordered && metas.length >= maxBatch && m.arrivedAt > last) {
        metas.sort(byArrival);
        return { metas, through: last };
      }
      last = Math.max(last, m.arrivedAt);
      metas.push(m);
    }
  } finally {
    await it.return?.();
  }
  metas.sort(byArrival);
  return { metas, through: cut };
}

/**
 * Indexes every block that arrived after the index's watermark, up to a cut that can no longer
 * change: `now`, or just before the storage's oldest pending arrival (a block stamped but not yet
 * durable). Blocks are indexed in arrival order, then by site and id, in batches of about
 * `maxBatch` records (see nextBatch). Advances the watermark to the cut, and on the way to just
 * before each new arrival time (every block that arrived earlier is indexed by then). `signal` is
 * checked there only, so an aborted catch-up leaves the index whole at its watermark (a
 * snapshot can be taken of it). Rejects with the abort reason or the storage's errors
 * (DW_AGGREGATOR_STORE_CLOSED…), the watermark then before the arrival time in progress; a block
 * that cannot be read or decoded is skipped with a warning, counted by the index.
 */
export async function catchUp(index: FleetIndex, storage: BlockSource, options: CatchUpOptions): Promise<CatchUpResult> {
  const pending = storage.oldestPendingArrival();
  const cut = pending === undefined ? options.now : Math.min(options.now, pending - 1);
  if (cut <= index.indexedThrough) return { blocks: 0, indexedThrough: index.indexedThrough };
  const ahead = Math.max(1, options.readAhead ?? 16);
  let blocks = 0;
  for (;;) {
    const { metas, through } = await nextBatch(storage, index.indexedThrough, cut, Math.max(1, options.maxBatch ?? 10_000));
    const reads: Promise<Uint8Array | undefined>[] = [];
    const start = (i: number): void => {
      if (i >= metas.length) return;
      const p = storage.readBlock(metas[i]!.site, metas[i]!.id);
      p.catch(() => undefined); // handled where it is awaited; a read ahead must not be an unhandled rejection
      reads[i] = p;
    };
    for (let i = 0; i < ahead; i++) start(i);
    for (let i = 0; i < metas.length; i++) {
      const meta = metas[i]!;
      if (i === 0 || meta.arrivedAt !== metas[i - 1]!.arrivedAt) {
        index.markIndexedThrough(meta.arrivedAt - 1);
        options.signal?.throwIfAborted();
      }
      const bytes = await reads[i]!;
      delete reads[i];
      start(i + ahead);
      if (bytes === undefined) index.countSkipped(meta, 'listed but its bytes are not held');
      else index.addBlockBytes(meta, bytes);
    }
    blocks += metas.length;
    index.markIndexedThrough(through);
    if (through >= cut) break;
  }
  return { blocks, indexedThrough: cut };
}

/** What a reindex did and how long it took. */
export interface ReindexResult extends CatchUpResult {
  readonly sites: number;
  readonly elapsedMs: number;
}

/**
 * Rebuilds a merge index from every block stored (what `driftwatch aggregator reindex` runs):
 * the same blocks give the same index whatever order they were stored in. `elapsed` is measured
 * with performance.now().
 */
export async function reindex(storage: BlockSource, options: CatchUpOptions & FleetIndexOptions): Promise<{ index: FleetIndex; result: ReindexResult }> {
  const started = performance.now();
  const index = new FleetIndex(options);
  const r = await catchUp(index, storage, options);
  return { index, result: { ...r, sites: index.sites().length, elapsedMs: performance.now() - started } };
}

// The state every store module works on: the database, the options, and the in-memory indexes
// that mirror what is on disk. Modules change the in-memory state only after their batch is
// durable, so it always matches the disk between two operations.
import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level';
import { parseUlid } from '../../common/ulid.js';
import type { BlockEvent } from '../../proto/index.js';
import type { BlockInfo } from './block-info.js';
import type { HeadState } from './head-state.js';
import type { ResolvedStoreOptions } from './options.js';
import { META_KEY } from './keys.js';
import { encodeStoreMeta, type StoreMeta } from './store-meta.js';

/**
 * The store's database: string keys, binary values. Its own LevelDB (`Level`), or a sublevel of
 * a database shared by many stores (the fleet simulator's).
 */
export type StoreDb = AbstractLevel<string | Buffer | Uint8Array, string, Uint8Array>;

/** One operation of an atomic batch. */
export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** A block moved to the quarantine prefix: why, and what was known of it. */
export interface QuarantinedBlock {
  readonly id: string;
  readonly reason: string;
  /** The decoder's error code (DW_BLOCK_*), or a store reason such as "missing_bytes". */
  readonly code: string;
  readonly quarantinedAt: number;
  /** Bytes still kept under the quarantine prefix (0 when there were none). */
  readonly bytes: number;
  readonly info?: BlockInfo;
}

/** An event stored under `e!` until the next sealed block takes it. */
export interface PendingEvent {
  readonly key: string;
  readonly event: BlockEvent;
  /** Given to appendEvents: keeps its own time in the sealed block (the store's own events are moved into the rounds' range). */
  readonly appended?: boolean;
}

/** Everything a store module needs; one per open store, used only inside its serial queue. */
export interface StoreContext {
  readonly db: StoreDb;
  readonly opts: ResolvedStoreOptions & { readonly siteId: string };
  meta: StoreMeta;
  readonly head: HeadState;
  /** Sealed blocks by id (quarantined ones are not here). */
  readonly blocks: Map<string, BlockInfo>;
  /** For every id a live compacted block replaces: that block's id. */
  readonly replacedBy: Map<string, string>;
  readonly quarantined: Map<string, QuarantinedBlock>;
  /** Pin counts by block id (in memory only: a pin does not outlive the process). */
  readonly pins: Map<string, number>;
  pendingEvents: PendingEvent[];
  nextEventSeq: number;
  /** The latest round time appended or replayed, for noticing clock steps after a seal. */
  lastAppendedT: number | undefined;
}

/** Writes `ops` as one atomic batch and waits for fsync (unless the store was opened with `syncWrites: false`). */
export async function writeBatch(ctx: StoreContext, ops: BatchOp[]): Promise<void> {
  // `sync` is classic-level's (LevelDB's) batch option; a sublevel hands it to its LevelDB.
  await ctx.db.batch(ops, { sync: ctx.opts.syncWrites } as AbstractBatchOptions<string, Uint8Array>);
}

/** The op that stores `meta`. */
export function metaOp(meta: StoreMeta): BatchOp {
  return { type: 'put', key: META_KEY, value: encodeStoreMeta(meta) };
}

/** A copy of the meta with counters changed by `change`, for the next batch. */
export function nextMeta(ctx: StoreContext, change: (m: StoreMeta) => void): StoreMeta {
  const m: StoreMeta = { ...ctx.meta, counters: { ...ctx.meta.counters } };
  change(m);
  return m;
}

/** Reports a warning; a throwing handler never breaks the store. */
export function warn(ctx: StoreContext, fields: Record<string, unknown>, message: string): void {
  try {
    ctx.opts.onWarning({ site: ctx.opts.siteId, ...fields }, message);
  } catch {
    // The warning handler is the caller's; its failure is not the store's.
  }
}

/** Indexes a live block: it is the replacement of every id it lists. */
export function addBlock(ctx: StoreContext, info: BlockInfo): void {
  ctx.blocks.set(info.id, info);
  for (const id of info.replaces) ctx.replacedBy.set(id, info.id);
}

/** Forgets a live block and the replacement entries that point to it. */
export function removeBlock(ctx: StoreContext, id: string): void {
  const info = ctx.blocks.get(id);
  ctx.blocks.delete(id);
  if (info !== undefined) for (const r of info.replaces) if (ctx.replacedBy.get(r) === id) ctx.replacedBy.delete(r);
}

/** The header fields that tie a block to this store's seal-index chain. */
export function sealIdentity(ctx: StoreContext, sealRanges: readonly number[]): { sealRanges: readonly number[]; storeId?: Uint8Array } {
  const storeId = ctx.meta.storeId === undefined ? undefined : parseUlid(ctx.meta.storeId);
  return storeId === undefined ? { sealRanges } : { sealRanges, storeId };
}

/**
 * Labels for a data_dropped event about `blocks`: which seal indexes went (`seal_ranges`, e.g.
 * `3-17,20-20`) and of which store, so the center can tell a dropped block from a missing one.
 */
export function droppedSealLabels(ctx: StoreContext, ranges: readonly number[]): Record<string, string> {
  if (ranges.length === 0) return {};
  const parts: string[] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) parts.push(`${ranges[i]!}-${ranges[i + 1]!}`);
  return { seal_ranges: parts.join(','), ...(ctx.meta.storeId === undefined ? {} : { store_id: ctx.meta.storeId }) };
}

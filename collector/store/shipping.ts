// The shipper's side of the store: list unshipped blocks, pin one, read it, mark it shipped.
import { compareOldestFirst, encodeBlockInfo, type BlockInfo } from './block-info.js';
import { writeBatch, type StoreContext } from './context.js';
import { blockInfoKey } from './keys.js';
import { readVerifiedBlock } from './verify.js';

/** Upload order: `newest-first` is exactly the reverse of `oldest-first` (minT, then sequence). */
export type ListOrder = 'newest-first' | 'oldest-first';

/** Where a block id is when it is not a live block. */
export type BlockElsewhere =
  /** Compacted into the live block `by`, which holds its data. */
  | { readonly status: 'replaced'; readonly by: string }
  /** Found corrupt and moved to quarantine. */
  | { readonly status: 'quarantined'; readonly code: string; readonly reason: string }
  /** Never known, or deleted by retention. */
  | { readonly status: 'unknown' };

/** What `readBlock` finds: the verified bytes, or where the id went. */
export type ReadBlockResult = { readonly status: 'ok'; readonly info: BlockInfo; readonly bytes: Uint8Array } | BlockElsewhere;

/** What `markShipped` did: `marked` (synced) or `already_shipped`, or where the id went (a no-op). */
export type MarkShippedResult = { readonly status: 'marked' | 'already_shipped'; readonly info: BlockInfo } | BlockElsewhere;

/** Where `id` went, for an id that is not a live block. */
export function whereIs(ctx: StoreContext, id: string): BlockElsewhere {
  const by = ctx.replacedBy.get(id);
  if (by !== undefined) return { status: 'replaced', by };
  const q = ctx.quarantined.get(id);
  if (q !== undefined) return { status: 'quarantined', code: q.code, reason: q.reason };
  return { status: 'unknown' };
}

/** Unshipped blocks in upload order. */
export function listUnshippedBlocks(ctx: StoreContext, order: ListOrder): BlockInfo[] {
  const list = [...ctx.blocks.values()].filter((b) => !b.shipped).sort(compareOldestFirst);
  return order === 'newest-first' ? list.reverse() : list;
}

/** Reads and fully decodes block `id`; a block that fails is quarantined and reported so. */
export async function readBlockBytes(ctx: StoreContext, id: string): Promise<ReadBlockResult> {
  const info = ctx.blocks.get(id);
  if (info === undefined) return whereIs(ctx, id);
  const read = await readVerifiedBlock(ctx, info);
  return read === undefined ? whereIs(ctx, id) : { status: 'ok', info, bytes: read.bytes };
}

/** Records that the center holds block `id` (synced). Idempotent. */
export async function markBlockShipped(ctx: StoreContext, id: string): Promise<MarkShippedResult> {
  const info = ctx.blocks.get(id);
  if (info === undefined) return whereIs(ctx, id);
  if (info.shipped) return { status: 'already_shipped', info };
  const next: BlockInfo = { ...info, shipped: true };
  await writeBatch(ctx, [{ type: 'put', key: blockInfoKey(id), value: encodeBlockInfo(next) }]);
  ctx.blocks.set(id, next);
  return { status: 'marked', info: next };
}

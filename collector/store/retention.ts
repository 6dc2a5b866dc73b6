// Retention by disk budget: shipped blocks go first (oldest first), then quarantined ones, and
// only then unshipped blocks (oldest first), whose loss is recorded as a data_dropped event that
// the next sealed block carries to the center. Pinned blocks are never deleted.
import { compareOldestFirst, type BlockInfo } from './block-info.js';
import { droppedSealLabels, metaOp, nextMeta, removeBlock, warn, writeBatch, type BatchOp, type QuarantinedBlock, type StoreContext } from './context.js';
import { unionSealRanges } from '../../proto/index.js';
import { droppedEvent, pendingEventOp } from './events.js';
import { blockInfoKey, blockKey, quarantineBlockKey, quarantineInfoKey } from './keys.js';

/** What one retention pass deletes, in order. */
export interface RetentionPlan {
  readonly deleteShipped: readonly BlockInfo[];
  readonly deleteQuarantined: readonly QuarantinedBlock[];
  readonly dropUnshipped: readonly BlockInfo[];
  /** Stored bytes once the plan is carried out (may still exceed the budget). */
  readonly bytesAfter: number;
}

/** Logical stored bytes: blocks, quarantined blocks and head records. */
export function storedBytes(ctx: StoreContext): number {
  let total = ctx.head.bytes;
  for (const b of ctx.blocks.values()) total += b.bytes;
  for (const q of ctx.quarantined.values()) total += q.bytes;
  return total;
}

/** What to delete to get `blocks`, `quarantined` and `otherBytes` within `budget`. Pure. */
export function planRetention(input: {
  blocks: readonly BlockInfo[];
  quarantined: readonly QuarantinedBlock[];
  otherBytes: number;
  budget: number;
  isPinned: (id: string) => boolean;
}): RetentionPlan {
  let total = input.otherBytes;
  for (const b of input.blocks) total += b.bytes;
  for (const q of input.quarantined) total += q.bytes;
  const deleteShipped: BlockInfo[] = [];
  const deleteQuarantined: QuarantinedBlock[] = [];
  const dropUnshipped: BlockInfo[] = [];
  const byAge = [...input.blocks].filter((b) => !input.isPinned(b.id)).sort(compareOldestFirst);
  for (const b of byAge) {
    if (total <= input.budget) break;
    if (!b.shipped) continue;
    deleteShipped.push(b);
    total -= b.bytes;
  }
  const quarantined = [...input.quarantined].sort((a, b) => (a.info?.minT ?? a.quarantinedAt) - (b.info?.minT ?? b.quarantinedAt));
  for (const q of quarantined) {
    if (total <= input.budget) break;
    deleteQuarantined.push(q);
    total -= q.bytes;
  }
  for (const b of byAge) {
    if (total <= input.budget) break;
    if (b.shipped) continue;
    dropUnshipped.push(b);
    total -= b.bytes;
  }
  return { deleteShipped, deleteQuarantined, dropUnshipped, bytesAfter: total };
}

/** Result of one retention pass. */
export interface RetentionResult {
  readonly shippedDeleted: number;
  readonly quarantinedDeleted: number;
  readonly unshippedDropped: number;
  readonly roundsDropped: number;
  readonly storedBytes: number;
}

/** Carries out the retention plan in one synced batch. A no-op within the budget. */
export async function enforceRetention(ctx: StoreContext): Promise<RetentionResult> {
  const plan = planRetention({
    blocks: [...ctx.blocks.values()],
    quarantined: [...ctx.quarantined.values()],
    otherBytes: ctx.head.bytes,
    budget: ctx.opts.diskBudget,
    isPinned: (id) => (ctx.pins.get(id) ?? 0) > 0,
  });
  const nothing = plan.deleteShipped.length + plan.deleteQuarantined.length + plan.dropUnshipped.length === 0;
  if (nothing) {
    if (plan.bytesAfter > ctx.opts.diskBudget) {
      warn(ctx, { storedBytes: plan.bytesAfter, budget: ctx.opts.diskBudget }, 'over the disk budget with nothing deletable (pinned blocks or the head): retrying after the next seal');
    }
    return { shippedDeleted: 0, quarantinedDeleted: 0, unshippedDropped: 0, roundsDropped: 0, storedBytes: plan.bytesAfter };
  }
  const ops: BatchOp[] = [];
  for (const b of [...plan.deleteShipped, ...plan.dropUnshipped]) {
    ops.push({ type: 'del', key: blockKey(b.id) }, { type: 'del', key: blockInfoKey(b.id) });
  }
  for (const q of plan.deleteQuarantined) {
    ops.push({ type: 'del', key: quarantineBlockKey(q.id) }, { type: 'del', key: quarantineInfoKey(q.id) });
  }
  const rounds = plan.dropUnshipped.reduce((n, b) => n + b.numRounds, 0);
  let event: ReturnType<typeof pendingEventOp> | undefined;
  if (plan.dropUnshipped.length > 0) {
    const minT = Math.min(...plan.dropUnshipped.map((b) => Math.min(b.minT, b.droppedRangeMinT ?? b.minT)));
    const maxT = Math.max(...plan.dropUnshipped.map((b) => b.maxT));
    const bytes = plan.dropUnshipped.reduce((n, b) => n + b.bytes, 0);
    event = pendingEventOp(ctx, droppedEvent(ctx.opts.clock.now(), 'disk_budget', minT, maxT, rounds,
      `dropped ${plan.dropUnshipped.length} unshipped block(s), ${bytes} bytes, to stay within the disk budget of ${ctx.opts.diskBudget} bytes`,
      droppedSealLabels(ctx, unionSealRanges(...plan.dropUnshipped.flatMap((b) => [b.sealRanges, b.droppedSealRanges])))));
    ops.push(event.op);
  }
  const meta = nextMeta(ctx, (m) => {
    m.counters.shippedBlocksDeleted += plan.deleteShipped.length;
    m.counters.unshippedBlocksDropped += plan.dropUnshipped.length;
    m.counters.roundsDropped += rounds;
  });
  ops.push(metaOp(meta));
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  for (const b of [...plan.deleteShipped, ...plan.dropUnshipped]) removeBlock(ctx, b.id);
  for (const q of plan.deleteQuarantined) ctx.quarantined.delete(q.id);
  if (event !== undefined) {
    ctx.pendingEvents.push(event.pending);
    warn(ctx, { blocks: plan.dropUnshipped.length, rounds, minT: event.pending.event.rangeMinT, maxT: event.pending.event.rangeMaxT, budget: ctx.opts.diskBudget },
      'disk budget exceeded: dropped the oldest unshipped blocks and recorded a data_dropped event');
  }
  if (plan.bytesAfter > ctx.opts.diskBudget) {
    warn(ctx, { storedBytes: plan.bytesAfter, budget: ctx.opts.diskBudget }, 'still over the disk budget: the rest is pinned or in the head; retrying after the next seal');
  }
  return {
    shippedDeleted: plan.deleteShipped.length, quarantinedDeleted: plan.deleteQuarantined.length,
    unshippedDropped: plan.dropUnshipped.length, roundsDropped: rounds, storedBytes: plan.bytesAfter,
  };
}

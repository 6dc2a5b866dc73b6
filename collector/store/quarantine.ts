// Quarantine: corrupt local data is moved under the `q!` prefix, counted and skipped, never
// used and never fatal. An unshipped block or head rounds lost this way leave a data_dropped
// event for the next sealed block, so the gap is explained at the center.
import { unionSealRanges } from '../../proto/index.js';
import { parseUlid, ulidTime } from '../../common/ulid.js';
import type { BlockInfo } from './block-info.js';
import { droppedSealLabels, metaOp, nextMeta, removeBlock, warn, writeBatch, type BatchOp, type QuarantinedBlock, type StoreContext } from './context.js';
import { droppedEvent, pendingEventOp, type DropReason } from './events.js';
import {
  blockInfoKey, blockKey, HEAD_PREFIX, headRoundKey, headRoundTime, prefixRange, quarantineBlockKey, quarantineHeadKey, quarantineInfoKey,
} from './keys.js';
import { decodeJsonRecord, encodeJsonRecord, isObject } from './json-record.js';


/** The stored (JSON) form of a quarantine record. */
export function encodeQuarantined(q: QuarantinedBlock): Uint8Array {
  return encodeJsonRecord(q);
}

/** Parses a quarantine record; undefined when it is not one. */
export function decodeQuarantined(bytes: Uint8Array): QuarantinedBlock | undefined {
  return decodeJsonRecord(bytes, (q): q is QuarantinedBlock => isObject(q) && typeof q.id === 'string' && typeof q.bytes === 'number');
}

/**
 * Moves block `id` under the quarantine prefix with `code` and `reason`. The block is a live one,
 * or, with `orphan`, one whose info record was unreadable (its range is then unknown). Returns
 * false when there was nothing to quarantine.
 */
export async function quarantineBlock(ctx: StoreContext, id: string, code: string, reason: string, orphan = false): Promise<boolean> {
  const info: BlockInfo | undefined = ctx.blocks.get(id);
  if (info === undefined && !orphan) return false;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await ctx.db.get(blockKey(id));
  } catch {
    bytes = undefined; // unreadable: nothing to keep
  }
  const now = ctx.opts.clock.now();
  const q: QuarantinedBlock = { id, reason, code, quarantinedAt: now, bytes: bytes?.length ?? 0, ...(info === undefined ? {} : { info }) };
  const ops: BatchOp[] = [
    { type: 'del', key: blockKey(id) },
    { type: 'del', key: blockInfoKey(id) },
    { type: 'put', key: quarantineInfoKey(id), value: encodeQuarantined(q) },
  ];
  if (bytes !== undefined) ops.push({ type: 'put', key: quarantineBlockKey(id), value: bytes });
  let event: ReturnType<typeof pendingEventOp> | undefined;
  const lostRounds = info !== undefined && !info.shipped ? info.numRounds : 0;
  if (info === undefined || !info.shipped) {
    const parsed = parseUlid(id);
    const approx = parsed === undefined ? 0 : ulidTime(parsed);
    const minT = info?.droppedRangeMinT !== undefined ? Math.min(info.droppedRangeMinT, info.minT) : info?.minT ?? approx;
    const message = info === undefined
      ? `block ${id} was corrupt and its range is unknown; the range given is its creation time`
      : `block ${id} was corrupt (${code}) and was quarantined before it was shipped`;
    event = pendingEventOp(ctx, droppedEvent(now, 'corrupt_block', minT, info?.maxT ?? approx, lostRounds, message, droppedSealLabels(ctx, unionSealRanges(info?.sealRanges, info?.droppedSealRanges))));
    ops.push(event.op);
  }
  const meta = nextMeta(ctx, (m) => {
    m.counters.blocksQuarantined += 1;
    m.counters.roundsDropped += lostRounds;
  });
  ops.push(metaOp(meta));
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  removeBlock(ctx, id);
  ctx.quarantined.set(id, q);
  if (event !== undefined) ctx.pendingEvents.push(event.pending);
  warn(ctx, { block: id, code, err: reason, shipped: info?.shipped ?? false }, 'corrupt block quarantined and skipped');
  return true;
}

/**
 * Moves every head record at or after `fromT` under the quarantine prefix and records a
 * data_dropped event for them. The in-memory head must hold either none of them (replay) or
 * all of its rounds from `fromT` on (a head that cannot be sealed): then it is emptied.
 */
export async function quarantineHeadFrom(ctx: StoreContext, fromT: number, reason: DropReason, message: string): Promise<number> {
  const moved: { t: number; bytes: Uint8Array }[] = [];
  for await (const [key, value] of ctx.db.iterator({ gte: headRoundKey(fromT), lt: prefixRange(HEAD_PREFIX).lt })) {
    moved.push({ t: headRoundTime(key), bytes: value });
  }
  if (moved.length === 0) return 0;
  const ops: BatchOp[] = [];
  for (const m of moved) {
    ops.push({ type: 'put', key: quarantineHeadKey(m.t), value: m.bytes }, { type: 'del', key: headRoundKey(m.t) });
  }
  const first = moved[0]!.t;
  const last = moved[moved.length - 1]!.t;
  const event = pendingEventOp(ctx, droppedEvent(ctx.opts.clock.now(), reason, first, last, moved.length,
    `${moved.length} head round(s) could not be used (${message}) and were quarantined`));
  ops.push(event.op);
  const meta = nextMeta(ctx, (m) => {
    m.counters.headRoundsQuarantined += moved.length;
    m.counters.roundsDropped += moved.length;
  });
  ops.push(metaOp(meta));
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  if (ctx.head.lastT !== undefined && ctx.head.lastT >= fromT) ctx.head.reset();
  ctx.pendingEvents.push(event.pending);
  warn(ctx, { rounds: moved.length, minT: first, maxT: last, reason, err: message }, 'head rounds quarantined; recorded a data_dropped event');
  return moved.length;
}

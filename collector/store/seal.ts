// Sealing: the head's rounds and the pending events become one encoded block, written with its
// info while the head records are deleted, in one synced batch.
import { newUlid, ulidToString } from '../../common/ulid.js';
import type { BlockData, BlockEvent } from '../../proto/index.js';
import { BlockFormatError, decodeBlockHeader, encodeBlock } from '../../proto/index.js';
import { encodeBlockInfo, roundRange, type BlockInfo } from './block-info.js';
import { addBlock, metaOp, nextMeta, sealIdentity, warn, writeBatch, type BatchOp, type StoreContext } from './context.js';
import { droppedSealRanges, lowestDroppedMinT } from './events.js';
import type { SealBeforeAppend } from './head-state.js';
import { blockInfoKey, blockKey, headRoundKey, seriesDefKey } from './keys.js';
import { quarantineHeadFrom } from './quarantine.js';
import { yieldToLoop } from './serial-queue.js';

/** Why a block was sealed. */
export type SealReason = SealBeforeAppend | 'flush' | 'due';

/**
 * A pending event's time moved into the sealed rounds' range, so that the events the store
 * records itself (data_dropped) never stretch the block past its aligned slot.
 */
function within(event: BlockEvent, firstT: number | undefined, lastT: number | undefined): BlockEvent {
  if (firstT === undefined || lastT === undefined) return event;
  const t = Math.min(Math.max(event.t, firstT), lastT);
  return t === event.t ? event : { ...event, t };
}

/**
 * Seals the head and the pending events into a new level-0 block. Returns its info, or
 * undefined when there was nothing to seal. A head the codec refuses to encode is quarantined
 * with a data_dropped event instead (never retried forever).
 */
export async function sealHead(ctx: StoreContext, reason: SealReason): Promise<BlockInfo | undefined> {
  const { head, opts } = ctx;
  const rounds = head.roundCount;
  if (rounds === 0 && ctx.pendingEvents.length === 0) return undefined;
  const pending = ctx.pendingEvents;
  let data: BlockData;
  let bytes: Uint8Array;
  const blockId = newUlid(opts.clock, opts.random);
  const createdAt = opts.clock.now();
  const sealIndex = ctx.meta.nextSealIndex ?? 1;
  try {
    data = head.toBlockData(pending.map((p) => (p.appended === true ? p.event : within(p.event, head.firstT, head.lastT))));
    await yieldToLoop(); // the encoding is the longest synchronous stretch of a seal: let waiting I/O in first
    bytes = encodeBlock(data, {
      siteId: opts.siteId, blockId, sequence: ctx.meta.nextSequence, level: 0, replaces: [], createdAt, ...sealIdentity(ctx, [sealIndex, sealIndex]),
    }, { compression: opts.compression });
  } catch (err) {
    if (!(err instanceof BlockFormatError) || rounds === 0) throw err;
    warn(ctx, { err: err.message, code: err.code, rounds }, 'head cannot be encoded as a block: quarantined its rounds and recorded a data_dropped event');
    await quarantineHeadFrom(ctx, head.firstT!, 'unencodable_head', err.message);
    return undefined;
  }
  const header = decodeBlockHeader(bytes);
  const id = ulidToString(blockId);
  const dropped = lowestDroppedMinT(data.events);
  const info: BlockInfo = {
    id, minT: header.minT, maxT: header.maxT, sequence: header.sequence, level: 0, bytes: bytes.length,
    ...roundRange(data),
    numRounds: header.numRounds, numSeries: header.numSeries, numSamples: header.numSamples,
    numFloatSamples: header.numSamples - header.numStringSamples, numEvents: header.numEvents,
    replaces: [], createdAt, shipped: false, ...(dropped === undefined ? {} : { droppedRangeMinT: dropped }),
    sealRanges: [sealIndex, sealIndex],
    ...optionalRanges('droppedSealRanges', droppedSealRanges(data.events)),
  };
  const meta = nextMeta(ctx, (m) => {
    m.nextSequence += 1;
    m.nextSealIndex = sealIndex + 1;
    m.counters.blocksSealed += 1;
    if (reason === 'clock_step_back') m.counters.clockStepBacks += 1;
  });
  const ops: BatchOp[] = [
    { type: 'put', key: blockKey(id), value: bytes },
    { type: 'put', key: blockInfoKey(id), value: encodeBlockInfo(info) },
    ...head.times.map((t): BatchOp => ({ type: 'del', key: headRoundKey(t) })),
    ...pending.map((p): BatchOp => ({ type: 'del', key: p.key })),
    ...head.unusedRefs().map((ref): BatchOp => ({ type: 'del', key: seriesDefKey(ref) })),
    metaOp(meta),
  ];
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  addBlock(ctx, info);
  head.reset();
  ctx.pendingEvents = [];
  return info;
}

/** `{ [key]: ranges }`, or nothing for no ranges. */
export function optionalRanges<K extends string>(key: K, ranges: readonly number[]): { [P in K]?: readonly number[] } {
  return (ranges.length === 0 ? {} : { [key]: ranges }) as { [P in K]?: readonly number[] };
}

// Compaction: consecutive unshipped blocks inside an aligned window that is entirely in the past
// are merged into one block, swapped in for them in one synced batch. Larger windows are tried
// first, so a backlog days old is merged once into day blocks, not re-encoded at every size.
// Memory is bounded: inputs are decoded and folded in one at a time (BlockMerger), and a merged
// block holds at most compactionMaxFloatSamples float samples.
import { newUlid, parseUlid, ulidToString } from '../../common/ulid.js';
import type { BlockData } from '../../proto/index.js';
import { BlockFormatError, decodeBlockHeader, encodeBlock, unionSealRanges } from '../../proto/index.js';
import { encodeBlockInfo, floatSamples, roundRange, roundSpan, type BlockInfo } from './block-info.js';
import { BlockMerger } from './block-merger.js';
import { addBlock, metaOp, nextMeta, removeBlock, sealIdentity, warn, writeBatch, type BatchOp, type StoreContext } from './context.js';
import { blockInfoKey, blockKey } from './keys.js';
import { yieldToLoop } from './serial-queue.js';
import { optionalRanges } from './seal.js';
import { readVerifiedBlock } from './verify.js';

/** One merge the planner chose: blocks in time order, all inside one window. */
export interface CompactionRun {
  readonly window: number;
  readonly windowStart: number;
  readonly blocks: readonly BlockInfo[];
}

/**
 * The merges to do now. A window qualifies once it ends at or before `now` and before the
 * head's first round. Blocks belong to the window their first round falls in and are taken in
 * round-time order; a shipped or pinned block, one whose rounds reach past the window, or rounds
 * overlapping the block before end a run. Runs of two or more blocks are merged. A run holding
 * more than `maxFloatSamples` float samples (default: no cap) is left to the next smaller window;
 * in the smallest window it is cut into consecutive runs within the cap. Pure.
 */
export function planCompaction(input: {
  blocks: readonly BlockInfo[];
  windows: readonly number[];
  now: number;
  headFirstT: number | undefined;
  isPinned: (id: string) => boolean;
  maxFloatSamples?: number;
}): CompactionRun[] {
  const cap = input.maxFloatSamples ?? Infinity;
  const runs: CompactionRun[] = [];
  const consumed = new Set<string>();
  const windows = [...input.windows].sort((a, b) => b - a);
  for (const [w, window] of windows.entries()) {
    const smallest = w === windows.length - 1;
    const groups = new Map<number, BlockInfo[]>();
    for (const b of input.blocks) {
      if (consumed.has(b.id)) continue;
      const start = Math.floor(roundSpan(b).from / window) * window;
      const group = groups.get(start);
      if (group === undefined) groups.set(start, [b]);
      else group.push(b);
    }
    for (const [start, group] of groups) {
      const end = start + window;
      if (end > input.now || (input.headFirstT !== undefined && input.headFirstT < end)) continue;
      group.sort((a, b) => roundSpan(a).from - roundSpan(b).from || a.sequence - b.sequence);
      // Blocks sealed out of time order (after a clock step) merge fine as long as their
      // rounds do not overlap: the merged block is in time order whatever the sequences.
      let run: BlockInfo[] = [];
      const close = (): void => {
        if (run.length >= 2) {
          if (run.reduce((n, b) => n + floatSamples(b), 0) <= cap) {
            runs.push({ window, windowStart: start, blocks: run });
          } else if (!smallest) {
            for (const b of run) consumed.delete(b.id); // too large for one block: left to the smaller windows
          } else {
            for (const part of cutAtCap(run, cap)) if (part.length >= 2) runs.push({ window, windowStart: start, blocks: part });
          }
        }
        run = [];
      };
      for (const b of group) {
        consumed.add(b.id);
        const span = roundSpan(b);
        const mergeable = !b.shipped && !input.isPinned(b.id) && span.to < end;
        if (!mergeable) {
          close();
          continue;
        }
        const prev = run[run.length - 1];
        if (prev !== undefined && span.from <= roundSpan(prev).to) close();
        run.push(b);
      }
      close();
    }
  }
  return runs.sort((a, b) => a.windowStart - b.windowStart || a.window - b.window);
}

/** `run` cut into consecutive runs of at most `cap` float samples each (a larger block stands alone). */
function cutAtCap(run: readonly BlockInfo[], cap: number): BlockInfo[][] {
  const parts: BlockInfo[][] = [];
  let part: BlockInfo[] = [];
  let n = 0;
  for (const b of run) {
    const f = floatSamples(b);
    if (part.length > 0 && n + f > cap) {
      parts.push(part);
      part = [];
      n = 0;
    }
    part.push(b);
    n += f;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** The ids a merged block replaces: every input and everything the inputs replaced, in time order. */
export function replacesOf(blocks: readonly BlockInfo[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const b of blocks) {
    for (const id of [...b.replaces, b.id]) {
      if (!seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    }
  }
  return out;
}

/** Result of one compaction pass. */
export interface CompactionResult {
  /** The blocks written, in time order. */
  readonly created: readonly BlockInfo[];
  /** How many blocks they replaced. */
  readonly replaced: number;
  /** Inputs found corrupt and quarantined (their runs are retried on the next pass). */
  readonly quarantined: number;
}

/**
 * Reads, verifies and folds the run's blocks in one at a time, yielding to the event loop between
 * them; undefined when an input was quarantined (the run waits for the next pass) or the inputs
 * do not merge.
 */
async function mergeInputs(ctx: StoreContext, run: CompactionRun): Promise<BlockData | undefined> {
  const merger = new BlockMerger({ maxRounds: run.blocks.reduce((n, b) => n + b.numRounds, 0) });
  for (const b of run.blocks) {
    const read = await readVerifiedBlock(ctx, b);
    if (read === undefined) return undefined; // quarantined: the run waits for the next pass
    try {
      merger.add(read.block.data);
    } catch (err) {
      if (!(err instanceof BlockFormatError)) throw err;
      warn(ctx, { blocks: run.blocks.map((x) => x.id), err: err.message }, 'blocks could not be merged: left as they are');
      return undefined;
    }
    await yieldToLoop();
  }
  return merger.build();
}

async function mergeRun(ctx: StoreContext, run: CompactionRun): Promise<BlockInfo | undefined> {
  const { opts } = ctx;
  const merged = await mergeInputs(ctx, run);
  if (merged === undefined) return undefined;
  const blockId = newUlid(opts.clock, opts.random);
  const createdAt = opts.clock.now();
  const replaces = replacesOf(run.blocks);
  const level = 1 + Math.max(...run.blocks.map((b) => b.level));
  const sequence = ctx.meta.nextSequence;
  const sealRanges = unionSealRanges(...run.blocks.map((b) => b.sealRanges));
  const bytes = encodeBlock(merged, {
    siteId: opts.siteId, blockId, sequence, level, createdAt,
    replaces: replaces.map((id) => parseUlidStrict(id)), ...sealIdentity(ctx, sealRanges),
  }, { compression: opts.compression });
  const header = decodeBlockHeader(bytes);
  const dropped = run.blocks.map((b) => b.droppedRangeMinT).filter((t): t is number => t !== undefined);
  const id = ulidToString(blockId);
  const info: BlockInfo = {
    id, minT: header.minT, maxT: header.maxT, ...roundRange(merged), sequence, level, bytes: bytes.length,
    numRounds: header.numRounds, numSeries: header.numSeries, numSamples: header.numSamples,
    numFloatSamples: header.numSamples - header.numStringSamples, numEvents: header.numEvents,
    replaces, createdAt, shipped: false, ...(dropped.length === 0 ? {} : { droppedRangeMinT: Math.min(...dropped) }),
    ...optionalRanges('sealRanges', sealRanges),
    ...optionalRanges('droppedSealRanges', unionSealRanges(...run.blocks.map((b) => b.droppedSealRanges))),
  };
  const meta = nextMeta(ctx, (m) => {
    m.nextSequence += 1;
    m.counters.compactions += 1;
    m.counters.blocksCompacted += run.blocks.length;
  });
  const ops: BatchOp[] = [
    { type: 'put', key: blockKey(id), value: bytes },
    { type: 'put', key: blockInfoKey(id), value: encodeBlockInfo(info) },
    ...run.blocks.flatMap((b): BatchOp[] => [{ type: 'del', key: blockKey(b.id) }, { type: 'del', key: blockInfoKey(b.id) }]),
    metaOp(meta),
  ];
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  for (const b of run.blocks) removeBlock(ctx, b.id);
  addBlock(ctx, info);
  return info;
}

function parseUlidStrict(id: string): Uint8Array {
  const bytes = parseUlid(id);
  if (bytes === undefined) throw new RangeError(`a block id expects a ULID, found ${JSON.stringify(id)}`);
  return bytes;
}

/** Plans and carries out every merge due now, one batch per merge. */
export async function compactBlocks(ctx: StoreContext): Promise<CompactionResult> {
  const runs = planCompaction({
    blocks: [...ctx.blocks.values()],
    windows: ctx.opts.compactionWindows,
    now: ctx.opts.clock.now(),
    headFirstT: ctx.head.firstT,
    isPinned: (id) => (ctx.pins.get(id) ?? 0) > 0,
    maxFloatSamples: ctx.opts.compactionMaxFloatSamples,
  });
  const created: BlockInfo[] = [];
  let replaced = 0;
  const quarantinedBefore = ctx.meta.counters.blocksQuarantined;
  for (const run of runs) {
    await yieldToLoop();
    const info = await mergeRun(ctx, run);
    if (info !== undefined) {
      created.push(info);
      replaced += run.blocks.length;
    }
  }
  return { created, replaced, quarantined: ctx.meta.counters.blocksQuarantined - quarantinedBefore };
}

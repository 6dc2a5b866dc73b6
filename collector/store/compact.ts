// Compaction: consecutive unshipped blocks inside an aligned window that is entirely in the past
// are merged into one block, swapped in for them in one synced batch. Larger windows are tried
// first, so a backlog days old is merged once into day blocks, not re-encoded at every size.
import { newUlid, parseUlid, ulidToString } from '../../common/ulid.js';
import type { BlockData } from '../../proto/index.js';
import { BlockFormatError, decodeBlockHeader, encodeBlock, mergeBlockData } from '../../proto/index.js';
import { encodeBlockInfo, roundRange, roundSpan, type BlockInfo } from './block-info.js';
import { addBlock, metaOp, nextMeta, removeBlock, warn, writeBatch, type BatchOp, type StoreContext } from './context.js';
import { blockInfoKey, blockKey } from './keys.js';
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
 * overlapping the block before end a run. Runs of two or more blocks are merged. Pure.
 */
export function planCompaction(input: {
  blocks: readonly BlockInfo[];
  windows: readonly number[];
  now: number;
  headFirstT: number | undefined;
  isPinned: (id: string) => boolean;
}): CompactionRun[] {
  const runs: CompactionRun[] = [];
  const consumed = new Set<string>();
  for (const window of [...input.windows].sort((a, b) => b - a)) {
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
        if (run.length >= 2) runs.push({ window, windowStart: start, blocks: run });
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

async function readInputs(ctx: StoreContext, run: CompactionRun): Promise<BlockData[] | undefined> {
  const parts: BlockData[] = [];
  for (const b of run.blocks) {
    const read = await readVerifiedBlock(ctx, b);
    if (read === undefined) return undefined; // quarantined: the run waits for the next pass
    parts.push(read.block.data);
  }
  return parts;
}

async function mergeRun(ctx: StoreContext, run: CompactionRun): Promise<BlockInfo | undefined> {
  const { opts } = ctx;
  const parts = await readInputs(ctx, run);
  if (parts === undefined) return undefined;
  let merged: BlockData;
  try {
    merged = mergeBlockData(parts);
  } catch (err) {
    if (!(err instanceof BlockFormatError)) throw err;
    warn(ctx, { blocks: run.blocks.map((b) => b.id), err: err.message }, 'blocks could not be merged: left as they are');
    return undefined;
  }
  const blockId = newUlid(opts.clock, opts.random);
  const createdAt = opts.clock.now();
  const replaces = replacesOf(run.blocks);
  const level = 1 + Math.max(...run.blocks.map((b) => b.level));
  const sequence = ctx.meta.nextSequence;
  const bytes = encodeBlock(merged, {
    siteId: opts.siteId, blockId, sequence, level, createdAt,
    replaces: replaces.map((id) => parseUlidStrict(id)),
  }, { compression: opts.compression });
  const header = decodeBlockHeader(bytes);
  const dropped = run.blocks.map((b) => b.droppedRangeMinT).filter((t): t is number => t !== undefined);
  const id = ulidToString(blockId);
  const info: BlockInfo = {
    id, minT: header.minT, maxT: header.maxT, ...roundRange(merged), sequence, level, bytes: bytes.length,
    numRounds: header.numRounds, numSeries: header.numSeries, numSamples: header.numSamples, numEvents: header.numEvents,
    replaces, createdAt, shipped: false, ...(dropped.length === 0 ? {} : { droppedRangeMinT: Math.min(...dropped) }),
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
  });
  const created: BlockInfo[] = [];
  let replaced = 0;
  const quarantinedBefore = ctx.meta.counters.blocksQuarantined;
  for (const run of runs) {
    const info = await mergeRun(ctx, run);
    if (info !== undefined) {
      created.push(info);
      replaced += run.blocks.length;
    }
  }
  return { created, replaced, quarantined: ctx.meta.counters.blocksQuarantined - quarantinedBefore };
}

// completeThrough: the latest time before which every block the site sealed is held, or was
// reported dropped by the edge (a data_dropped event). Blocks carry the seal indexes they hold
// (the edge numbers blocks sealed from its head 1, 2, 3… per store, without gaps); a missing
// index is a block the center has not received. Blocks from before seal indexes existed fall
// back to time coverage: a gap between them longer than a few rounds that no event explains.
import { missingSealRanges, unionSealRanges } from '../../proto/index.js';
import type { HeldBlock, SiteEvent } from './site-data.js';

/** One store's seal indexes as of a knownAt. */
export interface SealCoverage {
  /** The edge store's id (ULID text); '' for blocks that do not name one. */
  readonly store: string;
  /** Seal indexes held, (first, last) pairs. */
  readonly held: readonly number[];
  /** Indexes below the highest held that are neither held nor reported dropped. */
  readonly missing: readonly number[];
  /** Indexes below the highest held reported dropped by the edge (data_dropped). */
  readonly dropped: readonly number[];
}

export interface Completeness {
  readonly completeThrough: number | undefined;
  readonly seal: readonly SealCoverage[];
  /** Unexplained gaps in the time coverage of blocks without seal indexes: [from, to] pairs. */
  readonly timeGaps: readonly number[];
}

/** Parses a data_dropped event's `seal_ranges` label (`3-17,20-20`); undefined when absent or malformed. */
export function parseSealRangesLabel(text: string | undefined): number[] | undefined {
  if (text === undefined || text === '') return undefined;
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    if (m === null) return undefined;
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (!(Number.isSafeInteger(a) && Number.isSafeInteger(b) && a >= 1 && a <= b)) return undefined;
    out.push(a, b);
  }
  return unionSealRanges(out);
}

/** The pairs of `a` not covered by the pairs of `b` (both normalised). */
export function subtractRanges(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < a.length; i += 2) {
    let from = a[i]!;
    const to = a[i + 1]!;
    for (let j = 0; j + 1 < b.length && from <= to; j += 2) {
      const bf = b[j]!;
      const bt = b[j + 1]!;
      if (bt < from || bf > to) continue;
      if (bf > from) out.push(from, bf - 1);
      from = Math.max(from, bt + 1);
    }
    if (from <= to) out.push(from, to);
  }
  return out;
}

function intersectRanges(a: readonly number[], b: readonly number[]): number[] {
  return subtractRanges(a, subtractRanges(a, b));
}

/** Event-time ranges the site explains as having no data: dropped at the edge, or the agent not running. */
function explainedTimeRanges(events: readonly SiteEvent[]): [number, number][] {
  const out: [number, number][] = [];
  let stoppedAt: number | undefined;
  for (const e of events) {
    if ((e.kind === 'data_dropped' || e.kind === 'agent_gap') && e.rangeMaxT >= e.rangeMinT) out.push([e.rangeMinT, e.rangeMaxT]);
    if (e.kind === 'agent_stop') stoppedAt = e.t;
    if (e.kind === 'agent_start' && stoppedAt !== undefined) {
      out.push([stoppedAt, e.t]);
      stoppedAt = undefined;
    }
  }
  return out;
}

function covered(from: number, to: number, ranges: readonly [number, number][]): boolean {
  // The open gap (from, to) is explained when the ranges reach from its start to its end.
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  let reach = from;
  for (const [a, b] of sorted) {
    if (a > reach + 1) break;
    reach = Math.max(reach, b);
    if (reach >= to - 1) return true;
  }
  return reach >= to - 1;
}

/**
 * completeThrough and the seal coverage of `blocks` (those visible at a knownAt) with the
 * visible `events`. `gapToleranceMs`: for blocks without seal indexes, the longest gap between
 * blocks that counts as contiguous. `covers(maxT)`: how far a block ending at `maxT` reaches —
 * its last round plus the round interval, since the next round cannot come sooner (rounds are
 * aligned), and at least maxT.
 */
export function completeness(blocks: readonly HeldBlock[], events: readonly SiteEvent[], gapToleranceMs: number, covers: (maxT: number) => number = (t) => t): Completeness {
  if (blocks.length === 0) return { completeThrough: undefined, seal: [], timeGaps: [] };
  let maxT = -Infinity;
  for (const b of blocks) maxT = Math.max(maxT, b.maxT);
  let through = covers(maxT);

  // Seal chains, per store.
  const stores = new Map<string, HeldBlock[]>();
  for (const b of blocks) {
    if (b.sealRanges === undefined) continue;
    let l = stores.get(b.store);
    if (l === undefined) stores.set(b.store, (l = []));
    l.push(b);
  }
  const droppedByStore = new Map<string, number[]>();
  const droppedAnyStore: number[][] = [];
  for (const e of events) {
    if (e.kind !== 'data_dropped') continue;
    const ranges = parseSealRangesLabel(e.labels['seal_ranges']);
    if (ranges === undefined) continue;
    const store = e.labels['store_id'];
    if (store === undefined) droppedAnyStore.push(ranges);
    else droppedByStore.set(store, unionSealRanges(droppedByStore.get(store), ranges));
  }
  const seal: SealCoverage[] = [];
  for (const store of [...stores.keys()].sort()) {
    const list = stores.get(store)!;
    const held = unionSealRanges(...list.map((b) => b.sealRanges));
    const top = held[held.length - 1]!;
    const gaps = missingSealRanges(held, top);
    const droppedAll = unionSealRanges(droppedByStore.get(store), ...droppedAnyStore);
    const dropped = intersectRanges(gaps, droppedAll);
    const missing = subtractRanges(gaps, droppedAll);
    seal.push({ store, held, missing, dropped });
    if (missing.length > 0) {
      const m = missing[0]!;
      let bound = -Infinity;
      for (const b of list) if (b.sealMax < m) bound = Math.max(bound, b.maxT);
      through = Math.min(through, Number.isFinite(bound) ? covers(bound) : bound);
    }
  }

  // Time coverage of blocks without seal indexes.
  const timeGaps: number[] = [];
  const unsealed = blocks.filter((b) => b.sealRanges === undefined).sort((a, b) => a.minT - b.minT || a.maxT - b.maxT);
  if (unsealed.length > 0) {
    const explained = explainedTimeRanges(events);
    let reach = unsealed[0]!.maxT;
    for (let i = 1; i < unsealed.length; i++) {
      const b = unsealed[i]!;
      if (b.minT > reach + gapToleranceMs && !covered(reach, b.minT, explained)) {
        timeGaps.push(reach, b.minT);
        if (timeGaps.length === 2) through = Math.min(through, covers(reach));
      }
      reach = Math.max(reach, b.maxT);
    }
  }
  return { completeThrough: Number.isFinite(through) ? through : undefined, seal, timeGaps };
}

// One site's series as value intervals: for each series, its change points (round time, value)
// over every round the site's data holds, in flat typed arrays. A value holds from its change
// point until the next one; a change to absent is a change point too. Merging a block splices
// its new rounds in, wherever they fall in time (late data fills gaps).
import { ABSENT, changeAtRound, sameValue, type BlockChanges } from './block-changes.js';

/** A run of a block's new rounds to splice in: round indexes [a, b] of the block. */
export interface SpliceRun {
  readonly a: number;
  readonly b: number;
  /** The first round held before the splice that comes after round b, or undefined. */
  readonly next: number | undefined;
}

/** Immutable: a merge returns a new one. Series sorted by global id. */
export class SiteSeries {
  static readonly EMPTY = new SiteSeries(new Uint32Array(0), new Uint32Array(1), new Float64Array(0), new Uint8Array(0), new Float64Array(0));

  constructor(
    /** Global series ids, ascending. */
    readonly ids: Uint32Array,
    /** Change points of series `i` are at [start[i], start[i + 1]). */
    readonly start: Uint32Array,
    readonly t: Float64Array,
    readonly kind: Uint8Array,
    readonly value: Float64Array,
  ) {}

  get count(): number {
    return this.ids.length;
  }

  /** The local index of global series `gid`, or -1. */
  indexOf(gid: number): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = ids[mid]!;
      if (v === gid) return mid;
      if (v < gid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The index of the change point of series `i` in force at time `t` (the last at or before it), or -1. */
  changeAt(i: number, t: number): number {
    let lo = this.start[i]!;
    let hi = this.start[i + 1]! - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid]! <= t) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Bytes held by the typed arrays. */
  bytes(): number {
    return this.ids.byteLength + this.start.byteLength + this.t.byteLength + this.kind.byteLength + this.value.byteLength;
  }

  /**
   * The series after splicing in the block's rounds `runs` (sorted, disjoint, each in a gap of
   * the rounds held). Series absent in every round afterwards are dropped.
   */
  splice(block: BlockChanges, rounds: Float64Array, runs: readonly SpliceRun[]): SiteSeries {
    const oldIds = this.ids;
    const newIds = block.ids;
    const bound = this.t.length + block.round.length + (oldIds.length + newIds.length) * (2 * runs.length + 1);
    const outT = new Float64Array(bound);
    const outKind = new Uint8Array(bound);
    const outValue = new Float64Array(bound);
    const outIds: number[] = [];
    const outStart: number[] = [];
    let w = 0;
    let i = 0;
    let j = 0;
    while (i < oldIds.length || j < newIds.length) {
      const gid = j >= newIds.length || (i < oldIds.length && oldIds[i]! < newIds[j]!) ? oldIds[i]! : newIds[j]!;
      const oi = i < oldIds.length && oldIds[i] === gid ? i++ : -1;
      const bk = j < newIds.length && newIds[j] === gid ? j++ : -1;
      const seriesStart = w;
      let lastKind = -1;
      let lastValue = 0;
      const push = (t: number, k: number, v: number): void => {
        if (lastKind === -1 ? k === ABSENT : sameValue(lastKind, lastValue, k, v)) return;
        outT[w] = t;
        outKind[w] = k;
        outValue[w] = v;
        w++;
        lastKind = k;
        lastValue = v;
      };
      let p = oi < 0 ? 0 : this.start[oi]!;
      const pe = oi < 0 ? 0 : this.start[oi + 1]!;
      for (const run of runs) {
        const aT = rounds[run.a]!;
        while (p < pe && this.t[p]! < aT) {
          push(this.t[p]!, this.kind[p]!, this.value[p]!);
          p++;
        }
        const beforeKind = oi >= 0 && p > this.start[oi]! ? this.kind[p - 1]! : ABSENT;
        const beforeValue = oi >= 0 && p > this.start[oi]! ? this.value[p - 1]! : 0;
        if (bk >= 0) {
          let c = changeAtRound(block, bk, run.a);
          push(aT, block.kind[c]!, block.value[c]!);
          const end = block.start[bk + 1]!;
          for (c++; c < end && block.round[c]! <= run.b; c++) push(rounds[block.round[c]!]!, block.kind[c]!, block.value[c]!);
        } else {
          push(aT, ABSENT, 0);
        }
        // The value held at the next round held before is restored there.
        if (run.next !== undefined && !(p < pe && this.t[p] === run.next)) push(run.next, beforeKind, beforeValue);
      }
      while (p < pe) {
        push(this.t[p]!, this.kind[p]!, this.value[p]!);
        p++;
      }
      if (w > seriesStart) {
        outIds.push(gid);
        outStart.push(seriesStart);
      }
    }
    outStart.push(w);
    return new SiteSeries(Uint32Array.from(outIds), Uint32Array.from(outStart), outT.slice(0, w), outKind.slice(0, w), outValue.slice(0, w));
  }
}

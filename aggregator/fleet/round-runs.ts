// The round times a site's data holds, and when each first arrived: runs of evenly spaced rounds
// (first, step, count) with the arrival time of the block that first brought them. Agents sample
// on aligned slots, so a block's rounds are one run (or a few, around a missed slot), and the
// index never stores round times one by one. Runs never overlap in time.

/** Sorted, disjoint runs of evenly spaced round times, each with its first arrival. */
export class RoundRuns {
  first: Float64Array;
  step: Float64Array;
  count: Uint32Array;
  arrived: Float64Array;
  n = 0;

  constructor(capacity = 2) {
    this.first = new Float64Array(capacity);
    this.step = new Float64Array(capacity);
    this.count = new Uint32Array(capacity);
    this.arrived = new Float64Array(capacity);
  }

  /** The last round of run `i`. */
  last(i: number): number {
    return this.first[i]! + this.step[i]! * (this.count[i]! - 1);
  }

  /** The index of the last run whose first round is at or before `t`, or -1. */
  floor(t: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.first[mid]! <= t) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Whether `t` is a round held (`round`), falls inside a run's span off its grid (`inside`:
   * an overlapping block, after an edge clock step-back), or lies outside every run (`outside`).
   */
  classify(t: number): 'round' | 'inside' | 'outside' {
    const i = this.floor(t);
    if (i < 0 || t > this.last(i)) return 'outside';
    const step = this.step[i]!;
    return step === 0 || (t - this.first[i]!) % step === 0 ? 'round' : 'inside';
  }

  /** The latest round at or before `t`, or undefined. */
  latestAtOrBefore(t: number): number | undefined {
    const i = this.floor(t);
    if (i < 0) return undefined;
    const last = this.last(i);
    if (t >= last) return last;
    const step = this.step[i]!;
    return this.first[i]! + step * Math.floor((t - this.first[i]!) / step);
  }

  /** The earliest round at or after `t`, or undefined. */
  firstAtOrAfter(t: number): number | undefined {
    const i = this.floor(t);
    if (i >= 0 && t <= this.last(i)) {
      const step = this.step[i]!;
      if (step === 0) return this.first[i]!;
      return this.first[i]! + step * Math.ceil((t - this.first[i]!) / step);
    }
    return i + 1 < this.n ? this.first[i + 1]! : undefined;
  }

  /** The earliest round strictly after `t`, or undefined. */
  firstAfter(t: number): number | undefined {
    const r = this.firstAtOrAfter(t);
    if (r === undefined || r > t) return r;
    // `t` is itself a round: the next one.
    const i = this.floor(t);
    if (t < this.last(i)) return t + this.step[i]!;
    return i + 1 < this.n ? this.first[i + 1]! : undefined;
  }

  /** Rounds held in [from, to]. */
  roundsIn(from: number, to: number): number {
    let n = 0;
    for (let i = Math.max(0, this.floor(from)); i < this.n && this.first[i]! <= to; i++) {
      const a = this.firstAtOrAfterIn(i, from);
      const last = this.last(i);
      if (a === undefined || a > to) continue;
      const b = Math.min(last, to);
      n += this.step[i]! === 0 ? 1 : Math.floor((b - a) / this.step[i]!) + 1;
    }
    return n;
  }

  private firstAtOrAfterIn(i: number, t: number): number | undefined {
    if (t <= this.first[i]!) return this.first[i]!;
    if (t > this.last(i)) return undefined;
    const step = this.step[i]!;
    return this.first[i]! + step * Math.ceil((t - this.first[i]!) / step);
  }

  /** The latest arrival among the runs (0 when empty). */
  maxArrived(): number {
    let m = 0;
    for (let i = 0; i < this.n; i++) if (this.arrived[i]! > m) m = this.arrived[i]!;
    return m;
  }

  #grow(need: number): void {
    if (need <= this.first.length) return;
    const cap = Math.max(need, this.first.length * 2);
    const f = new Float64Array(cap); f.set(this.first.subarray(0, this.n)); this.first = f;
    const s = new Float64Array(cap); s.set(this.step.subarray(0, this.n)); this.step = s;
    const c = new Uint32Array(cap); c.set(this.count.subarray(0, this.n)); this.count = c;
    const a = new Float64Array(cap); a.set(this.arrived.subarray(0, this.n)); this.arrived = a;
  }

  /** Inserts a run that overlaps none held; keeps the runs sorted. */
  insert(first: number, step: number, count: number, arrived: number): void {
    this.#grow(this.n + 1);
    const at = this.floor(first) + 1;
    if (at < this.n) {
      this.first.copyWithin(at + 1, at, this.n);
      this.step.copyWithin(at + 1, at, this.n);
      this.count.copyWithin(at + 1, at, this.n);
      this.arrived.copyWithin(at + 1, at, this.n);
    }
    this.first[at] = first;
    this.step[at] = count > 1 ? step : 0;
    this.count[at] = count;
    this.arrived[at] = arrived;
    this.n++;
  }

  /** The runs that had arrived by `knownAt`, as a new RoundRuns. */
  visibleAt(knownAt: number): RoundRuns {
    const out = new RoundRuns(Math.max(2, this.n));
    for (let i = 0; i < this.n; i++) {
      if (this.arrived[i]! > knownAt) continue;
      const j = out.n++;
      out.first[j] = this.first[i]!;
      out.step[j] = this.step[i]!;
      out.count[j] = this.count[i]!;
      out.arrived[j] = this.arrived[i]!;
    }
    return out;
  }

  /** Bytes held by the typed arrays. */
  bytes(): number {
    return this.first.byteLength + this.step.byteLength + this.count.byteLength + this.arrived.byteLength;
  }
}

/** Splits sorted round times into evenly spaced runs: [first, step, count] triples. */
export function toRuns(times: readonly number[] | Float64Array): [number, number, number][] {
  const out: [number, number, number][] = [];
  let i = 0;
  while (i < times.length) {
    const first = times[i]!;
    if (i + 1 >= times.length) {
      out.push([first, 0, 1]);
      break;
    }
    const step = times[i + 1]! - first;
    let j = i + 1;
    while (j + 1 < times.length && times[j + 1]! - times[j]! === step) j++;
    out.push([first, step, j - i + 1]);
    i = j + 1;
  }
  return out;
}

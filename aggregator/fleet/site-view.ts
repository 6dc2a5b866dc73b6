// One site as known at a knownAt: only the rounds, events and blocks that had arrived by then.
// Values come from the site's intervals (a round's value never changes once held), read at the
// latest round visible at or before the time asked.
import { ABSENT, FLOAT, sameValue } from './block-changes.js';
import { completeness, type Completeness } from './completeness.js';
import type { FleetIndex } from './merge-index.js';
import type { RoundRuns } from './round-runs.js';
import type { HeldBlock, SiteData, SiteEvent } from './site-data.js';

/** A series' value: `kind` ABSENT, STRING (value is a string id) or FLOAT. */
export interface ValueRef {
  readonly kind: number;
  readonly value: number;
}

/** A change of a series' value, at the first round (visible) that held it. */
export interface ValueChange extends ValueRef {
  readonly t: number;
}

const NONE: ValueRef = { kind: ABSENT, value: 0 };

export class SiteView {
  readonly runs: RoundRuns;
  readonly blocks: readonly HeldBlock[];
  readonly events: readonly SiteEvent[];
  #completeness: Completeness | undefined;

  constructor(readonly index: FleetIndex, readonly data: SiteData, readonly knownAt: number) {
    const all = knownAt >= data.lastArrived;
    this.runs = all ? data.runs : data.runs.visibleAt(knownAt);
    this.blocks = all ? data.blocks : data.blocks.slice(0, data.blocksBy(knownAt));
    this.events = all ? data.events : data.events.filter((e) => e.arrived <= knownAt);
    if (all) this.#completeness = data.memo.get('completeness') as Completeness | undefined;
  }

  get site(): string {
    return this.data.site;
  }

  /** True when any block of the site had arrived by knownAt. */
  get known(): boolean {
    return this.blocks.length > 0;
  }

  /** The latest round held at or before `t` (the site's last data as of `t`), or undefined. */
  lastDataAt(t: number): number | undefined {
    return this.runs.latestAtOrBefore(t);
  }

  /** The earliest round held at or after `t`, or undefined. */
  firstDataAtOrAfter(t: number): number | undefined {
    return this.runs.firstAtOrAfter(t);
  }

  get completeness(): Completeness {
    if (this.#completeness === undefined) {
      this.#completeness = completeness(this.blocks, this.events, this.index.gapToleranceMs, (maxT) => {
        const last = this.runs.latestAtOrBefore(maxT);
        if (last === undefined) return maxT;
        const i = this.runs.floor(last);
        return Math.max(maxT, last + this.runs.step[i]!);
      });
      if (this.knownAt >= this.data.lastArrived) this.data.memo.set('completeness', this.#completeness);
    }
    return this.#completeness;
  }

  get completeThrough(): number | undefined {
    return this.completeness.completeThrough;
  }

  /** The local index of a global series id, or -1. */
  seriesIndex(gid: number): number {
    return this.data.series.indexOf(gid);
  }

  /** The value of local series `i` at the latest round at or before `t`; ABSENT when there is none. */
  valueAt(i: number, t: number): ValueRef {
    const r = this.runs.latestAtOrBefore(t);
    if (r === undefined) return NONE;
    const s = this.data.series;
    const c = s.changeAt(i, r);
    return c < 0 ? NONE : { kind: s.kind[c]!, value: s.value[c]! };
  }

  /**
   * The earliest time from which local series `i` has held the value it has at `t` (a round
   * time), over the rounds visible; undefined when no round is held at or before `t`.
   */
  valueSince(i: number, t: number): number | undefined {
    const s = this.data.series;
    const r = this.runs.latestAtOrBefore(t);
    if (r === undefined) return undefined;
    let c = s.changeAt(i, r);
    const kind = c < 0 ? ABSENT : s.kind[c]!;
    const value = c < 0 ? 0 : s.value[c]!;
    for (;;) {
      const from = c < 0 ? -Infinity : s.t[c]!;
      const start = this.runs.firstAtOrAfter(from)!;
      const before = this.runs.latestAtOrBefore(start - 1);
      if (before === undefined) return start;
      const pc = s.changeAt(i, before);
      if (!(pc < 0 ? kind === ABSENT : sameValue(s.kind[pc]!, s.value[pc]!, kind, value))) return start;
      c = pc;
    }
  }

  /** True when local series `i` was present in some visible round at or before `t`. */
  presentBy(i: number, t: number): boolean {
    const s = this.data.series;
    for (let c = s.changeAt(i, t); c >= s.start[i]!; c--) {
      if (s.kind[c] === ABSENT) continue;
      const start = this.runs.firstAtOrAfter(s.t[c]!);
      const end = c + 1 < s.start[i + 1]! ? s.t[c + 1]! : Infinity;
      if (start !== undefined && start < end && start <= t) return true;
    }
    return false;
  }

  /**
   * The values of local series `i` over [from, to] as seen by knownAt: the value in force at
   * `from` (at the first visible round that held it, which may be before `from`; none while the
   * series had not appeared yet), then each change, at the first visible round that held it.
   * Consecutive equal values are merged.
   */
  changes(i: number, from: number, to: number): ValueChange[] {
    const s = this.data.series;
    const end = s.start[i + 1]!;
    const first = this.runs.latestAtOrBefore(from);
    let c = first === undefined ? s.start[i]! : Math.max(s.start[i]!, s.changeAt(i, first));
    const out: ValueChange[] = [];
    for (; c < end; c++) {
      const t = this.runs.firstAtOrAfter(s.t[c]!);
      if (t === undefined || t > to) break;
      if (c + 1 < end && t >= s.t[c + 1]!) continue; // no visible round holds this value
      const k = s.kind[c]!;
      const v = s.value[c]!;
      const last = out[out.length - 1];
      if (last !== undefined && sameValue(last.kind, last.value, k, v)) continue;
      out.push({ t, kind: k, value: v });
    }
    return out;
  }

  /** Visible events with from <= t <= to, in time order. */
  eventsIn(from: number, to: number): SiteEvent[] {
    const ev = this.events;
    let lo = 0;
    let hi = ev.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ev[mid]!.t < from) lo = mid + 1;
      else hi = mid;
    }
    const out: SiteEvent[] = [];
    for (let k = lo; k < ev.length && ev[k]!.t <= to; k++) out.push(ev[k]!);
    return out;
  }

  /** The text of a value: the string, the float, or undefined for absent. */
  text(v: ValueRef): string | undefined {
    if (v.kind === ABSENT) return undefined;
    if (v.kind === FLOAT) return String(v.value);
    return this.index.values.get(v.value);
  }

  /** The checkable value: a string, a number, or undefined for absent. */
  checkable(v: ValueRef): string | number | undefined {
    if (v.kind === ABSENT) return undefined;
    return v.kind === FLOAT ? v.value : this.index.values.get(v.value);
  }
}

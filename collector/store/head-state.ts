// The head in memory, in column form: every series interned once (a HeadSeries with a stable
// ref, found again by an allocation-free hash of its name and labels), its values in this head as
// presence runs and a value column, and its value in the last round (what the next round's delta
// is taken against). Rows (Sample objects) are made only for inspection (`rows`).
import type { BlockData, BlockEvent, Round, Sample, SeriesData } from '../../proto/index.js';
import { canonicalLabels, compareStrings, seriesKey } from '../../proto/index.js';
import type { HeadDelta } from './head-codec.js';
import { ABSENT, HeadSeries, identityHash, type SeriesDef } from './head-series.js';
import { eventProblems, invalidRound, roundProblems, sampleProblem, MAX_PROBLEMS } from './validate-round.js';

export type { SeriesDef } from './head-series.js';

/** Why the head is sealed before a round is appended. */
export type SealBeforeAppend = 'boundary' | 'clock_step_back' | 'type_change';

/** What appending one round writes, computed before anything is written. */
export interface AppendPlan {
  readonly t: number;
  readonly delta: HeadDelta;
  /** Series first seen in this round, not yet in the head. */
  readonly newDefs: readonly HeadSeries[];
  /** The round's series and values, in sample order. */
  readonly series: readonly HeadSeries[];
  readonly values: readonly (number | string)[];
  /** The round's events, copied. */
  readonly events: readonly BlockEvent[];
}

/** What `plan` found: the plan, or that the head must be sealed first (then plan again). */
export type PlanResult = { readonly kind: 'plan'; readonly plan: AppendPlan } | { readonly kind: 'seal'; readonly reason: SealBeforeAppend };

function alignDown(t: number, step: number): number {
  return t - (((t % step) + step) % step);
}

function byRef(a: readonly [number, unknown], b: readonly [number, unknown]): number {
  return a[0] - b[0];
}

/**
 * The head in memory. `plan` validates a round and computes what appending it writes without
 * changing the head; `commit` applies it once durable; `replay` applies a stored record on open;
 * `reset` empties the head after a seal.
 */
export class HeadState {
  /** Series definitions by ref: those the head's records use, and those kept across seals. */
  readonly defs = new Map<number, HeadSeries>();
  /** Series by identityHash, chained through nextInBucket. */
  readonly #index = new Map<number, HeadSeries>();
  #nextRef = 1;
  #plans = 0;
  /** Round times of the head, in append order. */
  #times: number[] = [];
  /** The series present in the head's last round. */
  #lastPresent: HeadSeries[] = [];
  /** Events of the head's rounds, by round index. */
  #roundEvents: { readonly round: number; readonly events: readonly BlockEvent[] }[] = [];
  /** Bytes of the stored head round records (keys and values). */
  #recordBytes = 0;
  /** Bytes of the stored series definitions. */
  #defBytesTotal = 0;

  constructor(readonly blockDuration: number) {}

  /** Bytes of the stored head: round records and series definitions (keys and values). */
  get bytes(): number {
    return this.#recordBytes + this.#defBytesTotal;
  }

  /** Bytes of the stored series definitions alone. */
  get defBytes(): number {
    return this.#defBytesTotal;
  }

  /** Rounds in the head. */
  get roundCount(): number {
    return this.#times.length;
  }

  /** The head's round times, oldest first (a copy). */
  get times(): number[] {
    return this.#times.slice();
  }

  /** Series present in the head's last round. */
  get lastSeries(): number {
    return this.#lastPresent.length;
  }

  get firstT(): number | undefined {
    return this.#times[0];
  }

  get lastT(): number | undefined {
    return this.#times[this.#times.length - 1];
  }

  /** The exclusive end of the aligned block the head belongs to; undefined when empty. */
  get endT(): number | undefined {
    const first = this.firstT;
    return first === undefined ? undefined : alignDown(first, this.blockDuration) + this.blockDuration;
  }

  /** The value of series `ref` in the head's last round: what a delta's step is taken from. */
  previous(ref: number): number | string | undefined {
    return this.defs.get(ref)?.last;
  }

  /** Adds a definition read from disk on open, or written with a round; `bytes` as stored. */
  loadDef(def: SeriesDef, bytes: number): void {
    const old = this.defs.get(def.ref);
    if (old !== undefined) this.#unindex(old);
    const series = def instanceof HeadSeries ? def : new HeadSeries({ ...def, labels: canonicalLabels(def.labels) });
    this.#defBytesTotal += bytes - (old?.defBytes ?? 0);
    series.defBytes = bytes;
    this.defs.set(def.ref, series);
    series.nextInBucket = this.#index.get(series.hash);
    this.#index.set(series.hash, series);
    if (def.ref >= this.#nextRef) this.#nextRef = def.ref + 1;
  }

  #unindex(series: HeadSeries): void {
    let c = this.#index.get(series.hash);
    if (c === series) {
      if (series.nextInBucket === undefined) this.#index.delete(series.hash);
      else this.#index.set(series.hash, series.nextInBucket);
    } else {
      while (c !== undefined && c.nextInBucket !== series) c = c.nextInBucket;
      if (c !== undefined) c.nextInBucket = series.nextInBucket;
    }
    series.nextInBucket = undefined;
  }

  /**
   * Validates `round` and plans its append against the head's last round, or says why the head
   * must be sealed first (the round reaches the head's block end, steps back in time, or changes
   * a series' type). Throws StoreError DW_STORE_INVALID_ROUND listing the first problems.
   * Changes nothing the head's records depend on.
   */
  plan(round: Round): PlanResult {
    const problems = roundProblems(round);
    if (problems.length > 0) throw invalidRound(round, problems);
    const lastT = this.lastT;
    const events = eventProblems(round, problems);
    const attempt = ++this.#plans;
    const samples = round.samples;
    const n = samples.length;
    const series: HeadSeries[] = new Array<HeadSeries>(n);
    const values: (number | string)[] = new Array<number | string>(n);
    const newDefs: HeadSeries[] = [];
    let created: Map<number, HeadSeries> | undefined;
    let nextRef = this.#nextRef;
    let typeChange = false;
    for (let i = 0; i < n && problems.length < MAX_PROBLEMS; i++) {
      const s = samples[i]!;
      let found: HeadSeries | undefined;
      let twice: HeadSeries | undefined;
      const hash = typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.labels === 'object' && s.labels !== null
        ? identityHash(s.name, s.labels) : Number.NaN;
      if (!Number.isNaN(hash)) {
        // The head's series, then those this round creates.
        let c = this.#index.get(hash);
        let inCreated = false;
        for (;;) {
          if (c === undefined) {
            if (inCreated || created === undefined) break;
            inCreated = true;
            c = created.get(hash);
            continue;
          }
          if (c.is(s.name, s.labels)) {
            if (c.seenBy === attempt) twice = c;
            else if (c.type === s.type) found = c;
            else if (c.present > 0) typeChange = true;
          }
          c = c.nextInBucket;
        }
      }
      if (twice !== undefined) {
        problems.push(`samples[${i}]: expected each series once per round, found ${seriesKey(twice.name, twice.labels)} again`);
        continue;
      }
      if (found === undefined) {
        const problem = sampleProblem(s, `samples[${i}]`);
        if (problem !== undefined) {
          problems.push(...problem);
          continue;
        }
        found = new HeadSeries({ ref: nextRef++, name: s.name, labels: canonicalLabels(s.labels), type: s.type });
        created ??= new Map();
        found.nextInBucket = created.get(found.hash);
        created.set(found.hash, found);
        newDefs.push(found);
      } else if (s.type === 'float' ? typeof s.value !== 'number' : typeof s.value !== 'string') {
        problems.push(`samples[${i}].value: expected a ${s.type === 'float' ? 'number' : 'string'} for a ${s.type} series, found ${typeof s.value}`);
        continue;
      }
      found.seenBy = attempt;
      series[i] = found;
      values[i] = s.value;
    }
    if (problems.length > 0) throw invalidRound(round, problems);
    if (lastT !== undefined) {
      if (round.t <= lastT) return { kind: 'seal', reason: 'clock_step_back' };
      if (round.t >= this.endT!) return { kind: 'seal', reason: 'boundary' };
      if (typeChange) return { kind: 'seal', reason: 'type_change' };
    }
    const set: [number, number | string][] = [];
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const c = series[i]!;
      const v = values[i]!;
      if (c.last === ABSENT || !Object.is(c.last, v)) {
        if (set.length > 0 && set[set.length - 1]![0] > c.ref) sorted = false;
        set.push([c.ref, v]);
      }
    }
    if (!sorted) set.sort(byRef);
    const gone: number[] = [];
    for (const c of this.#lastPresent) if (c.seenBy !== attempt) gone.push(c.ref);
    gone.sort((a, b) => a - b);
    return { kind: 'plan', plan: { t: round.t, delta: { set, gone, events }, newDefs, series, values, events } };
  }

  /** Applies a plan whose records are now durable; `defBytes` as stored, in `newDefs` order. */
  commit(plan: AppendPlan, recordBytes: number, defBytes: readonly number[]): void {
    plan.newDefs.forEach((def, i) => this.loadDef(def, defBytes[i] ?? 0));
    for (const c of this.#lastPresent) c.last = ABSENT;
    const round = this.#times.length;
    for (let i = 0; i < plan.series.length; i++) plan.series[i]!.append(round, plan.values[i]!);
    this.#times.push(plan.t);
    this.#lastPresent = plan.series.slice();
    if (plan.events.length > 0) this.#roundEvents.push({ round, events: plan.events });
    this.#recordBytes += recordBytes;
  }

  /**
   * Applies a replayed record at `t`: returns undefined, or a message saying why it does not fit
   * (an unknown ref, a ref gone that was not there, a value of the wrong type); then nothing changed.
   */
  replay(t: number, delta: HeadDelta, recordBytes: number): string | undefined {
    const attempt = ++this.#plans;
    for (const ref of delta.gone) {
      if (this.defs.get(ref)?.last === ABSENT) return `series ref ${ref} is gone but was not present`;
    }
    for (const [ref, value] of delta.set) {
      const def = this.defs.get(ref);
      if (def === undefined) return `series ref ${ref} has no definition`;
      if ((def.type === 'float') !== (typeof value === 'number')) return `series ref ${ref} is ${def.type} but holds a ${typeof value}`;
      if (def.seenBy === attempt) return `series ref ${ref} is set twice`;
      def.seenBy = attempt;
    }
    const goneAt = ++this.#plans;
    for (const ref of delta.gone) this.defs.get(ref)!.seenBy = goneAt;
    const present: HeadSeries[] = [];
    const values: (number | string)[] = [];
    for (const c of this.#lastPresent) {
      if (c.seenBy === attempt || c.seenBy === goneAt) continue;
      present.push(c);
      values.push(c.last!);
    }
    for (const [ref, value] of delta.set) {
      present.push(this.defs.get(ref)!);
      values.push(value);
    }
    this.commit({ t, delta, newDefs: [], series: present, values, events: delta.events }, recordBytes, []);
    return undefined;
  }

  /** The head as a block's column form, with `extraEvents` after the rounds' own (events in time order, stable). */
  toBlockData(extraEvents: readonly BlockEvent[]): BlockData {
    const n = this.#times.length;
    const columns: { key: string; data: SeriesData }[] = [];
    for (const c of this.defs.values()) {
      const data = c.column(n);
      if (data !== undefined) columns.push({ key: seriesKey(c.name, c.labels), data });
    }
    columns.sort((a, b) => compareStrings(a.key, b.key));
    const events: BlockEvent[] = [];
    for (const r of this.#roundEvents) events.push(...r.events);
    events.push(...extraEvents);
    events.sort((a, b) => a.t - b.t); // stable
    return { rounds: Float64Array.from(this.#times), series: columns.map((c) => c.data), events };
  }

  /** The head's rounds in row form, oldest first (samples in no particular order), with their events. */
  rows(): Round[] {
    const samples: Sample[][] = this.#times.map(() => []);
    for (const c of this.defs.values()) {
      if (c.present === 0) continue;
      c.forEachValue((round, value) => samples[round]!.push({ name: c.name, labels: c.labels, type: c.type, value }));
    }
    const events = new Map(this.#roundEvents.map((r) => [r.round, r.events]));
    return this.#times.map((t, i) => {
      const e = events.get(i);
      return e === undefined ? { t, samples: samples[i]! } : { t, samples: samples[i]!, events: e.map((x) => ({ ...x, labels: { ...x.labels } })) };
    });
  }

  /**
   * Empties the head after a seal. Definitions of series in the last round are kept (they are
   * likely in the next round); the others are returned so their records can be deleted.
   */
  reset(): number[] {
    const dropped = this.unusedRefs();
    for (const ref of dropped) {
      const def = this.defs.get(ref)!;
      this.#unindex(def);
      this.defs.delete(ref);
      this.#defBytesTotal -= def.defBytes;
    }
    for (const c of this.defs.values()) c.resetColumn();
    this.#times = [];
    this.#lastPresent = [];
    this.#roundEvents = [];
    this.#recordBytes = 0;
    return dropped;
  }

  /** The refs `reset()` would drop (absent from the last round), without dropping them. */
  unusedRefs(): number[] {
    const out: number[] = [];
    for (const [ref, c] of this.defs) if (c.last === ABSENT) out.push(ref);
    return out;
  }
}

// One series of the head: its definition (interned once, with a stable ref) and its column in
// the current head, so that 10,000 series cost 10,000 small objects, not 10,000 Sample objects
// per round. The column is kept in its cheapest form: a series present in every round since it
// appeared needs no run list, and a string series whose value did not change needs no change
// list; both are made only when a gap or a change happens.
import type { Labels, SeriesData, ValueType } from '../../proto/index.js';
import { markPresent, presenceOver } from './presence-runs.js';

/** A series definition stored once under `s!<ref>`. */
export interface SeriesDef {
  readonly ref: number;
  readonly name: string;
  readonly labels: Labels;
  readonly type: ValueType;
}

/** A value that is not there: the series is absent in the last round. */
export const ABSENT = undefined;

/** A series of the head: its definition and its column in the current head. */
export class HeadSeries implements SeriesDef {
  readonly ref: number;
  readonly name: string;
  /** Canonical (sorted) labels, owned by the store. */
  readonly labels: Labels;
  readonly type: ValueType;
  readonly labelCount: number;
  /** identityHash(name, labels): the index's key. */
  readonly hash: number;
  /** The next series in the index with the same hash. */
  nextInBucket: HeadSeries | undefined;
  /** Bytes of its stored definition (key and value). */
  defBytes = 0;
  /** Its value in the head's last round; undefined when absent there. */
  last: number | string | undefined = ABSENT;
  /** The plan that last saw it (finds a series given twice in one round). */
  seenBy = 0;
  /** The head round it was first and last present in, -1 when not in this head. */
  firstRound = -1;
  lastRound = -1;
  /** Rounds of this head it is present in. */
  present = 0;
  /** Presence runs as a block has them (absent first), made at the first gap; until then presence is firstRound..lastRound. */
  runs: number[] | undefined;
  /** A float series' values, one per present round (the first `present` are used). */
  floats: Float64Array | undefined;
  /** A string series' value in its first present round of this head. */
  firstValue: string | undefined;
  /** A string series' later changes: at which present round (0-based) the value becomes which. */
  changeAt: number[] | undefined;
  changeValues: string[] | undefined;

  constructor(def: SeriesDef) {
    this.ref = def.ref;
    this.name = def.name;
    this.labels = def.labels;
    this.type = def.type;
    let n = 0;
    for (const _ in def.labels) n++;
    this.labelCount = n;
    this.hash = identityHash(def.name, def.labels);
  }

  /** True when `name` and `labels` (in any key order) are this series' identity. */
  is(name: string, labels: Labels): boolean {
    if (name !== this.name) return false;
    let n = 0;
    for (const k in labels) {
      if (labels[k] !== this.labels[k]) return false;
      n++;
    }
    return n === this.labelCount;
  }

  /** Appends `value` as present in head round `round` (rounds are appended in order). */
  append(round: number, value: number | string): void {
    markPresent(this, round, 1);
    if (this.type === 'float') {
      let f = this.floats;
      if (f === undefined || this.present === f.length) {
        const grown = new Float64Array(f === undefined ? 8 : f.length * 2);
        if (f !== undefined) grown.set(f);
        this.floats = f = grown;
      }
      f[this.present] = value as number;
    } else if (this.present === 0) {
      this.firstValue = value as string;
    } else if (value !== (this.changeValues?.[this.changeValues.length - 1] ?? this.firstValue)) {
      (this.changeAt ??= []).push(this.present);
      (this.changeValues ??= []).push(value as string);
    }
    this.present++;
    this.last = value;
  }

  /** Presence runs over a head of `rounds` rounds, canonical. */
  #presence(rounds: number): Uint32Array {
    return presenceOver(this, rounds);
  }

  /** The column of a head of `rounds` rounds, canonical; undefined when absent from it. */
  column(rounds: number): SeriesData | undefined {
    if (this.present === 0) return undefined;
    const presence = this.#presence(rounds);
    if (this.type === 'float') return { name: this.name, labels: this.labels, type: 'float', presence, values: this.floats!.slice(0, this.present) };
    const changeAt = new Uint32Array(1 + (this.changeAt?.length ?? 0));
    if (this.changeAt !== undefined) changeAt.set(this.changeAt, 1);
    return { name: this.name, labels: this.labels, type: 'string', presence, changeAt, changeValues: [this.firstValue!, ...(this.changeValues ?? [])] };
  }

  /** Calls `fn(round, value)` for each head round it is present in, in order. */
  forEachValue(fn: (round: number, value: number | string) => void): void {
    if (this.present === 0) return;
    const runs = this.runs ?? [this.firstRound, this.present];
    let round = 0;
    let sample = 0;
    let change = 0;
    let current = this.firstValue ?? '';
    for (let i = 0; i < runs.length; i++) {
      const len = runs[i]!;
      if (i % 2 === 0) {
        round += len;
        continue;
      }
      for (let k = 0; k < len; k++, round++, sample++) {
        if (this.type === 'float') {
          fn(round, this.floats![sample]!);
        } else {
          if (this.changeAt !== undefined && change < this.changeAt.length && this.changeAt[change] === sample) current = this.changeValues![change++]!;
          fn(round, current);
        }
      }
    }
  }

  /** Empties the column for a new head; the definition stays. */
  resetColumn(): void {
    this.firstRound = -1;
    this.lastRound = -1;
    this.present = 0;
    this.runs = undefined;
    this.last = ABSENT;
    this.firstValue = undefined;
    this.changeAt = undefined;
    this.changeValues = undefined;
    // Keep a float buffer of a usual head's size for the next one.
    if (this.floats !== undefined && this.floats.length > 64) this.floats = undefined;
  }
}

function hashString(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * A 32-bit hash of a series' identity that does not depend on the labels' key order, computed
 * without allocating: the name's FNV-1a hash and the sum of each label pair's. NaN when a label
 * value is not a string (such a sample is invalid and takes the validating path).
 */
export function identityHash(name: string, labels: Labels): number {
  let sum = 0;
  for (const k in labels) {
    const v = labels[k];
    if (typeof v !== 'string') return Number.NaN;
    const pair = hashString(v, Math.imul(hashString(k, 0x811c9dc5), 0x01000193) ^ 0x3d);
    sum = (sum + Math.imul(pair ^ (pair >>> 15), 0x2c1b3c6d)) | 0;
  }
  return (hashString(name, 0x811c9dc5) ^ sum) | 0;
}

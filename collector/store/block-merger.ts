// Merging blocks one at a time, for compaction with bounded memory: each input is folded into
// per-series accumulators (presence runs, a float column, string change points) and can be
// released at once, so a merge holds its output's columns and one input, never every input
// decoded at the same time. The result is what mergeBlockData gives for the same inputs.
import type { BlockData, BlockEvent, Labels, SeriesData, ValueType } from '../../proto/index.js';
import { BlockErrorCode, BlockFormatError, compareStrings, seriesKey } from '../../proto/index.js';
import { identityHash } from './head-series.js';
import { markPresent, presenceOver } from './presence-runs.js';

/**
 * A series of the merge. Kept in its cheapest form, as the head's columns are: a series present
 * in every round from its first to its last needs no run list, and a string series needs a
 * change list only once its value changes.
 */
interface Acc {
  readonly name: string;
  readonly labels: Labels;
  readonly type: ValueType;
  readonly hash: number;
  next: Acc | undefined;
  /** Its first and last present round in the merged block, and how many it is present in. */
  firstRound: number;
  lastRound: number;
  present: number;
  /** Presence runs (absent first) up to lastRound, made at the first gap. */
  runs: number[] | undefined;
  floats: Float64Array | undefined;
  firstValue: string | undefined;
  /** Later changes of a string series: at which present sample the value becomes which. */
  changeAt: number[] | undefined;
  changeValues: string[] | undefined;
}

/** Adds a part's presence runs (over rounds offset…) to `a`. */
function addPresence(a: Acc, presence: Uint32Array, offset: number): void {
  let round = offset;
  for (let r = 0; r < presence.length; r++) {
    const len = presence[r]!;
    if (r % 2 === 0) {
      round += len;
      continue;
    }
    if (len === 0) continue;
    markPresent(a, round, len);
    a.present += len;
    round += len;
  }
}

/** Adds a string part's change points (its samples start at present sample `before`). */
function appendChanges(a: Acc, changeAt: Uint32Array, changeValues: readonly string[], before: number): void {
  for (let c = 0; c < changeAt.length; c++) {
    const v = changeValues[c]!;
    const at = before + changeAt[c]!;
    if (at === 0) {
      a.firstValue = v;
      continue;
    }
    const current = a.changeValues?.[a.changeValues.length - 1] ?? a.firstValue;
    if (v === current) continue;
    (a.changeAt ??= []).push(at);
    (a.changeValues ??= []).push(v);
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/**
 * Accumulates blocks given in time order whose rounds do not overlap. `add` throws
 * DW_BLOCK_INVALID_INPUT (keeping nothing of that part) when a part starts at or before the last
 * round so far or a series changes type; `build` gives the canonical BlockData that
 * mergeBlockData would give for all the parts added. `maxRounds`, when known, bounds the rounds of
 * the result: float columns never grow past it.
 */
export class BlockMerger {
  readonly #rounds: number[] = [];
  readonly #accs = new Map<number, Acc>();
  #count = 0;
  readonly #events: BlockEvent[] = [];
  #parts = 0;
  readonly #maxRounds: number | undefined;

  constructor(options: { maxRounds?: number } = {}) {
    this.#maxRounds = options.maxRounds;
  }

  /** Rounds added so far. */
  get roundCount(): number {
    return this.#rounds.length;
  }

  /** Folds in `part`; the merger keeps no reference to it but its first-seen series' name and labels. */
  add(part: BlockData): void {
    const index = this.#parts;
    const offset = this.#rounds.length;
    const lastT = offset === 0 ? -1 : this.#rounds[offset - 1]!;
    if (part.rounds.length > 0 && part.rounds[0]! <= lastT) {
      throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected parts in time order without overlap, found part ${index} starting at ${part.rounds[0]} after a round at ${lastT}`, `part ${index}`);
    }
    // Find every series first, so that a type change leaves the merger as it was.
    const found: (Acc | undefined)[] = new Array<Acc | undefined>(part.series.length);
    part.series.forEach((s, i) => {
      const hash = identityHash(s.name, s.labels);
      for (let a = this.#accs.get(hash); a !== undefined; a = a.next) {
        if (a.name !== s.name || !sameLabels(a.labels, s.labels)) continue;
        if (a.type !== s.type) {
          const key = seriesKey(s.name, s.labels);
          throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected ${key} to stay ${a.type}, found ${s.type}`, `series ${key}`);
        }
        found[i] = a;
        break;
      }
    });
    this.#parts++;
    for (const t of part.rounds) this.#rounds.push(t);
    part.series.forEach((s, i) => {
      let a = found[i];
      if (a === undefined) {
        const hash = identityHash(s.name, s.labels);
        a = {
          name: s.name, labels: s.labels, type: s.type, hash, next: this.#accs.get(hash), firstRound: -1, lastRound: -1, present: 0,
          runs: undefined, floats: undefined, firstValue: undefined, changeAt: undefined, changeValues: undefined,
        };
        this.#accs.set(hash, a);
        this.#count++;
      }
      const before = a.present;
      addPresence(a, s.presence, offset);
      if (s.type === 'float') this.#appendFloats(a, s.values, before, offset);
      else appendChanges(a, s.changeAt, s.changeValues, before);
    });
    for (const e of part.events) this.#events.push(e);
  }

  #appendFloats(a: Acc, values: Float64Array, before: number, offset: number): void {
    const need = before + values.length;
    let f = a.floats;
    if (f === undefined || f.length < need) {
      // Grow by doubling, never past the rounds the result can have from where the series began.
      const bound = this.#maxRounds === undefined ? Infinity : this.#maxRounds - (offset - before);
      const size = Math.max(need, Math.min(bound, Math.max(16, (f?.length ?? 0) * 2)));
      const grown = new Float64Array(size);
      if (f !== undefined) grown.set(f.subarray(0, before));
      a.floats = f = grown;
    }
    f.set(values, before);
  }

  /** The canonical merged BlockData of every part added. */
  build(): BlockData {
    const total = this.#rounds.length;
    const accs: { key: string; acc: Acc }[] = [];
    for (const first of this.#accs.values()) for (let a: Acc | undefined = first; a !== undefined; a = a.next) accs.push({ key: seriesKey(a.name, a.labels), acc: a });
    accs.sort((x, y) => compareStrings(x.key, y.key));
    const series: SeriesData[] = accs.map(({ acc: a }) => {
      const presence = presenceOver(a, total);
      if (a.type === 'float') {
        const f = a.floats ?? new Float64Array(0);
        return { name: a.name, labels: a.labels, type: 'float', presence, values: f.length === a.present ? f : f.subarray(0, a.present) };
      }
      const changeAt = new Uint32Array(1 + (a.changeAt?.length ?? 0));
      if (a.changeAt !== undefined) changeAt.set(a.changeAt, 1);
      return { name: a.name, labels: a.labels, type: 'string', presence, changeAt, changeValues: [a.firstValue!, ...(a.changeValues ?? [])] };
    });
    const events = this.#events.slice().sort((x, y) => x.t - y.t); // stable, as mergeBlockData
    return { rounds: Float64Array.from(this.#rounds), series, events };
  }

  /** Series seen so far. */
  get seriesCount(): number {
    return this.#count;
  }
}

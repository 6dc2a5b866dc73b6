// The head in memory: series definitions by ref, the values of the head's last round (what the
// next round's delta is taken against), and the head's rounds in row form for sealing.
import type { Round, Sample, ValueType } from '../../proto/index.js';
import { canonicalLabels, seriesKey } from '../../proto/index.js';
import type { HeadDelta, SeriesDef } from './head-codec.js';

/** Why the head is sealed before a round is appended. */
export type SealBeforeAppend = 'boundary' | 'clock_step_back' | 'type_change';

/** What appending one round writes, computed before anything is written. */
export interface AppendPlan {
  readonly delta: HeadDelta;
  readonly newDefs: readonly SeriesDef[];
  /** The values of this round by ref: the next `last`. */
  readonly next: Map<number, number | string>;
  /** The round as the head keeps it. */
  readonly round: Round;
  /** Each sample's series key, in sample order. */
  readonly keys: readonly string[];
}

function defKey(key: string, type: ValueType): string {
  return `${type}\u0000${key}`;
}

function alignDown(t: number, step: number): number {
  return t - (((t % step) + step) % step);
}

/**
 * The head in memory. `plan` computes what appending a round writes without changing anything;
 * `commit` applies it once durable; `replay` applies a stored record on open; `reset` empties the
 * head after a seal.
 */
export class HeadState {
  readonly defs = new Map<number, SeriesDef & { readonly key: string }>();
  readonly #refs = new Map<string, number>();
  #nextRef = 1;
  /** Values of the head's last round, by ref. Empty for a fresh head. */
  last = new Map<number, number | string>();
  /** Rounds of the head in append order (row form), as appended or replayed. */
  rounds: Round[] = [];
  /** Bytes of the stored head round records (keys and values). */
  #recordBytes = 0;
  /** Bytes of each stored series definition. */
  readonly #defBytes = new Map<number, number>();
  #defBytesTotal = 0;
  /** The type each series key has in this head: a change of type seals the head first. */
  #types = new Map<string, ValueType>();

  constructor(readonly blockDuration: number) {}

  /** Bytes of the stored head: round records and series definitions (keys and values). */
  get bytes(): number {
    return this.#recordBytes + this.#defBytesTotal;
  }

  /** Bytes of the stored series definitions alone. */
  get defBytes(): number {
    return this.#defBytesTotal;
  }

  get firstT(): number | undefined {
    return this.rounds[0]?.t;
  }

  get lastT(): number | undefined {
    return this.rounds[this.rounds.length - 1]?.t;
  }

  /** The exclusive end of the aligned block the head belongs to; undefined when empty. */
  get endT(): number | undefined {
    const first = this.firstT;
    return first === undefined ? undefined : alignDown(first, this.blockDuration) + this.blockDuration;
  }

  /** Adds a definition read from disk on open, or written with a round; `bytes` as stored. */
  loadDef(def: SeriesDef, bytes: number): void {
    const key = seriesKey(def.name, def.labels);
    this.#defBytesTotal += bytes - (this.#defBytes.get(def.ref) ?? 0);
    this.#defBytes.set(def.ref, bytes);
    this.defs.set(def.ref, { ...def, key });
    this.#refs.set(defKey(key, def.type), def.ref);
    if (def.ref >= this.#nextRef) this.#nextRef = def.ref + 1;
  }

  /** Why `round` cannot join the head as it is, or undefined when it can. `keys`: each sample's series key. */
  sealReason(round: Round, keys: readonly string[]): SealBeforeAppend | undefined {
    const lastT = this.lastT;
    if (lastT === undefined) return undefined;
    if (round.t <= lastT) return 'clock_step_back';
    if (round.t >= this.endT!) return 'boundary';
    for (let i = 0; i < round.samples.length; i++) {
      const type = this.#types.get(keys[i]!);
      if (type !== undefined && type !== round.samples[i]!.type) return 'type_change';
    }
    return undefined;
  }

  /**
   * The delta and new definitions for `round` against the last round, and the round as the head
   * keeps it: samples pointing at the definitions' own label objects (immune to the caller
   * mutating its objects, and the same identity every round for the block builder). Changes nothing.
   */
  plan(round: Round, keys: readonly string[]): AppendPlan {
    const next = new Map<number, number | string>();
    const newDefs: SeriesDef[] = [];
    const pending = new Map<string, SeriesDef>();
    const samples: Sample[] = [];
    let nextRef = this.#nextRef;
    for (let i = 0; i < round.samples.length; i++) {
      const s = round.samples[i]!;
      const key = keys[i]!;
      const dk = defKey(key, s.type);
      const known = this.#refs.get(dk);
      let def: SeriesDef | undefined = known === undefined ? pending.get(dk) : this.defs.get(known);
      if (def === undefined) {
        def = { ref: nextRef++, name: s.name, labels: canonicalLabels(s.labels), type: s.type };
        pending.set(dk, def);
        newDefs.push(def);
      }
      next.set(def.ref, s.value);
      samples.push({ name: def.name, labels: def.labels, type: def.type, value: s.value });
    }
    const set: [number, number | string][] = [];
    for (const [ref, value] of next) {
      const before = this.last.get(ref);
      if (before === undefined || !Object.is(before, value)) set.push([ref, value]);
    }
    set.sort((a, b) => a[0] - b[0]);
    const gone = [...this.last.keys()].filter((ref) => !next.has(ref)).sort((a, b) => a - b);
    const events = (round.events ?? []).map((e) => ({ ...e, labels: { ...e.labels } }));
    const kept: Round = events.length > 0 ? { t: round.t, samples, events } : { t: round.t, samples };
    return { delta: { set, gone, events }, newDefs, next, round: kept, keys };
  }

  /** Applies a plan whose records are now durable; `defBytes` as stored, in `newDefs` order. */
  commit(plan: AppendPlan, recordBytes: number, defBytes: readonly number[]): void {
    plan.newDefs.forEach((def, i) => this.loadDef(def, defBytes[i] ?? 0));
    this.last = plan.next;
    this.rounds.push(plan.round);
    this.#recordBytes += recordBytes;
    plan.round.samples.forEach((s, i) => this.#types.set(plan.keys[i]!, s.type));
  }

  /**
   * Applies a replayed record: returns the round it stands for, or a message saying why it
   * does not fit (an unknown ref, a ref gone that was not there).
   */
  replay(t: number, delta: HeadDelta, recordBytes: number): Round | string {
    const next = new Map(this.last);
    for (const ref of delta.gone) {
      if (!next.delete(ref)) return `series ref ${ref} is gone but was not present`;
    }
    for (const [ref, value] of delta.set) {
      const def = this.defs.get(ref);
      if (def === undefined) return `series ref ${ref} has no definition`;
      if ((def.type === 'float') !== (typeof value === 'number')) return `series ref ${ref} is ${def.type} but holds a ${typeof value}`;
      next.set(ref, value);
    }
    const samples: Sample[] = [];
    for (const [ref, value] of next) {
      const def = this.defs.get(ref);
      if (def === undefined) return `series ref ${ref} has no definition`;
      samples.push({ name: def.name, labels: def.labels, type: def.type, value });
    }
    const round: Round = delta.events.length > 0 ? { t, samples, events: delta.events } : { t, samples };
    this.last = next;
    this.rounds.push(round);
    this.#recordBytes += recordBytes;
    for (const s of samples) this.#types.set(seriesKey(s.name, s.labels), s.type);
    return round;
  }

  /**
   * Empties the head after a seal. Definitions of series in the last round are kept (they are
   * likely in the next round); the others are returned so their records can be deleted.
   */
  reset(): number[] {
    const dropped: number[] = [];
    for (const [ref, def] of this.defs) {
      if (!this.last.has(ref)) {
        dropped.push(ref);
        this.defs.delete(ref);
        this.#defBytesTotal -= this.#defBytes.get(ref) ?? 0;
        this.#defBytes.delete(ref);
        this.#refs.delete(defKey(def.key, def.type));
      }
    }
    this.last = new Map();
    this.rounds = [];
    this.#recordBytes = 0;
    this.#types = new Map();
    return dropped;
  }

  /** The refs `reset()` would drop, without dropping them. */
  unusedRefs(): number[] {
    return [...this.defs.keys()].filter((ref) => !this.last.has(ref));
  }
}

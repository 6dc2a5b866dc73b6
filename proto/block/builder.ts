// Builds the column form of a block from rounds in row form.
import { BlockErrorCode, BlockFormatError } from './errors.js';
import { checkEvent, sortEvents } from './events.js';
import { canonicalLabels, compareStrings, isValidLabelName, isValidMetricName, seriesKey } from './labels.js';
import { pushRun } from './presence.js';
import type { BlockData, BlockEvent, Labels, Round, SeriesData, ValueType } from './types.js';

interface Column {
  readonly key: string;
  readonly name: string;
  readonly labels: Labels;
  readonly type: ValueType;
  readonly runs: number[];
  lastRound: number;
  present: number;
  readonly floats: number[];
  readonly changeAt: number[];
  readonly changeValues: string[];
  /** The last append attempt that saw this series: finds a series given twice in one round. */
  attempt: number;
}

function invalid(message: string, where: string): never {
  throw new BlockFormatError(BlockErrorCode.InvalidInput, message, where);
}

/**
 * Accumulates rounds (strictly increasing in time) into a block's column form. `append` throws a
 * DW_BLOCK_INVALID_INPUT error, and keeps nothing of the round, when the round is out of order,
 * has a sample of the wrong type, the same series twice, or an invalid name. `build` may be
 * called more than once; appending after `build` goes on from where it was. Label objects given
 * to `append` must not be mutated afterwards (they are cached by identity).
 */
export class BlockBuilder {
  readonly #rounds: number[] = [];
  readonly #columns = new Map<string, Column>();
  readonly #events: BlockEvent[] = [];
  // Columns by the identity of a sample's labels object, then by name: a collector that reuses its
  // label objects from round to round skips building the series key. Labels must not be mutated.
  readonly #byLabels = new WeakMap<Labels, Map<string, Column>>();
  #attempt = 0;

  get roundCount(): number {
    return this.#rounds.length;
  }

  /** The time of the last round appended, or undefined. */
  get lastTime(): number | undefined {
    return this.#rounds[this.#rounds.length - 1];
  }

  append(round: Round): void {
    const t = round.t;
    const where = `round t=${t}`;
    if (!(Number.isSafeInteger(t) && t >= 0)) invalid(`expected a round time in whole milliseconds >= 0, found ${t}`, where);
    const last = this.lastTime;
    if (last !== undefined && t <= last) invalid(`expected round times to increase, found ${t} after ${last}`, where);
    // Validate the whole round before changing anything.
    const index = this.#rounds.length;
    const attempt = ++this.#attempt;
    const created = new Map<string, Column>();
    const columns: Column[] = [];
    const values: (number | string)[] = [];
    for (const s of round.samples) {
      let column = this.#byLabels.get(s.labels)?.get(s.name);
      if (column === undefined) {
        const key = seriesKey(s.name, s.labels);
        column = this.#columns.get(key) ?? created.get(key);
        if (column === undefined) {
          if (!isValidMetricName(s.name)) invalid(`expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*, found ${JSON.stringify(s.name)}`, where);
          for (const [n, v] of Object.entries(s.labels)) {
            if (!isValidLabelName(n)) invalid(`expected label names matching [a-zA-Z_][a-zA-Z0-9_]*, found ${JSON.stringify(n)} on ${s.name}`, where);
            if (typeof v !== 'string') invalid(`expected string label values, found ${typeof v} for ${n} on ${s.name}`, where);
          }
          if (s.type !== 'float' && s.type !== 'string') invalid(`expected type float or string, found ${JSON.stringify(s.type)} for ${key}`, where);
          column = { key, name: s.name, labels: canonicalLabels(s.labels), type: s.type, runs: [], lastRound: -1, present: 0, floats: [], changeAt: [], changeValues: [], attempt: 0 };
          created.set(key, column);
        }
      }
      if (column.attempt === attempt) invalid(`expected each series once per round, found ${column.key} twice`, where);
      column.attempt = attempt;
      if (column.type !== s.type) invalid(`expected ${column.key} to stay ${column.type}, found ${s.type}`, where);
      if (s.type === 'float' ? typeof s.value !== 'number' : typeof s.value !== 'string') {
        invalid(`expected a ${s.type === 'float' ? 'number' : 'string'} value for ${column.key}, found ${typeof s.value}`, where);
      }
      columns.push(column);
      values.push(s.value);
    }
    const events = (round.events ?? []).map((e, i) => checkEvent(e, `${where}, event ${i}`));
    // Commit.
    this.#rounds.push(t);
    for (const [key, c] of created) this.#columns.set(key, c);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      const value = values[i]!;
      const sample = round.samples[i]!;
      let byName = this.#byLabels.get(sample.labels);
      if (byName === undefined) this.#byLabels.set(sample.labels, (byName = new Map()));
      byName.set(sample.name, c);
      pushRun(c.runs, false, index - c.lastRound - 1);
      pushRun(c.runs, true, 1);
      c.lastRound = index;
      if (c.type === 'float') {
        c.floats.push(value as number);
      } else if (c.changeValues.length === 0 || c.changeValues[c.changeValues.length - 1] !== value) {
        c.changeAt.push(c.present);
        c.changeValues.push(value as string);
      }
      c.present++;
    }
    this.#events.push(...events);
  }

  /** Adds an event that belongs to no round (for example data dropped at the edge). */
  appendEvent(event: BlockEvent): void {
    this.#events.push(checkEvent(event, 'event'));
  }

  /** The canonical column form of everything appended so far. */
  build(): BlockData {
    const n = this.#rounds.length;
    const columns = [...this.#columns.values()].sort((a, b) => compareStrings(a.key, b.key));
    const series: SeriesData[] = columns.map((c) => {
      const runs = c.runs.slice();
      pushRun(runs, false, n - 1 - c.lastRound);
      const presence = Uint32Array.from(runs);
      return c.type === 'float'
        ? { name: c.name, labels: c.labels, type: 'float', presence, values: Float64Array.from(c.floats) }
        : { name: c.name, labels: c.labels, type: 'string', presence, changeAt: Uint32Array.from(c.changeAt), changeValues: c.changeValues.slice() };
    });
    return { rounds: Float64Array.from(this.#rounds), series, events: sortEvents(this.#events.slice()) };
  }
}

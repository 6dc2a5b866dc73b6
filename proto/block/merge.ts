// Merges the column forms of consecutive blocks into one, for compaction at the edge.
import { BlockErrorCode, BlockFormatError } from './errors.js';
import { sortEvents } from './events.js';
import { compareStrings, seriesKey } from './labels.js';
import { pushRun } from './presence.js';
import type { BlockData, BlockEvent, Labels, SeriesData, ValueType } from './types.js';

interface Acc {
  name: string;
  labels: Labels;
  type: ValueType;
  runs: number[];
  rounds: number; // rounds covered so far
  present: number;
  floats: Float64Array[];
  changeAt: number[];
  changeValues: string[];
}

/**
 * Merges blocks given in time order whose rounds do not overlap (every round of a part is after
 * every round of the part before) into one canonical BlockData, as if all their rounds had been
 * built into one block. Throws DW_BLOCK_INVALID_INPUT when parts overlap or a series changes type.
 */
export function mergeBlockData(parts: readonly BlockData[]): BlockData {
  let total = 0;
  let lastT = -1;
  for (const [i, p] of parts.entries()) {
    if (p.rounds.length === 0) continue;
    if (p.rounds[0]! <= lastT) {
      throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected parts in time order without overlap, found part ${i} starting at ${p.rounds[0]} after a round at ${lastT}`, `part ${i}`);
    }
    lastT = p.rounds[p.rounds.length - 1]!;
    total += p.rounds.length;
  }
  const rounds = new Float64Array(total);
  const accs = new Map<string, Acc>();
  let offset = 0;
  const events: BlockEvent[] = [];
  for (const p of parts) {
    rounds.set(p.rounds, offset);
    for (const s of p.series) {
      const key = seriesKey(s.name, s.labels);
      let a = accs.get(key);
      if (a === undefined) {
        a = { name: s.name, labels: s.labels, type: s.type, runs: [], rounds: 0, present: 0, floats: [], changeAt: [], changeValues: [] };
        accs.set(key, a);
      } else if (a.type !== s.type) {
        throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected ${key} to stay ${a.type}, found ${s.type}`, `series ${key}`);
      }
      pushRun(a.runs, false, offset - a.rounds);
      for (let i = 0; i < s.presence.length; i++) pushRun(a.runs, i % 2 === 1, s.presence[i]!);
      a.rounds = offset + p.rounds.length;
      if (s.type === 'float') {
        a.floats.push(s.values);
        a.present += s.values.length;
      } else {
        let present = 0;
        for (let i = 1; i < s.presence.length; i += 2) present += s.presence[i]!;
        for (let i = 0; i < s.changeAt.length; i++) {
          const v = s.changeValues[i]!;
          if (i === 0 && a.changeValues.length > 0 && a.changeValues[a.changeValues.length - 1] === v) continue;
          a.changeAt.push(a.present + s.changeAt[i]!);
          a.changeValues.push(v);
        }
        a.present += present;
      }
    }
    offset += p.rounds.length;
    events.push(...p.events);
  }
  const series: SeriesData[] = [...accs.entries()]
    .sort((x, y) => compareStrings(x[0], y[0]))
    .map(([, a]) => {
      pushRun(a.runs, false, total - a.rounds);
      const presence = Uint32Array.from(a.runs);
      if (a.type === 'float') {
        const values = new Float64Array(a.present);
        let o = 0;
        for (const f of a.floats) {
          values.set(f, o);
          o += f.length;
        }
        return { name: a.name, labels: a.labels, type: 'float', presence, values };
      }
      return { name: a.name, labels: a.labels, type: 'string', presence, changeAt: Uint32Array.from(a.changeAt), changeValues: a.changeValues };
    });
  return { rounds, series, events: sortEvents(events) };
}

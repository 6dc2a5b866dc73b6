// From the column form back to rounds of samples.
import { forEachPresent } from './presence.js';
import type { BlockData, Round, Sample, SeriesData } from './types.js';

/**
 * Calls `fn(roundIndex, value)` for every sample of a series, in round order. String values
 * are expanded from their change points.
 */
export function forEachSample(series: SeriesData, fn: (round: number, value: number | string) => void): void {
  if (series.type === 'float') {
    const values = series.values;
    forEachPresent(series.presence, (round, sample) => fn(round, values[sample]!));
    return;
  }
  let change = 0;
  let current = '';
  const { changeAt, changeValues } = series;
  forEachPresent(series.presence, (round, sample) => {
    if (change < changeAt.length && changeAt[change] === sample) current = changeValues[change++]!;
    fn(round, current);
  });
}

/**
 * The block's rounds in row form: one Round per round time, its samples in series order.
 * Events are not assigned to rounds (their times need not be round times): read them from
 * `data.events`. The returned rounds have no `events`.
 */
export function blockToRounds(data: BlockData): Round[] {
  const samples: Sample[][] = Array.from({ length: data.rounds.length }, () => []);
  for (const s of data.series) {
    forEachSample(s, (round, value) => {
      samples[round]!.push({ name: s.name, labels: s.labels, type: s.type, value });
    });
  }
  return Array.from(data.rounds, (t, i) => ({ t, samples: samples[i]! }));
}

/** The number of rounds in which a series has a value. */
export function presentCount(series: SeriesData): number {
  let n = 0;
  for (let i = 1; i < series.presence.length; i += 2) n += series.presence[i]!;
  return n;
}

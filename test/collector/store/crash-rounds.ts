// What the crash test's child appends, shared by parent and child: the round at `t` is a pure
// function of `t`, so the parent can check every round's content after each kill.
import { seededRandom } from '../../../common/random.js';
import type { Round } from '../../../proto/index.js';
import { T0, syntheticRound } from './helpers.js';

/** Small blocks and windows, so that seals and compactions happen every few rounds. */
export const CRASH_OPTIONS = { blockDuration: 10_000, maxBlockSpan: 40_000, compactionWindows: [40_000] } as const;

/** Runs never share a round time: run k starts k × 10^7 ms after T0. */
export function runBase(run: number): number {
  return T0 + run * 10_000_000;
}

export function crashRound(t: number): Round {
  return syntheticRound(t, seededRandom(t % 0x7fffffff), { series: 10, events: true });
}

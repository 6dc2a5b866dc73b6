// Presence of a series built round by round, in its cheapest form: a series present in every
// round from its first to its last needs no run list (firstRound..lastRound says it all); the
// block's run list (absent first, alternating) is made only at the first gap. The head's columns
// and the compaction merger both build presence this way.

/** The presence state a column keeps; `present` is the rounds counted so far (the caller adds to it). */
export interface PresenceState {
  firstRound: number;
  lastRound: number;
  present: number;
  runs: number[] | undefined;
}

/** Appends a run of `len` rounds to `runs`, merging it into the last run when that has the same kind. */
export function pushRun(runs: number[], present: boolean, len: number): void {
  if (len === 0) return;
  if (runs.length === 0) {
    if (present) runs.push(0, len);
    else runs.push(len);
    return;
  }
  const lastIsPresent = runs.length % 2 === 0;
  if (lastIsPresent === present) runs[runs.length - 1]! += len;
  else runs.push(len);
}

/**
 * Marks rounds round..round+len−1 present (after every round marked before): sets firstRound,
 * lastRound and the runs once there is a gap. Leaves `present` to the caller, who adds `len`.
 */
export function markPresent(s: PresenceState, round: number, len: number): void {
  if (s.present === 0) {
    s.firstRound = round;
  } else if (round !== s.lastRound + 1) {
    if (s.runs === undefined) {
      s.runs = [];
      pushRun(s.runs, false, s.firstRound);
      pushRun(s.runs, true, s.present);
    }
    pushRun(s.runs, false, round - s.lastRound - 1);
  }
  if (s.runs !== undefined) pushRun(s.runs, true, len);
  s.lastRound = round + len - 1;
}

/** The canonical presence runs over `total` rounds (the absent tail added). */
export function presenceOver(s: PresenceState, total: number): Uint32Array {
  const runs = s.runs === undefined ? [s.firstRound, s.present] : s.runs.slice();
  pushRun(runs, false, total - 1 - s.lastRound);
  return Uint32Array.from(runs);
}

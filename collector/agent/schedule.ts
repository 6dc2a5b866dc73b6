// Round times: aligned to the interval in event time, so that every agent of a fleet samples at
// the same instants and blocks line up. A wake-up that finds a whole interval already passed
// records the slots it missed and resumes at the next aligned slot: no burst of catch-up rounds.

/** The first aligned slot at or after `now`: ceil(now / interval) × interval. */
export function nextSlot(now: number, interval: number): number {
  return Math.ceil(now / interval) * interval;
}

/** What to do on waking up for the round planned at `planned`. */
export type WakePlan =
  | { readonly kind: 'round'; readonly t: number }
  | {
    readonly kind: 'gap';
    /** The first and last slots missed, inclusive. */
    readonly firstMissed: number;
    readonly lastMissed: number;
    readonly missed: number;
    /** The aligned slot to run next (at or after now). */
    readonly resumeAt: number;
  };

/**
 * Decides, on waking at `now` for the round planned at `planned`: run it (a timer that fired a
 * little late still runs the round at `planned`), or — when `now ≥ planned + interval`, a
 * suspended process or a round that overran — skip every slot before now and resume at the
 * next aligned slot (now itself when it is aligned).
 */
export function planWake(now: number, planned: number, interval: number): WakePlan {
  if (now < planned + interval) return { kind: 'round', t: planned };
  const resumeAt = nextSlot(now, interval);
  const lastMissed = resumeAt - interval;
  return { kind: 'gap', firstMissed: planned, lastMissed, missed: (lastMissed - planned) / interval + 1, resumeAt };
}

/** A source of wall-clock time in milliseconds since the Unix epoch. Inject it wherever time is read. */
export interface Clock {
  now(): number;
}

/** The process clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when told to: for tests and simulations.
 * `set` may move time backwards (to test clock steps); `advance` rejects negative steps.
 */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: number) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  set(t: number): void {
    this.#t = t;
  }
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance expects a non-negative step, found ${ms}`);
    this.#t += ms;
    return this.#t;
  }
}

// Waiting on the injected clock: the agent's loop sleeps until the next aligned round, and the
// sampler arms one deadline per source. Both go through `Timers`, so tests drive them from a
// ManualClock without real sleeps.
import type { Clock, ManualClock } from './clock.js';

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

/** Calls a function once the clock reaches a time. */
export interface Timers {
  /**
   * Calls `fn` once, when the clock reaches `at` (ms since the epoch); at once (on a later
   * turn of the event loop, never synchronously) when `at` has passed. Returns its cancel.
   */
  at(at: number, fn: () => void): CancelTimer;
}

/**
 * Timers on the process's event loop: `setTimeout` for `at − clock.now()` ms. With a clock that
 * stands still (a ManualClock in a benchmark) the wait is the same number of real milliseconds.
 */
export function systemTimers(clock: Clock): Timers {
  return {
    at(at, fn) {
      const handle = setTimeout(fn, Math.max(0, at - clock.now()));
      return () => clearTimeout(handle);
    },
  };
}

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * Timers on a ManualClock that fire only when the test moves time with `advance`, `set` or
 * `runNext`, in time order (then in the order they were armed), the clock set to each timer's
 * time as it fires. `whenPending` lets a test wait until the code under test has armed a timer.
 */
export class ManualTimers implements Timers {
  readonly clock: ManualClock;
  #pending: Pending[] = [];
  #seq = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  at(at: number, fn: () => void): CancelTimer {
    const entry: Pending = { at, seq: this.#seq++, fn };
    this.#pending.push(entry);
    this.#pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.#wake();
    return () => {
      const i = this.#pending.indexOf(entry);
      if (i >= 0) this.#pending.splice(i, 1);
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    return this.#pending.length;
  }

  /** The time of the earliest armed timer, or undefined. */
  get nextAt(): number | undefined {
    return this.#pending[0]?.at;
  }

  /** Resolves once at least `count` timers are armed (at once when they already are). */
  whenPending(count = 1): Promise<void> {
    if (this.#pending.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Moves the clock to `t` (never backwards), firing every timer due by then, in order. */
  set(t: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.at <= t) {
      const next = this.#pending.shift()!;
      if (next.at > this.clock.now()) this.clock.set(next.at);
      next.fn();
    }
    if (t > this.clock.now()) this.clock.set(t);
  }

  /** Moves the clock on by `ms`, firing what falls due. */
  advance(ms: number): void {
    this.set(this.clock.now() + ms);
  }

  /** Moves the clock to the earliest armed timer and fires it (and any due at the same time). Returns false when none is armed. */
  runNext(): boolean {
    const next = this.#pending[0];
    if (next === undefined) return false;
    this.set(Math.max(next.at, this.clock.now()));
    return true;
  }

  #wake(): void {
    const n = this.#pending.length;
    const ready = this.#waiters.filter((w) => w.count <= n);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.count > n);
    for (const w of ready) w.resolve();
  }
}

/**
 * Timers that fast-forward a ManualClock: a timer sets the clock to its time (when that is
 * later) and fires on the next turn of the event loop. For an agent loop run back to back on
 * simulated time (benchmarks, `--rounds` tests); not for deadlines, which would fire at once.
 */
export function fastForwardTimers(clock: ManualClock): Timers {
  return {
    at(at, fn) {
      let cancelled = false;
      setImmediate(() => {
        if (cancelled) return;
        if (at > clock.now()) clock.set(at);
        fn();
      });
      return () => {
        cancelled = true;
      };
    },
  };
}

/**
 * Resolves when `timers` reach `at`, or rejects with the signal's reason when `signal` aborts
 * first (the timer is then cancelled).
 */
export function sleepUntil(timers: Timers, at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = timers.at(at, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

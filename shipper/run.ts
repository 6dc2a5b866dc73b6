// The agent's long-running shipping loop: a sync when woken (a block was sealed) or every
// syncInterval, and heartbeats on their own interval, one at a time, never behind uploads.
import type { Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Timers } from '../common/timers.js';
import type { ShipperLogger } from './context.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import type { SyncSummary } from './sync.js';

/** Something that tells the loop a block was sealed (the agent notifies after a seal). */
export interface ShipperWake {
  /** Calls `listener` on every notification until the returned unsubscribe is called. */
  subscribe(listener: () => void): () => void;
}

/** A ShipperWake the caller fires with `notify()`. */
export function createWake(): ShipperWake & { notify(): void } {
  const listeners = new Set<() => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify() {
      for (const l of [...listeners]) l();
    },
  };
}

export interface ShipperRunOptions {
  /** Sync at least this often (ms). */
  readonly syncInterval: number;
  /** Send a heartbeat this often (ms); a heartbeat not answered within it is abandoned. */
  readonly heartbeatInterval: number;
  /** Sync as soon as this fires (a newly sealed block). A wake during a sync runs another right after. */
  readonly wake?: ShipperWake;
  /** The agent's last round time, for the heartbeat (undefined: none yet). */
  readonly lastRoundTime?: () => number | undefined;
  /** Called after every sync, with its summary. */
  readonly onSync?: (summary: SyncSummary) => void;
}

/** What the loop needs of the shipper. */
export interface RunTarget {
  sync(signal: AbortSignal): Promise<SyncSummary>;
  heartbeat(options: { lastRoundTime?: number; signal: AbortSignal }): Promise<unknown>;
}

/** Resolves when `at` is reached, `signal` fires or `early` is called, whichever is first. */
function waitUntil(timers: Timers, at: number, signal: AbortSignal, early?: (fire: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const fire = (): void => {
      if (done) return;
      done = true;
      cancel();
      signal.removeEventListener('abort', fire);
      resolve();
    };
    const cancel = timers.at(at, fire);
    signal.addEventListener('abort', fire, { once: true });
    if (signal.aborted) fire();
    early?.(fire);
  });
}

async function syncLoop(target: RunTarget, o: ShipperRunOptions, signal: AbortSignal, clock: Clock, timers: Timers, logger: ShipperLogger): Promise<void> {
  // A wake during a sync is remembered, so the next sync runs right after it.
  const wake = { pending: false, fire: undefined as (() => void) | undefined };
  const unsubscribe = o.wake?.subscribe(() => {
    wake.pending = true;
    wake.fire?.();
  });
  try {
    while (!signal.aborted) {
      wake.pending = false;
      try {
        const summary = await target.sync(signal);
        o.onSync?.(summary);
      } catch (err) {
        // A store error (closed under us, a failed write): nothing was marked wrongly; try again later.
        logger.error({ err: errorMessage(err) }, 'sync failed on the store; trying again at the next interval');
      }
      if (signal.aborted || wake.pending) continue;
      await waitUntil(timers, clock.now() + o.syncInterval, signal, (fire) => {
        wake.fire = fire;
      });
      wake.fire = undefined;
    }
  } finally {
    unsubscribe?.();
  }
}

async function heartbeatLoop(target: RunTarget, o: ShipperRunOptions, signal: AbortSignal, clock: Clock, timers: Timers, logger: ShipperLogger): Promise<void> {
  while (!signal.aborted) {
    // One timer per tick: it abandons a heartbeat still unanswered and starts the next one.
    const tick = new AbortController();
    const ticked = waitUntil(timers, clock.now() + o.heartbeatInterval, signal).then(() => tick.abort());
    try {
      const lastRoundTime = o.lastRoundTime?.();
      await target.heartbeat({ ...(lastRoundTime === undefined ? {} : { lastRoundTime }), signal: tick.signal });
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'heartbeat failed before sending; trying again at the next interval');
    }
    await ticked;
  }
}

/** Runs both loops until `signal` fires; resolves once both stopped. Rejects only for bad intervals (DW_SHIP_INVALID_OPTIONS). */
export async function runShipper(target: RunTarget, o: ShipperRunOptions, signal: AbortSignal, clock: Clock, timers: Timers, logger: ShipperLogger): Promise<void> {
  for (const [name, v] of [['syncInterval', o.syncInterval], ['heartbeatInterval', o.heartbeatInterval]] as const) {
    if (!(Number.isSafeInteger(v) && v > 0)) throw new ShipperError(ShipperErrorCode.InvalidOptions, `expected ${name} to be a positive number of ms, found ${v}`);
  }
  await Promise.all([
    syncLoop(target, o, signal, clock, timers, logger),
    heartbeatLoop(target, o, signal, clock, timers, logger),
  ]);
}

// Retry as a wrapper around any transport: exponential backoff with full jitter, capped; the
// server's push-back honoured; uploads resumed where the server holds the block. It waits on
// injected Timers, so tests on a ManualClock live through outages of days at once.
import type { Clock } from '../common/clock.js';
import { sleepUntil, type Timers } from '../common/timers.js';
import type { Random } from '../common/random.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { failed, type CallOptions, type IngestTransport, type RetryEvent, type TransportResult } from './transport.js';

export interface RetryPolicy {
  /** The first retry waits up to this long (ms). */
  readonly baseMs: number;
  /** No wait is drawn from a range wider than this (ms); a server's push-back may be longer. */
  readonly capMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1_000, capMs: 5 * 60_000 };

export interface RetryDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  /** Seeded in tests. */
  readonly random: Random;
}

/**
 * The wait before retry number `attempt + 1` (attempt 0 is the first retry): full jitter,
 * uniform in [0, min(cap, base·2^attempt)), and never less than the server's push-back.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: Random, pushbackMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 52));
  const jitter = Math.floor(random() * ceiling);
  return Math.max(jitter, pushbackMs ?? 0);
}

function checkPolicy(p: RetryPolicy): void {
  const ok = (v: number): boolean => Number.isSafeInteger(v) && v > 0;
  if (!ok(p.baseMs) || !ok(p.capMs) || p.capMs < p.baseMs) {
    throw new ShipperError(ShipperErrorCode.InvalidOptions,
      `expected a retry policy with 0 < baseMs <= capMs (integers), found baseMs ${p.baseMs}, capMs ${p.capMs}`);
  }
}

/**
 * A transport that retries `inner`'s retryable failures until they succeed, a non-retryable
 * failure comes, or the call's signal fires (then: DW_SHIP_ABORTED, with the last failure as
 * its cause). Each retry is announced through `options.onRetry` before the wait.
 *
 * Uploads resume at the failed attempt's `resumeOffset`; an attempt that moved the offset on
 * resets the backoff. DW_SHIP_RESUME_MISMATCH retries at once at the server's offset (then backs
 * off if it repeats); DW_SHIP_CHECKSUM_MISMATCH restarts the block from offset 0 once, then fails.
 * Throws DW_SHIP_INVALID_OPTIONS for a bad policy.
 */
export function withRetry(inner: IngestTransport, policy: RetryPolicy = DEFAULT_RETRY_POLICY, deps: RetryDeps): IngestTransport {
  checkPolicy(policy);

  async function wait(delayMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (delayMs <= 0) return !(signal?.aborted ?? false);
    try {
      await sleepUntil(deps.timers, deps.clock.now() + delayMs, signal);
      return true;
    } catch {
      return false;
    }
  }

  function abandoned<T>(method: RetryEvent['method'], last: ShipperError, signal: AbortSignal | undefined): TransportResult<T> {
    return failed(new ShipperError(ShipperErrorCode.Aborted,
      `expected ${method} to succeed or fail for good, found it abandoned while retrying (last: ${last.code}: ${last.message})`,
      { cause: signal?.reason ?? last, ...(last.resumeOffset === undefined ? {} : { resumeOffset: last.resumeOffset }) }));
  }

  async function retrying<T>(method: 'hello' | 'heartbeat', opts: CallOptions, call: () => Promise<TransportResult<T>>): Promise<TransportResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const r = await call();
      if (r.status !== 'retryable') return r;
      if (opts.signal?.aborted) return abandoned(method, r.error, opts.signal);
      const delayMs = backoffDelay(policy, attempt, deps.random, r.error.pushbackMs);
      opts.onRetry?.({ method, attempt: attempt + 1, delayMs, error: r.error });
      if (!(await wait(delayMs, opts.signal))) return abandoned(method, r.error, opts.signal);
    }
  }

  return {
    hello: (info, opts = {}) => retrying('hello', opts, () => inner.hello(info, opts)),
    heartbeat: (info, opts = {}) => retrying('heartbeat', opts, () => inner.heartbeat(info, opts)),

    async upload(block, fromOffset, opts = {}) {
      let offset = fromOffset;
      let attempt = 0;
      let retries = 0;
      let restarted = false;
      let lastCode: string | undefined;
      while (true) {
        const r = await inner.upload(block, offset, opts);
        if (r.status === 'success') return r;
        const e = r.error;
        let next: number;
        let delayMs: number;
        if (e.code === ShipperErrorCode.ChecksumMismatch && !restarted) {
          restarted = true;
          next = 0;
          delayMs = 0;
        } else if (r.status === 'failure') {
          return r;
        } else {
          next = e.resumeOffset ?? offset;
          if (next > offset) attempt = 0; // progress was made: start the backoff over
          const immediate = e.code === ShipperErrorCode.ResumeMismatch && lastCode !== ShipperErrorCode.ResumeMismatch;
          delayMs = immediate ? 0 : backoffDelay(policy, attempt++, deps.random, e.pushbackMs);
        }
        lastCode = e.code;
        if (opts.signal?.aborted) return abandoned('upload', e, opts.signal);
        opts.onRetry?.({ method: 'upload', attempt: ++retries, delayMs, error: e, nextOffset: next });
        if (!(await wait(delayMs, opts.signal))) return abandoned('upload', e, opts.signal);
        offset = next;
      }
    },

    close: () => inner.close(),
  };
}

// The bandwidth cap: a token bucket on the injected clock, applied to the block bytes an upload
// sends. Waiting goes through Timers, so tests drive it with a ManualClock.
import type { Clock } from '../common/clock.js';
import { sleepUntil, type Timers } from '../common/timers.js';
import { parseByteSize } from '../common/units.js';

export interface TokenBucketOptions {
  /** Sustained rate in bytes per second (> 0). */
  readonly bytesPerSecond: number;
  /** Bytes that may go at once after a quiet spell. Default: one second's worth. */
  readonly burstBytes?: number;
  readonly clock: Clock;
  readonly timers: Timers;
}

/**
 * A token bucket with reservations: `take(n)` reserves `n` tokens at once (the balance may go
 * negative) and resolves when the balance it borrowed from has refilled, so takers are served
 * in call order and a take larger than the burst is paced, not refused. Over any stretch the
 * bytes taken stay within `burst + rate × elapsed`.
 */
export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  #tokens: number;
  #at: number;

  constructor(o: TokenBucketOptions) {
    if (!(Number.isFinite(o.bytesPerSecond) && o.bytesPerSecond > 0)) {
      throw new RangeError(`a token bucket expects a positive rate in bytes per second, found ${o.bytesPerSecond}`);
    }
    const burst = o.burstBytes ?? o.bytesPerSecond;
    if (!(Number.isFinite(burst) && burst >= 0)) throw new RangeError(`a token bucket expects a non-negative burst, found ${burst}`);
    this.bytesPerSecond = o.bytesPerSecond;
    this.burstBytes = burst;
    this.#clock = o.clock;
    this.#timers = o.timers;
    this.#tokens = burst;
    this.#at = o.clock.now();
  }

  #refill(): number {
    const now = this.#clock.now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.burstBytes, this.#tokens + ((now - this.#at) * this.bytesPerSecond) / 1000);
      this.#at = now;
    }
    return now;
  }

  /** Tokens available now (negative while reservations are outstanding). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Reserves `bytes` and resolves when they may be sent. Rejects with the signal's reason when it
   * aborts first; the reservation is then given back.
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.#refill();
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return Promise.resolve();
    const waitMs = Math.ceil((-this.#tokens * 1000) / this.bytesPerSecond);
    return sleepUntil(this.#timers, now + waitMs, signal).catch((err: unknown) => {
      this.#tokens += bytes;
      throw err;
    });
  }
}

const BITS = /^(\d+(?:\.\d+)?)\s*([kKMG]?)(bit|bps)(?:\/s)?$/;
const BIT_SCALE: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/**
 * Parses a bandwidth into bytes per second: a number (bytes/s), bits (`512kbit`, `1Mbit`,
 * `1Mbit/s`, `10Mbps`) or bytes per second (`125KB/s`, `1MiB/s`, `4096B/s`). Returns undefined
 * when it is not one, or is 0.
 */
export function parseBandwidth(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : undefined;
  const t = text.trim();
  const bits = BITS.exec(t);
  if (bits !== null) {
    const bytes = (Number(bits[1]) * BIT_SCALE[bits[2]!]!) / 8;
    return bytes > 0 ? bytes : undefined;
  }
  if (!t.endsWith('/s')) return undefined;
  const bytes = parseByteSize(t.slice(0, -2));
  return bytes !== undefined && bytes > 0 ? bytes : undefined;
}

/** A bandwidth as people read it: `1 Mbit/s (125000 B/s)`. */
export function formatBandwidth(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  const [v, u] = bits >= 1e9 ? [bits / 1e9, 'Gbit/s'] : bits >= 1e6 ? [bits / 1e6, 'Mbit/s'] : bits >= 1e3 ? [bits / 1e3, 'kbit/s'] : [bits, 'bit/s'];
  return `${Number(v.toFixed(3))} ${u} (${Math.round(bytesPerSecond)} B/s)`;
}

// What one shipper's sync, heartbeat and run loop share: its options, its metrics and the state
// the heartbeat reports (last error, round trip, clock offset).
import type { Clock } from '../common/clock.js';
import type { Timers } from '../common/timers.js';
import { ShipperErrorCode, type ShipperError } from './errors.js';
import type { ShipperMetrics } from './metrics.js';
import type { ShipperStore } from './store.js';
import type { IngestTransport, RetryEvent } from './transport.js';

/** pino's shape: fields first, then a lowercase message. */
export interface ShipperLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ShipperLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The last failure the heartbeat reports, until an upload succeeds. */
export interface LastError {
  readonly code: string;
  readonly message: string;
  /** When it happened (shipper clock). */
  readonly at: number;
}

/** A block the center refused, not offered again before `until`. */
export interface SkippedBlock {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  readonly until: number;
}

export interface ShipperContext {
  readonly store: ShipperStore;
  readonly transport: IngestTransport;
  readonly siteId: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: ShipperLogger;
  readonly metrics: ShipperMetrics | undefined;
  readonly agentVersion: string;
  /** Sent in every Hello. */
  readonly siteLabels: Readonly<Record<string, string>>;
  readonly agentStartTime: number;
  readonly retryRejectedAfterMs: number;
  lastError: LastError | undefined;
  lastRttMs: number;
  clockOffsetMs: number | undefined;
  lastSyncAt: number | undefined;
  /** False after a call could not reach the center, until one does (to log the change once). */
  linkUp: boolean;
  readonly skipped: Map<string, SkippedBlock>;
}

/** The longest last-error message a heartbeat carries (it must stay small). */
export const MAX_HEARTBEAT_ERROR_CHARS = 512;

/** Records a failure for the heartbeat and the metrics; an abort by our own signal is not one. */
export function noteError(ctx: ShipperContext, e: ShipperError): void {
  if (e.code === ShipperErrorCode.Aborted) return;
  ctx.lastError = { code: e.code, message: e.message.slice(0, MAX_HEARTBEAT_ERROR_CHARS), at: ctx.clock.now() };
  ctx.metrics?.errors.inc({ code: e.code });
  if (e.retryable && ctx.linkUp) {
    ctx.linkUp = false;
    ctx.logger.warn({ site: ctx.siteId, code: e.code, err: e.message }, 'cannot reach the aggregator; retrying with backoff, blocks stay in the store');
  }
}

/** The onRetry hook every call gets: counts the retry and records why. */
export function onRetry(ctx: ShipperContext): (event: RetryEvent) => void {
  return (event) => {
    ctx.metrics?.retries.inc({ code: event.error.code });
    noteError(ctx, event.error);
    ctx.logger.debug({ site: ctx.siteId, method: event.method, attempt: event.attempt, delayMs: event.delayMs, code: event.error.code }, 'retrying');
  };
}

/** Records an answered call: its round trip and the clock offset it measured. */
export function noteContact(ctx: ShipperContext, r: { serverTime: number; agentTime: number; rttMs: number }): void {
  ctx.lastRttMs = r.rttMs;
  if (r.serverTime > 0) {
    ctx.clockOffsetMs = Math.round(r.serverTime - (r.agentTime + r.rttMs / 2));
    ctx.metrics?.clockOffset.set(ctx.clockOffsetMs / 1000);
  }
  if (!ctx.linkUp) {
    ctx.linkUp = true;
    ctx.logger.info({ site: ctx.siteId, rttMs: r.rttMs }, 'reached the aggregator again');
  }
}

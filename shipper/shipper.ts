// The shipper: "sync what is sealed" (createShipper(...).sync(signal)), the heartbeat, and the
// agent's long-running loop around both. See docs/shipper.md.
import type { Registry } from 'prom-client';
import type { Clock } from '../common/clock.js';
import { siteLabelProblems, sortedSiteLabels } from '../common/site-labels.js';
import { systemTimers, type Timers } from '../common/timers.js';
import { MAX_HEARTBEAT_ERROR_CHARS, noteContact, silentLogger, type LastError, type ShipperContext, type ShipperLogger } from './context.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { createShipperMetrics, type ShipperMetrics } from './metrics.js';
import { runShipper, type ShipperRunOptions } from './run.js';
import type { ShipperStore } from './store.js';
import { syncOnce, type SyncSummary } from './sync.js';
import type { HeartbeatInfo, HeartbeatResult, IngestTransport, TransportResult } from './transport.js';

/** A block the center refused is offered again after this long (ms): 6 h. */
export const DEFAULT_RETRY_REJECTED_AFTER = 6 * 3_600_000;

export interface ShipperOptions {
  readonly store: ShipperStore;
  /** Usually withRetry(createGrpcTransport(...)); a bare transport makes a sync stop at its first retryable failure. */
  readonly transport: IngestTransport;
  readonly siteId: string;
  readonly clock: Clock;
  /** The run loop's intervals wait on these. Default: systemTimers(clock). */
  readonly timers?: Timers;
  readonly logger?: ShipperLogger;
  /** Registers the driftwatch_shipper_* metrics here (once per registry). */
  readonly registry?: Registry;
  /** Or metrics already registered (createShipperMetrics). */
  readonly metrics?: ShipperMetrics;
  /** Sent in Hello. Default `unknown`. */
  readonly agentVersion?: string;
  /**
   * The site's labels (the agent config's `site.labels`), sent in every Hello; the center keeps
   * each change with its arrival time. Checked by common/site-labels.ts. Default: none (`{}`).
   */
  readonly siteLabels?: Readonly<Record<string, string>>;
  /** When the agent process started, for the heartbeat. Default: now. */
  readonly agentStartTime?: number;
  /** How long a block the center refused is left alone before it is offered again. Default 6 h. */
  readonly retryRejectedAfterMs?: number;
}

/** What the shipper knows now, for /healthz and tests. */
export interface ShipperStatus {
  /** The last failure of a Hello or an upload (retried ones included); cleared by a successful upload. */
  readonly lastError: LastError | undefined;
  /** Round trip of the last answered call (ms; 0: none yet). */
  readonly lastRttMs: number;
  /** The center's clock minus the agent's, by the last answered Hello or Heartbeat. */
  readonly clockOffsetMs: number | undefined;
  /** When the last sync finished with outcome `done`. */
  readonly lastSyncAt: number | undefined;
  /** Blocks refused by the center and left alone for now. */
  readonly skippedBlocks: number;
}

export interface HeartbeatOptions {
  /** The agent's last round time (default: none). */
  readonly lastRoundTime?: number;
  /** Abandons the heartbeat (and its retries): pass one, a retrying transport waits out outages. */
  readonly signal?: AbortSignal;
}

export interface Shipper {
  /**
   * Ships what is sealed: Hello with the pending block ids, marks shipped what the center holds,
   * then uploads the newest block first and the backlog oldest to newest, re-listing between
   * blocks; a block half sent resumes at the offset Hello reports. A block is marked shipped only
   * on the center's Stored. A block the center refuses (conflict, invalid, too large) is skipped
   * and the rest goes on. Transport failures end in the summary, never as a rejection; rejects
   * only when the store fails (DW_STORE_*). Concurrent calls run one after the other.
   */
  sync(signal?: AbortSignal): Promise<SyncSummary>;
  /** Sends one heartbeat: backlog, last round, last error, start time, last round trip. Never rejects. */
  heartbeat(options?: HeartbeatOptions): Promise<TransportResult<HeartbeatResult>>;
  /**
   * The agent's loop: syncs when woken or every syncInterval, heartbeats every heartbeatInterval,
   * until `signal` fires; an upload in flight is abandoned (it resumes next time). Resolves when
   * both loops stopped; rejects only for bad intervals.
   */
  run(signal: AbortSignal, options: ShipperRunOptions): Promise<void>;
  status(): ShipperStatus;
}

/**
 * The error a heartbeat reports: the last failure, else the latest refusal of a block that is
 * still being left alone (a conflict stays a problem after other uploads succeed).
 */
function reportedError(ctx: ShipperContext): { code: string; message: string } | undefined {
  if (ctx.lastError !== undefined) return ctx.lastError;
  const now = ctx.clock.now();
  const refused = [...ctx.skipped.values()].filter((s) => s.until > now).at(-1);
  return refused === undefined ? undefined : { code: refused.code, message: `block ${refused.id}: ${refused.message}`.slice(0, MAX_HEARTBEAT_ERROR_CHARS) };
}

/** A shipper for one site's store. Throws DW_SHIP_INVALID_OPTIONS for a bad siteId, siteLabels or retryRejectedAfterMs. */
export function createShipper(o: ShipperOptions): Shipper {
  if (o.siteId === '') throw new ShipperError(ShipperErrorCode.InvalidOptions, 'expected a site id, found an empty string');
  const labelProblems = siteLabelProblems(o.siteLabels ?? {});
  if (labelProblems.length > 0) throw new ShipperError(ShipperErrorCode.InvalidOptions, `siteLabels: ${labelProblems.join('; ')}`);
  const retryRejectedAfterMs = o.retryRejectedAfterMs ?? DEFAULT_RETRY_REJECTED_AFTER;
  if (!(Number.isSafeInteger(retryRejectedAfterMs) && retryRejectedAfterMs >= 0)) {
    throw new ShipperError(ShipperErrorCode.InvalidOptions, `expected retryRejectedAfterMs to be a non-negative integer, found ${retryRejectedAfterMs}`);
  }
  const metrics = o.metrics ?? (o.registry === undefined ? undefined : createShipperMetrics(o.registry));
  metrics?.setStore(() => o.store.stats(), () => o.clock.now());
  const ctx: ShipperContext = {
    store: o.store, transport: o.transport, siteId: o.siteId, clock: o.clock, timers: o.timers ?? systemTimers(o.clock),
    logger: o.logger ?? silentLogger, metrics, agentVersion: o.agentVersion ?? 'unknown', siteLabels: sortedSiteLabels(o.siteLabels ?? {}),
    agentStartTime: o.agentStartTime ?? o.clock.now(), retryRejectedAfterMs,
    lastError: undefined, lastRttMs: 0, clockOffsetMs: undefined, lastSyncAt: undefined, linkUp: true, skipped: new Map(),
  };
  let queue: Promise<unknown> = Promise.resolve();

  const shipper: Shipper = {
    sync(signal) {
      const run = queue.then(() => syncOnce(ctx, signal));
      queue = run.catch(() => undefined);
      return run;
    },

    async heartbeat(options = {}) {
      const st = ctx.store.stats();
      const lastError = reportedError(ctx);
      const info: HeartbeatInfo = {
        siteId: ctx.siteId, lastRttMs: ctx.lastRttMs,
        backlogBlocks: st.unshippedBlocks, backlogBytes: st.unshippedBytes, oldestUnshippedTime: st.oldestUnshippedMinT ?? 0,
        lastRoundTime: options.lastRoundTime ?? 0,
        lastErrorCode: lastError?.code ?? '', lastErrorMessage: lastError?.message ?? '',
        agentStartTime: ctx.agentStartTime,
      };
      const r = await ctx.transport.heartbeat(info, {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onRetry: (e) => ctx.metrics?.retries.inc({ code: e.error.code }),
      });
      if (r.status === 'success') noteContact(ctx, r.value);
      ctx.metrics?.heartbeats.inc({ result: r.status === 'success' ? 'ok' : 'failed' });
      if (r.status !== 'success') ctx.logger.debug({ site: ctx.siteId, code: r.error.code, err: r.error.message }, 'heartbeat failed');
      return r;
    },

    run(signal, options) {
      return runShipper(shipper, options, signal, ctx.clock, ctx.timers, ctx.logger);
    },

    status() {
      return {
        lastError: ctx.lastError, lastRttMs: ctx.lastRttMs, clockOffsetMs: ctx.clockOffsetMs, lastSyncAt: ctx.lastSyncAt,
        skippedBlocks: ctx.skipped.size,
      };
    },
  };
  return shipper;
}

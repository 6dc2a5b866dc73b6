// startAggregator: the aggregator in one process — its storage, the ingest gRPC server and the
// HTTP listener — for the `driftwatch aggregator` command, the demo and end-to-end tests.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import { AggregatorError, AggregatorErrorCode } from './errors.js';
import { createFleetService, describePolicySettings, FLEET_INDEX_SNAPSHOT_FILE, openPolicies, type FleetService, type PolicySettings } from './fleet/index.js';
import type { FleetReports } from './http/fleet-routes.js';
import type { HealthStatus } from './http/routes.js';
import { startAggregatorHttp, type AggregatorHttp } from './http/server.js';
import { Admission } from './ingest/admission.js';
import type { ActiveUpload, IngestContext } from './ingest/context.js';
import { loadCredentials, type Credentials } from './ingest/credentials.js';
import { fail, IngestErrorCode } from './ingest/errors.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest/limits.js';
import { serverCredentials, startIngestServer, type IngestServer, type TlsMaterial } from './ingest/server.js';
import { parseListen } from '../common/listen.js';
import { silentLogger, type AggregatorLogger } from './logger.js';
import { createAggregatorMetrics } from './metrics.js';
import { openLevelStorage, type AggregatorStorage, type GroupCommitOptions } from './storage/index.js';

/** What the fleet API is built from: the aggregator's own storage, clock, logger and registry. */
export interface FleetDeps {
  readonly storage: AggregatorStorage;
  readonly clock: Clock;
  readonly logger: AggregatorLogger;
  readonly registry: Registry;
}

/** The fleet API's backing: the reports, whether they can answer yet, and how to stop them. */
export interface FleetApi {
  readonly reports: FleetReports;
  /** Ready when the index has caught up with the stored blocks; /readyz and the fleet routes answer 503 until then. Default: always. */
  readonly ready?: () => HealthStatus;
  /** The arrival time the index has caught up with (FleetIndex.indexedThrough): the default `known_at` is never later. Default: no bound. */
  readonly indexedThrough?: () => number;
  /** Called by the aggregator's close(), after the HTTP listener stopped and before the storage closes. */
  close?(): Promise<void>;
}

/**
 * The built-in fleet reports (docs/aggregator.md#fleet-reports): the merge index over the stored
 * blocks, loaded from its snapshot (or rebuilt) at start and kept caught up, judged against the policies.
 */
export interface FleetSettings {
  /** Where the desired state comes from. Default: none — drift and upgrades find no expectations (logged). */
  readonly policies?: PolicySettings;
  /** Catch up with the store at least this often (ms); it also catches up shortly after each commit. Default 1 s. */
  readonly catchUpIntervalMs?: number;
  /**
   * Keep the index in `<dataDir>/fleet-index.snapshot`: loaded at start (then only the blocks
   * stored after it are read), written on close and every `snapshotIntervalMs`. Default true;
   * false: every start reindexes every stored block.
   */
  readonly snapshots?: boolean;
  /** Snapshot the index this often (ms of the aggregator's clock) when blocks were added or contacts kept since the last; 0: only after a start that read blocks or contact history, and on close. Default 10 minutes. */
  readonly snapshotIntervalMs?: number;
}

/** A custom fleet API, built once the storage is open (tests, other report engines). */
export type FleetFactory = (deps: FleetDeps) => FleetApi | Promise<FleetApi>;

/** Where the site credentials come from: a file (reloadable) or a fixed set. */
export type CredentialSource = { readonly file: string } | { readonly credentials: Credentials };

export interface AggregatorOptions {
  /** The data directory, created when missing; the store is `<dataDir>/store`. */
  readonly dataDir: string;
  /** gRPC `host:port`. Default `127.0.0.1:0` (loopback, a free port). */
  readonly grpcListen?: string;
  /** HTTP `host:port`. Default `127.0.0.1:0`. */
  readonly httpListen?: string;
  /** TLS material, or 'insecure' for plaintext on a loopback address only. */
  readonly tls: TlsMaterial | 'insecure';
  readonly credentials: CredentialSource;
  /** Arrival times and server times. Default: the system clock. */
  readonly clock?: Clock;
  /** Default: silent. */
  readonly logger?: AggregatorLogger;
  /** Where the aggregator's metrics are registered. Default: a new registry. */
  readonly registry?: Registry;
  readonly limits?: Partial<IngestLimits>;
  readonly groupCommit?: Partial<GroupCommitOptions>;
  /** Another storage implementation, used instead of the level store in `dataDir` (closed by close()). */
  readonly storage?: AggregatorStorage;
  /**
   * The fleet API (/fleet/v1/*, docs/api.md): FleetSettings for the built-in reports (`{}`: no
   * policies; `{ policies: { dir } }`), or a FleetFactory, called once the storage is open,
   * before the HTTP listener starts. Without it, /fleet/ answers 404 DW_API_NOT_FOUND.
   */
  readonly fleet?: FleetSettings | FleetFactory;
  /** More HTTP routes, registered on the same fastify instance. */
  readonly httpPlugins?: readonly FastifyPluginAsync[];
  /** How long close() lets calls in progress finish before cancelling them. Default 5 s. */
  readonly shutdownGraceMs?: number;
  /** Partial uploads untouched for this long are discarded (checked hourly). Default 7 days. */
  readonly partialTtlMs?: number;
}

/** A running aggregator. */
export interface Aggregator {
  /** `host:port` of the ingest gRPC server. */
  readonly grpcAddress: string;
  /** `http://host:port` of the HTTP listener. */
  readonly httpAddress: string;
  readonly storage: AggregatorStorage;
  readonly registry: Registry;
  /** The fastify instance (routes can be injected in tests with `app.inject`). */
  readonly http: FastifyInstance;
  /**
   * The built-in fleet service (with `fleet: FleetSettings`; undefined otherwise): `whenReady()`,
   * `catchUp()`, `reloadPolicies()`, `indexedThrough()`, the reports in process.
   */
  readonly fleet: FleetService | undefined;
  /** Re-reads the credentials file (from a file source; a no-op otherwise). Rejects with DW_AGGREGATOR_CREDENTIALS_*; the old set stays then. */
  reloadCredentials(): Promise<void>;
  /**
   * Refuses new uploads (UNAVAILABLE with a push-back), ends uploads in progress (their stored
   * bytes stay resumable; a commit under way finishes), stops the servers, closes the storage.
   * Idempotent.
   */
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * Starts the aggregator. Rejects with a DriftwatchError (DW_AGGREGATOR_*: store, TLS,
 * credentials, listen) and leaves nothing running when it does.
 */
export async function startAggregator(options: AggregatorOptions): Promise<Aggregator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
  const metrics = createAggregatorMetrics(registry);
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  try {
    // TLS problems are found before anything is opened.
    const grpcListen = options.grpcListen ?? '127.0.0.1:0';
    const grpcAddress = parseListen(grpcListen);
    if (grpcAddress === undefined) throw new AggregatorError(AggregatorErrorCode.GrpcListenFailed, `expected host:port to listen on, found ${JSON.stringify(grpcListen)}`);
    serverCredentials(options.tls, grpcAddress.host);
    const source = options.credentials;
    let credentials = 'file' in source ? await loadCredentials(source.file) : source.credentials;

    // The built-in fleet service catches up shortly after each commit (set once it exists).
    let onCommit: (() => void) | undefined;
    let storage = options.storage;
    if (storage === undefined) {
      try {
        await mkdir(options.dataDir, { recursive: true });
      } catch (err) {
        throw new AggregatorError(AggregatorErrorCode.StoreOpenFailed, `expected a data directory that can be created, found ${errorMessage(err)}`, { where: options.dataDir, cause: err });
      }
      storage = await openLevelStorage({
        dir: join(options.dataDir, 'store'),
        groupCommit: options.groupCommit,
        now: () => clock.now(),
        onCommitBatch: (b) => {
          metrics.commitBatchSize.observe(b.commits);
          metrics.commitDuration.observe(b.ms / 1000);
          onCommit?.();
        },
        onWarning: (fields, message) => logger.warn(fields, message),
      });
    }
    const store = storage;
    cleanups.push(() => store.close());

    let closing = false;
    let ready = false;
    const admission = new Admission(limits);
    const uploads = new Map<string, ActiveUpload>();
    const ctx: IngestContext = {
      storage: store, credentials: () => credentials, clock, limits, admission, uploads, metrics, logger, closing: () => closing,
    };
    metrics.setSources({
      activeUploads: () => admission.active,
      bufferedBytes: () => admission.bufferedBytes,
      sitesKnown: () => store.stats().sites,
      partialUploads: () => store.stats().partialUploads,
    });
    cleanups.push(async () => metrics.setSources(undefined));

    let service: FleetService | undefined;
    let fleet: FleetApi | undefined;
    if (typeof options.fleet === 'function') {
      fleet = await options.fleet({ storage: store, clock, logger, registry });
    } else if (options.fleet !== undefined) {
      const settings = options.fleet;
      const snapshots = settings.snapshots ?? true;
      if (settings.policies !== undefined || snapshots) await mkdir(options.dataDir, { recursive: true });
      const policies = settings.policies === undefined ? undefined : await openPolicies(settings.policies, { dataDir: options.dataDir, clock, logger, registry });
      if (settings.policies !== undefined) logger.info({ policies: describePolicySettings(settings.policies), historyFile: policies?.file }, 'policies configured');
      const s = createFleetService({
        storage: store, clock, logger, registry, policies: policies?.source, ...(policies === undefined ? {} : { persistPolicies: policies.persist }),
        ...(settings.catchUpIntervalMs === undefined ? {} : { catchUpInterval: settings.catchUpIntervalMs }),
        ...(snapshots ? { snapshot: { file: join(options.dataDir, FLEET_INDEX_SNAPSHOT_FILE), ...(settings.snapshotIntervalMs === undefined ? {} : { intervalMs: settings.snapshotIntervalMs }) } } : {}),
      });
      service = s;
      onCommit = () => s.notifyCommit();
      fleet = { reports: s, ready: () => s.ready(), indexedThrough: () => s.indexedThrough(), close: () => s.close() };
    }
    const fleetApi = fleet;
    if (fleetApi?.close !== undefined) cleanups.push(() => fleetApi.close!());
    const fleetReady = (): HealthStatus => {
      if (closing) return { ok: false, reason: 'the aggregator is shutting down' };
      return fleetApi?.ready?.() ?? { ok: true, reason: 'index caught up' };
    };

    const grpc: IngestServer = await startIngestServer({ listen: grpcListen, tls: options.tls, context: ctx });
    cleanups.push(() => grpc.close(0));
    const http: AggregatorHttp = await startAggregatorHttp({
      listen: options.httpListen ?? '127.0.0.1:0',
      registry,
      plugins: options.httpPlugins,
      health: () => (closing ? { ok: false, reason: 'shutting down' } : { ok: true, reason: `storage open, ${store.stats().sites} sites known` }),
      ready: () => {
        if (!ready) return { ok: false, reason: closing ? 'shutting down' : 'starting' };
        const f = fleetReady();
        if (fleetApi !== undefined && !f.ok) return { ok: false, reason: `fleet index not ready: ${f.reason}` };
        return { ok: true, reason: `accepting uploads on ${grpc.address}${fleetApi === undefined ? '' : `; fleet index caught up${service === undefined ? '' : ` (${f.reason})`}`}` };
      },
      ...(fleetApi === undefined ? {} : {
        fleet: {
          reports: fleetApi.reports,
          ready: fleetReady,
          now: () => clock.now(),
          // A cut at "now" stays final and indexed: below the arrival time of any write not yet
          // durable, and not past what the index has caught up with.
          knownAtNow: () => {
            const now = clock.now();
            const pending = store.oldestPendingArrival();
            const final = pending === undefined ? now : Math.min(now, pending - 1);
            return fleetApi.indexedThrough === undefined ? final : Math.max(0, Math.min(final, fleetApi.indexedThrough()));
          },
          logger,
        },
      }),
    });
    cleanups.push(() => http.close());

    const ttl = options.partialTtlMs ?? 7 * 24 * HOUR;
    const sweep = setInterval(() => {
      void (async () => {
        const cutoff = clock.now() - ttl;
        for (const p of await store.listPartials()) {
          if (p.updatedAt >= cutoff || uploads.has(`${p.site}!${p.id}`)) continue;
          await store.discardPartial(p.site, p.id);
          logger.info({ site: p.site, block: p.id, offset: p.offset, updatedAt: p.updatedAt }, 'abandoned partial upload discarded');
        }
      })().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'partial upload sweep failed; retried in an hour'));
    }, HOUR);
    sweep.unref();

    ready = true;
    logger.info({ grpc: grpc.address, http: http.url, tls: options.tls !== 'insecure', sites: store.stats().sites }, 'aggregator started');

    let closed: Promise<void> | undefined;
    return {
      grpcAddress: grpc.address,
      httpAddress: http.url,
      storage: store,
      registry,
      http: http.app,
      fleet: service,
      async reloadCredentials() {
        if ('file' in source) {
          credentials = await loadCredentials(source.file);
          logger.info({ file: source.file, sites: credentials.sites.size }, 'credentials reloaded');
        }
      },
      close() {
        closed ??= (async () => {
          closing = true;
          ready = false;
          clearInterval(sweep);
          const stopping = fail(IngestErrorCode.ShuttingDown, 'expected a running aggregator, found it shutting down; the bytes stored so far stay resumable', { pushbackMs: limits.pushbackMs });
          await Promise.all([...uploads.values()].map((u) => u.stop(stopping)));
          await grpc.close(options.shutdownGraceMs ?? 5_000);
          await http.close();
          await fleetApi?.close?.();
          metrics.setSources(undefined);
          await store.close();
          logger.info({}, 'aggregator stopped');
        })();
        return closed;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

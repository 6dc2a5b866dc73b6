// The fleet service: the reports live in the aggregator. At start it loads the merge index and the
// contact index from their snapshot and catches up with the blocks and contacts stored after it
// (or, without a usable snapshot, rebuilds them from every stored block and contact), keeps them
// and the site labels caught up with
// the store — shortly after each commit, on an interval, and on demand before a query whose
// known_at is past what it holds — snapshots it now and then and on close, loads and keeps the
// policies, and answers the FleetReports the HTTP routes ask. See docs/aggregator.md, "Fleet
// reports".
//
// One watermark for every input: a report as of knownAt is only answered once blocks, contacts,
// label changes and policy revisions that arrived by knownAt are all held, and none can still
// appear (a write stamped at or before it not yet durable, a policy reload in progress or not yet
// persisted, the clock still in that millisecond). Such an answer is final.
import type { Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import { formatRfc3339 } from '../../common/rfc3339.js';
import type { FleetReports, SiteQuery } from '../http/fleet-routes.js';
import type { HealthStatus } from '../http/routes.js';
import type { AggregatorLogger } from '../logger.js';
import { PolicyHistory, type PolicySource, type ReloadResult } from '../policy/index.js';
import type { AggregatorStorage } from '../storage/index.js';
import { catchUp } from './catch-up.js';
import { catchUpContacts, ContactIndex, type ContactIndexOptions } from './contacts.js';
import { driftReport } from './drift.js';
import { FleetError, FleetErrorCode } from './errors.js';
import { catchUpSiteLabels, SiteLabelIndex } from './labels.js';
import { FleetIndex, type FleetIndexOptions } from './merge-index.js';
import { createFleetMetrics, type FleetMetrics } from './metrics.js';
import type { FleetInputs } from './query.js';
import { snapshotBlocker } from './snapshot.js';
import { loadSnapshotFile, writeSnapshotFile, type LoadedSnapshot } from './snapshot-file.js';
import { siteDetail, sitesReport } from './sites.js';
import { staleReport } from './stale.js';
import type { DriftRow, Page, ReportQuery, SiteDetail, SiteRow, StaleRow, UpgradeQuery, UpgradesPage } from './types.js';
import { upgradesReport } from './upgrades.js';

/** Catch up with the store at least this often (ms). */
export const DEFAULT_CATCH_UP_INTERVAL = 1_000;
/** After a commit, catch up this much later (ms): commits close together share one catch-up. */
export const DEFAULT_COMMIT_DELAY = 100;
/** How long a query whose known_at is past the watermark waits for it (ms, real time). */
export const DEFAULT_QUERY_WAIT = 5_000;
/** Snapshot the indexes this often (ms of the aggregator's clock) when blocks were added or contacts kept since the last snapshot. */
export const DEFAULT_SNAPSHOT_INTERVAL = 600_000;

/** Where and how often the index is snapshotted (snapshot-file.ts). */
export interface FleetSnapshotOptions {
  /** The snapshot file (`<dataDir>/fleet-index.snapshot`). */
  readonly file: string;
  /**
   * Write one this often (ms of the aggregator's clock, checked after each catch-up) when blocks
   * were given to the index or contacts kept by the contact index since the last; 0: only after
   * a start that read blocks or contact history from the store, and on close. Default
   * DEFAULT_SNAPSHOT_INTERVAL.
   */
  readonly intervalMs?: number;
}

export interface FleetServiceOptions {
  readonly storage: AggregatorStorage;
  readonly clock: Clock;
  readonly logger: AggregatorLogger;
  /** Where the driftwatch_aggregator_fleet_* metrics are registered (once per registry). */
  readonly registry: Registry;
  /** The policy source, not started: the service starts and closes it. Undefined: no policies (drift and upgrades find no expectations). */
  readonly policies: PolicySource | undefined;
  /** Keeps the policy history after a reload that added to it (openPolicies' persist); until it resolves, the revision's loadedAt is not final. */
  readonly persistPolicies?: (history: PolicyHistory) => Promise<void>;
  /** Default DEFAULT_CATCH_UP_INTERVAL. */
  readonly catchUpInterval?: number;
  /** Default DEFAULT_COMMIT_DELAY. */
  readonly commitDelay?: number;
  /** Default DEFAULT_QUERY_WAIT. */
  readonly queryWait?: number;
  readonly index?: Omit<FleetIndexOptions, 'onWarning'>;
  readonly contacts?: ContactIndexOptions;
  /** Keep the index in a snapshot file. Undefined: none — every start reindexes every stored block. */
  readonly snapshot?: FleetSnapshotOptions;
}

/** The running fleet service. */
export interface FleetService extends FleetReports {
  /** Ready once the policies were loaded once (whatever the outcome) and the index started (snapshot and catch-up, or reindex). */
  ready(): HealthStatus;
  /** Resolves when ready; rejects when closed first. */
  whenReady(): Promise<void>;
  /**
   * The arrival time every report can answer for, final (see the top of service.ts): the default
   * known_at. -1 before the index's start finished.
   */
  indexedThrough(): number;
  /**
   * Catches up with the store now (joining one waiting to start; after one running). Rejects with
   * the storage's errors, or DW_FLEET_NOT_INDEXED before the index's start finished.
   */
  catchUp(): Promise<void>;
  /** Tells the service a storage write was committed: it catches up shortly after. */
  notifyCommit(): void;
  /** The policy source, or undefined without policies. */
  readonly policies: PolicySource | undefined;
  /**
   * Reloads the policies and waits until what the reload added is persisted; undefined without
   * policies. Rejects with DW_POLICY_SOURCE_CLOSED after close.
   */
  reloadPolicies(): Promise<ReloadResult | undefined>;
  /** The merge index now (replaced once by the start). */
  readonly index: FleetIndex;
  /**
   * Writes the snapshot of the index and the contact index now, between catch-ups, when blocks
   * were given or contacts kept since the last one (resolves to false otherwise, or without
   * snapshots). A write that fails is logged and
   * counted, never thrown.
   */
  snapshot(): Promise<boolean>;
  /**
   * Stops the timers, waits for a catch-up in progress (a startup aborted at an arrival-time
   * boundary), snapshots the indexes when blocks were given or contacts kept since the last snapshot — the
   * one the start was building too — and closes the policy source. Idempotent.
   */
  close(): Promise<void>;
}

type Trigger = 'start' | 'commit' | 'interval' | 'query' | 'explicit';

/** What a snapshot holds: the merge index and the contact index, each at its own watermark. */
interface SnapshotTarget {
  readonly index: FleetIndex;
  readonly contacts: ContactIndex;
}

/** Changes exactly when what a snapshot of `t` would hold does (both counters only grow). */
const givenOf = (t: SnapshotTarget): number => t.index.blocksGiven + t.contacts.kept;
type SnapshotReason = 'startup' | 'interval' | 'explicit' | 'close';

const SNAPSHOT_REJECTED: Record<string, string> = {
  corrupt: 'it is corrupt',
  unsupported_version: 'it is of another format version',
  options_mismatch: 'it was written with other index options',
  store_mismatch: 'it does not describe this store',
  clock_behind: 'its watermark is ahead of the aggregator\'s clock',
  unreadable: 'it cannot be read',
};

/** The reason a query's known_at is not yet answerable, for its error message. */
function holdBack(parts: { clockNow: number; pending: number | undefined; policy: number | undefined; knownAt: number }): string {
  if (parts.knownAt >= parts.clockNow) return `the aggregator's clock (${formatRfc3339(parts.clockNow)}) has not passed it yet`;
  if (parts.pending !== undefined && parts.pending <= parts.knownAt) return `a write stamped ${formatRfc3339(parts.pending)} is not durable yet`;
  if (parts.policy !== undefined && parts.policy <= parts.knownAt) return `a policy reload started ${formatRfc3339(parts.policy)} is not finished and persisted yet`;
  return 'the index is catching up';
}

/**
 * Creates the fleet service and starts it in the background: loads the policies, loads the
 * index's snapshot and catches up with the blocks stored after its watermark, or without a usable
 * snapshot rebuilds the index from every stored block (logged with its duration: `fleet index
 * loaded from the snapshot…` / `fleet index rebuilt…`), then catches up on commits and every
 * `catchUpInterval`. Queries before then are DW_FLEET_NOT_INDEXED (the routes answer 503
 * DW_API_NOT_READY). A failed start is logged and retried every interval.
 */
export function createFleetService(options: FleetServiceOptions): FleetService {
  const { storage, clock, logger } = options;
  const interval = options.catchUpInterval ?? DEFAULT_CATCH_UP_INTERVAL;
  const commitDelay = options.commitDelay ?? DEFAULT_COMMIT_DELAY;
  const queryWait = options.queryWait ?? DEFAULT_QUERY_WAIT;
  const source = options.policies;
  const history = source?.history ?? new PolicyHistory();
  const metrics: FleetMetrics = createFleetMetrics(options.registry);
  const indexOptions: FleetIndexOptions = { ...options.index, onWarning: (fields, message) => logger.warn(fields, message) };

  let index = new FleetIndex(indexOptions);
  /** The indexes a start is building (close snapshots them when the start did not finish). */
  let building: SnapshotTarget | undefined;
  let contacts = new ContactIndex(options.contacts);
  const labels = new SiteLabelIndex();
  let ready = false;
  let closed = false;
  let startError: string | undefined;
  const abort = new AbortController();

  // ---- Policies: the time from which a revision may still appear (a reload running or not yet persisted).
  let policyUnsettledSince: number | undefined;
  let persistGeneration = 0;
  let persistTail: Promise<void> = Promise.resolve();
  const wakers = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...wakers]) w();
  };
  const persist = options.persistPolicies;
  const unsubscribe = source?.onReload((r) => {
    if (persist === undefined || (r.added.length === 0 && r.rejected.length === 0)) return;
    policyUnsettledSince = Math.min(policyUnsettledSince ?? Infinity, r.at);
    const generation = ++persistGeneration;
    persistTail = persistTail.then(() => persist(history)).then(
      () => undefined,
      (err: unknown) => logger.error({ err: errorMessage(err) },
        'policy history could not be saved; it is kept in memory and saved with the next change (a restart before then re-learns the revision as new)'),
    ).finally(() => {
      if (generation === persistGeneration) policyUnsettledSince = undefined;
      wake();
    });
  });
  const policyFinalThrough = (): number => {
    const since = Math.min(source?.reloadingSince() ?? Infinity, policyUnsettledSince ?? Infinity);
    return since === Infinity ? Infinity : since - 1;
  };

  const watermark = (): number => {
    if (!ready) return -1;
    return Math.min(index.indexedThrough, contacts.indexedThrough, labels.indexedThrough, policyFinalThrough());
  };

  const inputs = (): FleetInputs => ({ index, policies: history, contacts, labels });

  metrics.setSources({ stats: () => index.stats(), indexedThrough: watermark, now: () => clock.now() });

  /** The cut a catch-up may reach: before this millisecond (a write may still be stamped in it) and before any write not yet durable. */
  const finalCut = (): number => {
    const now = clock.now() - 1;
    const pending = storage.oldestPendingArrival();
    return pending === undefined ? now : Math.min(now, pending - 1);
  };

  async function catchUpOnce(trigger: Trigger): Promise<void> {
    const started = performance.now();
    try {
      const cut = finalCut();
      const r = await catchUp(index, storage, { now: cut, signal: abort.signal });
      await catchUpContacts(contacts, storage, { now: cut, graceMs: 0 });
      await catchUpSiteLabels(labels, storage, { now: cut });
      metrics.catchUpBlocks.inc(r.blocks);
      if (r.blocks > 0) logger.debug({ blocks: r.blocks, indexedThrough: r.indexedThrough, trigger }, 'fleet index caught up');
      snapshotIfDue();
    } catch (err) {
      if (!closed) metrics.catchUpFailures.inc();
      throw err;
    } finally {
      metrics.catchUpDuration.observe({ trigger }, (performance.now() - started) / 1000);
      wake();
    }
  }

  // ---- Snapshots: written between catch-ups (the index must not change while it is written).
  const snap = options.snapshot;
  const snapshotInterval = snap?.intervalMs ?? DEFAULT_SNAPSHOT_INTERVAL;
  /** givenOf the indexes when the snapshot on disk was written or loaded; -1: none this run. */
  let snapshotGiven = -1;
  let snapshotAt = clock.now();
  let snapshotQueued = false;

  async function saveSnapshot(target: SnapshotTarget, reason: SnapshotReason): Promise<boolean> {
    const given = givenOf(target);
    if (snap === undefined || given === 0 || given === snapshotGiven) return false;
    const blocker = snapshotBlocker(target.index);
    if (blocker !== undefined) {
      logger.warn({ file: snap.file, reason }, `fleet index snapshot not written: ${blocker}`);
      return false;
    }
    snapshotAt = clock.now();
    try {
      const r = await writeSnapshotFile(snap.file, target.index, clock.now(), target.contacts);
      snapshotGiven = given;
      metrics.snapshotWrites.inc({ outcome: 'ok' });
      metrics.snapshotWriteSeconds.set(r.elapsedMs / 1000);
      metrics.snapshotBytes.set(r.bytes);
      metrics.snapshotIndexedThrough.set(Math.max(0, target.index.indexedThrough) / 1000);
      logger.info({
        file: snap.file, bytes: r.bytes, elapsedMs: Math.round(r.elapsedMs), blocks: target.index.blocksGiven, indexedThrough: target.index.indexedThrough,
        contacts: target.contacts.kept, contactsIndexedThrough: target.contacts.indexedThrough, reason,
      }, 'fleet index snapshot written');
      return true;
    } catch (err) {
      metrics.snapshotWrites.inc({ outcome: 'failed' });
      logger.warn({ file: snap.file, err: errorMessage(err), code: (err as { code?: string }).code, reason },
        'fleet index snapshot could not be written; the previous one stays (a start catches up from it), the next write is due after the interval');
      return false;
    }
  }

  function reportSnapshotLoad(loaded: LoadedSnapshot): void {
    if (snap === undefined) return;
    if (loaded.status === 'loaded') {
      metrics.snapshotLoads.inc({ outcome: 'loaded' });
      metrics.snapshotBytes.set(loaded.bytes);
      metrics.snapshotIndexedThrough.set(Math.max(0, loaded.meta.indexedThrough) / 1000);
    } else if (loaded.status === 'missing') {
      metrics.snapshotLoads.inc({ outcome: 'missing' });
      logger.info({ file: snap.file }, 'no fleet index snapshot: the index is rebuilt from the stored blocks');
    } else {
      metrics.snapshotLoads.inc({ outcome: loaded.reason });
      logger.warn({
        file: snap.file, reason: loaded.reason, code: loaded.error.code, err: loaded.error.message,
        ...(loaded.movedTo === undefined ? {} : { movedTo: loaded.movedTo }), ...(loaded.moveError === undefined ? {} : { moveError: loaded.moveError }),
      }, `fleet index snapshot not used (${SNAPSHOT_REJECTED[loaded.reason] ?? loaded.reason}): the index is rebuilt from the stored blocks`);
    }
  }

  // Catch-ups (and snapshot writes) run one at a time; a catch-up asked for while one runs gets the next one.
  let tail: Promise<unknown> = Promise.resolve();
  function enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = tail.then(fn);
    tail = p.catch(() => undefined);
    return p;
  }
  /** After a catch-up: a snapshot when the interval passed and blocks were added since the last. */
  const snapshotIfDue = (): void => {
    if (snap === undefined || snapshotInterval <= 0 || snapshotQueued || closed) return;
    if (clock.now() - snapshotAt < snapshotInterval || givenOf({ index, contacts }) === snapshotGiven) return;
    snapshotQueued = true;
    void enqueue(() => saveSnapshot({ index, contacts }, 'interval')).finally(() => {
      snapshotQueued = false;
    });
  };
  let queued: Promise<void> | undefined;
  function scheduleCatchUp(trigger: Trigger): Promise<void> {
    if (closed) return Promise.reject(new FleetError(FleetErrorCode.NotIndexed, 'expected a running fleet service, found it closed'));
    if (!ready) return Promise.reject(notReadyError());
    if (queued !== undefined) return queued;
    const p = tail.then(() => {
      queued = undefined;
      return catchUpOnce(trigger);
    });
    queued = p;
    tail = p.catch(() => undefined);
    return p;
  }
  const background = (trigger: Trigger): void => {
    if (closed || !ready) return;
    scheduleCatchUp(trigger).catch((err: unknown) => {
      if (!closed) logger.warn({ err: errorMessage(err), code: (err as { code?: string }).code, trigger }, 'fleet index catch-up failed; the next one retries');
    });
  };

  function notReadyError(): FleetError {
    return new FleetError(FleetErrorCode.NotIndexed, startError === undefined
      ? 'expected the fleet index started (its snapshot loaded and caught up, or rebuilt from the stored blocks), found the start (and the first policy load) still running'
      : `expected the fleet index started, found its start failing (retried every ${interval} ms): ${startError}`);
  }

  // ---- Timers: the interval, and a catch-up shortly after commits.
  let intervalTimer: NodeJS.Timeout | undefined;
  let commitTimer: NodeJS.Timeout | undefined;
  const armInterval = (): void => {
    if (closed) return;
    intervalTimer = setTimeout(() => {
      background('interval');
      armInterval();
    }, interval);
    intervalTimer.unref();
  };

  // ---- Start: policies and the index (snapshot and catch-up, or reindex), retried until they succeed or the service closes.
  async function startIndex(cut: number) {
    const started = performance.now();
    let loaded: LoadedSnapshot | undefined;
    if (snap !== undefined) {
      loaded = await loadSnapshotFile(snap.file, { ...indexOptions, contacts: options.contacts, cut, storage, now: clock.now() });
      reportSnapshotLoad(loaded);
    }
    const fromSnapshot = loaded?.status === 'loaded' ? loaded : undefined;
    const built = fromSnapshot?.index ?? new FleetIndex(indexOptions);
    // The contacts, from the snapshot when it kept them at this resolution; caught up in startOnce.
    const builtContacts = fromSnapshot?.contacts ?? new ContactIndex(options.contacts);
    if (fromSnapshot !== undefined && !fromSnapshot.contactsUsed) {
      logger.warn({ file: snap?.file, snapshotResolutionMs: fromSnapshot.meta.contacts.resolutionMs, resolutionMs: builtContacts.resolutionMs },
        'fleet index snapshot\'s contacts not used (kept at another resolution): the whole contact history is read');
    }
    if (fromSnapshot !== undefined) snapshotGiven = givenOf({ index: built, contacts: builtContacts });
    building = { index: built, contacts: builtContacts };
    const restored = built.blocksGiven;
    const r = await catchUp(built, storage, { now: cut, signal: abort.signal });
    return { index: built, contacts: builtContacts, blocks: r.blocks, restored, fromSnapshot, elapsedMs: performance.now() - started };
  }

  async function startOnce(): Promise<void> {
    const cut = finalCut();
    const [built, first] = await Promise.all([
      startIndex(cut),
      source === undefined ? undefined : source.start(),
    ]);
    await persistTail;
    const contactsStarted = performance.now();
    const restoredContacts = built.contacts.kept;
    const contactRecords = await catchUpContacts(built.contacts, storage, { now: cut, graceMs: 0 });
    const contactsMs = performance.now() - contactsStarted;
    await catchUpSiteLabels(labels, storage, { now: cut });
    index = built.index;
    contacts = built.contacts;
    building = undefined;
    ready = true;
    startError = undefined;
    metrics.startupReindex.set(built.elapsedMs / 1000);
    metrics.startupBlocks.set({ source: 'snapshot' }, built.restored);
    metrics.startupBlocks.set({ source: 'store' }, built.blocks);
    metrics.catchUpBlocks.inc(built.blocks);
    const common = {
      blocks: built.blocks, sites: index.sites().length, elapsedMs: Math.round(built.elapsedMs), indexedThrough: index.indexedThrough,
      contactRecords, contactsMs: Math.round(contactsMs), contactsIndexedThrough: contacts.indexedThrough,
    };
    if (built.fromSnapshot !== undefined) {
      logger.info({
        ...common, snapshotBlocks: built.restored, snapshotIndexedThrough: built.fromSnapshot.meta.indexedThrough, snapshotBytes: built.fromSnapshot.bytes,
        snapshotContacts: restoredContacts, snapshotContactsIndexedThrough: built.fromSnapshot.meta.contacts.indexedThrough,
        loadMs: Math.round(built.fromSnapshot.elapsedMs), file: snap?.file,
      }, 'fleet index loaded from the snapshot and caught up with the blocks and contacts stored after it');
    } else {
      logger.info(common, 'fleet index rebuilt from the stored blocks (the startup reindex)');
    }
    // A start that read blocks or contact history from the store is worth keeping at once (a reindex can take long).
    if (built.blocks > 0 || contactRecords > 0) void enqueue(() => saveSnapshot({ index, contacts }, 'startup'));
    if (source === undefined) {
      logger.info({}, 'no policies configured: drift and upgrades reports find no expectations; stale sites use the default 1h threshold');
    } else if (first !== undefined && first.inForce === undefined) {
      logger.warn({ outcome: first.outcome, code: first.error?.code }, 'no policy revision in force yet: drift and upgrades reports find no expectations until a valid set loads');
    }
  }
  const started = (async () => {
    for (;;) {
      try {
        await startOnce();
        wake();
        armInterval();
        return;
      } catch (err) {
        if (closed) throw notReadyError();
        startError = `${(err as { code?: string }).code ?? 'Error'}: ${errorMessage(err)}`;
        logger.error({ err: errorMessage(err), code: (err as { code?: string }).code, retryInMs: interval }, 'fleet service could not start; retrying');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, interval);
          t.unref();
          abort.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        if (closed) throw notReadyError();
        index = new FleetIndex(indexOptions);
      }
    }
  })();
  started.catch(() => undefined);

  /** Waits for something that can move the watermark: a catch-up, a commit, a policy persisted, or a few ms (the clock). */
  const nextChange = (): Promise<void> => new Promise((resolve) => {
    const done = (): void => {
      wakers.delete(done);
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(done, 5);
    wakers.add(done);
  });

  /** Catches up until the watermark reaches knownAt, or throws DW_FLEET_NOT_INDEXED after queryWait ms. */
  async function ensureKnown(knownAt: number): Promise<void> {
    if (!ready) throw notReadyError();
    if (knownAt <= watermark()) return;
    const clockNow = clock.now();
    if (knownAt > clockNow) {
      throw new FleetError(FleetErrorCode.NotIndexed, `expected knownAt at or before the aggregator's clock (${formatRfc3339(clockNow)}), found ${formatRfc3339(knownAt)}: an answer as of a later cut could still change`);
    }
    const deadline = performance.now() + queryWait;
    for (;;) {
      await scheduleCatchUp('query');
      if (knownAt <= watermark()) return;
      if (closed || performance.now() >= deadline) {
        const why = holdBack({ clockNow: clock.now(), pending: storage.oldestPendingArrival(), policy: Math.min(source?.reloadingSince() ?? Infinity, policyUnsettledSince ?? Infinity), knownAt });
        throw new FleetError(FleetErrorCode.NotIndexed,
          `expected the reports to hold everything that arrived by knownAt ${formatRfc3339(knownAt)} within ${queryWait} ms, found them through ${formatRfc3339(Math.max(0, watermark()))}: ${why}; ask again, or leave known_at out (its default is the latest final cut)`);
      }
      await nextChange();
    }
  }

  async function query<T>(report: string, knownAt: number, answer: (i: FleetInputs) => T): Promise<T> {
    const t0 = performance.now();
    try {
      await ensureKnown(knownAt);
      const r = answer(inputs());
      metrics.queries.inc({ report, outcome: 'ok' });
      return r;
    } catch (err) {
      metrics.queries.inc({ report, outcome: (err as { code?: string }).code ?? 'error' });
      throw err;
    } finally {
      metrics.queryDuration.observe({ report }, (performance.now() - t0) / 1000);
    }
  }

  let closing: Promise<void> | undefined;
  return {
    drift: (q: ReportQuery): Promise<Page<DriftRow>> => query('drift', q.knownAt, (i) => driftReport(i, q)),
    upgrades: (q: UpgradeQuery): Promise<UpgradesPage> => query('upgrades', q.knownAt, (i) => upgradesReport(i, q)),
    stale: (q: ReportQuery): Promise<Page<StaleRow>> => query('stale', q.knownAt, (i) => staleReport(i, q)),
    sites: (q: ReportQuery): Promise<Page<SiteRow>> => query('sites', q.knownAt, (i) => sitesReport(i, q)),
    site: (site: string, q: SiteQuery): Promise<SiteDetail | undefined> => query('site', q.knownAt, (i) => siteDetail(i, site, { at: q.at, knownAt: q.knownAt })),
    ready(): HealthStatus {
      if (closed) return { ok: false, reason: 'the fleet service is closed' };
      if (!ready) return { ok: false, reason: notReadyError().message };
      const w = watermark();
      const latest = history.latest();
      const policies = source === undefined ? 'no policies configured'
        : latest === undefined ? `no policy revision in force (${source.kind})` : `policy revision ${latest.id} (${source.kind})`;
      return { ok: true, reason: `reports final through ${w < 0 ? 'nothing yet' : formatRfc3339(w)}; ${policies}` };
    },
    whenReady: () => started,
    indexedThrough: watermark,
    catchUp: () => scheduleCatchUp('explicit'),
    notifyCommit(): void {
      wake();
      if (closed || !ready || commitTimer !== undefined) return;
      commitTimer = setTimeout(() => {
        commitTimer = undefined;
        background('commit');
      }, commitDelay);
      commitTimer.unref();
    },
    policies: source,
    async reloadPolicies(): Promise<ReloadResult | undefined> {
      if (source === undefined) return undefined;
      const r = await source.reload();
      await persistTail;
      return r;
    },
    get index() {
      return index;
    },
    snapshot: () => (closed || !ready ? Promise.resolve(false) : enqueue(() => saveSnapshot({ index, contacts }, 'explicit'))),
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        abort.abort(new FleetError(FleetErrorCode.NotIndexed, 'expected a running fleet service, found it closing'));
        clearTimeout(intervalTimer);
        clearTimeout(commitTimer);
        wake();
        await started.catch(() => undefined);
        await tail;
        const last = ready ? { index, contacts } : building;
        if (last !== undefined) await saveSnapshot(last, 'close');
        unsubscribe?.();
        await source?.close();
        await persistTail;
        metrics.setSources(undefined);
      })();
      return closing;
    },
  };
}

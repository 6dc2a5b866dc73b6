// The fleet: one real agent per site (the collector's loop and edge store, the shipper with its
// retries) over simulated sources, all in this process on the scheduler's accelerated clock,
// shipping over gRPC to the center the caller runs (a real aggregator: cmd/ starts it). The
// stores are sublevels of one LevelDB and the sites share one gRPC connection, so ten
// thousand sites fit in one process; writes are not fsynced (see docs/simulator.md).
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { createAgent, type AgentConfig, type AgentLogger } from '../collector/agent/index.js';
import type { ScheduledSource } from '../collector/round/index.js';
import type { StoreDb } from '../collector/store/index.js';
import { errorMessage } from '../common/errors.js';
import { seededRandom } from '../common/random.js';
import {
  createGrpcTransport, createIngestClients, createShipper, createShippingCompanion, errorFromStatus, withRetry,
  type IngestClients, type IngestTransport, type ShipperStore,
} from '../shipper/index.js';
import { SimError, SimErrorCode } from './errors.js';
import { planFleet, type FleetPlan, type SitePlan } from './plan.js';
import type { Scenario } from './scenario.js';
import { SimScheduler, type SiteActivity } from './scheduler.js';
import { SiteModel } from './site-model.js';
import { siteSources } from './sources.js';

/** The aggregator the fleet ships to, run by the caller on the simulation's clock. */
export interface SimCenter {
  /** Its gRPC address (`host:port`, plaintext on loopback). */
  readonly grpcAddress: string;
  /** Moves the center's clock to `t`; resolves once it has. */
  setTime(t: number): Promise<void>;
  /** Makes `files` (name → YAML) the center's policy set, effective now; resolves once loaded. */
  applyPolicies(files: Readonly<Record<string, string>>): Promise<void>;
}

/** A fleet planned and its credentials made, ready to start a center for. */
export interface PreparedFleet {
  readonly scenario: Scenario;
  readonly plan: FleetPlan;
  /** Each site's bearer token (the center needs their hashes). */
  readonly tokens: ReadonlyMap<string, string>;
}

/** Plans the fleet for `seed` and makes each site's token (deterministic for the seed). */
export function prepareFleet(scenario: Scenario, seed: number): PreparedFleet {
  const plan = planFleet(scenario, seed);
  const tokens = new Map<string, string>();
  for (const s of plan.sites) tokens.set(s.id, `dwt_sim_${s.id}_${createHash('sha256').update(`${seed}/${s.id}`).digest('hex').slice(0, 32)}`);
  return { scenario, plan, tokens };
}

/** Where a run stands (for a progress bar). */
export interface FleetProgress {
  /** Simulated time now. */
  readonly t: number;
  readonly start: number;
  readonly end: number;
  readonly rounds: number;
  readonly blocksSealed: number;
  readonly blocksStored: number;
}

/** What a run did. */
export interface FleetSummary extends FleetProgress {
  readonly sites: number;
  readonly seed: number;
  /** Clock steps taken (each waits for the fleet to settle). */
  readonly steps: number;
  readonly bytesStored: number;
  readonly heartbeats: number;
  /** Calls refused by a simulated outage. */
  readonly callsRefused: number;
  /** Warnings the agents and shippers logged (failed calls during outages, retried). */
  readonly warnings: number;
  /** Errors the agents and shippers logged; the first few kept. */
  readonly problems: number;
  readonly sampleProblems: readonly string[];
  /** Wall-clock milliseconds of the simulation (start of the agents to the end of the last step). */
  readonly wallMs: number;
}

export interface FleetRunOptions {
  readonly fleet: PreparedFleet;
  readonly center: SimCenter;
  /** The edge stores' directory (one LevelDB, a sublevel per site); emptied first. */
  readonly dataDir: string;
  /** Called after every step. */
  readonly onProgress?: (p: FleetProgress) => void;
  /** Steps are rounded up to multiples of this (ms). Default 1 min. */
  readonly quantumMs?: number;
  /** The driftwatch version the agents report. */
  readonly version: string;
  /** At most this many timers fire before the fleet settles again (default 1,000). */
  readonly batch?: number;
  /** Stops the run at the next step (DW_SIM_INTERRUPTED), after stopping the agents. */
  readonly signal?: AbortSignal;
}

/** Real-time limit of one call from a simulated site (see createGrpcTransport's callTimeouts). */
const CALL_TIMEOUT_MS = 15 * 60_000;

interface Counters {
  rounds: number;
  blocksSealed: number;
  blocksStored: number;
  bytesStored: number;
  heartbeats: number;
  callsRefused: number;
  warnings: number;
  problems: number;
  sampleProblems: string[];
}

/** Errors are counted and a few kept; warnings (an outage's failed calls, retried) are only counted. */
function quietLogger(counters: Counters, site: string): AgentLogger {
  return {
    info: () => {}, debug: () => {},
    warn: () => void counters.warnings++,
    error: (fields, message) => {
      counters.problems++;
      if (counters.sampleProblems.length < 10) counters.sampleProblems.push(`${site}: ${message} ${JSON.stringify(fields)}`);
    },
  };
}

/** A transport whose link goes down during the site's outages, counted for the scheduler. */
function simulatedLink(inner: IngestTransport, plan: SitePlan, clock: { now(): number }, activity: SiteActivity, counters: Counters, state: { frozen: boolean }, address: string): IngestTransport {
  const down = (): boolean => state.frozen || plan.outages.some((o) => clock.now() >= o.from && clock.now() < o.to);
  const refused = <T>(method: 'Hello' | 'Upload' | 'Heartbeat'): Promise<T> => {
    counters.callsRefused++;
    // What grpc-js reports when no connection can be made: the same mapping as a real outage.
    const error = errorFromStatus({ code: 14, details: `No connection established. Last error: connect ETIMEDOUT ${address} (simulated outage)` }, { method, target: address });
    return Promise.resolve({ status: 'retryable', error } as T);
  };
  return {
    hello: (info, opts) => (down() ? refused('Hello') : activity.track(inner.hello(info, opts))),
    upload: (block, from, opts) => {
      if (down()) return refused('Upload');
      return activity.track(inner.upload(block, from, opts).then((r) => {
        if (r.status === 'success' && !r.value.duplicate) {
          counters.blocksStored++;
          counters.bytesStored += block.bytes.length;
        }
        return r;
      }));
    },
    heartbeat: (info, opts) => {
      if (down()) return refused('Heartbeat');
      counters.heartbeats++;
      return activity.track(inner.heartbeat(info, opts));
    },
    close: () => inner.close(),
  };
}

/** The store as the shipper sees it, each call counted for the scheduler. */
function trackedStore(store: ShipperStore, activity: SiteActivity): ShipperStore {
  return {
    listUnshipped: (o) => activity.track(store.listUnshipped(o)),
    pin: (id) => activity.track(store.pin(id)),
    unpin: (id) => store.unpin(id),
    readBlock: (id) => activity.track(store.readBlock(id)),
    markShipped: (id) => activity.track(store.markShipped(id)),
    stats: () => store.stats(),
  };
}

interface SimSite {
  readonly stop: () => void;
  readonly done: Promise<unknown>;
}

/**
 * Runs the fleet from the scenario's start to its end: starts every agent, applies the policy
 * revisions at their times, and steps the clock until the end; then freezes the links (nothing
 * more reaches the center), stops the agents and closes the stores. The center keeps what it
 * received, as of the end.
 */
export async function runFleet(o: FleetRunOptions): Promise<FleetSummary> {
  const { scenario, plan } = o.fleet;
  const quantum = o.quantumMs ?? 60_000;
  const batch = o.batch ?? 1_000;
  const sched = new SimScheduler(plan.start);
  const clock = sched.clock;
  const counters: Counters = { rounds: 0, blocksSealed: 0, blocksStored: 0, bytesStored: 0, heartbeats: 0, callsRefused: 0, warnings: 0, problems: 0, sampleProblems: [] };
  const link = { frozen: false };
  await rm(o.dataDir, { recursive: true, force: true });
  const root = new Level<string, Uint8Array>(join(o.dataDir, 'edge'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await root.open({ createIfMissing: true, writeBufferSize: 16 << 20, cacheSize: 8 << 20 });
  const clients: IngestClients = createIngestClients(o.center.grpcAddress, 'insecure', {
    // One connection for the whole fleet (each site's token rides on its calls). Simulated time
    // stands still during a step while thousands of calls queue on it: no keepalive verdicts.
    'grpc.use_local_subchannel_pool': 0, 'grpc.keepalive_time_ms': 3_600_000, 'grpc.keepalive_timeout_ms': 600_000,
  });
  const a = scenario.agent;
  const policies = [...scenario.policies].sort((x, y) => x.at - y.at);
  let nextPolicy = 0;
  const applyPoliciesDue = async (t: number): Promise<void> => {
    while (nextPolicy < policies.length && plan.start + policies[nextPolicy]!.at <= t) await o.center.applyPolicies(policies[nextPolicy++]!.files);
  };
  await o.center.setTime(plan.start);
  await applyPoliciesDue(plan.start);

  const started = performance.now();
  const sites: SimSite[] = plan.sites.map((p) => startSite(p));
  let steps = 0;
  /** The first agent that failed (its store could not be opened or written): the run stops with it. */
  let agentFailure: SimError | undefined;
  const progress = (): FleetProgress => ({
    t: clock.now(), start: plan.start, end: plan.end, rounds: counters.rounds, blocksSealed: counters.blocksSealed, blocksStored: counters.blocksStored,
  });
  try {
    while (true) {
      await sched.quiet();
      if (agentFailure !== undefined || o.signal?.aborted === true) break;
      o.onProgress?.(progress());
      const next = sched.nextAt();
      if (next === undefined || next > plan.end) break;
      const t = Math.min(plan.end, Math.ceil(next / quantum) * quantum);
      await o.center.setTime(t);
      await applyPoliciesDue(t);
      // A step's timers fire in batches, each left to settle before the next: ten thousand
      // seals and uploads at once would only hold more memory at the same time.
      while (sched.fireUntil(t, batch) === batch) await sched.quiet();
      steps++;
    }
  } finally {
    link.frozen = true;
    for (const s of sites) s.stop();
    await Promise.all(sites.map((s) => s.done));
    clients.upload.close();
    clients.heartbeat.close();
    await root.close();
  }
  if (agentFailure !== undefined) throw agentFailure;
  if (o.signal?.aborted === true) {
    throw new SimError(SimErrorCode.Interrupted, `expected the simulation to reach ${new Date(plan.end).toISOString()}, it was interrupted at ${new Date(clock.now()).toISOString()}`);
  }
  const wallMs = performance.now() - started;
  return {
    ...progress(), sites: sites.length, seed: plan.seed, steps, bytesStored: counters.bytesStored, heartbeats: counters.heartbeats,
    callsRefused: counters.callsRefused, warnings: counters.warnings, problems: counters.problems, sampleProblems: counters.sampleProblems, wallMs,
  };

  function startSite(p: SitePlan): SimSite {
    const activity = sched.addSite();
    const model = new SiteModel(p);
    const logger = quietLogger(counters, p.id);
    const sources: ScheduledSource[] = siteSources(model).map((source) => ({ source, interval: a.interval, timeout: Math.min(10_000, a.interval) }));
    const counted = sources[0]!.source;
    const collect = counted.collect.bind(counted);
    sources[0] = { ...sources[0]!, source: { ...counted, collect: (ctx) => (counters.rounds++, collect(ctx)) } };
    const config: AgentConfig = {
      site: { id: p.id, labels: p.labels }, interval: a.interval,
      store: { dir: join(o.dataDir, 'edge', p.id), diskBudget: a.diskBudget, blockDuration: a.blockDuration },
      http: { listen: '' }, log: { level: 'warn' }, sources: [], sections: {},
    };
    const inner = createGrpcTransport({
      address: o.center.grpcAddress, tls: 'insecure', token: o.fleet.tokens.get(p.id)!, clock, timers: sched.timers, clients,
      // Deadlines are real time, and a step of 10,000 sites' seals, compactions and uploads can
      // keep a call waiting for a minute of it: time out only what is really stuck.
      callTimeouts: { helloMs: CALL_TIMEOUT_MS, heartbeatMs: CALL_TIMEOUT_MS, uploadIdleMs: CALL_TIMEOUT_MS },
    });
    const transport = withRetry(simulatedLink(inner, p, clock, activity, counters, link, o.center.grpcAddress),
      { baseMs: 30_000, capMs: 10 * 60_000 }, { clock, timers: sched.timers, random: seededRandom(p.seed + 1) });
    const companion = createShippingCompanion({
      transport, logger, run: { syncInterval: a.syncInterval, heartbeatInterval: a.heartbeatInterval },
      onSealed: () => void counters.blocksSealed++,
      shipper: (store) => createShipper({
        store: trackedStore(store, activity), transport, siteId: p.id, clock, timers: sched.timers, logger, agentVersion: o.version,
        agentStartTime: clock.now(), siteLabels: p.labels,
      }),
    });
    const agent = createAgent({
      config, sources, clock, timers: sched.agentTimers(activity), deadlineTimers: sched.timers, logger, version: o.version,
      random: seededRandom(p.seed), companion,
      storeOptions: { db: root.sublevel<string, Uint8Array>(p.id, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as StoreDb, syncWrites: false },
    });
    const done = agent.run().catch((err: unknown) => {
      logger.error({ code: (err as { code?: string }).code }, `the agent failed: ${errorMessage(err)}`);
      if (!link.frozen) agentFailure ??= new SimError(SimErrorCode.AgentFailed, `expected site ${p.id}'s agent to run, it failed: ${errorMessage(err)}`, { cause: err });
      activity.retire();
    });
    return { stop: () => agent.stop('simulation over'), done };
  }
}

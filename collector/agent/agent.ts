// The agent's loop: open the store, then one round per aligned slot — sample the due sources,
// append the round durably, compact after a seal — until told to stop or `rounds` are done;
// then flush the store and close the sources. A wake-up that finds a whole interval passed
// records an agent_gap event and resumes at the next aligned slot (no catch-up burst).
import type { Clock } from '../../common/clock.js';
import { errorMessage, isDriftwatchError } from '../../common/errors.js';
import type { Random } from '../../common/random.js';
import type { BlockEvent } from '../../proto/index.js';
import { createSampler, sleepUntil, systemTimers, type SampledRound, type ScheduledSource, type Timers } from '../round/index.js';
import type { SourceLogger } from '../sources/source.js';
import { openEdgeStore, StoreErrorCode, type BlockInfo, type EdgeStore, type EdgeStoreOptions } from '../store/index.js';
import type { AgentConfig } from './config-schema.js';
import { agentGapEvent, agentStartEvent, agentStopEvent, type StopReason } from './events.js';
import type { AgentHealth } from './http.js';
import type { AgentMetrics } from './metrics.js';
import { nextSlot, planWake } from './schedule.js';

/** The agent's logger: pino's shape (fields first, then a lowercase message). */
export interface AgentLogger extends SourceLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * Work that runs beside the loop on the agent's open store — the shipper, wired by cmd/ (the
 * collector does not know it). The store is open from `start` until `stop` resolves.
 */
export interface AgentCompanion {
  /** Called once the store is open, before the first round. Must not throw. */
  start(store: EdgeStore, agent: { lastRoundTime(): number | undefined }): void;
  /** A block was sealed (compaction may follow). Must not throw. */
  sealed(info: BlockInfo): void;
  /** Called after the final flush, before the store closes: finish and stop. Must not reject. */
  stop(): Promise<void>;
}

export interface AgentOptions {
  readonly config: AgentConfig;
  /** The sources in config order (createScheduledSources), with their intervals and timeouts. */
  readonly sources: readonly ScheduledSource[];
  readonly clock: Clock;
  /** Waits for the next round. Default: systemTimers(clock). */
  readonly timers?: Timers;
  /** Arms the sources' deadlines. Default: `timers`. */
  readonly deadlineTimers?: Timers;
  readonly logger: AgentLogger;
  /** Default: none (nothing is counted). */
  readonly metrics?: AgentMetrics;
  /** The driftwatch version, for the agent_start and agent_stop events. */
  readonly version: string;
  /** Randomness for block ids (seeded in tests). Default: crypto-random. */
  readonly random?: Random;
  /** Runs beside the loop on the open store (the shipper). Default: none. */
  readonly companion?: AgentCompanion;
  /**
   * Store options beyond the config's: a shared database and unsynced writes, for the fleet
   * simulator's thousands of agents in one process. Default: none.
   */
  readonly storeOptions?: Pick<EdgeStoreOptions, 'db' | 'syncWrites'>;
}

export interface AgentRunOptions {
  /** Run this many rounds, then stop (reason `rounds_done`). Default: until `stop`. */
  readonly rounds?: number;
}

/** What a run did. */
export interface AgentSummary {
  readonly rounds: number;
  readonly roundsMissed: number;
  readonly sourceErrors: number;
  readonly blocksSealed: number;
  readonly stopReason: StopReason;
}

/** The agent. One `run` per agent. */
export interface Agent {
  /**
   * Opens the store and runs rounds until `stop` or `rounds` are done, then flushes the store
   * (sealing the head), closes the sources and the store. Rejects when the store cannot be
   * opened (a DW_STORE_* error) or is closed under it; a failing source never makes it reject.
   */
  run(options?: AgentRunOptions): Promise<AgentSummary>;
  /**
   * Asks the loop to stop: the round in flight (if any) is finished and appended with the
   * agent_stop event; a wait for the next round ends at once, and agent_stop is stored without a
   * round (EdgeStore.appendEvents) before the flush. `hard` also aborts the
   * collections still running. Safe to call at any time, more than once.
   */
  stop(detail: string, options?: { hard?: boolean }): void;
  /** Resolves once the store is open and the loop runs; rejects when opening fails. */
  readonly ready: Promise<void>;
  /** For /healthz. */
  health(): AgentHealth;
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

class EdgeAgent implements Agent {
  readonly ready: Promise<void>;
  readonly #o: AgentOptions;
  readonly #timers: Timers;
  readonly #stopWait = new AbortController();
  readonly #hardStop = new AbortController();
  #stopDetail: string | undefined;
  #state: State = 'idle';
  #resolveReady!: () => void;
  #rejectReady!: (err: unknown) => void;
  #store: EdgeStore | undefined;
  #pending: BlockEvent[] = [];
  #lastRoundAt: number | undefined;
  /** The time of the last round stored. */
  #lastRoundT: number | undefined;
  #startedAt = 0;
  #appendError: string | undefined;
  #stopRecorded = false;
  /** The last failure code per source, to log transitions rather than every failed round. */
  readonly #failing = new Map<string, string>();
  #summary = { rounds: 0, roundsMissed: 0, sourceErrors: 0, blocksSealed: 0 };

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers(options.clock);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // run() rejects too; a caller need not await ready
  }

  stop(detail: string, options: { hard?: boolean } = {}): void {
    this.#stopDetail ??= detail;
    this.#stopWait.abort();
    if (options.hard === true) this.#hardStop.abort(new Error(`hard stop: ${detail}`));
  }

  health(): AgentHealth {
    switch (this.#state) {
      case 'idle':
      case 'starting':
        return { ok: false, reason: 'starting: the store is not open yet' };
      case 'stopping':
        return { ok: false, reason: `stopping (${this.#stopDetail ?? 'asked to'})` };
      case 'stopped':
        return { ok: false, reason: 'stopped' };
      case 'failed':
        return { ok: false, reason: 'failed: see the log' };
    }
    if (this.#appendError !== undefined) return { ok: false, reason: `the last round could not be stored: ${this.#appendError}` };
    const { interval } = this.#o.config;
    const slack = 2 * interval + Math.max(0, ...this.#o.sources.map((s) => s.timeout));
    const since = this.#lastRoundAt ?? this.#startedAt;
    const now = this.#o.clock.now();
    if (now - since > slack) {
      return { ok: false, reason: `no round stored since ${new Date(since).toISOString()} (expected one every ${interval / 1000}s)` };
    }
    return { ok: true, reason: this.#lastRoundAt === undefined ? 'running, waiting for the first round' : `running, last round ${new Date(this.#lastRoundAt).toISOString()}` };
  }

  async run(options: AgentRunOptions = {}): Promise<AgentSummary> {
    if (this.#state !== 'idle') throw new Error('agent.run() may be called once');
    const { config, clock, logger, metrics } = this.#o;
    const limit = options.rounds;
    this.#state = 'starting';
    try {
      this.#store = await openEdgeStore({
        dir: config.store.dir, siteId: config.site.id, clock, diskBudget: config.store.diskBudget,
        blockDuration: config.store.blockDuration, onWarning: (fields, message) => logger.warn(fields, message),
        ...(this.#o.random === undefined ? {} : { random: this.#o.random }),
        ...this.#o.storeOptions,
      });
    } catch (err) {
      this.#state = 'failed';
      this.#rejectReady(err);
      await this.#closeSources();
      throw err;
    }
    const store = this.#store;
    metrics?.setStore(() => store.stats());
    this.#startedAt = clock.now();
    this.#state = 'running';
    this.#pending.push(agentStartEvent(this.#startedAt, this.#o.version, config.interval, this.#o.sources.length));
    const sampler = createSampler({ sources: this.#o.sources, clock, timers: this.#o.deadlineTimers ?? this.#timers, logger });
    logger.info({
      storeDir: config.store.dir, interval: config.interval, sources: this.#o.sources.map((s) => s.source.name),
      headRounds: store.stats().headRounds, blocks: store.stats().blocks,
    }, 'agent started');
    this.#o.companion?.start(store, { lastRoundTime: () => this.#lastRoundT });
    this.#resolveReady();

    let stopReason: StopReason = 'signal';
    try {
      let next = nextSlot(clock.now(), config.interval);
      while (true) {
        if (limit !== undefined && this.#summary.rounds >= limit) {
          stopReason = 'rounds_done';
          break;
        }
        if (this.#stopWait.signal.aborted) break;
        const now = clock.now();
        if (next - now > config.interval) {
          // The clock stepped back (NTP, a manual fix): plan from the new time rather than sleep the step away.
          logger.warn({ planned: new Date(next).toISOString(), now: new Date(now).toISOString() }, 'clock stepped back, rounds planned from the new time');
          next = nextSlot(now, config.interval);
        }
        try {
          await sleepUntil(this.#timers, next, this.#stopWait.signal);
        } catch {
          break; // stop() during the wait
        }
        const plan = planWake(clock.now(), next, config.interval);
        if (plan.kind === 'gap') {
          this.#recordGap(plan.firstMissed, plan.lastMissed, plan.missed);
          next = plan.resumeAt;
          continue;
        }
        const last = limit !== undefined && this.#summary.rounds + 1 >= limit;
        await this.#round(store, () => sampler.sample(plan.t, this.#hardStop.signal), last);
        next = plan.t + config.interval;
      }
    } catch (err) {
      this.#state = 'stopping';
      logger.error({ code: isDriftwatchError(err) ? err.code : undefined, err: errorMessage(err) }, 'agent loop failed, stopping');
      if (!isDriftwatchError(err, StoreErrorCode.Closed)) await this.#storeLeftEvents(store, 'error', errorMessage(err));
      await this.#shutdown(store);
      throw err;
    }
    this.#state = 'stopping';
    await this.#storeLeftEvents(store, stopReason, stopReason === 'rounds_done' ? `${this.#summary.rounds} rounds done` : (this.#stopDetail ?? 'asked to stop'));
    await this.#shutdown(store);
    logger.info({ rounds: this.#summary.rounds, roundsMissed: this.#summary.roundsMissed, reason: stopReason, detail: this.#stopDetail }, 'agent stopped');
    return { ...this.#summary, stopReason };
  }

  /** Samples, appends and accounts one round. `last`: the round carries agent_stop. */
  async #round(store: EdgeStore, sample: () => Promise<SampledRound>, last: boolean): Promise<void> {
    const { clock, metrics, logger, version } = this.#o;
    const started = performance.now();
    const sampled = await sample();
    const t = sampled.round.t;
    this.#account(sampled);
    const events = [...this.#pending, ...sampled.round.events];
    this.#pending = [];
    const stopping = last || this.#stopWait.signal.aborted;
    if (stopping) {
      const reason: StopReason = last && !this.#stopWait.signal.aborted ? 'rounds_done' : 'signal';
      events.push(agentStopEvent(clock.now(), version, reason, reason === 'rounds_done' ? `${this.#summary.rounds + 1} rounds done` : (this.#stopDetail ?? 'asked to stop'), this.#summary.rounds + 1));
    }
    let sealed: BlockInfo | undefined;
    try {
      try {
        sealed = await store.appendRound({ t, samples: sampled.round.samples, events });
      } catch (err) {
        // A source repeated a series of its own (the sampler only checks across sources): the
        // store wrote nothing; leave the repeats out and append again.
        if (!isDriftwatchError(err, StoreErrorCode.InvalidRound)) throw err;
        sealed = await store.appendRound({ t, samples: sampled.withoutRepeats().samples, events });
      }
      if (stopping) this.#stopRecorded = true;
    } catch (err) {
      if (isDriftwatchError(err, StoreErrorCode.Closed)) throw err;
      // The round is lost: say so in the next round, like a gap.
      this.#appendError = errorMessage(err);
      this.#pending.push({ ...agentGapEvent(clock.now(), t, t, 1, this.#o.config.interval), reason: 'append_failed', message: `the round at ${new Date(t).toISOString()} was not stored: ${this.#appendError}` });
      logger.error({ round: t, code: isDriftwatchError(err) ? err.code : undefined, err: this.#appendError }, 'round not stored, continuing with the next');
      return;
    }
    this.#appendError = undefined;
    this.#lastRoundAt = clock.now();
    this.#lastRoundT = t;
    this.#summary.rounds++;
    metrics?.rounds.inc();
    metrics?.roundDuration.observe((performance.now() - started) / 1000);
    if (sealed !== undefined) await this.#sealed(store, sealed);
  }

  async #sealed(store: EdgeStore, info: BlockInfo): Promise<void> {
    this.#summary.blocksSealed++;
    this.#o.companion?.sealed(info);
    this.#o.metrics?.blocksSealed.inc();
    this.#o.logger.info({ block: info.id, minT: info.minT, maxT: info.maxT, rounds: info.numRounds, bytes: info.bytes }, 'block sealed');
    try {
      const c = await store.compact();
      if (c.created.length > 0) this.#o.logger.info({ blocks: c.created.map((b) => b.id), replaced: c.replaced }, 'blocks compacted');
    } catch (err) {
      if (isDriftwatchError(err, StoreErrorCode.Closed)) throw err;
      this.#o.logger.warn({ err: errorMessage(err) }, 'compaction failed, retrying after the next seal');
    }
  }

  #account(sampled: SampledRound): void {
    const { metrics, logger } = this.#o;
    for (const r of sampled.sources) {
      if (r.status === 'failed') {
        this.#summary.sourceErrors++;
        metrics?.sourceErrors.inc({ source: r.name, code: r.code });
        if (this.#failing.get(r.name) !== r.code) {
          logger.warn({ source: r.name, kind: r.kind, code: r.code, problem: r.message }, 'source failed, its series are absent and up is 0 until it recovers');
          this.#failing.set(r.name, r.code);
        }
      } else if (r.status === 'ok' && this.#failing.has(r.name)) {
        this.#failing.delete(r.name);
        logger.info({ source: r.name, kind: r.kind }, 'source recovered');
      }
    }
  }

  #recordGap(firstMissed: number, lastMissed: number, missed: number): void {
    const { clock, config, metrics, logger } = this.#o;
    this.#summary.roundsMissed += missed;
    metrics?.roundsMissed.inc(missed);
    this.#pending.push(agentGapEvent(clock.now(), firstMissed, lastMissed, missed, config.interval));
    logger.warn({ missed, firstMissed: new Date(firstMissed).toISOString(), lastMissed: new Date(lastMissed).toISOString() },
      'rounds missed (process suspended or stalled), recorded as a gap; resuming at the next aligned round');
  }

  /**
   * Stores, without a round, the events no round carried: agent_stop when the stop came between
   * rounds (the usual case: the loop was waiting), and gaps or append failures recorded since the
   * last round. One synced batch; the flush that follows seals them into the last block.
   */
  async #storeLeftEvents(store: EdgeStore, reason: StopReason, detail: string): Promise<void> {
    const { clock, version, logger } = this.#o;
    const events = [...this.#pending];
    if (!this.#stopRecorded) events.push(agentStopEvent(clock.now(), version, reason, detail, this.#summary.rounds));
    if (events.length === 0) return;
    try {
      await store.appendEvents(events);
      this.#pending = [];
      this.#stopRecorded = true;
    } catch (err) {
      logger.warn({ events: events.map((e) => e.kind), code: isDriftwatchError(err) ? err.code : undefined, err: errorMessage(err) },
        'events after the last round could not be stored, stopping without them');
    }
  }

  async #shutdown(store: EdgeStore): Promise<void> {
    try {
      const sealed = await store.flush();
      if (sealed !== undefined) {
        this.#o.companion?.sealed(sealed);
        this.#summary.blocksSealed++;
        this.#o.metrics?.blocksSealed.inc();
        this.#o.logger.info({ block: sealed.id, minT: sealed.minT, maxT: sealed.maxT, rounds: sealed.numRounds, bytes: sealed.bytes }, 'block sealed');
      }
    } catch (err) {
      this.#o.logger.error({ err: errorMessage(err) }, 'flush on stop failed, the head stays in the store and is sealed on the next start');
    }
    await this.#o.companion?.stop();
    await this.#closeSources();
    this.#o.metrics?.setStore(undefined);
    await store.close();
    this.#state = 'stopped';
  }

  async #closeSources(): Promise<void> {
    await Promise.all(this.#o.sources.map(async ({ source }) => {
      try {
        await source.close?.();
      } catch (err) {
        this.#o.logger.warn({ source: source.name, err: errorMessage(err) }, 'source did not close cleanly');
      }
    }));
  }
}

/** Creates an agent; nothing happens until `run`. */
export function createAgent(options: AgentOptions): Agent {
  return new EdgeAgent(options);
}

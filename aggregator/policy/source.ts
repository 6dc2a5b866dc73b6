// What both policy sources (a directory, a git repository) share: the PolicySource interface, the
// reload result every listener receives (the readiness signal tests wait on), and the driver
// that serialises reloads, debounces file-system events and polls as a fallback.
import { watch, type FSWatcher } from 'node:fs';
import { systemClock, type Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import { systemTimers, type CancelTimer, type Timers } from '../../common/timers.js';
import { formatProblem, PolicyError, PolicyErrorCode } from './errors.js';
import type { PolicyHistory } from './history.js';
import type { PolicyMetrics } from './metrics.js';
import type { PolicyRevision, RejectedRevision } from './types.js';

/**
 * What a reload did: `changed` — new revisions were added; `unchanged` — nothing new;
 * `invalid` — the policy set (or, for git, a new commit) failed validation and was recorded as
 * rejected, the previous revision staying in force; `failed` — the source could not be read.
 */
export type ReloadOutcome = 'changed' | 'unchanged' | 'invalid' | 'failed';

/** Why a reload ran. */
export type ReloadTrigger = 'start' | 'explicit' | 'watch' | 'poll';

/** The result of one completed reload, given to every listener. */
export interface ReloadResult {
  readonly outcome: ReloadOutcome;
  readonly trigger: ReloadTrigger;
  /** The clock's time when the reload started: the loadedAt of what it added. */
  readonly at: number;
  /** Revisions added, in the order they take effect. */
  readonly added: readonly PolicyRevision[];
  /** Policy sets rejected by this reload. */
  readonly rejected: readonly RejectedRevision[];
  /**
   * For `invalid`: DW_POLICY_INVALID with every problem; for `failed`: why the source could not
   * be read; for `unchanged`: set when what the source holds now is still the rejected set.
   */
  readonly error?: PolicyError;
  /** The latest revision after the reload; undefined while there is none. */
  readonly inForce: PolicyRevision | undefined;
}

/** A structured logger (pino's shape): fields first, then a lowercase message. */
export interface PolicyLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Counts of completed reloads by outcome. */
export interface ReloadStats {
  reloads: number;
  changed: number;
  unchanged: number;
  invalid: number;
  failed: number;
}

/** Options every policy source takes. */
export interface PolicySourceOptions {
  /** A history to continue (deserialized from the store); a new one when absent. */
  readonly history?: PolicyHistory;
  /** The clock loadedAt (and, for a directory, effectiveAt) is read from. Default: the process clock. */
  readonly clock?: Clock;
  /** Where the debounce and poll timers are armed. Default: systemTimers(clock). */
  readonly timers?: Timers;
  /** Reload on file-system events (fs.watch). Default true. */
  readonly watch?: boolean;
  /** Quiet time after the last file-system event before reloading (ms). Default 250. */
  readonly debounce?: number;
  /** Reload this often in any case (ms), the fallback for file systems without events; 0 disables. Default 30 s. */
  readonly pollInterval?: number;
  readonly logger?: PolicyLogger;
  readonly metrics?: PolicyMetrics;
  /** Called after every completed reload (the same as onReload). */
  readonly onReload?: (result: ReloadResult) => void;
}

/** A source of policy revisions. */
export interface PolicySource {
  readonly kind: 'directory' | 'git';
  /** Every revision this source produced (and those of the history it continued). */
  readonly history: PolicyHistory;
  /** Counts of completed reloads. */
  readonly stats: Readonly<ReloadStats>;
  /**
   * Loads once, then starts watching and polling. Resolves with the first reload's result (which
   * may be `invalid` or `failed`: the source keeps trying). A second call only reloads. Rejects
   * with DW_POLICY_SOURCE_CLOSED after close.
   */
  start(): Promise<ReloadResult>;
  /**
   * Reloads now. A reload already waiting to start is joined; one already running is followed by
   * a new one, so the result reflects the source as it was at the call or later. Never rejects
   * for a bad policy set (see the result); rejects with DW_POLICY_SOURCE_CLOSED after close.
   */
  reload(): Promise<ReloadResult>;
  /** Resolves with the next reload to complete (of any trigger): the readiness signal. Rejects on close. */
  nextReload(): Promise<ReloadResult>;
  /** Calls `listener` after every completed reload; returns the unsubscribe. */
  onReload(listener: (result: ReloadResult) => void): () => void;
  /**
   * The clock time a reload in progress started at — the `loadedAt` of whatever it will add —
   * or undefined when none runs. A `known_at` below it is final as far as this source goes.
   */
  reloadingSince(): number | undefined;
  /** Stops watching and polling and waits for a running reload. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DEBOUNCE = 250;
export const DEFAULT_POLL_INTERVAL = 30_000;

/** A path to watch, and whether below it. */
export interface WatchTarget {
  readonly path: string;
  readonly recursive: boolean;
}

/** Serialises reloads and drives them from fs.watch (debounced), a poll timer and explicit calls. */
export class ReloadDriver {
  readonly clock: Clock;
  readonly stats: ReloadStats = { reloads: 0, changed: 0, unchanged: 0, invalid: 0, failed: 0 };
  readonly #timers: Timers;
  readonly #run: (trigger: ReloadTrigger, at: number) => Promise<Omit<ReloadResult, 'trigger' | 'at'>>;
  readonly #opts: PolicySourceOptions;
  readonly #kind: 'directory' | 'git';
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Promise<ReloadResult> | undefined;
  #listeners = new Set<(r: ReloadResult) => void>();
  #waiters: { resolve: (r: ReloadResult) => void; reject: (e: unknown) => void }[] = [];
  #watchers: FSWatcher[] = [];
  #debounce: CancelTimer | undefined;
  #poll: CancelTimer | undefined;
  #closed = false;

  readonly #current: () => PolicyRevision | undefined;
  #started = false;
  #runningSince: number | undefined;

  /** `current` gives the latest revision, for the result of a reload that threw. */
  constructor(
    kind: 'directory' | 'git', opts: PolicySourceOptions, current: () => PolicyRevision | undefined,
    run: (trigger: ReloadTrigger, at: number) => Promise<Omit<ReloadResult, 'trigger' | 'at'>>,
  ) {
    this.#kind = kind;
    this.#current = current;
    this.#opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.#timers = opts.timers ?? systemTimers(this.clock);
    this.#run = run;
    if (opts.onReload !== undefined) this.#listeners.add(opts.onReload);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #closedError(): PolicyError {
    return new PolicyError(PolicyErrorCode.SourceClosed, `expected an open ${this.#kind} policy source, found it closed`);
  }

  reload(trigger: ReloadTrigger = 'explicit'): Promise<ReloadResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#queued !== undefined) return this.#queued;
    const p = this.#tail.then(() => {
      this.#queued = undefined;
      return this.#once(trigger);
    });
    this.#queued = p;
    this.#tail = p.catch(() => undefined);
    return p;
  }

  /** The start time of the reload in progress (see PolicySource.reloadingSince). */
  get runningSince(): number | undefined {
    return this.#runningSince;
  }

  async #once(trigger: ReloadTrigger): Promise<ReloadResult> {
    const at = this.clock.now();
    this.#runningSince = at;
    let result: ReloadResult;
    try {
      result = { ...(await this.#run(trigger, at)), trigger, at };
    } catch (err) {
      // A bug or an unexpected I/O error: reported as a failed reload, never thrown at a timer.
      const error = err instanceof PolicyError ? err
        : new PolicyError(PolicyErrorCode.SourceUnreadable, `expected to read the ${this.#kind} policy source, found an error: ${errorMessage(err)}`, { cause: err });
      result = { outcome: 'failed', trigger, at, added: [], rejected: [], error, inForce: this.#current() };
    }
    try {
      this.#report(result);
    } finally {
      // After the listeners ran: one that persists the history takes over the pending time in the same turn.
      this.#runningSince = undefined;
    }
    return result;
  }

  #report(r: ReloadResult): void {
    this.stats.reloads++;
    this.stats[r.outcome]++;
    const log = this.#opts.logger;
    const fields = { source: this.#kind, trigger: r.trigger, revision: r.inForce?.id };
    if (r.outcome === 'changed') {
      log?.info({ ...fields, added: r.added.map((x) => x.id), rejected: r.rejected.length }, 'policy revision loaded');
    } else if (r.outcome === 'invalid') {
      log?.warn({ ...fields, code: r.error?.code, problems: r.error?.problems.map(formatProblem) },
        r.inForce === undefined ? 'policy set rejected, no revision is in force yet' : 'policy set rejected, the previous revision stays in force');
    } else if (r.outcome === 'failed') {
      log?.warn({ ...fields, code: r.error?.code, err: r.error?.message }, 'policy source could not be read, the previous revision stays in force');
    }
    if (r.rejected.length > 0 && r.outcome === 'changed') {
      log?.warn({ ...fields, rejected: r.rejected.map((x) => x.id), problems: r.rejected.flatMap((x) => x.problems.map(formatProblem)) }, 'policy commits rejected, the revision before each stays in force from its time');
    }
    this.#opts.metrics?.reloaded(this.#kind, r);
    for (const listener of [...this.#listeners]) {
      try {
        listener(r);
      } catch (err) {
        log?.warn({ source: this.#kind, err: errorMessage(err) }, 'policy reload listener threw, ignored');
      }
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(r);
  }

  nextReload(): Promise<ReloadResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  onReload(listener: (r: ReloadResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reloads `debounce` ms after the last call (a file-system event). */
  poke(): void {
    if (this.#closed) return;
    this.#debounce?.();
    this.#debounce = this.#timers.at(this.clock.now() + (this.#opts.debounce ?? DEFAULT_DEBOUNCE), () => {
      this.#debounce = undefined;
      void this.reload('watch').catch(() => undefined);
    });
  }

  /**
   * The first load, then fs.watch on the targets (unless watch is false) and the poll timer
   * (unless 0). A second call only reloads.
   */
  async start(targets: () => readonly WatchTarget[]): Promise<ReloadResult> {
    if (this.#started) return this.reload('explicit');
    this.#started = true;
    const first = await this.reload('start');
    if (!this.#closed) this.#watch(targets());
    return first;
  }

  #watch(targets: readonly WatchTarget[]): void {
    if (this.#opts.watch !== false) {
      for (const t of targets) {
        try {
          const w = watch(t.path, { recursive: t.recursive }, () => this.poke());
          w.on('error', (err) => this.#watchFailed(t.path, err, w));
          this.#watchers.push(w);
        } catch (err) {
          this.#watchFailed(t.path, err, undefined);
        }
      }
    }
    this.#armPoll();
  }

  #watchFailed(path: string, err: unknown, w: FSWatcher | undefined): void {
    w?.close();
    this.#watchers = this.#watchers.filter((x) => x !== w);
    const poll = this.#opts.pollInterval ?? DEFAULT_POLL_INTERVAL;
    this.#opts.logger?.warn({ source: this.#kind, path, err: errorMessage(err), pollInterval: poll },
      poll > 0 ? 'cannot watch policy path, relying on polling' : 'cannot watch policy path and polling is off: reload explicitly');
  }

  #armPoll(): void {
    const every = this.#opts.pollInterval ?? DEFAULT_POLL_INTERVAL;
    if (this.#closed || every <= 0) return;
    this.#poll = this.#timers.at(this.clock.now() + every, () => {
      this.#poll = undefined;
      this.reload('poll').catch(() => undefined).finally(() => this.#armPoll());
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    this.#debounce?.();
    this.#poll?.();
    await this.#tail;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#closedError());
  }
}

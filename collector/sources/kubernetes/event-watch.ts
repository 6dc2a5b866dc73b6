// A list-then-watch of warning events with resourceVersion bookkeeping, running in the
// background between collections: list, watch from the list's resourceVersion, resume from the
// last resourceVersion seen (events and BOOKMARKs) after a disconnect, re-list on 410 Gone.
import type { Random } from '../../../common/random.js';
import type { BlockEvent } from '../../../proto/index.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { SourceLogger } from '../source.js';
import { describeRequest, httpStatus, statusMessage, toSourceError } from './api-errors.js';
import { withSignal, type KubeClients } from './client.js';
import { EVENT_KIND, toOccurrence, type EventBuffer } from './events.js';
import { listKind, WARNING_EVENTS, WARNING_SELECTOR } from './reads.js';
import { at, str } from './samples.js';

/** The server ends a watch after this long (a clean close, resumed at once). */
export const WATCH_TIMEOUT_SECONDS = 300;
/** No line at all for this long: the connection is presumed dead and dropped. */
const WATCHDOG_MS = (WATCH_TIMEOUT_SECONDS + 30) * 1000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export interface EventWatcherOptions {
  readonly clients: KubeClients;
  /** undefined: every namespace. */
  readonly namespace: string | undefined;
  readonly buffer: EventBuffer;
  readonly logger: SourceLogger;
  /** The source's name, for logs. */
  readonly source: string;
  readonly now: () => number;
  /** Deadline of each list request. */
  readonly listTimeoutMs: number;
  /** Jitter for reconnect backoff. */
  readonly random: Random;
}

type WatchOutcome =
  | { readonly kind: 'closed'; readonly received: number }
  | { readonly kind: 'gone' }
  | { readonly kind: 'error'; readonly error: SourceError; readonly received: number; readonly fromServer: boolean };

/**
 * Watches warning events in one scope and pushes them into a buffer. `start` begins in the
 * background; `ready` settles after the first list attempt (whether it worked or not); `stop`
 * ends every request and timer and may be called more than once. Failures never throw: they are
 * logged, reported once as an `EventsUnavailable` event in the buffer (and `EventsRecovered`
 * when a list works again), and retried with backoff.
 */
export class EventWatcher {
  readonly #o: EventWatcherOptions;
  readonly #what: string;
  readonly #path: string;
  #resourceVersion: string | undefined;
  #stopped = false;
  #started = false;
  #failing: SourceError | undefined;
  #failures = 0;
  #gone = 0;
  #listAbort: AbortController | undefined;
  #watchAbort: AbortController | undefined;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #markReady!: () => void;
  /** Settles after the first list attempt, or on stop. */
  readonly ready: Promise<void>;

  constructor(options: EventWatcherOptions) {
    this.#o = options;
    this.#what = describeRequest({ verb: 'list', resource: 'events', namespace: options.namespace });
    this.#path = options.namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/events`;
    this.ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** The resourceVersion the next watch would start from (undefined: it will list first). */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** Starts listing and watching in the background. Calls after the first do nothing. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    void this.#run().catch((err: unknown) => {
      this.#o.logger.warn({ source: this.#o.source, err: String(err) }, 'kubernetes events watcher stopped on an unexpected error; no further warning events');
    });
  }

  /** Stops: aborts the list or watch in flight and any backoff timer. */
  stop(): void {
    this.#stopped = true;
    this.#listAbort?.abort();
    this.#watchAbort?.abort();
    if (this.#sleepTimer !== undefined) clearTimeout(this.#sleepTimer);
    this.#wake?.();
    this.#markReady();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#resourceVersion === undefined) {
        const listed = await this.#list();
        this.#markReady();
        if (!listed) {
          this.#failures++;
          await this.#sleep(this.#backoff(this.#failures));
          continue;
        }
      }
      const from = this.#resourceVersion!;
      this.#o.logger.debug({ source: this.#o.source, namespace: this.#o.namespace, resourceVersion: from }, 'watching kubernetes warning events');
      const outcome = await this.#watchOnce(from);
      if (this.#stopped) return;
      if (outcome.kind === 'gone') {
        this.#o.logger.info({ source: this.#o.source, namespace: this.#o.namespace, resourceVersion: from }, 'kubernetes events watch expired (410 Gone); listing again');
        this.#resourceVersion = undefined;
        this.#gone++;
        // A server that answers 410 to the resourceVersion it just listed at is broken: back off.
        await this.#sleep(this.#gone > 1 ? this.#backoff(this.#gone - 1) : 0);
        continue;
      }
      if (outcome.received > 0) {
        this.#failures = 0;
        this.#gone = 0;
      } else {
        this.#failures++;
      }
      if (outcome.kind === 'error') {
        if (outcome.fromServer) this.#fail(outcome.error);
        this.#o.logger.debug({ source: this.#o.source, namespace: this.#o.namespace, resourceVersion: this.#resourceVersion, err: outcome.error.message }, 'kubernetes events watch ended; resuming');
      }
      await this.#sleep(this.#backoff(this.#failures));
    }
  }

  /** Lists warning events into the buffer and keeps the list's resourceVersion. */
  async #list(): Promise<boolean> {
    const abort = new AbortController();
    this.#listAbort = abort;
    const timer = setTimeout(() => abort.abort(), this.#o.listTimeoutMs);
    try {
      const listed = await listKind(
        { clients: this.#o.clients, signal: abort.signal, options: withSignal(abort.signal), timeoutMs: this.#o.listTimeoutMs },
        WARNING_EVENTS, this.#o.namespace,
      );
      if (this.#stopped) return false;
      if (listed.resourceVersion === undefined) {
        throw new SourceError(SourceErrorCode.BadResponse, `expected a resourceVersion in the metadata of ${this.#what} at ${this.#o.clients.server}, found none (cannot watch from it)`);
      }
      this.#recover();
      for (const item of listed.items) this.#take(item);
      this.#resourceVersion = listed.resourceVersion;
      return true;
    } catch (err) {
      if (!this.#stopped) this.#fail(toSourceError(err, this.#what, this.#o.clients.server, abort.signal.aborted, this.#o.listTimeoutMs));
      return false;
    } finally {
      clearTimeout(timer);
      this.#listAbort = undefined;
    }
  }

  #watchOnce(from: string): Promise<WatchOutcome> {
    const watchWhat = describeRequest({ verb: 'watch', resource: 'events', namespace: this.#o.namespace });
    const server = this.#o.clients.server;
    return new Promise<WatchOutcome>((resolve) => {
      let received = 0;
      let settled = false;
      let outcome: WatchOutcome | undefined;
      let controller: AbortController | undefined;
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      const finish = (o: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        if (this.#watchAbort === controller) this.#watchAbort = undefined;
        resolve(o);
      };
      const arm = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          outcome ??= { kind: 'error', error: new SourceError(SourceErrorCode.Timeout, `expected data or a close on ${watchWhat} at ${server} within ${WATCHDOG_MS} ms, found silence`), received, fromServer: false };
          controller?.abort();
        }, WATCHDOG_MS);
        watchdog.unref?.();
      };
      // The client library swallows exceptions thrown here: never throw.
      const onEvent = (type: string, obj: unknown): void => {
        if (settled || this.#stopped || outcome !== undefined) return;
        try {
          received++;
          arm();
          if (type === 'ERROR') {
            const code = at(obj, 'code');
            outcome = code === 410
              ? { kind: 'gone' }
              : { kind: 'error', error: new SourceError(SourceErrorCode.BadResponse, `${watchWhat} at ${server} ended with an ERROR event: ${typeof code === 'number' ? code : '?'} ${statusMessage(obj) ?? ''}`.trim()), received, fromServer: true };
            controller?.abort();
            return;
          }
          const rv = str(obj, 'metadata', 'resourceVersion');
          this.#o.logger.debug({ source: this.#o.source, type, resourceVersion: rv }, 'kubernetes watch event');
          if (type === 'ADDED' || type === 'MODIFIED') this.#take(obj);
          if (rv !== undefined && rv !== '') this.#resourceVersion = rv;
        } catch (err) {
          this.#o.logger.warn({ source: this.#o.source, err: String(err) }, 'skipped a kubernetes watch event that could not be read');
        }
      };
      const onDone = (err: unknown): void => {
        if (outcome !== undefined) return finish(outcome);
        if (err === null || err === undefined) return finish({ kind: 'closed', received });
        const status = httpStatus(err);
        if (status === 410) return finish({ kind: 'gone' });
        const error = toSourceError(err, watchWhat, server, false);
        finish({ kind: 'error', error, received, fromServer: status !== undefined });
      };
      arm();
      const query = { resourceVersion: from, allowWatchBookmarks: true, fieldSelector: WARNING_SELECTOR, timeoutSeconds: WATCH_TIMEOUT_SECONDS };
      this.#o.clients.watch.watch(this.#path, query, onEvent, onDone).then((c) => {
        controller = c;
        if (settled || this.#stopped) c.abort();
        else this.#watchAbort = c;
      }, onDone);
    });
  }

  #take(obj: unknown): void {
    const o = toOccurrence(obj, this.#o.now());
    if (o !== undefined) this.#o.buffer.push(o);
  }

  #notice(reason: string, message: string): void {
    const e: BlockEvent = {
      t: Math.max(0, Math.trunc(this.#o.now())), kind: EVENT_KIND, reason, message,
      labels: this.#o.namespace === undefined ? {} : { namespace: this.#o.namespace }, rangeMinT: 0, rangeMaxT: 0, count: 1,
    };
    this.#o.buffer.add(e);
  }

  #fail(err: SourceError): void {
    if (this.#failing === undefined) {
      this.#o.logger.warn({ source: this.#o.source, namespace: this.#o.namespace, code: err.code, err: err.message }, 'kubernetes warning events unavailable; retrying with backoff');
      this.#notice('EventsUnavailable', `warning events are not being received: ${err.message}`);
    }
    this.#failing = err;
  }

  #recover(): void {
    if (this.#failing === undefined) return;
    this.#failing = undefined;
    this.#o.logger.info({ source: this.#o.source, namespace: this.#o.namespace }, 'kubernetes warning events available again');
    this.#notice('EventsRecovered', 'warning events are received again; events the API server expired in between are missing');
  }

  #backoff(failures: number): number {
    if (failures <= 0) return 0;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
    return Math.round(base * (0.5 + 0.5 * this.#o.random()));
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(() => {
        this.#sleepTimer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#sleepTimer.unref?.();
    });
  }
}

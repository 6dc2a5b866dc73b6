// One source's collection in a round: its own deadline and AbortSignal, its failure turned into
// a code. A source that does not settle by its deadline is aborted and recorded as failed at
// once; the round never waits for it.
import type { Clock } from '../../common/clock.js';
import { DriftwatchError, errorMessage } from '../../common/errors.js';
import { formatDuration } from '../../common/units.js';
import { SourceError, SourceErrorCode } from '../sources/errors.js';
import type { Source, SourceResult } from '../sources/source.js';
import type { Timers } from './timers.js';

/** A source with its schedule, as the sampler runs it. */
export interface ScheduledSource {
  readonly source: Source;
  /** Milliseconds between collections: a multiple of the agent's interval. */
  readonly interval: number;
  /** Milliseconds a collection may take before it is aborted. */
  readonly timeout: number;
}

/** How one due source's collection ended. */
export type CollectOutcome =
  | { readonly status: 'ok'; readonly result: SourceResult; readonly startedAt: number; readonly endedAt: number }
  | { readonly status: 'failed'; readonly code: string; readonly message: string; readonly startedAt: number; readonly endedAt: number };

/** Tracks the collections still running, so that a source is never called twice at once. */
export type InFlight = Map<Source, { readonly startedAt: number }>;

function failureCode(err: unknown): string {
  if (err instanceof DriftwatchError && err.code.startsWith('DW_SOURCE_')) return err.code;
  return SourceErrorCode.Failed;
}

function isSourceResult(v: unknown): v is SourceResult {
  return typeof v === 'object' && v !== null && Array.isArray((v as SourceResult).samples) && Array.isArray((v as SourceResult).events);
}

/**
 * Collects `s` for the round at `roundTime` with a deadline of `timeout` ms from now. Never
 * rejects: a rejection, a thrown error, a result of the wrong shape, the deadline, `stop`
 * aborting, or a previous collection of the same source still running all resolve to
 * `failed` with a DW_SOURCE_* code.
 */
export function collectOne(
  s: ScheduledSource, roundTime: number, deps: { clock: Clock; timers: Timers; inFlight: InFlight }, stop?: AbortSignal,
): Promise<CollectOutcome> {
  const { clock, timers, inFlight } = deps;
  const startedAt = clock.now();
  const failed = (code: string, message: string): CollectOutcome => ({ status: 'failed', code, message, startedAt, endedAt: clock.now() });

  const running = inFlight.get(s.source);
  if (running !== undefined) {
    return Promise.resolve(failed(SourceErrorCode.Timeout,
      `expected the previous collection (started ${new Date(running.startedAt).toISOString()}) to have settled, found it still running; skipped this round`));
  }
  if (stop?.aborted) return Promise.resolve(failed(SourceErrorCode.Failed, 'expected to collect, found the agent stopping'));

  const deadline = startedAt + s.timeout;
  const controller = new AbortController();
  return new Promise<CollectOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: CollectOutcome): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      stop?.removeEventListener('abort', onStop);
      resolve(outcome);
    };
    const cancelTimer = timers.at(deadline, () => {
      const reason = new SourceError(SourceErrorCode.Timeout,
        `expected an answer within ${formatDuration(s.timeout)}, found none by the deadline`);
      controller.abort(reason);
      finish(failed(reason.code, reason.message));
    });
    const onStop = (): void => {
      controller.abort(stop!.reason);
      finish(failed(SourceErrorCode.Failed, 'expected to finish the collection, found the agent stopping'));
    };
    stop?.addEventListener('abort', onStop, { once: true });

    inFlight.set(s.source, { startedAt });
    let call: Promise<SourceResult>;
    try {
      call = Promise.resolve(s.source.collect({ signal: controller.signal, roundTime, deadline, now: () => clock.now() }));
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (result) => {
        inFlight.delete(s.source);
        if (!isSourceResult(result)) {
          finish(failed(SourceErrorCode.Failed, 'expected a result with samples and events arrays, found something else (a bug in the source)'));
        } else {
          finish({ status: 'ok', result, startedAt, endedAt: clock.now() });
        }
      },
      (err: unknown) => {
        inFlight.delete(s.source);
        finish(failed(failureCode(err), errorMessage(err)));
      },
    );
  });
}

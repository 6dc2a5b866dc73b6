// One round at time t: the sources due at t collect concurrently, each within its own deadline;
// the round is the union of what the successful ones returned, plus, for every due source,
// driftwatch_source_up and driftwatch_source_duration_seconds, plus a source_error event per
// failure. A source that was not due gets no up sample: "not sampled" ≠ "failed" ≠ "absent".
import type { Clock } from '../../common/clock.js';
import type { BlockEvent, Round, Sample } from '../../proto/index.js';
import type { SourceLogger } from '../sources/source.js';
import { collectOne, type CollectOutcome, type InFlight, type ScheduledSource } from './collect-one.js';
import { mergeParts, type PartReport, type RoundPart } from './merge.js';
import type { Timers } from './timers.js';

/** The sampler's own series, per due source: 1 when its collection succeeded, else 0. */
export const SOURCE_UP = 'driftwatch_source_up';
/** The sampler's own series, per due source: how long its collection took, by the clock. */
export const SOURCE_DURATION = 'driftwatch_source_duration_seconds';
/** The kind of the event recorded for a failed collection. */
export const SOURCE_ERROR_EVENT = 'source_error';

/** What happened to one source in a round. */
export type SourceReport =
  | { readonly name: string; readonly kind: string; readonly status: 'not_due' }
  | { readonly name: string; readonly kind: string; readonly status: 'ok'; readonly durationMs: number; readonly samples: number; readonly events: number; readonly dropped: number }
  | { readonly name: string; readonly kind: string; readonly status: 'failed'; readonly durationMs: number; readonly code: string; readonly message: string };

/** A sampled round, ready for the store, and what each source did. */
export interface SampledRound {
  /**
   * The round: samples in source order, each series once across sources; events of the sources,
   * then a source_error per failure. A source that repeats a series of its own within one
   * collection (a bug in the source) is not caught here, to keep the common path cheap: the
   * store refuses such a round (DW_STORE_INVALID_ROUND), and `withoutRepeats()` is the fix.
   */
  readonly round: Round & { readonly events: readonly BlockEvent[] };
  /** One report per source, in source order. */
  readonly sources: readonly SourceReport[];
  /** The round with every repeated series left out (the first kept), warning about each source that repeated one. */
  withoutRepeats(): Round & { readonly events: readonly BlockEvent[] };
}

export interface SamplerOptions {
  /** In priority order: when two sources emit the same series, the earlier one's value is kept. */
  readonly sources: readonly ScheduledSource[];
  readonly clock: Clock;
  /** Arms the deadlines. */
  readonly timers: Timers;
  readonly logger: SourceLogger;
}

export interface Sampler {
  /** True when `s` collects in the round at `t`: `t` is a multiple of its interval. */
  isDue(s: ScheduledSource, t: number): boolean;
  /**
   * Samples the round at `t`. Never rejects: every failure of a source becomes its up 0 and a
   * source_error event. Resolves once every due source succeeded, failed or reached its
   * deadline. `stop` aborting fails the collections still running (the agent does not abort a
   * round in flight on SIGTERM; it is for a hard stop).
   */
  sample(t: number, stop?: AbortSignal): Promise<SampledRound>;
}

/** Creates a sampler over `options.sources`. */
export function createSampler(options: SamplerOptions): Sampler {
  const { sources, clock, timers, logger } = options;
  const inFlight: InFlight = new Map();
  const isDue = (s: ScheduledSource, t: number): boolean => t % s.interval === 0;

  return {
    isDue,
    async sample(t, stop) {
      const due = sources.map((s) => isDue(s, t));
      const outcomes = await Promise.all(sources.map((s, i) => (due[i] ? collectOne(s, t, { clock, timers, inFlight }, stop) : undefined)));
      return assemble(t, sources, outcomes, logger);
    },
  };
}

function warnDropped(logger: SourceLogger, source: string, r: PartReport): void {
  if (r.duplicates > 0) {
    logger.warn({ source, series: r.firstDuplicate!.series, keptFrom: r.firstDuplicate!.keptFrom, count: r.duplicates },
      'duplicate series left out of the round, keeping the first source\'s value');
  }
  if (r.invalidSamples + r.invalidEvents > 0) {
    logger.warn({ source, samples: r.invalidSamples, events: r.invalidEvents, problem: r.firstInvalid }, 'invalid samples or events left out of the round');
  }
}

function assemble(t: number, sources: readonly ScheduledSource[], outcomes: readonly (CollectOutcome | undefined)[], logger: SourceLogger): SampledRound {
  const own: Sample[] = [];
  const reports: (SourceReport | undefined)[] = [];
  const errorEvents: BlockEvent[] = [];
  // The sampler's own series first: a source cannot shadow its up or duration series.
  const parts: RoundPart[] = [{ source: 'driftwatch', samples: own, events: [] }];
  const partOf: number[] = [];
  sources.forEach((s, i) => {
    const name = s.source.name;
    const kind = s.source.kind;
    const outcome = outcomes[i];
    if (outcome === undefined) {
      reports.push({ name, kind, status: 'not_due' });
      return;
    }
    const labels = { source: name, kind };
    const durationMs = Math.max(0, outcome.endedAt - outcome.startedAt);
    own.push({ name: SOURCE_UP, labels, type: 'float', value: outcome.status === 'ok' ? 1 : 0 });
    own.push({ name: SOURCE_DURATION, labels, type: 'float', value: durationMs / 1000 });
    if (outcome.status === 'failed') {
      reports.push({ name, kind, status: 'failed', durationMs, code: outcome.code, message: outcome.message });
      errorEvents.push({
        t, kind: SOURCE_ERROR_EVENT, reason: outcome.code, message: outcome.message,
        labels: { source: name, source_kind: kind }, rangeMinT: 0, rangeMaxT: 0, count: 0,
      });
      return;
    }
    reports.push(undefined); // filled in once merged
    partOf[i] = parts.length;
    parts.push({ source: name, samples: outcome.result.samples, events: outcome.result.events });
  });
  const merged = mergeParts(parts, 'across');
  const finalReports = reports.map((r, i): SourceReport => {
    if (r !== undefined) return r;
    const s = sources[i]!;
    const part = merged.reports[partOf[i]!]!;
    warnDropped(logger, s.source.name, part);
    const outcome = outcomes[i]!;
    return {
      name: s.source.name, kind: s.source.kind, status: 'ok', durationMs: Math.max(0, outcome.endedAt - outcome.startedAt),
      samples: part.kept, events: parts[partOf[i]!]!.events.length - part.invalidEvents, dropped: part.duplicates + part.invalidSamples + part.invalidEvents,
    };
  });
  let strict: SampledRound['round'] | undefined;
  return {
    round: { t, samples: merged.samples, events: [...merged.events, ...errorEvents] },
    sources: finalReports,
    withoutRepeats() {
      if (strict === undefined) {
        const all = mergeParts(parts, 'all');
        all.reports.forEach((r, i) => {
          if (i > 0 && r.duplicates > merged.reports[i]!.duplicates) warnDropped(logger, parts[i]!.source, { ...r, invalidSamples: 0, invalidEvents: 0 });
        });
        strict = { t, samples: all.samples, events: [...all.events, ...errorEvents] };
      }
      return strict;
    },
  };
}

// The round's samples as the union of the sources' samples: each series once (the first by
// source order wins), invalid samples and events left out, so that the store's append does not
// refuse a round because one source misbehaved.
import type { BlockEvent, Labels, Sample } from '../../proto/index.js';
import { isValidLabelName, isValidMetricName, seriesKey } from '../../proto/index.js';

/** One contributor to a round: a source's result, or the sampler's own series. */
export interface RoundPart {
  readonly source: string;
  readonly samples: readonly Sample[];
  readonly events: readonly BlockEvent[];
}

/** What was left out of one part, and why. */
export interface PartReport {
  readonly kept: number;
  readonly duplicates: number;
  readonly invalidSamples: number;
  readonly invalidEvents: number;
  /** The first duplicate series seen, and which part kept it. */
  readonly firstDuplicate?: { readonly series: string; readonly keptFrom: string };
  /** The first problem with an invalid sample or event. */
  readonly firstInvalid?: string;
}

export interface Merged {
  readonly samples: Sample[];
  readonly events: BlockEvent[];
  /** One per part, in part order. */
  readonly reports: PartReport[];
}

/**
 * The union of the parts' samples and events, in part order; invalid samples and events left
 * out. A series emitted by two parts is kept from the first. How duplicates are found:
 * - `'across'`: only between parts, and only for metric names more than one part emits — no
 *   series key is computed for the rest, which is nearly every sample. A part that repeats a
 *   series of its own is not caught (the store refuses such a round: merge again with 'all');
 * - `'all'`: every sample by its series key.
 */
export function mergeParts(parts: readonly RoundPart[], mode: 'across' | 'all'): Merged {
  // Which metric names more than one part emits.
  let shared: Set<string> | undefined;
  if (mode === 'across' && parts.length > 1) {
    const firstPart = new Map<string, number>();
    parts.forEach((p, i) => {
      for (const s of p.samples) {
        if (typeof s?.name !== 'string') continue;
        const first = firstPart.get(s.name);
        if (first === undefined) firstPart.set(s.name, i);
        else if (first !== i) (shared ??= new Set()).add(s.name);
      }
    });
  }
  const owner = new Map<string, string>();
  const samples: Sample[] = [];
  const events: BlockEvent[] = [];
  const reports = parts.map((part): PartReport => {
    let duplicates = 0;
    let invalidSamples = 0;
    let invalidEvents = 0;
    let firstDuplicate: PartReport['firstDuplicate'];
    let firstInvalid: string | undefined;
    for (const s of part.samples) {
      const problem = sampleProblem(s);
      if (problem !== undefined) {
        invalidSamples++;
        firstInvalid ??= problem;
        continue;
      }
      if (mode === 'all' || shared?.has(s.name) === true) {
        const key = seriesKey(s.name, s.labels);
        const kept = owner.get(key);
        if (kept !== undefined) {
          duplicates++;
          firstDuplicate ??= { series: key, keptFrom: kept };
          continue;
        }
        owner.set(key, part.source);
      }
      samples.push(s);
    }
    for (const e of part.events) {
      const problem = eventProblem(e);
      if (problem !== undefined) {
        invalidEvents++;
        firstInvalid ??= problem;
        continue;
      }
      events.push(e);
    }
    return {
      kept: part.samples.length - duplicates - invalidSamples, duplicates, invalidSamples, invalidEvents,
      ...(firstDuplicate && { firstDuplicate }), ...(firstInvalid !== undefined && { firstInvalid }),
    };
  });
  return { samples, events, reports };
}

// Names seen valid in this process: names repeat every round, the regexes need not.
const validMetricNames = new Set<string>();
const validLabelNames = new Set<string>();

function validMetricName(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  if (validMetricNames.has(name)) return true;
  if (!isValidMetricName(name)) return false;
  if (validMetricNames.size < 100_000) validMetricNames.add(name);
  return true;
}

function validLabelName(name: string): boolean {
  if (validLabelNames.has(name)) return true;
  if (!isValidLabelName(name)) return false;
  if (validLabelNames.size < 10_000) validLabelNames.add(name);
  return true;
}

function labelsProblem(labels: unknown, validName: (n: string) => boolean): string | undefined {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return 'expected labels as an object';
  for (const name in labels as Labels) {
    if (!validName(name)) return `expected a valid label name, found ${JSON.stringify(name)}`;
    if (typeof (labels as Labels)[name] !== 'string') return `expected label ${name} to be a string`;
  }
  return undefined;
}

/** Why `s` cannot be stored, or undefined when it can. */
export function sampleProblem(s: Sample): string | undefined {
  if (typeof s !== 'object' || s === null) return 'expected a sample object';
  if (!validMetricName(s.name)) return `expected a valid metric name, found ${JSON.stringify(s.name)}`;
  const labels = labelsProblem(s.labels, validLabelName);
  if (labels !== undefined) return `${s.name}: ${labels}`;
  if (s.type === 'float') {
    if (typeof s.value !== 'number') return `${s.name}: expected a number for a float series, found ${typeof s.value}`;
  } else if (s.type === 'string') {
    if (typeof s.value !== 'string') return `${s.name}: expected a string for a string series, found ${typeof s.value}`;
  } else {
    return `${s.name}: expected type "float" or "string", found ${JSON.stringify(s.type)}`;
  }
  return undefined;
}

function isTime(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Why `e` cannot be stored, or undefined when it can. */
export function eventProblem(e: BlockEvent): string | undefined {
  if (typeof e !== 'object' || e === null) return 'expected an event object';
  if (!isTime(e.t)) return `event: expected t as a non-negative integer of milliseconds, found ${String(e.t)}`;
  if (typeof e.kind !== 'string' || e.kind === '') return 'event: expected a non-empty kind';
  if (typeof e.reason !== 'string' || typeof e.message !== 'string') return `event ${e.kind}: expected reason and message strings`;
  const labels = labelsProblem(e.labels, (n) => n !== '');
  if (labels !== undefined) return `event ${e.kind}: ${labels}`;
  if (!isTime(e.rangeMinT) || !isTime(e.rangeMaxT) || !isTime(e.count) || e.rangeMinT > e.rangeMaxT) {
    return `event ${e.kind}: expected rangeMinT <= rangeMaxT and count as non-negative integers`;
  }
  return undefined;
}

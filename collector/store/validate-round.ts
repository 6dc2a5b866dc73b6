// Validation of what `appendRound` and `appendEvents` are given, so that whatever is accepted
// always seals: the codec's own name rules, values of their series' type, well-formed events.
import type { BlockEvent, Round, Sample } from '../../proto/index.js';
import { isValidLabelName, isValidMetricName } from '../../proto/index.js';
import { StoreError, StoreErrorCode } from './errors.js';

/** Problems listed in one DW_STORE_INVALID_ROUND message at most. */
export const MAX_PROBLEMS = 10;

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkLabels(labels: unknown, where: string, problems: string[], isValidName: (name: string) => boolean): void {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    problems.push(`${where}: expected an object of label names to values`);
    return;
  }
  for (const [name, value] of Object.entries(labels)) {
    if (!isValidName(name)) problems.push(`${where}: expected a valid label name, found ${JSON.stringify(name)}`);
    if (typeof value !== 'string') problems.push(`${where}.${name}: expected a string value, found ${typeof value}`);
  }
}

/**
 * The problems of `round` itself: not an object (thrown at once), `t` not a non-negative integer
 * of milliseconds, samples not an array. Samples and events are checked by the callers.
 */
export function roundProblems(round: Round): string[] {
  if (typeof round !== 'object' || round === null) {
    throw new StoreError(StoreErrorCode.InvalidRound, `expected a round object, found ${round === null ? 'null' : typeof round}`);
  }
  const problems: string[] = [];
  if (!isTime(round.t)) problems.push(`t: expected a non-negative integer of milliseconds, found ${String(round.t)}`);
  if (!Array.isArray(round.samples)) problems.push(`samples: expected an array, found ${typeof round.samples}`);
  return problems;
}

/**
 * The problems of a sample the store has not seen before (a known series only needs its value's
 * type checked): a valid metric name, labels with valid names and string values, a type and a
 * value of that type. Undefined when it can be stored.
 */
export function sampleProblem(s: Sample, at: string): string[] | undefined {
  if (typeof s !== 'object' || s === null) return [`${at}: expected a sample object`];
  const problems: string[] = [];
  if (typeof s.name !== 'string' || !isValidMetricName(s.name)) problems.push(`${at}.name: expected a valid metric name, found ${JSON.stringify(s.name)}`);
  checkLabels(s.labels, `${at}.labels`, problems, isValidLabelName);
  if (s.type === 'float') {
    if (typeof s.value !== 'number') problems.push(`${at}.value: expected a number for a float series, found ${typeof s.value}`);
  } else if (s.type === 'string') {
    if (typeof s.value !== 'string') problems.push(`${at}.value: expected a string for a string series, found ${typeof s.value}`);
  } else {
    problems.push(`${at}.type: expected "float" or "string", found ${JSON.stringify(s.type)}`);
  }
  return problems.length === 0 ? undefined : problems;
}

/**
 * Checks `events` (t, a non-empty kind, reason and message strings, labels, the range and count),
 * pushing problems as `<prefix>[i]…`; returns copies of them (labels copied too).
 */
export function checkEvents(events: unknown, prefix: string, problems: string[]): BlockEvent[] {
  if (events === undefined) return [];
  if (!Array.isArray(events)) {
    problems.push(`${prefix}: expected an array, found ${typeof events}`);
    return [];
  }
  const out: BlockEvent[] = [];
  (events as BlockEvent[]).forEach((e, i) => {
    if (problems.length >= MAX_PROBLEMS) return;
    const at = `${prefix}[${i}]`;
    if (typeof e !== 'object' || e === null) {
      problems.push(`${at}: expected an event object`);
      return;
    }
    if (!isTime(e.t)) problems.push(`${at}.t: expected a non-negative integer of milliseconds, found ${String(e.t)}`);
    if (typeof e.kind !== 'string' || e.kind === '') problems.push(`${at}.kind: expected a non-empty string`);
    if (typeof e.reason !== 'string') problems.push(`${at}.reason: expected a string`);
    if (typeof e.message !== 'string') problems.push(`${at}.message: expected a string`);
    // Event labels are free-form (Kubernetes object labels and the like): any non-empty name.
    checkLabels(e.labels, `${at}.labels`, problems, (name) => name !== '');
    for (const f of ['rangeMinT', 'rangeMaxT', 'count'] as const) {
      if (!isTime(e[f])) problems.push(`${at}.${f}: expected a non-negative integer, found ${String(e[f])}`);
    }
    if (isTime(e.rangeMinT) && isTime(e.rangeMaxT) && e.rangeMinT > e.rangeMaxT) {
      problems.push(`${at}: expected rangeMinT <= rangeMaxT, found ${e.rangeMinT} > ${e.rangeMaxT}`);
    }
    out.push({ ...e, labels: { ...e.labels } });
  });
  return out;
}

/** The events of `round`, checked and copied; problems pushed onto `problems`. */
export function eventProblems(round: Round, problems: string[]): BlockEvent[] {
  return checkEvents(round.events, 'events', problems);
}

/** The DW_STORE_INVALID_ROUND error for `problems` (the first MAX_PROBLEMS). */
export function invalidRound(round: Round, problems: readonly string[]): StoreError {
  return new StoreError(StoreErrorCode.InvalidRound, `round at t=${String(round.t)}: ${problems.slice(0, MAX_PROBLEMS).join('; ')}`, 'appendRound');
}

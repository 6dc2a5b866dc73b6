import type { Round } from '../../proto/index.js';
import { seriesKey } from '../../proto/index.js';
// The codec's own name rules, so that a round accepted here always seals.
import { isValidLabelName, isValidMetricName } from '../../proto/index.js';
import { StoreError, StoreErrorCode } from './errors.js';

const MAX_PROBLEMS = 10;

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
 * Checks that `round` can be stored and sealed: t a non-negative integer of milliseconds;
 * samples with valid names and labels, a value of their type, no series twice; well-formed
 * events. Throws StoreError DW_STORE_INVALID_ROUND listing the first problems found. Returns
 * each sample's series key, in sample order, so that the append path computes them once.
 */
export function validateRound(round: Round): string[] {
  const problems: string[] = [];
  const keys: string[] = [];
  if (typeof round !== 'object' || round === null) {
    throw new StoreError(StoreErrorCode.InvalidRound, `expected a round object, found ${round === null ? 'null' : typeof round}`);
  }
  if (!isTime(round.t)) problems.push(`t: expected a non-negative integer of milliseconds, found ${String(round.t)}`);
  if (!Array.isArray(round.samples)) {
    problems.push(`samples: expected an array, found ${typeof round.samples}`);
  } else {
    const seen = new Set<string>();
    keys.length = round.samples.length;
    round.samples.forEach((s, i) => {
      if (problems.length >= MAX_PROBLEMS) return;
      const at = `samples[${i}]`;
      if (typeof s !== 'object' || s === null) {
        problems.push(`${at}: expected a sample object`);
        return;
      }
      if (typeof s.name !== 'string' || !isValidMetricName(s.name)) problems.push(`${at}.name: expected a valid metric name, found ${JSON.stringify(s.name)}`);
      checkLabels(s.labels, `${at}.labels`, problems, isValidLabelName);
      if (s.type === 'float') {
        if (typeof s.value !== 'number') problems.push(`${at}.value: expected a number for a float series, found ${typeof s.value}`);
      } else if (s.type === 'string') {
        if (typeof s.value !== 'string') problems.push(`${at}.value: expected a string for a string series, found ${typeof s.value}`);
      } else {
        problems.push(`${at}.type: expected "float" or "string", found ${JSON.stringify(s.type)}`);
      }
      if (typeof s.name === 'string' && typeof s.labels === 'object' && s.labels !== null) {
        const key = seriesKey(s.name, s.labels);
        if (seen.has(key)) problems.push(`${at}: expected each series once per round, found ${key} again`);
        seen.add(key);
        keys[i] = key;
      }
    });
  }
  if (round.events !== undefined) {
    if (!Array.isArray(round.events)) {
      problems.push(`events: expected an array, found ${typeof round.events}`);
    } else {
      round.events.forEach((e, i) => {
        if (problems.length >= MAX_PROBLEMS) return;
        const at = `events[${i}]`;
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
      });
    }
  }
  if (problems.length > 0) {
    throw new StoreError(StoreErrorCode.InvalidRound, `round at t=${String(round.t)}: ${problems.slice(0, MAX_PROBLEMS).join('; ')}`, 'appendRound');
  }
  return keys;
}

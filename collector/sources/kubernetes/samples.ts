// Small builders for the samples the kubernetes source emits, and defensive readers for the
// untyped JSON of custom resources.
import type { Labels, Sample } from '../../../proto/index.js';
import { compareStrings, seriesKey } from '../../../proto/index.js';

/** Longest label or string value kept; longer ones are cut (a message is not a state). */
const MAX_VALUE_LENGTH = 1024;

function clip(v: string): string {
  return v.length <= MAX_VALUE_LENGTH ? v : v.slice(0, MAX_VALUE_LENGTH);
}

/** Labels with empty or missing values left out and long values cut. */
export function labels(pairs: Record<string, string | undefined | null>): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pairs)) if (typeof v === 'string' && v !== '') out[k] = clip(v);
  return out;
}

/** Collects samples; a second value for the same series replaces the first. */
export class SampleSet {
  readonly #byKey = new Map<string, Sample>();

  /** A float sample; skipped when `value` is not a finite number. */
  float(name: string, lbls: Labels, value: number | undefined | null): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    this.#byKey.set(seriesKey(name, lbls), { name, labels: lbls, type: 'float', value });
  }

  /** A string sample; skipped when `value` is missing or empty. */
  string(name: string, lbls: Labels, value: string | undefined | null): void {
    if (typeof value !== 'string' || value === '') return;
    this.#byKey.set(seriesKey(name, lbls), { name, labels: lbls, type: 'string', value: clip(value) });
  }

  /** The samples sorted by series key, so that a collection's output is deterministic. */
  toArray(): Sample[] {
    return [...this.#byKey.entries()].sort((a, b) => compareStrings(a[0], b[0])).map((e) => e[1]);
  }
}

/** A condition as both Kubernetes and the generic condition of wrangler-based CRDs write it. */
export interface ConditionLike {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
}

/**
 * `<prefix>_status_condition{...,condition}` = status ("True", "False", "Unknown") and
 * `<prefix>_status_condition_reason{...,condition}` = reason, for every condition with a type.
 */
export function conditionSamples(set: SampleSet, prefix: string, base: Labels, conditions: readonly ConditionLike[] | undefined): void {
  for (const c of conditions ?? []) {
    if (typeof c?.type !== 'string' || c.type === '') continue;
    const l = { ...base, condition: c.type };
    set.string(`${prefix}_status_condition`, l, c.status);
    set.string(`${prefix}_status_condition_reason`, l, c.reason);
  }
}

/** `obj[path...]` when every step is an object, else undefined (for untyped JSON). */
export function at(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** A string at `path`, else undefined. */
export function str(obj: unknown, ...path: string[]): string | undefined {
  const v = at(obj, ...path);
  return typeof v === 'string' ? v : undefined;
}

/** An array at `path`, else an empty array. */
export function arr(obj: unknown, ...path: string[]): unknown[] {
  const v = at(obj, ...path);
  return Array.isArray(v) ? v : [];
}

/** 1 for true, 0 for false or missing (Go's omitempty drops false booleans). */
export function flag(obj: unknown, ...path: string[]): number {
  return at(obj, ...path) === true ? 1 : 0;
}

/** Conditions at `path` in untyped JSON, keeping only well-formed entries. */
export function conditionsAt(obj: unknown, ...path: string[]): ConditionLike[] {
  return arr(obj, ...path).map((c) => ({ type: str(c, 'type'), status: str(c, 'status'), reason: str(c, 'reason') }));
}

import type { Labels } from './types.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for a valid Prometheus metric name. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** True for a valid Prometheus label name. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Label names in canonical order (JavaScript string order, i.e. UTF-16 code units). */
export function sortedLabelNames(labels: Labels): string[] {
  return Object.keys(labels).sort(compareStrings);
}

/**
 * The canonical text key of a series, in Prometheus exposition form: `name{a="1",b="2"}` with
 * labels sorted by name and values escaped. Two series are the same exactly when their keys are.
 */
export function seriesKey(name: string, labels: Labels): string {
  const names = sortedLabelNames(labels);
  if (names.length === 0) return name;
  let out = name + '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (i > 0) out += ',';
    out += n + '="' + escapeValue(labels[n]!) + '"';
  }
  return out + '}';
}

/** A copy of `labels` with its keys in canonical order (so deep equality and JSON are stable). */
export function canonicalLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const n of sortedLabelNames(labels)) out[n] = labels[n]!;
  return out;
}

/** Plain string comparison by UTF-16 code units, for sorting. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

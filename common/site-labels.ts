// A site's labels (region, tier, customer, ...): what the agent reports in Hello, what the center
// keeps with each change, and what policy and report selectors match. One rule for every
// component: the agent's config, the shipper and ingest check labels the same way.
import { isValidLabelName } from '../proto/block/labels.js';

/** The most labels one site may carry. */
export const MAX_SITE_LABELS = 64;
/** The longest label name, in characters. */
export const MAX_SITE_LABEL_NAME_CHARS = 128;
/** The longest label value, in characters. */
export const MAX_SITE_LABEL_VALUE_CHARS = 1024;

/** A site's labels: names follow Prometheus label names (`region`, `tier`), values are any text. */
export type SiteLabelSet = Readonly<Record<string, string>>;

/**
 * The problems of a label set, each as `expected …, found …` (empty when it is valid): at most
 * MAX_SITE_LABELS labels; names are Prometheus label names (letters, digits, `_`, not starting
 * with a digit) of at most MAX_SITE_LABEL_NAME_CHARS; values are strings of at most
 * MAX_SITE_LABEL_VALUE_CHARS characters without control characters.
 */
export function siteLabelProblems(labels: unknown): string[] {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return [`expected site labels as a map of names to values, found ${labels === null ? 'null' : Array.isArray(labels) ? 'a list' : typeof labels}`];
  const problems: string[] = [];
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_SITE_LABELS) problems.push(`expected at most ${MAX_SITE_LABELS} site labels, found ${entries.length}`);
  for (const [name, value] of entries) {
    if (name.length > MAX_SITE_LABEL_NAME_CHARS || !isValidLabelName(name)) {
      problems.push(`expected a site label name of letters, digits and "_" (not starting with a digit, at most ${MAX_SITE_LABEL_NAME_CHARS} characters), found ${JSON.stringify(name.slice(0, MAX_SITE_LABEL_NAME_CHARS + 1))}`);
    } else if (typeof value !== 'string') {
      problems.push(`expected the value of site label ${name} to be a string, found ${typeof value}`);
    } else if (value.length > MAX_SITE_LABEL_VALUE_CHARS) {
      problems.push(`expected the value of site label ${name} to be at most ${MAX_SITE_LABEL_VALUE_CHARS} characters, found ${value.length}`);
    } else if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      problems.push(`expected the value of site label ${name} without control characters, found ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** The labels with their names sorted (a canonical form: equal sets serialise equally). */
export function sortedSiteLabels(labels: SiteLabelSet): SiteLabelSet {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

/** True when both sets hold the same names with the same values. */
export function sameSiteLabels(a: SiteLabelSet, b: SiteLabelSet): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k]);
}

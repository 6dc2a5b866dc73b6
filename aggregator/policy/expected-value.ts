// Checking a series' value against what an expectation wants. String expectations (exact, oneOf,
// semver, pattern) apply to string series, numeric ones (eq, range) to float series; a value of
// the other type never satisfies an expectation.
import semver from 'semver';
import { normalizeRepository, parseImageRef } from './image-ref.js';
import { fullMatch } from './regex.js';
import type { Expectation, ExpectedValue } from './types.js';

/** The outcome of a check: `reason` (when not ok) says what was found and why it does not do. */
export interface CheckResult {
  readonly ok: boolean;
  /** The expected value as a report shows it: `"Synced"`, `one of "Healthy", "Progressing"`, `semver >=2.4.1 <3`. */
  readonly expectedText: string;
  readonly reason?: string;
}

function num(n: number): string {
  return Number.isInteger(n) && Math.abs(n) >= 1e21 ? n.toExponential() : String(n);
}

/** The expected value as a report shows it. */
export function expectedText(e: ExpectedValue): string {
  switch (e.kind) {
    case 'exact': return JSON.stringify(e.value);
    case 'oneOf': return `one of ${e.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'semver': {
      const range = `semver ${e.range}${e.includePrerelease ? ' (prereleases included)' : ''}`;
      return e.image === undefined ? range : `${e.image} with a tag in ${range}`;
    }
    case 'pattern': return `matching /${e.regex}/`;
    case 'eq': return `== ${num(e.value)}`;
    case 'range':
      if (e.min !== undefined && e.max !== undefined) return `between ${num(e.min)} and ${num(e.max)}`;
      return e.min !== undefined ? `>= ${num(e.min)}` : `<= ${num(e.max!)}`;
  }
}

function describe(value: string | number): string {
  return typeof value === 'number' ? `the float ${num(value)}` : JSON.stringify(value);
}

/** A version as reports and k3s write it: a leading v/V and a `<runtime>://` prefix are dropped. */
function parseVersion(text: string): semver.SemVer | null {
  const bare = text.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^[vV](?=\d)/, '');
  return semver.parse(bare);
}

/**
 * The version a semver expectation compares, from a string value: the value itself when it is a
 * version (`1.29.3`, `v1.29.3+k3s1`, `containerd://1.7.11`), else the tag of an image reference
 * (`registry/app:2.4.1`). `image` restricts the repository. Returns the version or why there is none.
 */
export function versionOf(value: string, image?: string): { version: semver.SemVer } | { problem: string } {
  const ref = parseImageRef(value);
  if (image !== undefined) {
    if (ref === undefined) return { problem: `found ${JSON.stringify(value)}, not an image reference` };
    if (normalizeRepository(ref.repository) !== normalizeRepository(image)) {
      return { problem: `found the image ${ref.repository}, not ${image}` };
    }
  } else {
    const direct = parseVersion(value);
    if (direct !== null) return { version: direct };
    // A bare word (`latest`) is a valid image name too, but nobody means one by it.
    if (ref === undefined || !/[/:@]/.test(value)) return { problem: `found ${JSON.stringify(value)}, neither a semver version nor an image reference with a tag` };
  }
  if (ref.tag === undefined) return { problem: `found the image reference ${JSON.stringify(value)} without a tag` };
  const version = parseVersion(ref.tag);
  if (version === null) return { problem: `found ${JSON.stringify(value)} whose tag ${JSON.stringify(ref.tag)} is not a semver version` };
  return { version };
}

/**
 * Checks `value` (a string series' value or a float series' value) against an expectation or an
 * expected value. Never throws for a validated expectation.
 */
export function check(expectation: Expectation | ExpectedValue, value: string | number): CheckResult {
  const e = 'expected' in expectation ? expectation.expected : expectation;
  const text = expectedText(e);
  const fail = (reason: string): CheckResult => ({ ok: false, expectedText: text, reason });
  const pass: CheckResult = { ok: true, expectedText: text };
  const numeric = e.kind === 'eq' || e.kind === 'range';
  if (numeric && typeof value !== 'number') return fail(`found the string ${JSON.stringify(value)}, expected a float series`);
  if (!numeric && typeof value !== 'string') return fail(`found ${describe(value)}, expected a string series`);
  switch (e.kind) {
    case 'exact':
      return value === e.value ? pass : fail(`found ${describe(value)}`);
    case 'oneOf':
      return e.values.includes(value as string) ? pass : fail(`found ${describe(value)}`);
    case 'pattern':
      return fullMatch(e.regex, value as string) ? pass : fail(`found ${describe(value)}, which does not match the whole pattern`);
    case 'semver': {
      const v = versionOf(value as string, e.image);
      if ('problem' in v) return fail(v.problem);
      return semver.satisfies(v.version, e.range, { includePrerelease: e.includePrerelease })
        ? pass
        : fail(`found ${describe(value)}: version ${v.version.raw} is outside ${e.range}`);
    }
    case 'eq':
      return value === e.value ? pass : fail(`found ${describe(value)}`);
    case 'range': {
      const v = value as number;
      if (Number.isNaN(v)) return fail('found NaN');
      if (e.min !== undefined && v < e.min) return fail(`found ${describe(v)}, below ${num(e.min)}`);
      if (e.max !== undefined && v > e.max) return fail(`found ${describe(v)}, above ${num(e.max)}`);
      return pass;
    }
  }
}

/** A stable key of an expected value: equal keys mean the same requirement (oneOf ignores order). */
export function expectedKey(e: ExpectedValue): string {
  switch (e.kind) {
    case 'oneOf': return JSON.stringify(['oneOf', [...new Set(e.values)].sort()]);
    case 'semver': return JSON.stringify(['semver', e.range, e.image ?? null, e.includePrerelease]);
    case 'exact': return JSON.stringify(['exact', e.value]);
    case 'pattern': return JSON.stringify(['pattern', e.regex]);
    case 'eq': return JSON.stringify(['eq', e.value]);
    case 'range': return JSON.stringify(['range', e.min ?? null, e.max ?? null]);
  }
}

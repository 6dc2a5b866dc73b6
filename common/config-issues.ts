// Config problems as `path: what was expected, found …` lines, for every component's config.
// zod's own wording ("Invalid input") is replaced through a per-parse error map; messages the
// schemas set themselves stay. (The same as collector/agent/config-issues.ts, which predates
// this shared copy and can re-export it.)
import type { z } from 'zod';

/** Describes a config value as a user wrote it: `"abc"`, `12`, `true`, `a list`, `nothing`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v instanceof Date) return `a date (${v.toISOString()})`;
  return 'a mapping';
}

const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', object: 'a mapping',
  array: 'a list', record: 'a mapping', literal: 'a literal', null: 'null', bigint: 'an integer', date: 'a date',
};

function expectedType(t: string): string {
  return EXPECTED[t] ?? t;
}

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

type RawIssue = z.core.$ZodRawIssue;

function unionExpected(iss: Extract<RawIssue, { code: 'invalid_union' }>): string {
  const kinds = new Set<string>();
  for (const branch of iss.errors) for (const e of branch) if (e.code === 'invalid_type') kinds.add(expectedType(e.expected));
  return kinds.size > 0 ? [...kinds].join(' or ') : 'one of the allowed forms';
}

/**
 * The per-parse error map: every issue zod raises on its own, worded "expected …, found …".
 * Returns undefined (zod's default) for an issue it does not know.
 */
export function configErrorMap(iss: RawIssue): string | undefined {
  const found = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${expectedType(iss.expected)}, found ${found}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      return shape === undefined ? 'expected no other keys' : `expected one of the keys ${Object.keys(shape).join(', ')}`;
    }
    case 'invalid_union': {
      const u = iss as { discriminator?: string; options?: unknown[] };
      if (u.discriminator !== undefined && Array.isArray(u.options)) {
        const value = typeof iss.input === 'object' && iss.input !== null ? (iss.input as Record<string, unknown>)[u.discriminator] : undefined;
        return `expected one of ${quoteAll(u.options)}, found ${describeValue(value)}`;
      }
      return `expected ${unionExpected(iss)}, found ${found}`;
    }
    case 'invalid_value':
      return iss.values.length === 1 ? `expected ${JSON.stringify(iss.values[0])}, found ${found}` : `expected one of ${quoteAll(iss.values)}, found ${found}`;
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'string') return min <= 1 ? `expected a non-empty string, found ${found}` : `expected at least ${min} characters, found ${found}`;
      if (iss.origin === 'array' || iss.origin === 'set') return `expected at least ${min} item${min === 1 ? '' : 's'}, found ${Array.isArray(iss.input) ? iss.input.length : found}`;
      return `expected ${iss.inclusive === false ? 'more than' : 'at least'} ${min}, found ${found}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'string') return `expected at most ${max} characters, found ${typeof iss.input === 'string' ? iss.input.length : found}`;
      if (iss.origin === 'array' || iss.origin === 'set') return `expected at most ${max} items, found ${Array.isArray(iss.input) ? iss.input.length : found}`;
      return `expected ${iss.inclusive === false ? 'less than' : 'at most'} ${max}, found ${found}`;
    }
    case 'invalid_format':
      return `expected ${iss.format === 'regex' ? 'the allowed form' : iss.format}, found ${found}`;
    case 'invalid_key': {
      const inner = (iss as { issues?: { message?: string }[] }).issues?.[0]?.message;
      return `${inner !== undefined && inner.startsWith('expected') ? inner : 'expected a valid key'}, found ${found}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(iss.divisor)}, found ${found}`;
    default:
      return undefined;
  }
}

/** The value at `path` in `root`, or undefined. */
export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/**
 * A schema's own message completed with what was found, when it does not say (a schema of a
 * source may write only the expected part: "expected an http:// or https:// URL").
 */
export function withFound(message: string, root: unknown, path: readonly (string | number)[]): string {
  if (/\bfound\b/.test(message)) return message;
  return `${message}, found ${describeValue(valueAt(root, path))}`;
}

/** One config problem: where, and what was expected and found. */
export interface ConfigProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The issues of a failed parse as problems, one per unknown key. */
export function problemsOf(error: z.ZodError): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const i of error.issues) {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) out.push({ path: [...path, key], message: `${i.message}, found unknown key ${JSON.stringify(key)}` });
    } else {
      out.push({ path, message: i.message });
    }
  }
  return out;
}

/** A path as the docs write it: `sources.2.interval`, `(top level)` for the root. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

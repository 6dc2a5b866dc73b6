// Regular expressions as PromQL has them: RE2 syntax (re2js, a pure-JS port of RE2 with
// linear-time matching, so no pattern can backtrack catastrophically), fully anchored like
// Prometheus's `^(?s:re)$` — `.` also matches a newline.
import { RE2JS } from 're2js';

/** Longer patterns are refused: a policy's regex is a short identifier filter, not a program. */
export const MAX_REGEX_LENGTH = 4096;

const cache = new Map<string, RE2JS>();
const CACHE_LIMIT = 10_000;

function compile(source: string): RE2JS {
  let re = cache.get(source);
  if (re === undefined) {
    re = RE2JS.compile(`(?s:${source})`);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, re);
  }
  return re;
}

/**
 * Undefined when `source` is a valid RE2 pattern; else what is wrong with it, worded
 * "expected …, found …". Never throws.
 */
export function regexProblem(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) {
    return `expected a regular expression of at most ${MAX_REGEX_LENGTH} characters, found ${source.length}`;
  }
  try {
    RE2JS.compile(source); // unwrapped first, so a message quotes the pattern as written
    compile(source);
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return `expected an RE2 regular expression (the syntax PromQL uses; no backreferences or lookarounds), found ${JSON.stringify(source)}: ${why}`;
  }
}

/**
 * True when `source` matches the whole of `value` (PromQL's anchoring). Throws the RE2 syntax
 * error for an invalid pattern: validate with regexProblem first.
 */
export function fullMatch(source: string, value: string): boolean {
  return compile(source).testExact(value);
}

// Series matchers are PromQL series selectors — `kube_deployment_container_image{namespace="shop",
// deployment=~"pos|kiosk"}` — parsed here (a selector is a small grammar; a full PromQL parser
// would be more code to walk than this) and matched with PromQL's semantics: a label the series
// lacks has the empty value, regexes are RE2 and fully anchored.
import { isValidLabelName, isValidMetricName } from '../../proto/index.js';
import { PolicyErrorCode } from './errors.js';
import { fullMatch, regexProblem } from './regex.js';
import type { LabelMatcher, Labels, MatchOp, SeriesMatcher } from './types.js';

/** A problem in a series matcher's text; `offset` is 0-based in the text. */
export interface SeriesMatcherProblem {
  readonly code: typeof PolicyErrorCode.BadSeriesMatcher | typeof PolicyErrorCode.BadRegex;
  readonly offset: number;
  readonly message: string;
}

export type ParseSeriesResult =
  | { readonly ok: true; readonly matcher: SeriesMatcher }
  | { readonly ok: false; readonly problems: readonly SeriesMatcherProblem[] };

const MAX_MATCHER_LENGTH = 8192;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  rest(): string {
    const r = this.text.slice(this.pos);
    return r.length === 0 ? 'the end' : JSON.stringify(r.length > 20 ? `${r.slice(0, 20)}…` : r);
  }
  word(first: RegExp, next: RegExp): string {
    const start = this.pos;
    if (this.pos < this.text.length && first.test(this.text[this.pos]!)) {
      this.pos++;
      while (this.pos < this.text.length && next.test(this.text[this.pos]!)) this.pos++;
    }
    return this.text.slice(start, this.pos);
  }
}

class SyntaxProblem extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

function fail(s: Scanner, expected: string): never {
  throw new SyntaxProblem(s.pos, `expected ${expected} at character ${s.pos + 1}, found ${s.rest()}`);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
};

/** A PromQL (Go) string literal: "…" or '…' with escapes, or `…` raw. */
function readString(s: Scanner): string {
  const quote = s.peek();
  if (quote !== '"' && quote !== "'" && quote !== '`') fail(s, 'a quoted string ("…", \'…\' or `…`)');
  const start = s.pos;
  s.pos++;
  let out = '';
  while (true) {
    if (s.pos >= s.text.length) throw new SyntaxProblem(start, `expected the string starting at character ${start + 1} to end with ${quote}, found the end`);
    const c = s.text[s.pos]!;
    if (c === quote) {
      s.pos++;
      return out;
    }
    if (quote !== '`' && c === '\n') throw new SyntaxProblem(s.pos, `expected ${quote} before the end of the line, found a newline in the string at character ${s.pos + 1}`);
    if (c !== '\\' || quote === '`') {
      out += c;
      s.pos++;
      continue;
    }
    const e = s.text[s.pos + 1];
    const at = s.pos;
    if (e !== undefined && e in SIMPLE_ESCAPES && (e !== '"' || quote === '"') && (e !== "'" || quote === "'")) {
      out += SIMPLE_ESCAPES[e];
      s.pos += 2;
      continue;
    }
    const hex = (n: number): number => {
      const digits = s.text.slice(s.pos + 2, s.pos + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new SyntaxProblem(at, `expected ${n} hex digits after \\${e} at character ${at + 1}, found ${JSON.stringify(digits)}`);
      s.pos += 2 + n;
      return parseInt(digits, 16);
    };
    if (e === 'x') out += String.fromCharCode(hex(2));
    else if (e === 'u') out += String.fromCodePoint(hex(4));
    else if (e === 'U') {
      const cp = hex(8);
      if (cp > 0x10ffff) throw new SyntaxProblem(at, `expected a Unicode code point after \\U at character ${at + 1}, found ${cp.toString(16)}`);
      out += String.fromCodePoint(cp);
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const digits = s.text.slice(s.pos + 1, s.pos + 4);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) throw new SyntaxProblem(at, `expected three octal digits (at most \\377) at character ${at + 1}, found ${JSON.stringify(`\\${digits}`)}`);
      out += String.fromCharCode(parseInt(digits, 8));
      s.pos += 4;
    } else {
      throw new SyntaxProblem(at, `expected an escape such as \\n, \\\\ or \\${quote} at character ${at + 1}, found ${JSON.stringify(`\\${e ?? ''}`)}`);
    }
  }
}

function readOp(s: Scanner): MatchOp {
  const two = s.text.slice(s.pos, s.pos + 2);
  if (two === '=~' || two === '!~' || two === '!=') {
    s.pos += 2;
    return two;
  }
  if (s.peek() === '=') {
    s.pos++;
    return '=';
  }
  return fail(s, 'a matcher operator (=, !=, =~ or !~)');
}

function matchesEmpty(m: LabelMatcher): boolean {
  return matchOne(m, '');
}

/**
 * Parses a PromQL series selector: an optional metric name, then optional `{…}` label matchers
 * (`=`, `!=`, `=~`, `!~`; values in "…", '…' or `…`; a trailing comma allowed). Like PromQL, it
 * refuses a selector none of whose matchers excludes the empty value (`{x=~".*"}`) and a name
 * given twice. Never throws: every regex problem is reported, with the first syntax problem.
 */
export function parseSeriesMatcher(text: string): ParseSeriesResult {
  if (text.length > MAX_MATCHER_LENGTH) {
    return { ok: false, problems: [{ code: PolicyErrorCode.BadSeriesMatcher, offset: 0, message: `expected a series matcher of at most ${MAX_MATCHER_LENGTH} characters, found ${text.length}` }] };
  }
  const s = new Scanner(text);
  const matchers: { m: LabelMatcher; offset: number }[] = [];
  let name: string | undefined;
  try {
    s.skipSpace();
    const word = s.word(/[a-zA-Z_:]/, /[a-zA-Z0-9_:]/);
    if (word !== '') name = word;
    s.skipSpace();
    if (s.peek() === '{') {
      s.pos++;
      s.skipSpace();
      while (s.peek() !== '}') {
        const offset = s.pos;
        const label = s.word(/[a-zA-Z_]/, /[a-zA-Z0-9_]/);
        if (label === '') fail(s, name === undefined && matchers.length === 0 ? 'a label name (or a metric name before "{")' : 'a label name or "}"');
        s.skipSpace();
        const op = readOp(s);
        s.skipSpace();
        const value = readString(s);
        matchers.push({ m: { label, op, value }, offset });
        s.skipSpace();
        if (s.peek() === ',') {
          s.pos++;
          s.skipSpace();
        } else if (s.peek() !== '}') {
          fail(s, '"," or "}"');
        }
      }
      s.pos++;
      s.skipSpace();
    } else if (name === undefined) {
      fail(s, 'a metric name or "{"');
    }
    if (s.pos < s.text.length) fail(s, name !== undefined && matchers.length === 0 ? '"{" or the end (a series matcher is a selector only: no functions, ranges or offsets)' : 'the end (a series matcher is a selector only: no functions, ranges or offsets)');
  } catch (err) {
    if (err instanceof SyntaxProblem) return { ok: false, problems: [{ code: PolicyErrorCode.BadSeriesMatcher, offset: err.offset, message: err.message }] };
    throw err;
  }

  const problems: SeriesMatcherProblem[] = [];
  for (const { m, offset } of matchers) {
    if ((m.op === '=~' || m.op === '!~')) {
      const why = regexProblem(m.value);
      if (why !== undefined) problems.push({ code: PolicyErrorCode.BadRegex, offset, message: `${m.label}${m.op}: ${why}` });
    }
  }
  if (name !== undefined && !isValidMetricName(name)) {
    problems.push({ code: PolicyErrorCode.BadSeriesMatcher, offset: 0, message: `expected a metric name, found ${JSON.stringify(name)}` });
  }
  for (const { m, offset } of matchers) {
    if (!isValidLabelName(m.label)) problems.push({ code: PolicyErrorCode.BadSeriesMatcher, offset, message: `expected a label name, found ${JSON.stringify(m.label)}` });
    if (name !== undefined && m.label === '__name__') {
      problems.push({ code: PolicyErrorCode.BadSeriesMatcher, offset, message: `expected the metric name once, found it before "{" and as a __name__ matcher` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  if (name === undefined && !matchers.some(({ m }) => m.label === '__name__' && !matchesEmpty(m))) {
    return { ok: false, problems: [{ code: PolicyErrorCode.BadSeriesMatcher, offset: 0, message: `expected a metric name (before "{", or a __name__ matcher that does not match the empty name), found ${JSON.stringify(text.trim())}` }] };
  }
  return { ok: true, matcher: buildMatcher(name, matchers.map((x) => x.m)) };
}

/** A matcher from its parts, with its canonical text. A lone `__name__="x"` becomes the name `x`. */
export function buildMatcher(name: string | undefined, matchers: readonly LabelMatcher[]): SeriesMatcher {
  let list = [...matchers];
  if (name === undefined) {
    const eq = list.filter((m) => m.label === '__name__' && m.op === '=');
    if (eq.length === 1) {
      name = eq[0]!.value;
      list = list.filter((m) => m !== eq[0]);
    }
  }
  list.sort((a, b) => cmp(a.label, b.label) || cmp(a.op, b.op) || cmp(a.value, b.value));
  const frozen = Object.freeze(list.map((m) => Object.freeze({ label: m.label, op: m.op, value: m.value })));
  return Object.freeze({ text: formatSeriesMatcher(name, frozen), name, matchers: frozen });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical PromQL text: the name, then the matchers in the order given, values double-quoted. */
export function formatSeriesMatcher(name: string | undefined, matchers: readonly LabelMatcher[]): string {
  const body = matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`).join(',');
  if (name === undefined) return `{${body}}`;
  return matchers.length === 0 ? name : `${name}{${body}}`;
}

/** A Go-compatible double-quoted string: JSON's escapes are a subset of Go's. */
function quote(v: string): string {
  return JSON.stringify(v);
}

function matchOne(m: LabelMatcher, value: string): boolean {
  switch (m.op) {
    case '=': return value === m.value;
    case '!=': return value !== m.value;
    case '=~': return fullMatch(m.value, value);
    case '!~': return !fullMatch(m.value, value);
  }
}

/**
 * True when the series `name{labels}` is selected by `matcher`, with PromQL's semantics: a
 * missing label has the empty value (`x=""` selects series without `x`, `x!=""` those with it),
 * regexes match the whole value.
 */
export function matchesSeries(matcher: SeriesMatcher, name: string, labels: Labels): boolean {
  if (matcher.name !== undefined && matcher.name !== name) return false;
  for (const m of matcher.matchers) {
    const value = m.label === '__name__' ? name : labels[m.label] ?? '';
    if (!matchOne(m, value)) return false;
  }
  return true;
}

// Site selectors in Kubernetes' text syntax (`kubectl get -l`): `region=eu-west,tier!=lab`,
// `region in (eu-west,eu-north)`, `tier notin (lab)`, `pilot`, `!legacy`. Parsed into the policy
// module's LabelSelector, so a report's selector and a policy's selector mean the same thing.
import type { LabelSelector, SelectorRequirement } from '../policy/index.js';
import { FleetError, FleetErrorCode } from './errors.js';

const KEY = /[A-Za-z_][A-Za-z0-9_]*/y;
// A value runs to the next separator: what the text syntax cannot hold (`,`, `(`, `)`, `=`, `!`, space).
const VALUE = /[^\s,()=!]*/y;
const SPACE = /\s*/y;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.text);
    this.pos = SPACE.lastIndex;
  }

  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) return undefined;
    this.pos = re.lastIndex;
    return m[0];
  }

  eat(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  /** `in` / `notin` as a word (followed by space or `(`). */
  word(w: string): boolean {
    if (!this.text.startsWith(w, this.pos)) return false;
    const next = this.text[this.pos + w.length];
    if (next !== undefined && !/[\s(]/.test(next)) return false;
    this.pos += w.length;
    return true;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  fail(expected: string): never {
    const rest = this.text.slice(this.pos);
    throw new FleetError(FleetErrorCode.BadSelector,
      `expected ${expected} at character ${this.pos + 1} of the selector ${JSON.stringify(this.text)}, found ${rest === '' ? 'the end' : JSON.stringify(rest.length > 40 ? `${rest.slice(0, 40)}…` : rest)}`);
  }
}

function valueList(s: Scanner): string[] {
  s.skipSpace();
  if (!s.eat('(')) s.fail('"(" opening a list of values');
  const values: string[] = [];
  for (;;) {
    s.skipSpace();
    const v = s.match(VALUE) ?? '';
    if (v === '') s.fail('a value');
    values.push(v);
    s.skipSpace();
    if (s.eat(')')) break;
    if (!s.eat(',')) s.fail('"," or ")" in a list of values');
  }
  return [...new Set(values)].sort();
}

function requirement(s: Scanner): SelectorRequirement {
  s.skipSpace();
  if (s.eat('!')) {
    s.skipSpace();
    const key = s.match(KEY) ?? s.fail('a label name after "!" (letters, digits and "_", not starting with a digit)');
    return { key, operator: 'DoesNotExist', values: [] };
  }
  const key = s.match(KEY) ?? s.fail('a label name (letters, digits and "_", not starting with a digit) or "!name"');
  s.skipSpace();
  if (s.done || s.text[s.pos] === ',') return { key, operator: 'Exists', values: [] };
  if (s.eat('==') || s.eat('=')) {
    s.skipSpace();
    return { key, operator: 'In', values: [s.match(VALUE) ?? ''] };
  }
  if (s.eat('!=')) {
    s.skipSpace();
    return { key, operator: 'NotIn', values: [s.match(VALUE) ?? ''] };
  }
  if (s.word('notin')) return { key, operator: 'NotIn', values: valueList(s) };
  if (s.word('in')) return { key, operator: 'In', values: valueList(s) };
  return s.fail(`"=", "==", "!=", "in (…)", "notin (…)", "," or the end after the label name ${key}`);
}

/**
 * Parses a selector in Kubernetes' text syntax. Requirements are separated by `,` and all must
 * hold; the empty text (or only spaces) selects every site. `a!=b` and `a notin (…)` also
 * select sites without `a`, as in Kubernetes. Throws DW_FLEET_BAD_SELECTOR, naming the
 * character where the text stopped making sense.
 */
export function parseSiteSelector(text: string): LabelSelector {
  const s = new Scanner(text);
  const matchExpressions: SelectorRequirement[] = [];
  s.skipSpace();
  if (s.done) return { matchLabels: {}, matchExpressions };
  for (;;) {
    matchExpressions.push(requirement(s));
    s.skipSpace();
    if (s.done) break;
    if (!s.eat(',')) s.fail('"," between requirements or the end');
  }
  return { matchLabels: {}, matchExpressions };
}

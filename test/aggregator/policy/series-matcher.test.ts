// Series matchers: PromQL selector syntax (operators, string literals and escapes, trailing
// commas, __name__), canonical text, and PromQL's matching semantics (missing label = "", full
// anchoring of regexes), with a property test against a reference on a regex subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seedFromEnv } from '../../../common/random.js';
import { fullMatch, matchesSeries, parseSeriesMatcher, PolicyErrorCode, regexProblem, type SeriesMatcher } from '../../../aggregator/policy/index.js';

const SEED = seedFromEnv(20261123);

function parse(text: string): SeriesMatcher {
  const r = parseSeriesMatcher(text);
  if (!r.ok) assert.fail(`${text}: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.matcher;
}

function problem(text: string): { code: string; offset: number; message: string } {
  const r = parseSeriesMatcher(text);
  if (r.ok) return assert.fail(`${text} parsed`);
  return r.problems[0]!;
}

test('the four PromQL operators, in any order, with spaces and a trailing comma', () => {
  const m = parse(' kube_x { b != "2" , a="1", c=~"x.*", d!~\'y\', } ');
  assert.equal(m.name, 'kube_x');
  assert.deepEqual(m.matchers, [
    { label: 'a', op: '=', value: '1' }, { label: 'b', op: '!=', value: '2' },
    { label: 'c', op: '=~', value: 'x.*' }, { label: 'd', op: '!~', value: 'y' },
  ]);
  assert.equal(m.text, 'kube_x{a="1",b!="2",c=~"x.*",d!~"y"}');
  assert.equal(parse(m.text).text, m.text, 'the canonical text parses to itself');
  assert.equal(parse('up').text, 'up');
  assert.equal(parse('up{}').text, 'up');
  assert.equal(parse('node:cpu:rate5m').name, 'node:cpu:rate5m');
});

test('string literals: Go escapes in "…" and \'…\', raw `…`', () => {
  assert.equal(parse('x{a="q\\"\\\\\\n\\t\\x41\\u00e9\\U0001F600\\101"}').matchers[0]!.value, 'q"\\\n\tAé😀A');
  assert.equal(parse("x{a='it\\'s'}").matchers[0]!.value, "it's");
  assert.equal(parse('x{a=`raw\\d+`}').matchers[0]!.value, 'raw\\d+');
  assert.equal(parse('x{a="\\\\d+"}').text, 'x{a="\\\\d+"}');
  const bad = problem('x{a="\\q"}');
  assert.equal(bad.code, PolicyErrorCode.BadSeriesMatcher);
  assert.match(bad.message, /^expected an escape such as .* found "\\\\q"$/);
  assert.match(problem('x{a="open}').message, /^expected the string starting at character 5 to end with ", found the end$/);
  assert.match(problem("x{a='\\\"'}").message, /escape/, 'a \\" inside single quotes is not an escape Go knows');
});

test('__name__: a lone equality is the name; regexes on the name work; a name twice is refused', () => {
  assert.equal(parse('{__name__="up", job="x"}').text, 'up{job="x"}');
  const m = parse('{__name__=~"kube_.*_container_image", namespace="shop"}');
  assert.equal(m.name, undefined);
  assert.equal(matchesSeries(m, 'kube_deployment_container_image', { namespace: 'shop' }), true);
  assert.equal(matchesSeries(m, 'kube_deployment_spec_replicas', { namespace: 'shop' }), false);
  assert.match(problem('up{__name__="up"}').message, /metric name once/);
});

test('like PromQL, a selector needs a name or a matcher that excludes the empty value', () => {
  assert.match(problem('{job="x"}').message, /^expected a metric name/);
  assert.match(problem('{__name__=~".*"}').message, /^expected a metric name/);
  assert.match(problem('').message, /^expected a metric name or "\{" at character 1, found the end$/);
});

test('syntax problems say what was expected where', () => {
  const cases: [string, number, RegExp][] = [
    ['x{a}', 3, /^expected a matcher operator \(=, !=, =~ or !~\) at character 4, found "}"$/],
    ['x{a==""}', 4, /^expected a quoted string/],
    ['x{="b"}', 2, /^expected a label name or "}" at character 3/],
    ['x{a="b"', 7, /^expected "," or "}" at character 8, found the end$/],
    ['rate(x[5m])', 4, /^expected "\{" or the end .* found "\(x\[5m\]\)"$/],
    ['x{a="b"} offset 5m', 9, /^expected the end/],
    ['x{a="b",,}', 8, /^expected a label name or "}"/],
    ['x{a="b\nc"}', 6, /newline/],
  ];
  for (const [text, offset, message] of cases) {
    const p = problem(text);
    assert.equal(p.code, PolicyErrorCode.BadSeriesMatcher, text);
    assert.equal(p.offset, offset, text);
    assert.match(p.message, message, text);
  }
});

test('every invalid regex in a matcher is reported as DW_POLICY_BAD_REGEX', () => {
  const r = parseSeriesMatcher('x{a=~"(", b!~"[z-a]", c=~"ok"}');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.problems.map((p) => [p.code, p.offset]), [[PolicyErrorCode.BadRegex, 2], [PolicyErrorCode.BadRegex, 10]]);
});

test('matching: a missing label is the empty value, as in PromQL', () => {
  const series = { namespace: 'shop', deployment: 'pos' };
  assert.equal(matchesSeries(parse('x{container=""}'), 'x', series), true);
  assert.equal(matchesSeries(parse('x{container!=""}'), 'x', series), false);
  assert.equal(matchesSeries(parse('x{container=~"pos|"}'), 'x', series), true);
  assert.equal(matchesSeries(parse('x{container!~".+"}'), 'x', series), true);
  assert.equal(matchesSeries(parse('x{namespace!="shop"}'), 'x', series), false);
  assert.equal(matchesSeries(parse('x{namespace="shop"}'), 'y', series), false, 'the name must match');
});

test('regexes are RE2 and anchored at both ends, . matches a newline (PromQL ^(?s:re)$)', () => {
  const m = parse('x{v=~"1\\\\.29.*"}');
  assert.equal(matchesSeries(m, 'x', { v: '1.29.3' }), true);
  assert.equal(matchesSeries(m, 'x', { v: 'v1.29.3' }), false, 'not matched in the middle');
  assert.equal(matchesSeries(m, 'x', { v: '1x29' }), false);
  assert.equal(fullMatch('a|b', 'ab'), false, 'alternation is grouped inside the anchors');
  assert.equal(fullMatch('a|b', 'b'), true);
  assert.equal(fullMatch('a.b', 'a\nb'), true);
  assert.equal(fullMatch('(?i)POS', 'pos'), true);
  assert.equal(fullMatch('[[:digit:]]+', '123'), true);
});

test('patterns that backtrack catastrophically elsewhere run in linear time here', () => {
  const start = process.hrtime.bigint();
  assert.equal(fullMatch('(a+)+$', 'a'.repeat(100_000) + 'b'), false);
  assert.equal(fullMatch('(a|aa)*c', 'a'.repeat(100_000)), false);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 5000, `linear-time matching took ${ms} ms`);
  assert.match(regexProblem('a{1001}')!, /invalid repeat count/);
  assert.match(regexProblem('x'.repeat(5000))!, /^expected a regular expression of at most 4096 characters, found 5000$/);
});

// Reference semantics on a regex subset where JavaScript's RegExp and RE2 agree (literals, ".",
// "*", "|", groups): PromQL's definition written directly.
function reference(name: string, matchers: { label: string; op: string; value: string }[], series: string, labels: Record<string, string>): boolean {
  if (series !== name) return false;
  return matchers.every((m) => {
    const v = Object.prototype.hasOwnProperty.call(labels, m.label) ? labels[m.label]! : '';
    const re = new RegExp(`^(?:${m.value})$`, 's');
    switch (m.op) {
      case '=': return v === m.value;
      case '!=': return v !== m.value;
      case '=~': return re.test(v);
      default: return !re.test(v);
    }
  });
}

function promqlQuote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

test(`series matchers agree with the reference on random selectors and series (seed ${SEED}, replay with DW_SEED)`, () => {
  const label = fc.constantFrom('namespace', 'deployment', 'container', 'node');
  const value = fc.constantFrom('', 'shop', 'pos', 'pos-2', 'a"b', 'back\\slash', 'new\nline');
  const regex = fc.oneof(
    value.map((v) => v.replace(/[\\.*+?()[\]{}|^$]/g, '\\$&')),
    fc.constantFrom('.*', '.+', 'pos|shop', 'po.*', '(pos|shop)-?2?', 'x*', 'new.line'),
  );
  const matcher = fc.oneof(
    fc.record({ label, op: fc.constantFrom('=', '!='), value }),
    fc.record({ label, op: fc.constantFrom('=~', '!~'), value: regex }),
  );
  const name = fc.constantFrom('kube_a', 'kube_b');
  fc.assert(fc.property(name, fc.array(matcher, { maxLength: 4 }), name, fc.dictionary(label, value, { maxKeys: 4 }), (n, ms, seriesName, labels) => {
    const text = `${n}{${ms.map((m) => `${m.label}${m.op}${promqlQuote(m.value)}`).join(', ')}}`;
    const m = parse(text);
    assert.equal(matchesSeries(m, seriesName, labels), reference(n, ms, seriesName, labels), text);
    assert.equal(parse(m.text).text, m.text, 'canonical text is a fixed point');
    assert.equal(matchesSeries(parse(m.text), seriesName, labels), matchesSeries(m, seriesName, labels));
  }), { seed: SEED, numRuns: 2000 });
});

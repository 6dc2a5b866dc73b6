// Every validation problem: its DW_POLICY_* code, file, line:column and "expected …, found …";
// all problems of all files reported at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatProblem, isPolicyErrorCode, loadPolicySet, MAX_POLICY_FILE_BYTES, parsePolicyFile, parsePolicySet, PolicyError, PolicyErrorCode,
  type PolicyProblem,
} from '../../../aggregator/policy/index.js';
import { policyYaml } from './helpers.js';

function problems(text: string, path = 'p.yaml'): PolicyProblem[] {
  return parsePolicyFile({ path, text }).problems;
}

function only(text: string): PolicyProblem {
  const list = problems(text);
  assert.equal(list.length, 1, `expected one problem, found ${list.length}: ${list.map(formatProblem).join('; ')}`);
  return list[0]!;
}

function assertExpectedFound(p: PolicyProblem): void {
  assert.match(p.message, /expected .*found/, `"expected …, found …" in ${p.message}`);
}

test('a YAML syntax error has its line and column', () => {
  const p = only('apiVersion: driftwatch.io/v1\nkind: Policy\nmetadata: { name: x\n');
  assert.equal(p.code, PolicyErrorCode.YamlSyntax);
  assert.equal(p.line, 4);
  assertExpectedFound(p);
  const dup = only('apiVersion: driftwatch.io/v1\napiVersion: driftwatch.io/v1\n');
  assert.equal(dup.code, PolicyErrorCode.YamlSyntax, 'duplicate keys are syntax errors');
  assert.equal(dup.line, 2);
});

test('an alias bomb is refused, not expanded', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
  const p = only(lines.join('\n') + '\n');
  assert.equal(p.code, PolicyErrorCode.YamlSyntax);
  assert.match(p.message, /alias/i);
});

test('a wrong apiVersion or kind is reported and the rest of that document is not judged', () => {
  const list = problems('apiVersion: driftwatch.io/v2\nkind: Rule\nmetadata: 7\n');
  assert.deepEqual(list.map((p) => [p.code, p.path, p.line, p.column]), [
    [PolicyErrorCode.UnsupportedApiVersion, 'apiVersion', 1, 13],
    [PolicyErrorCode.UnknownKind, 'kind', 2, 7],
  ]);
  assert.equal(list[0]!.message, 'expected apiVersion driftwatch.io/v1, found "driftwatch.io/v2"');
  assert.equal(list[1]!.message, 'expected kind Policy, found "Rule"');
  assert.equal(only('- a list\n').code, PolicyErrorCode.InvalidField);
});

test('missing and mistyped fields are DW_POLICY_INVALID_FIELD, unknown keys DW_POLICY_UNKNOWN_FIELD at the key', () => {
  const list = problems([
    'apiVersion: driftwatch.io/v1',
    'kind: Policy',
    'metadata:',
    '  name: Not_A_Name',
    '  labels: {}',
    'spec:',
    '  selector: []',
    '  expectations:',
    '    - series: up',
    '      exact: x',
    '      colour: blue',
  ].join('\n'));
  assert.deepEqual(list.map((p) => [p.code, p.path, p.line, p.column]), [
    [PolicyErrorCode.InvalidField, 'metadata.name', 4, 9],
    [PolicyErrorCode.UnknownField, 'metadata.labels', 5, 3],
    [PolicyErrorCode.InvalidField, 'spec.selector', 7, 13],
    [PolicyErrorCode.UnknownField, 'spec.expectations.0.colour', 11, 7],
  ]);
  for (const p of list) assertExpectedFound(p);
  assert.equal(list[2]!.message, 'expected a mapping, found an empty list');
  assert.match(list[3]!.message, /^expected one of the keys series, .*found unknown key "colour"$/);
  const missing = only('apiVersion: driftwatch.io/v1\nkind: Policy\nmetadata: { name: x }\nspec: {}\n');
  assert.deepEqual([missing.code, missing.path, missing.message], [PolicyErrorCode.InvalidField, 'spec.selector', 'expected a mapping, found nothing']);
});

test('selector problems are DW_POLICY_BAD_SELECTOR', () => {
  const list = problems(policyYaml('s', {
    selector: `
    matchLabels: { tier: shop, "bad-key": x }
    matchExpressions:
      - { key: region, operator: In }
      - { key: region, operator: NotIn, values: [] }
      - { key: tier, operator: Exists, values: [shop] }
      - { key: tier, operator: Equals, values: [shop] }
      - { key: 9lives, operator: Exists }`,
  }));
  assert.deepEqual(list.map((p) => [p.code, p.path]), [
    [PolicyErrorCode.BadSelector, 'spec.selector.matchLabels.bad-key'],
    [PolicyErrorCode.BadSelector, 'spec.selector.matchExpressions.0.values'],
    [PolicyErrorCode.BadSelector, 'spec.selector.matchExpressions.1.values'],
    [PolicyErrorCode.BadSelector, 'spec.selector.matchExpressions.2.values'],
    [PolicyErrorCode.BadSelector, 'spec.selector.matchExpressions.3.operator'],
    [PolicyErrorCode.BadSelector, 'spec.selector.matchExpressions.4.key'],
  ]);
  for (const p of list) assertExpectedFound(p);
  assert.equal(list[0]!.line, 7);
  assert.equal(list[4]!.message, 'expected one of the operators In, NotIn, Exists, DoesNotExist, found "Equals"');
});

test('a series matcher problem points at the character in the file', () => {
  const text = policyYaml('m', { expectations: ['series: kube_x{a="b" b="c"}\n      exact: x'] });
  const p = only(text);
  assert.equal(p.code, PolicyErrorCode.BadSeriesMatcher);
  assert.equal(p.path, 'spec.expectations.0.series');
  assert.equal(p.message, 'expected "," or "}" at character 14, found "b=\\"c\\"}"');
  // `    - series: ` is 14 characters: the value starts at column 15, character 14 is column 28.
  assert.deepEqual([p.line, p.column], [8, 28]);
  const quoted = only(policyYaml('m', { expectations: ["series: 'rate(kube_x[5m])'\n      exact: x"] }));
  assert.equal(quoted.code, PolicyErrorCode.BadSeriesMatcher);
  assert.match(quoted.message, /^expected "\{" or the end .* at character 5, found "\(kube_x\[5m\]\)"$/);
  assert.deepEqual([quoted.line, quoted.column], [8, 20]);
});

test('an invalid regular expression is DW_POLICY_BAD_REGEX, in a matcher or a pattern', () => {
  const list = problems(policyYaml('r', {
    expectations: [
      `{ series: 'kube_x{a=~"(open"}', exact: x }`,
      `{ series: kube_y, pattern: '(a)\\1' }`,
      `{ series: kube_z, pattern: '(?<=a)b' }`,
    ],
  }));
  assert.deepEqual(list.map((p) => [p.code, p.path]), [
    [PolicyErrorCode.BadRegex, 'spec.expectations.0.series'],
    [PolicyErrorCode.BadRegex, 'spec.expectations.1.pattern'],
    [PolicyErrorCode.BadRegex, 'spec.expectations.2.pattern'],
  ]);
  for (const p of list) assertExpectedFound(p);
  assert.match(list[0]!.message, /found "\(open": missing closing \)/);
  assert.doesNotMatch(list[0]!.message, /\(\?s:/, 'the message quotes the pattern as written');
});

test('semver ranges, durations and values that cannot work each have their code', () => {
  const list = problems(policyYaml('v', {
    extra: 'staleAfter: 10 minutes\nupgradeDeadline: 0s',
    expectations: [
      `{ series: kube_a, semver: ">=banana" }`,
      `{ series: kube_b, semver: "" }`,
      `{ series: kube_c, exact: 1.20 }`,
      `{ series: kube_d, oneOf: [Healthy, true] }`,
      `{ series: kube_e, oneOf: [] }`,
      `{ series: kube_f, min: 10, max: 1 }`,
      `{ series: kube_g, semver: "^1", image: "registry/app:1.0" }`,
      `{ series: kube_h, exact: x, upgradeDeadline: soon }`,
      `{ series: kube_i, oneOf: [a, b, a] }`,
    ],
  }));
  assert.deepEqual(list.map((p) => [p.code, p.path]), [
    [PolicyErrorCode.BadDuration, 'spec.staleAfter'],
    [PolicyErrorCode.BadDuration, 'spec.upgradeDeadline'],
    [PolicyErrorCode.BadSemverRange, 'spec.expectations.0.semver'],
    [PolicyErrorCode.BadSemverRange, 'spec.expectations.1.semver'],
    [PolicyErrorCode.BadValue, 'spec.expectations.2.exact'],
    [PolicyErrorCode.BadValue, 'spec.expectations.3.oneOf.1'],
    [PolicyErrorCode.InvalidField, 'spec.expectations.4.oneOf'],
    [PolicyErrorCode.BadValue, 'spec.expectations.5.min'],
    [PolicyErrorCode.BadValue, 'spec.expectations.6.image'],
    [PolicyErrorCode.BadDuration, 'spec.expectations.7.upgradeDeadline'],
    [PolicyErrorCode.BadValue, 'spec.expectations.8.oneOf.2'],
  ]);
  for (const p of list) assertExpectedFound(p);
  assert.equal(list[4]!.message, 'expected a string (YAML reads it unquoted as a number: quote it, as in "1.2"; for a float series use eq, min or max), found the number 1.2');
  assert.equal(list[6]!.message, 'expected at least 1 item, found an empty list');
});

test('an expectation needs exactly one kind of expected value', () => {
  const list = problems(policyYaml('k', {
    expectations: [
      '{ series: kube_a }',
      '{ series: kube_b, exact: x, pattern: y }',
      '{ series: kube_c, eq: 1, min: 0 }',
      '{ series: kube_d, exact: x, image: registry/app }',
      '{ series: kube_e, min: 0, max: 1 }',
    ],
  }));
  assert.deepEqual(list.map((p) => [p.code, p.path, p.message]), [
    [PolicyErrorCode.ExpectationKind, 'spec.expectations.0', 'expected exactly one of exact, oneOf, semver, pattern, eq, or min and/or max, found none'],
    [PolicyErrorCode.ExpectationKind, 'spec.expectations.1', 'expected exactly one of exact, oneOf, semver, pattern, eq, or min and/or max, found exact, pattern'],
    [PolicyErrorCode.ExpectationKind, 'spec.expectations.2', 'expected exactly one of exact, oneOf, semver, pattern, eq, or min and/or max, found eq, min'],
    [PolicyErrorCode.ExpectationKind, 'spec.expectations.3.image', 'expected image only beside semver, found it without semver'],
  ]);
});

test('a series matcher twice in one policy is DW_POLICY_DUPLICATE_EXPECTATION, compared canonically', () => {
  const list = problems(policyYaml('d', {
    expectations: [
      `{ series: 'kube_x{b="2", a="1"}', exact: x }`,
      `{ series: 'kube_x{a="1",b="2",}', exact: y }`,
      `{ series: 'kube_y', exact: 3 }`,
    ],
  }));
  assert.deepEqual(list.map((p) => [p.code, p.path]), [
    [PolicyErrorCode.DuplicateExpectation, 'spec.expectations.1.series'],
    [PolicyErrorCode.BadValue, 'spec.expectations.2.exact'],
  ]);
  assert.equal(list[0]!.message, 'expected each series matcher once per policy, found kube_x{a="1",b="2"} again (first at spec.expectations.0)');
});

test('a policy name twice in a set is DW_POLICY_DUPLICATE_NAME at the second, across files', () => {
  const set = parsePolicySet([{ path: 'b.yaml', text: `# again\n${policyYaml('same')}` }, { path: 'a.yaml', text: policyYaml('same') }]);
  assert.deepEqual(set.problems.map((p) => [p.code, p.file, p.line, p.column]), [[PolicyErrorCode.DuplicateName, 'b.yaml', 5, 9]]);
  assert.equal(set.problems[0]!.message, 'expected each policy name once, found "same" again (first in a.yaml, document 1)');
});

test('a file over the size limit is DW_POLICY_FILE_TOO_LARGE', () => {
  const p = only('#'.repeat(MAX_POLICY_FILE_BYTES + 1));
  assert.equal(p.code, PolicyErrorCode.FileTooLarge);
  assertExpectedFound(p);
});

test('every problem of every file is reported at once; loadPolicySet throws DW_POLICY_INVALID with them', () => {
  const files = [
    { path: 'ok.yaml', text: policyYaml('fine') },
    { path: 'one.yaml', text: policyYaml('one', { expectations: ['{ series: kube_a, semver: "nope" }'] }) },
    { path: 'two.yaml', text: 'apiVersion: driftwatch.io/v1\nkind: Policy\nmetadata: { name: two }\nspec: { selector: {}, staleAfter: never, extra: 1 }\n' },
  ];
  const set = parsePolicySet(files);
  assert.deepEqual(set.problems.map((p) => [p.file, p.code]), [
    ['one.yaml', PolicyErrorCode.BadSemverRange],
    ['two.yaml', PolicyErrorCode.BadDuration],
    ['two.yaml', PolicyErrorCode.UnknownField],
  ]);
  assert.throws(() => loadPolicySet(files), (err: unknown) => {
    assert.ok(err instanceof PolicyError);
    assert.equal(err.code, PolicyErrorCode.Invalid);
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /^the policy set has 3 problems:\n {2}one\.yaml:8:\d+: DW_POLICY_BAD_SEMVER_RANGE spec\.expectations\.0\.semver: expected/);
    return true;
  });
});

test('every problem code is documented in docs/errors.md and docs/policies.md', async () => {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { repoRoot } = await import('../../helpers/paths.js');
  const errors = await readFile(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const policies = await readFile(join(repoRoot, 'docs', 'policies.md'), 'utf8');
  for (const code of Object.values(PolicyErrorCode)) {
    assert.ok(isPolicyErrorCode(code));
    assert.ok(errors.includes(`\`${code}\``), `${code} in docs/errors.md`);
    assert.ok(policies.includes(`\`${code}\``), `${code} in docs/policies.md`);
  }
});

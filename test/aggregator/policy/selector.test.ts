// Site selectors: Kubernetes label-selector semantics, checked case by case and against a
// reference implementation on random selectors and label sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seedFromEnv } from '../../../common/random.js';
import { formatSelector, matchesSelector, type LabelSelector, type SelectorRequirement } from '../../../aggregator/policy/index.js';

const SEED = seedFromEnv(20261122);

function sel(matchLabels: Record<string, string>, matchExpressions: SelectorRequirement[] = []): LabelSelector {
  return { matchLabels, matchExpressions };
}

test('an empty selector selects every site, including one without labels', () => {
  assert.equal(matchesSelector(sel({}), {}), true);
  assert.equal(matchesSelector(sel({}), { tier: 'shop' }), true);
});

test('matchLabels needs every label with exactly its value', () => {
  const s = sel({ tier: 'shop', region: 'eu-west' });
  assert.equal(matchesSelector(s, { tier: 'shop', region: 'eu-west', extra: 'x' }), true);
  assert.equal(matchesSelector(s, { tier: 'shop' }), false);
  assert.equal(matchesSelector(s, { tier: 'shop', region: 'eu-north' }), false);
  assert.equal(matchesSelector(sel({ tier: '' }), {}), false, 'a missing label is not the empty value');
  assert.equal(matchesSelector(sel({ tier: '' }), { tier: '' }), true);
});

test('In, NotIn, Exists and DoesNotExist follow Kubernetes (NotIn and DoesNotExist hold without the label)', () => {
  const req = (operator: SelectorRequirement['operator'], values: string[] = []) => sel({}, [{ key: 'region', operator, values }]);
  const cases: [SelectorRequirement['operator'], string[], Record<string, string>, boolean][] = [
    ['In', ['eu-west', 'eu-north'], { region: 'eu-west' }, true],
    ['In', ['eu-west', 'eu-north'], { region: 'us-east' }, false],
    ['In', ['eu-west'], {}, false],
    ['NotIn', ['eu-west'], { region: 'us-east' }, true],
    ['NotIn', ['eu-west'], { region: 'eu-west' }, false],
    ['NotIn', ['eu-west'], {}, true],
    ['Exists', [], { region: '' }, true],
    ['Exists', [], {}, false],
    ['DoesNotExist', [], {}, true],
    ['DoesNotExist', [], { region: 'x' }, false],
  ];
  for (const [op, values, labels, want] of cases) {
    assert.equal(matchesSelector(req(op, values), labels), want, `${op} ${values} on ${JSON.stringify(labels)}`);
  }
});

test('matchLabels and matchExpressions are ANDed', () => {
  const s = sel({ tier: 'shop' }, [{ key: 'pilot', operator: 'DoesNotExist', values: [] }]);
  assert.equal(matchesSelector(s, { tier: 'shop' }), true);
  assert.equal(matchesSelector(s, { tier: 'shop', pilot: 'yes' }), false);
  assert.equal(matchesSelector(s, { tier: 'factory' }), false);
});

test('a label named like an Object.prototype member is not mistaken for one', () => {
  assert.equal(matchesSelector(sel({}, [{ key: 'constructor', operator: 'Exists', values: [] }]), {}), false);
  assert.equal(matchesSelector(sel({ toString: 'x' }), {}), false);
});

test('formatSelector writes kubectl\'s text form', () => {
  assert.equal(formatSelector(sel({})), '(all sites)');
  assert.equal(formatSelector(sel({ tier: 'shop' }, [
    { key: 'region', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'NotIn', values: ['c'] },
    { key: 'y', operator: 'Exists', values: [] }, { key: 'z', operator: 'DoesNotExist', values: [] },
  ])), 'tier=shop,region in (a,b),x notin (c),y,!z');
});

// The reference: a selector is the set of label sets it admits, built from each clause's own
// definition in the Kubernetes API docs, evaluated clause by clause with Array.every.
function reference(s: LabelSelector, labels: Record<string, string>): boolean {
  const keys = new Set(Object.keys(labels));
  const clauses: boolean[] = [];
  for (const k of Object.keys(s.matchLabels)) clauses.push(keys.has(k) && labels[k] === s.matchLabels[k]);
  for (const r of s.matchExpressions) {
    if (r.operator === 'In') clauses.push(keys.has(r.key) && r.values.some((v) => v === labels[r.key]));
    if (r.operator === 'NotIn') clauses.push(!keys.has(r.key) || r.values.every((v) => v !== labels[r.key]));
    if (r.operator === 'Exists') clauses.push(keys.has(r.key));
    if (r.operator === 'DoesNotExist') clauses.push(!keys.has(r.key));
  }
  return clauses.every(Boolean);
}

test(`selectors agree with the reference on random sites (seed ${SEED}, replay with DW_SEED)`, () => {
  const key = fc.constantFrom('tier', 'region', 'pilot', 'customer');
  const value = fc.constantFrom('', 'shop', 'eu-west', 'eu-north', 'x');
  const requirement = fc.oneof(
    fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }) }),
    fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const), values: fc.constant([] as string[]) }),
  );
  const selector = fc.record({ matchLabels: fc.dictionary(key, value, { maxKeys: 2 }), matchExpressions: fc.array(requirement, { maxLength: 3 }) });
  fc.assert(fc.property(selector, fc.dictionary(key, value, { maxKeys: 4 }), (s, labels) => {
    assert.equal(matchesSelector(s, labels), reference(s, labels));
  }), { seed: SEED, numRuns: 2000 });
});

// The policy file format: the example set parses, every field lands where it should, defaults
// fill what is left out, and several documents share a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_STALE_AFTER, DEFAULT_UPGRADE_DEADLINE, loadPolicySet, parsePolicyFile, parsePolicySet, policySetHash, staleAfterFor,
} from '../../../aggregator/policy/index.js';
import { examplePolicyFiles, policyYaml } from './helpers.js';

test('the example policy set in examples/policies/ is valid and complete', async () => {
  const files = await examplePolicyFiles();
  const set = parsePolicySet(files);
  assert.deepEqual(set.problems, []);
  assert.deepEqual(set.policies.map((p) => p.name), ['host-disk', 'host-temperature', 'k3s-nodes', 'shop-routers', 'shop-pos']);
  const kinds = new Set(set.policies.flatMap((p) => p.expectations.map((e) => e.expected.kind)));
  // The examples show every kind of expected value.
  assert.deepEqual([...kinds].sort(), ['eq', 'exact', 'oneOf', 'pattern', 'range', 'semver']);
  const ops = new Set(set.policies.flatMap((p) => p.expectations.flatMap((e) => e.series.matchers.map((m) => m.op))));
  assert.ok(ops.has('=') && ops.has('!=') && ops.has('=~'));
});

test('every field of a policy is read, with durations in ms and the selector normalised', async () => {
  const files = await examplePolicyFiles();
  const pos = loadPolicySet(files).policies.find((p) => p.name === 'shop-pos')!;
  assert.equal(pos.description, 'Point-of-sale release 2.4 in every shop, synced and healthy');
  assert.equal(pos.file, 'shop-pos.yaml');
  assert.equal(pos.document, 0);
  assert.deepEqual(pos.selector, {
    matchLabels: { tier: 'shop' },
    matchExpressions: [
      { key: 'region', operator: 'In', values: ['eu-west', 'eu-north'] },
      { key: 'pilot', operator: 'DoesNotExist', values: [] },
    ],
  });
  assert.equal(pos.staleAfter, 6 * 3_600_000);
  assert.equal(pos.upgradeDeadline, 48 * 3_600_000);
  const [image, printer, sync, health, replicas, ready] = pos.expectations;
  assert.equal(image!.series.text, 'kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}');
  assert.equal(image!.series.name, 'kube_deployment_container_image');
  assert.deepEqual(image!.expected, { kind: 'semver', range: '>=2.4.1 <2.5.0', image: 'registry.example.com/shop/pos', includePrerelease: false });
  assert.equal(image!.description, 'the release the shops run');
  assert.equal(image!.upgradeDeadline, 48 * 3_600_000);
  assert.deepEqual(printer!.expected, { kind: 'exact', value: 'registry.example.com/shop/printer:1.8.0' });
  assert.equal(printer!.upgradeDeadline, 12 * 3_600_000, 'an expectation overrides the policy deadline');
  assert.deepEqual(sync!.expected, { kind: 'exact', value: 'Synced' });
  assert.deepEqual(health!.expected, { kind: 'oneOf', values: ['Healthy', 'Progressing'] });
  assert.deepEqual(replicas!.expected, { kind: 'eq', value: 2 });
  assert.deepEqual(ready!.expected, { kind: 'range', min: 2 });
  assert.ok(Object.isFrozen(pos) && Object.isFrozen(pos.expectations[0]!.series.matchers), 'policies are frozen');
});

test('left-out fields take their defaults: staleAfter unset (1h unless another policy sets it), upgradeDeadline 24h, no expectations', () => {
  const { policies, problems } = parsePolicyFile({ path: 'p.yaml', text: policyYaml('bare') });
  assert.deepEqual(problems, []);
  assert.equal(policies[0]!.staleAfter, undefined);
  assert.equal(staleAfterFor(policies), DEFAULT_STALE_AFTER);
  assert.equal(policies[0]!.upgradeDeadline, DEFAULT_UPGRADE_DEADLINE);
  assert.deepEqual(policies[0]!.expectations, []);
  assert.deepEqual(policies[0]!.selector, { matchLabels: {}, matchExpressions: [] });
});

test('a file may hold several policies as YAML documents; empty documents are skipped', () => {
  const text = `${policyYaml('one')}---\n${policyYaml('two')}---\n`;
  const { policies, problems } = parsePolicyFile({ path: 'multi.yaml', text });
  assert.deepEqual(problems, []);
  assert.deepEqual(policies.map((p) => [p.name, p.document]), [['one', 0], ['two', 1]]);
});

test('an empty policy set is valid: no policies', () => {
  assert.deepEqual(parsePolicySet([]).policies, []);
  assert.deepEqual(parsePolicySet([{ path: 'empty.yaml', text: '# nothing yet\n' }]).problems, []);
});

test('the content hash depends on paths and contents, not on the order files are given', () => {
  const a = { path: 'a.yaml', text: policyYaml('a') };
  const b = { path: 'b.yaml', text: policyYaml('b') };
  const h1 = policySetHash(parsePolicySet([a, b]).files);
  assert.equal(policySetHash(parsePolicySet([b, a]).files), h1);
  assert.match(h1, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(policySetHash(parsePolicySet([a, { ...b, text: b.text + '# edit\n' }]).files), h1);
  assert.notEqual(policySetHash(parsePolicySet([a, { ...b, path: 'c.yaml' }]).files), h1);
});

test('policies are in file path order, then document order', () => {
  const set = parsePolicySet([{ path: 'z.yaml', text: policyYaml('zz') }, { path: 'a/b.yaml', text: policyYaml('ab') }]);
  assert.deepEqual(set.policies.map((p) => p.name), ['ab', 'zz']);
});

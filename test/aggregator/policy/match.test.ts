// The matching API the reports use: policies for a site, expectations for a series, staleness
// thresholds, and the expected values a revision changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applicablePolicies, changedExpectations, DEFAULT_STALE_AFTER, check, expectationsFor, loadPolicySet, PolicyHistory, policySetHash, staleAfterFor,
  type PolicyFile, type PolicyRevision,
} from '../../../aggregator/policy/index.js';
import { examplePolicyFiles, policyYaml } from './helpers.js';

function revisionOf(files: PolicyFile[], at: number, history = new PolicyHistory()): PolicyRevision {
  const set = loadPolicySet(files);
  return history.add({ id: policySetHash(set.files), source: { kind: 'directory', path: '/p' }, effectiveAt: at, loadedAt: at, files: set.files, policies: set.policies });
}

test('the example set: which policies apply to which site', async () => {
  const rev = revisionOf(await examplePolicyFiles(), 0);
  const names = (labels: Record<string, string>) => applicablePolicies(rev, labels).map((p) => p.name);
  assert.deepEqual(names({ tier: 'shop', region: 'eu-west' }), ['host-disk', 'k3s-nodes', 'shop-routers', 'shop-pos']);
  assert.deepEqual(names({ tier: 'shop', region: 'eu-west', pilot: 'yes', router: 'none' }), ['host-disk', 'k3s-nodes']);
  assert.deepEqual(names({ tier: 'factory', hardware: 'fanless' }), ['host-disk', 'host-temperature', 'k3s-nodes']);
  assert.deepEqual(applicablePolicies(undefined, { tier: 'shop' }), [], 'no revision in force: no policies');
  assert.equal(staleAfterFor(applicablePolicies(rev, { tier: 'shop', region: 'eu-west' })), 2 * 3_600_000,
    'the smallest staleAfter set wins; host-disk sets none and does not pull it down to the default');
  assert.equal(staleAfterFor(applicablePolicies(rev, { tier: 'factory' })), 2 * 3_600_000);
  assert.equal(staleAfterFor(applicablePolicies(rev, { tier: 'shop' }).filter((p) => p.name === 'host-disk')), DEFAULT_STALE_AFTER, 'none set: the default');
  assert.equal(staleAfterFor([], 5), 5, 'no policy: the caller\'s fallback');
});

test('the example set: which expectations apply to which series, and checks against them', async () => {
  const rev = revisionOf(await examplePolicyFiles(), 0);
  const policies = applicablePolicies(rev, { tier: 'shop', region: 'eu-north' });
  const image = expectationsFor(policies, 'kube_deployment_container_image', { namespace: 'shop', deployment: 'pos', container: 'pos' });
  assert.deepEqual(image.map((m) => [m.policy.name, m.expectation.series.text]), [
    ['shop-pos', 'kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}'],
  ]);
  assert.equal(check(image[0]!.expectation, 'registry.example.com/shop/pos:2.4.3').ok, true);
  assert.equal(check(image[0]!.expectation, 'registry.example.com/shop/pos:2.5.0').ok, false);
  const conditions = expectationsFor(policies, 'kube_node_status_condition', { node: 'n1', condition: 'DiskPressure' });
  assert.deepEqual(conditions.map((m) => m.expectation.expected), [{ kind: 'exact', value: 'False' }]);
  const ready = expectationsFor(policies, 'kube_node_status_condition', { node: 'n1', condition: 'Ready' });
  assert.deepEqual(ready.map((m) => m.expectation.expected), [{ kind: 'exact', value: 'True' }]);
  assert.deepEqual(expectationsFor(policies, 'kube_node_kubelet_version', { node: 'n1' }).map((m) => check(m.expectation, 'v1.29.3+k3s1').ok), [true]);
  assert.deepEqual(expectationsFor(policies, 'snmp_if_oper_status', { target: 'r1', if_name: 'WAN0' }).length, 1, '(?i) in a matcher');
  assert.deepEqual(expectationsFor(policies, 'unrelated_series', {}), []);
});

test('two policies speaking for one series both apply', () => {
  const rev = revisionOf([
    { path: 'a.yaml', text: policyYaml('a', { expectations: ['{ series: kube_node_kubelet_version, semver: ">=1.28" }'] }) },
    { path: 'b.yaml', text: policyYaml('b', { selector: '{ matchLabels: { tier: shop } }', expectations: ['{ series: "kube_node_kubelet_version{node=~\\"edge-.*\\"}", semver: "<1.30" }'] }) },
  ], 0);
  const found = expectationsFor(applicablePolicies(rev, { tier: 'shop' }), 'kube_node_kubelet_version', { node: 'edge-1' });
  assert.deepEqual(found.map((m) => m.policy.name), ['a', 'b']);
  assert.deepEqual(found.map((m) => check(m.expectation, 'v1.30.1').ok), [true, false]);
});

test('changedExpectations lists added, changed and removed expected values by policy and series', () => {
  const h = new PolicyHistory();
  const v1 = revisionOf([
    { path: 'pos.yaml', text: policyYaml('pos', { expectations: [
      '{ series: "app_image{app=\\"pos\\"}", semver: "~2.4.0" }',
      '{ series: "app_sync{app=\\"pos\\"}", exact: Synced }',
      '{ series: "app_health", oneOf: [Healthy, Progressing] }',
      '{ series: "app_gone", eq: 1 }',
    ] }) },
  ], 1000, h);
  const v2 = revisionOf([
    { path: 'pos.yaml', text: policyYaml('pos', {
      selector: '{ matchLabels: { tier: shop } }', extra: 'upgradeDeadline: 2h',
      expectations: [
        '{ series: "app_image{ app = \\"pos\\" }", semver: "~2.5.0" }',
        '{ series: "app_sync{app=\\"pos\\"}", exact: Synced, upgradeDeadline: 1h }',
        '{ series: "app_health", oneOf: [Progressing, Healthy] }',
        '{ series: "app_new", min: 3 }',
      ],
    }) },
  ], 2000, h);
  const changes = changedExpectations(v1, v2);
  assert.deepEqual(changes.map((c) => [c.change, c.policy, c.series, c.before?.expectedText, c.after?.expectedText]), [
    ['removed', 'pos', 'app_gone', '== 1', undefined],
    ['changed', 'pos', 'app_image{app="pos"}', 'semver ~2.4.0', 'semver ~2.5.0'],
    ['added', 'pos', 'app_new', undefined, '>= 3'],
  ]);
  const image = changes.find((c) => c.change === 'changed')!;
  assert.equal(image.expectation?.upgradeDeadline, 2 * 3_600_000, 'the new revision\'s deadline comes along');
  assert.equal(image.nextPolicy?.name, 'pos');
  assert.deepEqual(changedExpectations(v2, v2), [], 'a revision against itself changes nothing');
  assert.deepEqual(changedExpectations(undefined, v1).map((c) => c.change), ['added', 'added', 'added', 'added'], 'the first revision adds everything');
  const v3 = revisionOf([{ path: 'other.yaml', text: policyYaml('other') }], 3000, h);
  assert.deepEqual(changedExpectations(v2, v3).map((c) => [c.change, c.series, c.nextPolicy]), [
    ['removed', 'app_health', undefined], ['removed', 'app_image{app="pos"}', undefined], ['removed', 'app_new', undefined], ['removed', 'app_sync{app="pos"}', undefined],
  ]);
  assert.equal(h.previous(v3), v2, 'history.previous gives the revision to compare against');
});

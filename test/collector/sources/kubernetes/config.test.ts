// The kubernetes source's config schema: defaults, strictness, every problem at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigIssues } from '../../../../common/config-schema.js';
import { kubernetesConfigSchema } from '../../../../collector/sources/kubernetes/index.js';

test('defaults: events and gitops on; durations parse to milliseconds', () => {
  assert.deepEqual(kubernetesConfigSchema.parse({ kind: 'kubernetes', name: 'k8s' }), { kind: 'kubernetes', name: 'k8s', events: true, gitops: true });
  const c = kubernetesConfigSchema.parse({ kind: 'kubernetes', name: 'k8s', interval: '15s', timeout: '5s', kubeconfig: '/etc/rancher/k3s/k3s.yaml', context: 'default', namespaces: ['pos', 'kube-system'], events: false, gitops: false });
  assert.deepEqual(c, { kind: 'kubernetes', name: 'k8s', interval: 15_000, timeout: 5_000, kubeconfig: '/etc/rancher/k3s/k3s.yaml', context: 'default', namespaces: ['pos', 'kube-system'], events: false, gitops: false });
  assert.equal(kubernetesConfigSchema.parse({ kind: 'kubernetes', name: 'k8s', inCluster: true }).inCluster, true);
});

test('every problem is reported at once: unknown keys, conflicts, bad values', () => {
  const r = kubernetesConfigSchema.safeParse({
    kind: 'kubernetes', name: 'k8s', kubeconfig: '/k.yaml', inCluster: true, interval: 'soon', namespaces: ['POS', 'pos', 'pos'], watchEvents: true,
  });
  assert.equal(r.success, false);
  const issues = formatConfigIssues(r.error!, 'sources.0');
  const has = (re: RegExp) => assert.ok(issues.some((i) => re.test(i)), `${re} in ${issues.join('\n')}`);
  has(/^sources\.0: .*watchEvents/);
  has(/^sources\.0\.interval: expected a duration/);
  has(/^sources\.0\.namespaces\.0: expected a namespace name/);
  assert.equal(kubernetesConfigSchema.safeParse({ kind: 'kubernetes', name: 'k8s', kubeconfig: '/k.yaml', inCluster: true }).error?.issues[0]?.message,
    'expected either kubeconfig or inCluster: true, found both');
  assert.equal(kubernetesConfigSchema.safeParse({ kind: 'kubernetes', name: 'k8s', namespaces: ['pos', 'pos'] }).error?.issues[0]?.message,
    'expected each namespace once, found a repeat');
  assert.equal(kubernetesConfigSchema.safeParse({ kind: 'snmp', name: 'x' }).success, false);
});

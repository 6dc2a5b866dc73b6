// The kubernetes source against the test API server (real @kubernetes/client-node, real HTTPS,
// fixture objects shaped like a k3s site's): exact samples, scopes, optional kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesSource } from '../../../../collector/sources/kubernetes/index.js';
import { isValidLabelName, isValidMetricName, type Sample } from '../../../../proto/index.js';
import { fixtureItems, KubeApiServer } from '../../../helpers/kube-api-server.js';
import { collectContext, deps, loadSite, sourceConfig, tempDir, writeKubeconfig } from './helpers.js';
import { CORE_SAMPLES, GITOPS_SAMPLES, RECORDED_WARNINGS, sorted } from './site-samples.js';

async function withServer(fn: (server: KubeApiServer, kubeconfig: string) => Promise<void>): Promise<void> {
  const server = await KubeApiServer.start();
  const { dir, cleanup } = await tempDir();
  try {
    await fn(server, await writeKubeconfig(dir, server));
  } finally {
    await server.close();
    await cleanup();
  }
}

function assertValidNames(samples: readonly Sample[]): void {
  for (const s of samples) {
    assert.ok(isValidMetricName(s.name), s.name);
    for (const [k, v] of Object.entries(s.labels)) {
      assert.ok(isValidLabelName(k), `${s.name} label ${k}`);
      assert.ok(v !== '', `${s.name} label ${k} is empty`);
    }
  }
}

test('a collection reports every node, workload, pod aggregate and GitOps object of a k3s site, and its recorded warnings', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server);
    const d = deps();
    const source = createKubernetesSource(sourceConfig(kubeconfig), d);
    assert.equal(source.kind, 'kubernetes');
    assert.equal(source.name, 'k8s');
    try {
      const result = await source.collect(collectContext());
      assert.deepEqual(result.samples, sorted([...CORE_SAMPLES, ...GITOPS_SAMPLES]));
      assertValidNames(result.samples);
      assert.deepEqual(result.events, RECORDED_WARNINGS);
      // Every request carried the kubeconfig's bearer token; lists are paged.
      assert.ok(server.requests.every((r) => r.authorization === `Bearer ${server.token}`));
      const lists = server.requests.filter((r) => !r.watch).map((r) => r.path).sort();
      assert.deepEqual(lists, [
        '/api/v1/events', '/api/v1/nodes', '/api/v1/pods',
        '/apis/apps/v1/daemonsets', '/apis/apps/v1/deployments', '/apis/apps/v1/replicasets', '/apis/apps/v1/statefulsets',
        '/apis/argoproj.io/v1alpha1/applications', '/apis/fleet.cattle.io/v1alpha1/bundledeployments', '/apis/upgrade.cattle.io/v1/plans',
      ]);
      assert.ok(server.requests.filter((r) => !r.watch).every((r) => r.query.get('limit') === '500'));
      assert.deepEqual(d.logger.entries.filter((e) => e.level === 'warn'), []);
    } finally {
      await source.close?.();
    }
  });
});

test('GitOps kinds whose CRDs are not installed (404) are skipped without an error or a warning', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server, false);
    const d = deps();
    const source = createKubernetesSource(sourceConfig(kubeconfig), d);
    try {
      const result = await source.collect(collectContext());
      assert.deepEqual(result.samples, sorted(CORE_SAMPLES));
      assert.equal(server.requests.filter((r) => r.path.includes('.io/')).length, 3, 'asked for each CRD kind (404 each)');
      assert.deepEqual(d.logger.entries.filter((e) => e.level === 'warn'), []);
      // Installed later: read from the next collection on.
      server.load('plans', fixtureItems('suc-plans.json'));
      const again = await source.collect(collectContext());
      assert.deepEqual(again.samples, sorted([...CORE_SAMPLES, ...GITOPS_SAMPLES.filter((s) => s.name.startsWith('system_upgrade_plan'))]));
    } finally {
      await source.close?.();
    }
  });
});

test('gitops: false and events: false make no GitOps or events requests', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server);
    const source = createKubernetesSource(sourceConfig(kubeconfig, { gitops: false, events: false }), deps());
    try {
      const result = await source.collect(collectContext());
      assert.deepEqual(result.samples, sorted(CORE_SAMPLES));
      assert.deepEqual(result.events, []);
      assert.deepEqual(server.requests.filter((r) => r.resource === 'events' || r.path.includes('.io/')), []);
    } finally {
      await source.close?.();
    }
  });
});

test('namespaces: namespaced kinds, events and GitOps objects are read in those namespaces only; nodes stay', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server);
    const source = createKubernetesSource(sourceConfig(kubeconfig, { namespaces: ['pos'] }), deps());
    try {
      const result = await source.collect(collectContext());
      const expected = CORE_SAMPLES.filter((s) => s.labels.namespace === undefined || s.labels.namespace === 'pos');
      assert.deepEqual(result.samples, sorted(expected));
      assert.deepEqual(result.events, RECORDED_WARNINGS);
      const paths = new Set(server.requests.map((r) => r.path));
      for (const p of ['/api/v1/namespaces/pos/pods', '/apis/apps/v1/namespaces/pos/deployments', '/api/v1/namespaces/pos/events',
        '/apis/argoproj.io/v1alpha1/namespaces/pos/applications', '/api/v1/nodes']) assert.ok(paths.has(p), p);
      assert.ok(!paths.has('/api/v1/pods'));
      const watch = await server.waitForWatch((r) => r.resource === 'events');
      assert.equal(watch.path, '/api/v1/namespaces/pos/events');
    } finally {
      await source.close?.();
    }
  });
});

test('forbidden ReplicaSets: pods still resolve to their Deployment by name, with one warning', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server, false);
    server.forbid('replicasets');
    const d = deps();
    const source = createKubernetesSource(sourceConfig(kubeconfig), d);
    try {
      assert.deepEqual((await source.collect(collectContext())).samples, sorted(CORE_SAMPLES));
      assert.deepEqual((await source.collect(collectContext())).samples, sorted(CORE_SAMPLES));
      const warnings = d.logger.entries.filter((e) => e.level === 'warn');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.fields.resource, 'replicasets.apps');
      assert.match(String(warnings[0]!.fields.err), /403 Forbidden.*cannot list resource "replicasets" in API group "apps"/);
    } finally {
      await source.close?.();
    }
  });
});

test('forbidden GitOps kinds are skipped with a warning naming each; the collection succeeds', async () => {
  await withServer(async (server, kubeconfig) => {
    loadSite(server);
    server.forbid('applications');
    server.forbid('plans');
    const d = deps();
    const source = createKubernetesSource(sourceConfig(kubeconfig), d);
    try {
      const result = await source.collect(collectContext());
      assert.deepEqual(result.samples, sorted([...CORE_SAMPLES, ...GITOPS_SAMPLES.filter((s) => s.name.startsWith('fleet_'))]));
      const warned = d.logger.entries.filter((e) => e.level === 'warn').map((e) => e.fields.resource).sort();
      assert.deepEqual(warned, ['applications.argoproj.io', 'plans.upgrade.cattle.io']);
    } finally {
      await source.close?.();
    }
  });
});

test('lists are paged with limit and continue: 1,201 pods arrive in three pages', async () => {
  await withServer(async (server, kubeconfig) => {
    const pods = Array.from({ length: 1201 }, (_, i) => ({
      metadata: { name: `web-${String(i).padStart(4, '0')}`, namespace: 'shop', labels: { 'pod-template-hash': '5d9f7c' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9f7c', uid: 'u', controller: true }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'nginx:1.25', imageID: '', ready: true, restartCount: 1, state: { running: {} } }] },
    }));
    server.load('pods', pods);
    const source = createKubernetesSource(sourceConfig(kubeconfig, { events: false, gitops: false }), deps());
    try {
      const result = await source.collect(collectContext());
      const pages = server.requests.filter((r) => r.resource === 'pods');
      assert.equal(pages.length, 3);
      assert.deepEqual(pages.map((r) => r.query.has('continue')), [false, true, true]);
      const l = { namespace: 'shop', workload_kind: 'Deployment', workload: 'web' };
      assert.deepEqual(result.samples, sorted([
        { name: 'kube_workload_container_restarts_total', labels: l, type: 'float', value: 1201 },
        { name: 'kube_workload_pods', labels: { ...l, phase: 'Running' }, type: 'float', value: 1201 },
      ]));
    } finally {
      await source.close?.();
    }
  });
});

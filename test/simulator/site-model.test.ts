import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../proto/index.js';
import { planFleet } from '../../simulator/plan.js';
import { parseScenario } from '../../simulator/scenario.js';
import { SiteModel } from '../../simulator/site-model.js';
import { siteSources } from '../../simulator/sources.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 10, 9);

/** One site with one failure (or none), the rollout to pos 2.0.0 at 10:00 taking 10 minutes. */
function site(failure = ''): SiteModel {
  const s = parseScenario(`apiVersion: driftwatch.io/v1
kind: Scenario
metadata: { name: t }
start: 2026-11-09T00:00:00Z
duration: 1d
fleet:
  - name: shop
    count: 1
    cluster: { workloads: [{ namespace: shop, deployment: pos, image: "registry.example.com/shop/pos:1.0.0", replicas: 2 }] }
rollouts:
  - { at: 10h, workload: shop/pos, image: "registry.example.com/shop/pos:2.0.0", takes: 10m }
failures: [${failure}]
`);
  return new SiteModel(planFleet(s, 1).sites[0]!);
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): string | number | undefined {
  return samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
}

const POS = { namespace: 'shop', deployment: 'pos' };
const PODS = { namespace: 'shop', workload_kind: 'Deployment', workload: 'pos' };

test('a healthy rollout: new image asked for, one new pod starting, then every replica updated', () => {
  const m = site();
  m.advanceTo(START + 9 * HOUR);
  let s = m.clusterSamples();
  assert.equal(value(s, 'kube_deployment_container_image', POS), 'registry.example.com/shop/pos:1.0.0');
  assert.equal(value(s, 'kube_deployment_status_replicas_updated', POS), 2);
  assert.equal(value(s, 'kube_node_status_condition', { condition: 'Ready' }), 'True');
  assert.equal(value(s, 'kube_node_kubelet_version'), 'v1.29.4+k3s1');
  m.advanceTo(START + 10 * HOUR + 5 * MIN);
  s = m.clusterSamples();
  assert.equal(value(s, 'kube_deployment_container_image', POS), 'registry.example.com/shop/pos:2.0.0');
  assert.equal(value(s, 'kube_deployment_status_replicas_updated', POS), 1);
  assert.equal(value(s, 'kube_deployment_status_replicas_unavailable', POS), 1);
  assert.equal(value(s, 'kube_workload_containers_waiting', { ...PODS, reason: 'ContainerCreating' }), 1);
  m.advanceTo(START + 10 * HOUR + 10 * MIN);
  s = m.clusterSamples();
  assert.equal(value(s, 'kube_deployment_status_replicas_updated', POS), 2);
  assert.equal(value(s, 'kube_deployment_status_replicas_unavailable', POS), 0);
  assert.equal(value(s, 'kube_workload_containers_waiting', PODS), undefined);
  assert.equal(value(s, 'kube_workload_pods', { ...PODS, phase: 'Running' }), 2);
  assert.deepEqual(m.takeEvents(START + 11 * HOUR), []);
});

test('a blocked registry: ErrImagePull, then ImagePullBackOff, with the timeout in the warning events, each taken once', () => {
  const m = site('{ kind: imagePullBlocked, sites: [shop-0001], workload: shop/pos }');
  m.advanceTo(START + 10 * HOUR + MIN);
  assert.equal(value(m.clusterSamples(), 'kube_workload_containers_waiting', { ...PODS, reason: 'ErrImagePull' }), 1);
  m.advanceTo(START + 10 * HOUR + 15 * MIN);
  const s = m.clusterSamples();
  assert.equal(value(s, 'kube_workload_containers_waiting', { ...PODS, reason: 'ImagePullBackOff' }), 1);
  assert.equal(value(s, 'kube_deployment_status_replicas_unavailable', POS), 1);
  const events = m.takeEvents(START + 10 * HOUR + 15 * MIN);
  assert.deepEqual(events.map((e) => [e.kind, e.reason]), [['kubernetes', 'Failed'], ['kubernetes', 'BackOff']]);
  assert.match(events[0]!.message, /dial tcp 203\.0\.113\.10:443: i\/o timeout/);
  assert.equal(events[0]!.labels['namespace'], 'shop');
  assert.match(events[0]!.labels['object_name'] ?? '', /^pos-/);
  assert.deepEqual(m.takeEvents(START + 10 * HOUR + 15 * MIN), []);
});

test('a crash loop: restarts climb with back-off warnings, then the rollback brings the old image back', () => {
  const m = site('{ kind: crashLoopRollback, sites: [shop-0001], workload: shop/pos, rollbackAfter: 40m }');
  m.advanceTo(START + 10 * HOUR + 20 * MIN);
  const s = m.clusterSamples();
  assert.equal(value(s, 'kube_workload_containers_waiting', { ...PODS, reason: 'CrashLoopBackOff' }), 1);
  const restarts = value(s, 'kube_workload_container_restarts_total', PODS) as number;
  assert.ok(restarts >= 3, String(restarts));
  assert.ok(m.takeEvents(START + 10 * HOUR + 20 * MIN).every((e) => e.reason === 'BackOff' && /restarting failed container pos/.test(e.message)));
  m.advanceTo(START + 10 * HOUR + 40 * MIN);
  const after = m.clusterSamples();
  assert.equal(value(after, 'kube_deployment_container_image', POS), 'registry.example.com/shop/pos:1.0.0');
  assert.equal(value(after, 'kube_workload_containers_waiting', PODS), undefined);
  assert.equal(value(after, 'kube_deployment_status_replicas_updated', POS), 2);
});

test('a full disk: DiskPressure and little free space on the host; a later rollout cannot unpack its image', async () => {
  const m = site('{ kind: diskFull, sites: [shop-0001], at: 8h, free: 1GB }');
  const [cluster, host] = siteSources(m);
  const ctx = (t: number) => ({ signal: new AbortController().signal, roundTime: t, deadline: t + 10_000, now: () => t });
  const h = await host!.collect(ctx(START + 9 * HOUR));
  assert.equal(value(h.samples, 'node_filesystem_avail_bytes', { mountpoint: '/' }), 1e9);
  assert.equal(value(h.samples, 'node_filesystem_size_bytes', { mountpoint: '/' }), 64e9);
  const c = await cluster!.collect(ctx(START + 10 * HOUR + 5 * MIN));
  assert.equal(value(c.samples, 'kube_node_status_condition', { condition: 'DiskPressure' }), 'True');
  assert.equal(value(c.samples, 'kube_workload_containers_waiting', { ...PODS, reason: 'ErrImagePull' }), 1);
  assert.ok(c.events.some((e) => e.reason === 'Evicted'));
  assert.ok(c.events.some((e) => /no space left on device/.test(e.message)));
});

test('old router firmware and a hand edit show in the series a real source reports', async () => {
  const m = site('{ kind: routerFirmware, sites: [shop-0001], firmware: 17.06.05 }, { kind: manualChange, sites: [shop-0001], at: 2h, workload: shop/pos, replicas: 1 }');
  const sources = siteSources(m);
  assert.deepEqual(sources.map((x) => [x.name, x.kind]), [['k3s', 'kubernetes'], ['node', 'host'], ['router', 'snmp']]);
  const ctx = (t: number) => ({ signal: new AbortController().signal, roundTime: t, deadline: t + 10_000, now: () => t });
  const r = await sources[2]!.collect(ctx(START));
  assert.equal(value(r.samples, 'snmp_entity_software_revision', { entity_name: 'Chassis', target: 'shop-0001-gw' }), '17.06.05');
  assert.equal(value(r.samples, 'snmp_if_oper_status', { if_name: 'wan0' }), 'up');
  const before = await sources[0]!.collect(ctx(START + HOUR));
  const after = await sources[0]!.collect(ctx(START + 3 * HOUR));
  assert.equal(value(before.samples, 'kube_deployment_spec_replicas', POS), 2);
  assert.equal(value(after.samples, 'kube_deployment_spec_replicas', POS), 1);
  // A steady state hands out the very same samples (no rebuild per round).
  const again = await sources[0]!.collect(ctx(START + 4 * HOUR));
  assert.equal(again.samples, after.samples);
});

// Unit tests of the kubernetes source's pieces that need no server: event conversion, the
// bounded event buffer, and resolving a pod's workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBuffer, toOccurrence } from '../../../../collector/sources/kubernetes/events.js';
import { workloadOf } from '../../../../collector/sources/kubernetes/pods.js';
import type { V1Pod } from '@kubernetes/client-node';
import { fixtureItems } from '../../../helpers/kube-api-server.js';

test('only Warning events become block events; time and count fall back in order', () => {
  const [sched, evicted, pulled] = fixtureItems('watch-events.json');
  assert.equal(toOccurrence(pulled, 0), undefined);
  // events.k8s.io-style: no lastTimestamp or count, an eventTime with microseconds.
  const s = toOccurrence(sched, 0)!;
  assert.equal(s.event.t, Date.parse('2024-04-16T09:41:12.482Z'));
  assert.equal(s.event.count, 1);
  assert.equal(s.key, 'ada9bb44-66ed-4309-870d-da7e47e47c1e@1@1713260472482');
  // series (a repeated events.k8s.io event) wins over the single times.
  const withSeries = { ...structuredClone(sched), series: { count: 5, lastObservedTime: '2024-04-16T09:50:00.000000Z' } };
  assert.deepEqual([toOccurrence(withSeries, 0)!.event.t, toOccurrence(withSeries, 0)!.event.count], [Date.parse('2024-04-16T09:50:00Z'), 5]);
  // Typed objects from the client carry Dates instead of strings.
  const typed = { ...structuredClone(evicted), lastTimestamp: new Date('2024-04-16T09:44:05Z') };
  assert.equal(toOccurrence(typed, 0)!.event.t, Date.parse('2024-04-16T09:44:05Z'));
  // No time at all: now.
  assert.equal(toOccurrence({ type: 'Warning', reason: 'X', metadata: {} }, 1234)!.event.t, 1234);
  // Messages are capped.
  assert.equal(toOccurrence({ type: 'Warning', message: 'm'.repeat(5000), metadata: {} }, 0)!.event.message.length, 1024);
});

test('the event buffer keeps the newest `capacity` events and reports the dropped ones once', () => {
  const b = new EventBuffer(3);
  const occ = (i: number) => ({ key: `k${i}`, event: { t: 1000 + i, kind: 'kubernetes', reason: `R${i}`, message: '', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 1 } });
  for (let i = 0; i < 5; i++) b.push(occ(i));
  b.push(occ(4)); // a repeat of an occurrence already taken
  assert.equal(b.size, 3);
  const out = b.drain(9999);
  assert.deepEqual(out.map((e) => e.reason), ['EventsDropped', 'R2', 'R3', 'R4']);
  assert.equal(out[0]!.count, 2);
  assert.equal(out[0]!.t, 9999);
  assert.match(out[0]!.message, /dropped the 2 oldest warning events \(from 1970-01-01T00:00:01\.000Z to 1970-01-01T00:00:01\.001Z\)/);
  assert.deepEqual(b.drain(10_000), []);
  b.push(occ(5));
  assert.deepEqual(b.drain(10_001).map((e) => e.reason), ['R5']);
});

test('a pod resolves to its workload through ReplicaSet owners, names, and CronJob job names', () => {
  const pods = fixtureItems('pods.json') as unknown as V1Pod[];
  const byName = (n: string) => pods.find((p) => p.metadata?.name === n)!;
  const rs = new Map([['pos/pos-api-6d8f7b9c4f', { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'pos-api', uid: 'u', controller: true }] } }]]);
  assert.deepEqual(workloadOf(byName('pos-api-6d8f7b9c4f-7xkqp'), rs), { kind: 'Deployment', name: 'pos-api' });
  assert.deepEqual(workloadOf(byName('pos-api-6d8f7b9c4f-7xkqp'), undefined), { kind: 'Deployment', name: 'pos-api' }, 'by pod-template-hash');
  assert.deepEqual(workloadOf(byName('pos-db-0'), undefined), { kind: 'StatefulSet', name: 'pos-db' });
  assert.deepEqual(workloadOf(byName('nightly-export-28512000-x7k2p'), undefined), { kind: 'CronJob', name: 'nightly-export' });
  // A ReplicaSet of another controller (an Argo Rollout) keeps that controller.
  const rollout = new Map([['pos/pos-api-6d8f7b9c4f', { metadata: { ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'pos-api', uid: 'u', controller: true }] } }]]);
  assert.deepEqual(workloadOf(byName('pos-api-6d8f7b9c4f-7xkqp'), rollout), { kind: 'Rollout', name: 'pos-api' });
  // No hash label and no ReplicaSet: the ReplicaSet itself.
  const bare = structuredClone(byName('pos-api-6d8f7b9c4f-7xkqp'));
  delete bare.metadata!.labels!['pod-template-hash'];
  assert.deepEqual(workloadOf(bare, undefined), { kind: 'ReplicaSet', name: 'pos-api-6d8f7b9c4f' });
  // No owner, or a static pod owned by its Node: the pod itself.
  delete bare.metadata!.ownerReferences;
  assert.deepEqual(workloadOf(bare, undefined), { kind: 'Pod', name: 'pos-api-6d8f7b9c4f-7xkqp' });
  bare.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'shop-0142-srv1', uid: 'n', controller: true }];
  assert.deepEqual(workloadOf(bare, undefined), { kind: 'Pod', name: 'pos-api-6d8f7b9c4f-7xkqp' });
});

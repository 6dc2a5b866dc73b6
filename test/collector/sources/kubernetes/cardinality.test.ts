// Pod series stay bounded by workloads, not pods: 50 pods of one Deployment in a seeded mix of
// states give one series per waiting reason, one per phase, one restart sum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesSource } from '../../../../collector/sources/kubernetes/index.js';
import { randomInt, seededRandom, seedFromEnv } from '../../../../common/random.js';
import { fixtureItems, KubeApiServer } from '../../../helpers/kube-api-server.js';
import { collectContext, deps, sourceConfig, tempDir, writeKubeconfig } from './helpers.js';
import { sorted } from './site-samples.js';

const SEED = seedFromEnv(20240416);

interface PodShape {
  metadata: { name: string; uid: string };
  status: { phase: string; initContainerStatuses?: unknown; containerStatuses: { restartCount: number; state: unknown }[] };
}

test(`50 pods of one Deployment aggregate to one series per reason (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const reasons = ['ImagePullBackOff', 'CrashLoopBackOff', 'ErrImagePull', 'ContainerCreating'];
  const template = fixtureItems('pods.json').find((p) => p.metadata.name === 'pos-api-7c9f8d6b5d-q8w2x')!;
  const waiting = new Map<string, number>();
  const phases = new Map<string, number>();
  let restarts = 0;
  const pods = Array.from({ length: 50 }, (_, i) => {
    const pod = structuredClone(template) as unknown as PodShape;
    pod.metadata.name = `pos-api-7c9f8d6b5d-${String(i).padStart(5, 'x')}`;
    pod.metadata.uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    delete pod.status.initContainerStatuses;
    const pick = randomInt(random, 0, reasons.length); // reasons.length: running
    const restartCount = randomInt(random, 0, 9);
    restarts += restartCount;
    const cs = pod.status.containerStatuses[0]!;
    cs.restartCount = restartCount;
    if (pick < reasons.length) {
      cs.state = { waiting: { reason: reasons[pick] } };
      pod.status.phase = 'Pending';
      waiting.set(reasons[pick]!, (waiting.get(reasons[pick]!) ?? 0) + 1);
    } else {
      cs.state = { running: { startedAt: '2024-04-16T09:20:00Z' } };
      pod.status.phase = 'Running';
    }
    phases.set(pod.status.phase, (phases.get(pod.status.phase) ?? 0) + 1);
    return pod as unknown as ReturnType<typeof fixtureItems>[number];
  });
  assert.ok(waiting.size >= 3, `seed ${SEED} should mix states`);

  const server = await KubeApiServer.start();
  const { dir, cleanup } = await tempDir();
  server.load('pods', pods);
  server.load('replicasets', fixtureItems('replicasets.json'));
  const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false, gitops: false }), deps());
  try {
    const { samples } = await source.collect(collectContext());
    const l = { namespace: 'pos', workload_kind: 'Deployment', workload: 'pos-api' };
    assert.deepEqual(samples, sorted([
      { name: 'kube_workload_container_restarts_total', labels: l, type: 'float', value: restarts },
      ...[...phases].map(([phase, n]) => ({ name: 'kube_workload_pods', labels: { ...l, phase }, type: 'float' as const, value: n })),
      ...[...waiting].map(([reason, n]) => ({ name: 'kube_workload_containers_waiting', labels: { ...l, reason }, type: 'float' as const, value: n })),
    ]), `seed ${SEED}`);
    assert.ok(samples.length <= 1 + 2 + reasons.length);
  } finally {
    await source.close?.();
    await server.close();
    await cleanup();
  }
});

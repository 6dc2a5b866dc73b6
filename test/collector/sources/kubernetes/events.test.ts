// The warning-event watch against the test API server: list then watch, resume after a dropped
// connection from the last resourceVersion, BOOKMARKs, 410 Gone, drained once, stopped by close.
// No sleeps: every wait is on a request the server saw or a line the source logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesSource } from '../../../../collector/sources/kubernetes/index.js';
import type { Source } from '../../../../collector/sources/source.js';
import type { BlockEvent } from '../../../../proto/index.js';
import { fixtureItems, KubeApiServer } from '../../../helpers/kube-api-server.js';
import { collectContext, deps, loadSite, RecordingLogger, sourceConfig, tempDir, writeKubeconfig } from './helpers.js';
import { RECORDED_WARNINGS } from './site-samples.js';

interface Rig {
  server: KubeApiServer;
  source: Source;
  logger: RecordingLogger;
  /** Resolves once the source has read the watch line carrying resourceVersion `rv`. */
  received(rv: number): Promise<unknown>;
}

async function withRig(fn: (rig: Rig) => Promise<void>, configure?: (server: KubeApiServer) => void): Promise<void> {
  const server = await KubeApiServer.start();
  const { dir, cleanup } = await tempDir();
  const logger = new RecordingLogger();
  loadSite(server, false);
  configure?.(server);
  const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { gitops: false }), deps(logger));
  const received = (rv: number) => logger.waitFor((e) => e.message === 'kubernetes watch event' && e.fields.resourceVersion === String(rv));
  try {
    await fn({ server, source, logger, received });
  } finally {
    await source.close?.();
    await server.close();
    await cleanup();
  }
}

const [FAILED_SCHEDULING, EVICTED, PULLED] = fixtureItems('watch-events.json');

const failedScheduling: BlockEvent = {
  t: Date.parse('2024-04-16T09:41:12.482Z'), kind: 'kubernetes', reason: 'FailedScheduling',
  message: '0/2 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
  labels: { namespace: 'pos', object_kind: 'Pod', object_name: 'pos-api-7c9f8d6b5d-z4n8v' }, rangeMinT: 0, rangeMaxT: 0, count: 1,
};
const evicted: BlockEvent = {
  t: Date.parse('2024-04-16T09:44:05Z'), kind: 'kubernetes', reason: 'Evicted',
  message: 'The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, available: 1842204Ki. Container postgres was using 1203480Ki, request is 0, has larger consumption of ephemeral-storage. ',
  labels: { namespace: 'pos', object_kind: 'Pod', object_name: 'pos-db-0' }, rangeMinT: 0, rangeMaxT: 0, count: 1,
};

const isEventsWatch = (r: { resource?: string; watch: boolean }) => r.resource === 'events' && r.watch;
const isEventsList = (r: { resource?: string; watch: boolean }) => r.resource === 'events' && !r.watch;

test('the first collection lists recorded warnings and watches from the list resourceVersion; each event is reported once', async () => {
  await withRig(async ({ server, source }) => {
    const first = await source.collect(collectContext());
    assert.deepEqual(first.events, RECORDED_WARNINGS);
    const list = server.requests.find(isEventsList)!;
    assert.equal(list.query.get('fieldSelector'), 'type=Warning');
    const watch = await server.waitForWatch(isEventsWatch);
    assert.equal(watch.query.get('resourceVersion'), String(server.resourceVersion));
    assert.equal(watch.query.get('allowWatchBookmarks'), 'true');
    assert.equal(watch.query.get('fieldSelector'), 'type=Warning');
    assert.deepEqual((await source.collect(collectContext())).events, []);
  });
});

test('warnings pushed into the open watch arrive in the next collection; Normal events never do', async () => {
  await withRig(async ({ server, source, received }) => {
    await source.collect(collectContext());
    await server.waitForWatch(isEventsWatch);
    server.emit('events', 'ADDED', PULLED!);
    const rv = server.emit('events', 'ADDED', FAILED_SCHEDULING!);
    await received(rv);
    assert.deepEqual((await source.collect(collectContext())).events, [failedScheduling]);
    // A repeat (count 1 -> 2, later time) is a new occurrence.
    const repeat = structuredClone(EVICTED!);
    const rv1 = server.emit('events', 'ADDED', repeat);
    repeat.count = 2;
    repeat.lastTimestamp = '2024-04-16T09:49:05Z';
    const rv2 = server.emit('events', 'MODIFIED', repeat);
    await received(rv1);
    await received(rv2);
    assert.deepEqual((await source.collect(collectContext())).events, [evicted, { ...evicted, t: Date.parse('2024-04-16T09:49:05Z'), count: 2 }]);
  });
});

test('after a dropped connection the watch resumes from the last resourceVersion and gets what it missed', async () => {
  await withRig(async ({ server, source, received }) => {
    await source.collect(collectContext());
    await server.waitForWatch(isEventsWatch);
    const rv1 = server.emit('events', 'ADDED', EVICTED!);
    await received(rv1);
    // Hold the reconnect so that an event is written while the source is disconnected.
    const since = server.nextSeq;
    const release = server.hold((r) => isEventsWatch(r) && r.seq >= since);
    assert.equal(server.dropWatches('events', 'destroy'), 1);
    const reconnect = await server.waitForRequest(isEventsWatch, since);
    assert.equal(reconnect.query.get('resourceVersion'), String(rv1));
    const rv2 = server.emit('events', 'ADDED', FAILED_SCHEDULING!);
    release();
    await received(rv2);
    assert.deepEqual((await source.collect(collectContext())).events, [evicted, failedScheduling]);
    assert.equal(server.requests.filter(isEventsList).length, 1, 'no re-list');
  });
});

test('a BOOKMARK moves the resourceVersion the watch resumes from', async () => {
  await withRig(async ({ server, source, received }) => {
    await source.collect(collectContext());
    await server.waitForWatch(isEventsWatch);
    const rv = server.bookmark('events');
    await received(rv);
    const since = server.nextSeq;
    server.dropWatches('events', 'end');
    const again = await server.waitForWatch(isEventsWatch, since);
    assert.equal(again.query.get('resourceVersion'), String(rv));
    assert.deepEqual((await source.collect(collectContext())).events, []);
  });
});

for (const goneAs of ['event', 'http'] as const) {
  test(`410 Gone (${goneAs === 'event' ? 'an ERROR event with a Status' : 'HTTP 410'}) makes the watch list again, without reporting events twice`, async () => {
    await withRig(async ({ server, source, received }) => {
      server.goneAs = goneAs;
      assert.deepEqual((await source.collect(collectContext())).events, RECORDED_WARNINGS);
      await server.waitForWatch(isEventsWatch);
      const rv1 = server.emit('events', 'ADDED', EVICTED!);
      await received(rv1);
      const since = server.nextSeq;
      const release = server.hold((r) => isEventsWatch(r) && r.seq >= since);
      server.dropWatches('events', 'end');
      const stale = await server.waitForRequest(isEventsWatch, since);
      assert.equal(stale.query.get('resourceVersion'), String(rv1));
      // While disconnected: a new warning, then the history is compacted past rv1.
      server.emit('events', 'ADDED', FAILED_SCHEDULING!);
      server.compact('events');
      release();
      const relist = await server.waitForRequest(isEventsList, since);
      const fresh = await server.waitForWatch(isEventsWatch, relist.seq);
      assert.equal(fresh.query.get('resourceVersion'), String(server.resourceVersion));
      // The re-list returned everything again; only the warning not yet reported comes out.
      assert.deepEqual((await source.collect(collectContext())).events, [evicted, failedScheduling]);
    });
  });
}

test('forbidden events: the collection goes on, one EventsUnavailable event, then EventsRecovered when allowed', async () => {
  await withRig(async ({ server, source, logger }) => {
    const first = await source.collect(collectContext());
    assert.ok(first.samples.length > 0);
    assert.equal(first.events.length, 1);
    assert.equal(first.events[0]!.reason, 'EventsUnavailable');
    assert.match(first.events[0]!.message, /refused to list events in all namespaces: 403 Forbidden.*cannot list resource "events"/);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 1);
    server.allowAll();
    await logger.waitFor((e) => e.message === 'kubernetes warning events available again');
    const second = await source.collect(collectContext());
    assert.deepEqual(second.events.map((e) => e.reason), ['EventsRecovered', ...RECORDED_WARNINGS.map((e) => e.reason)]);
    assert.deepEqual(second.events.slice(1), RECORDED_WARNINGS);
  }, (server) => server.forbid('events'));
});

test('close stops the watch and closes its connection', async () => {
  await withRig(async ({ server, source }) => {
    await source.collect(collectContext());
    await server.waitForWatch(isEventsWatch);
    await source.close?.();
    await server.waitForWatchesClosed('events');
    assert.equal(server.openWatches('events'), 0);
    await assert.rejects(source.collect(collectContext()), { code: 'DW_SOURCE_FAILED' });
  });
});

// The agent's shipping loop on ManualTimers: a sync at start, on wake and every syncInterval;
// heartbeats on their own interval, also while an upload hangs; a clean stop on abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualTimers } from '../../common/timers.js';
import { createShipper, createWake, ShipperErrorCode, type SyncSummary } from '../../shipper/index.js';
import { fixture, MIN, sealBlocks, SITE, T0, transportTo } from './helpers.js';

/** Summaries as the loop reports them, and a way to wait for the next one. */
function syncs(): { all: SyncSummary[]; next(): Promise<SyncSummary>; onSync(s: SyncSummary): void } {
  const all: SyncSummary[] = [];
  let waiters: ((s: SyncSummary) => void)[] = [];
  return {
    all,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    onSync(s) {
      all.push(s);
      const w = waiters;
      waiters = [];
      for (const r of w) r(s);
    },
  };
}

test('run: syncs at start, when woken and every syncInterval; heartbeats go on while an upload hangs; abort stops it cleanly', async () => {
  const f = await fixture();
  const timers = new ManualTimers(f.clock);
  const t = transportTo(f.server, f.clock);
  try {
    const first = await sealBlocks(f.s.store, T0, 2);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, timers, agentStartTime: T0 });
    const wake = createWake();
    const s = syncs();
    const ac = new AbortController();
    let lastRound = T0 + 111;
    const heartbeat1 = f.server.waitFor('heartbeat');
    const firstSync = s.next();
    const running = shipper.run(ac.signal, {
      syncInterval: 10 * MIN, heartbeatInterval: 30_000, wake, onSync: s.onSync, lastRoundTime: () => lastRound,
    });
    assert.deepEqual((await firstSync).shipped, [first[1]!.id, first[0]!.id]);
    assert.equal(Number((await heartbeat1 as { lastRoundTime: number }).lastRoundTime), T0 + 111);

    // Woken by a newly sealed block: it ships at once, no timer moved.
    const [b] = await sealBlocks(f.s.store, T0 + 5 * MIN, 1, 3);
    const woken = s.next();
    wake.notify();
    assert.deepEqual((await woken).shipped, [b!.id]);
    assert.equal(f.clock.now(), T0);

    // Not woken: the next sync comes after syncInterval.
    const [c] = await sealBlocks(f.s.store, T0 + 6 * MIN, 1, 4);
    const byInterval = s.next();
    for (let i = 0; i < 20; i++) timers.advance(30_000); // 10 min, in heartbeat-sized steps
    assert.deepEqual((await byInterval).shipped, [c!.id]);

    // An upload that hangs does not hold the heartbeats back.
    f.server.holdUploads = true;
    const [d] = await sealBlocks(f.s.store, T0 + 7 * MIN, 1, 5);
    const began = f.server.waitFor('begin');
    wake.notify();
    await began;
    const before = f.server.log.heartbeats.length;
    lastRound = T0 + 222;
    for (let k = 1; k <= 3; k++) {
      const hb = f.server.waitFor('heartbeat');
      timers.advance(30_000);
      await hb;
      assert.equal(f.server.log.heartbeats.length, before + k);
    }
    const hb = f.server.log.heartbeats.at(-1)!;
    assert.deepEqual([Number(hb.backlogBlocks), Number(hb.lastRoundTime), Number(hb.agentStartTime)], [1, T0 + 222, T0]);

    // Stop: the hanging upload is abandoned, the block stays unshipped and unpinned, run resolves.
    const last = s.next();
    ac.abort(new Error('agent stopping'));
    await running;
    const stopped = await last;
    assert.equal(stopped.outcome, 'aborted');
    assert.equal(stopped.error?.code, ShipperErrorCode.Aborted);
    assert.deepEqual((await f.s.store.listUnshipped({ order: 'oldest-first' })).map((x) => x.id), [d!.id]);
    assert.equal(f.s.store.stats().pinnedBlocks, 0);
    assert.equal(timers.pending, 0, 'no timer left armed');
    wake.notify(); // after the stop: nothing listens
    assert.equal(s.all.length, 4);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('run: a heartbeat unanswered within heartbeatInterval is abandoned before the next; a wake during a sync runs another', async () => {
  const f = await fixture();
  const timers = new ManualTimers(f.clock);
  const t = transportTo(f.server, f.clock);
  try {
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, timers });
    const wake = createWake();
    const s = syncs();
    const ac = new AbortController();
    f.server.holdHeartbeats = true;
    const first = s.next();
    const hb1 = f.server.waitFor('heartbeat');
    const running = shipper.run(ac.signal, { syncInterval: 60_000, heartbeatInterval: 5_000, wake, onSync: s.onSync });
    assert.equal((await first).outcome, 'done', 'an empty store needs no Hello');
    await hb1;
    const cancelled = f.server.waitFor('heartbeat-cancelled');
    const hb2 = f.server.waitFor('heartbeat');
    timers.advance(5_000);
    await cancelled;
    await hb2;
    assert.equal(f.server.log.heartbeats.length, 2);
    assert.equal(f.server.heldHeartbeats, 1, 'the first was cancelled: one heartbeat in flight at a time');

    // A wake during a sync: when it ends, another sync runs at once (no timer moves).
    const [a] = await sealBlocks(f.s.store, T0, 1);
    let b = '';
    void f.server.waitFor<{ id: string }>('begin', (x) => x.id === a!.id).then(async () => {
      b = (await sealBlocks(f.s.store, T0 + 5 * MIN, 1, 3))[0]!.id;
      wake.notify();
    });
    const two = new Promise<void>((resolve) => {
      void s.next().then(() => s.next()).then(() => resolve());
    });
    const now = f.clock.now();
    wake.notify();
    await two;
    assert.equal(f.clock.now(), now);
    assert.deepEqual(s.all.slice(1).flatMap((x) => x.shipped), [a!.id, b]);
    const cancelledOnStop = f.server.waitFor('heartbeat-cancelled');
    ac.abort();
    await running;
    await cancelledOnStop;
    assert.equal(f.server.heldHeartbeats, 0, 'the held heartbeat was cancelled on stop');
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('run refuses a bad interval', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    await assert.rejects(shipper.run(new AbortController().signal, { syncInterval: 0, heartbeatInterval: 1000 }),
      (e: unknown) => (e as { code?: string }).code === ShipperErrorCode.InvalidOptions);
  } finally {
    t.close();
    await f.cleanup();
  }
});

// End to end on loopback: a real edge store and shipper, the real aggregator (TLS, a per-site
// token) and a TCP fault proxy between them that cuts connections at random bytes, refuses
// them, blackholes them and throttles them to 1 Mbit/s, over outages from seconds to days on
// an injected clock. The oracle: every sample the agent stored is at the aggregator exactly
// once — lost = duplicated = unexpected = 0 — except ranges the agent reported as dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom, seedFromEnv } from '../../common/random.js';
import { syntheticRound } from '../collector/store/helpers.js';
import { describeResult } from './oracle.js';
import { startShippingRig, type ShippingRig } from './helpers.js';

const SEED = seedFromEnv(20261121);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Appends rounds every `step` ms over [from, to), compacting every hour; ships after each seal when `ship`. */
async function appendRange(rig: ShippingRig, random: () => number, from: number, to: number, step: number, ship: boolean): Promise<number> {
  let sealed = 0;
  for (let t = from; t < to; t += step) {
    rig.s.clock.set(t);
    const info = await rig.s.store.appendRound(syntheticRound(t, random, { series: 40, events: true }));
    if (info === undefined) continue;
    sealed++;
    if (t % HOUR < step) await rig.s.store.compact();
    if (ship) {
      const sum = await rig.shipper.sync();
      assert.equal(sum.outcome, 'done', `sync after a seal: ${sum.error?.message ?? ''}`);
    }
  }
  return sealed;
}

/** Runs one sync that must fail to get through, aborting it once `until` resolves. */
async function syncDuringOutage(rig: ShippingRig, until: Promise<unknown>): Promise<void> {
  const ac = new AbortController();
  void until.then(() => ac.abort(new Error('outage continues')), () => ac.abort(new Error('outage continues')));
  const sum = await rig.shipper.sync(ac.signal);
  assert.notEqual(sum.outcome, 'done', 'nothing gets through a dead link');
}

test(`cut, refused, blackholed and throttled links over outages from seconds to two days: nothing lost, nothing twice (seed ${SEED})`, async () => {
  const rig = await startShippingRig({ seed: SEED, transport: { callTimeouts: { helloMs: 1_500, heartbeatMs: 1_500, uploadIdleMs: 2_000 } } });
  const random = seededRandom(SEED);
  try {
    const t0 = rig.s.clock.now();
    // 1. Half an hour at 15 s through a link that cuts connections at random bytes.
    rig.proxy.setMode({ kind: 'cutRandomly', meanBytesBetweenCuts: 6_000 });
    assert.ok(await appendRange(rig, random, t0 + 1_000, t0 + 30 * MIN, 15_000, true) >= 5);
    const cutsAfterPhase1 = rig.proxy.stats.cuts;
    assert.ok(cutsAfterPhase1 > 0, 'the link was cut');

    // 2. A two-day outage (connections refused), rounds every minute, hourly compaction.
    rig.proxy.setMode('refuse');
    const outageStart = t0 + 30 * MIN;
    await appendRange(rig, random, outageStart, outageStart + 2 * DAY, MIN, false);
    const refusedBefore = rig.proxy.stats.refused;
    await syncDuringOutage(rig, rig.proxy.whenStats((st) => st.refused >= refusedBefore + 3, 20_000));

    // 3. The link comes back as a blackhole: connections open, nothing answers.
    rig.proxy.setMode('blackhole');
    await syncDuringOutage(rig, rig.proxy.whenStats((st) => st.bytesDiscarded > 0, 20_000));

    // 4. Back through a 1 Mbit/s link with 20 ms latency: the newest block first, then the backlog.
    rig.proxy.setMode({ kind: 'throttle', bytesPerSecond: 125_000 });
    const pending = await rig.s.store.listUnshipped({ order: 'newest-first' });
    assert.ok(pending.length >= 3, `${pending.length} blocks in the backlog`);
    assert.ok(pending.some((b) => b.level > 0), 'the backlog was compacted during the outage');
    const sum = await rig.shipper.sync();
    assert.equal(sum.outcome, 'done', sum.error?.message);
    assert.equal(sum.shipped[0], pending[0]!.id, 'the newest block went first');
    assert.deepEqual(await rig.s.store.listUnshipped(), [], 'everything shipped');

    // 5. A few more seconds-long outages while rounds continue at 15 s.
    let t = rig.s.clock.now() + 15_000;
    for (const mode of ['cut', 'refuse', 'pass'] as const) {
      rig.proxy.setMode(mode);
      await appendRange(rig, random, t, t + 6 * MIN, 15_000, mode === 'pass');
      t += 6 * MIN;
    }
    await rig.s.store.flush();
    rig.proxy.setMode('pass');
    assert.equal((await rig.shipper.sync()).outcome, 'done');

    const r = await rig.oracle();
    assert.ok(r.edgeSamples > 100_000, describeResult(r));
    assert.equal(r.lost.length, 0, describeResult(r));
    assert.equal(r.duplicated.length, 0, describeResult(r));
    assert.equal(r.unexpected.length, 0, describeResult(r));
    assert.equal(r.droppedRanges.length, 0, 'nothing was dropped at the edge');
  } finally {
    await rig.cleanup();
  }
});

test(`an outage longer than the disk budget holds: the edge drops the oldest unshipped data, says so, and every other sample arrives once (seed ${SEED})`, async () => {
  const rig = await startShippingRig({ seed: SEED + 1, store: { diskBudget: 48 * 1024 } });
  const random = seededRandom(SEED + 1);
  try {
    const t0 = rig.s.clock.now();
    rig.proxy.setMode('refuse');
    await appendRange(rig, random, t0 + 1_000, t0 + 3 * DAY, 2 * MIN, false);
    await rig.s.store.flush();
    const st = rig.s.store.stats();
    assert.ok(st.totals.unshippedBlocksDropped > 0, `retention dropped unshipped blocks: ${JSON.stringify(st)}`);
    rig.proxy.setMode({ kind: 'cutRandomly', meanBytesBetweenCuts: 20_000 });
    const sum = await rig.shipper.sync();
    assert.equal(sum.outcome, 'done', sum.error?.message);
    const r = await rig.oracle();
    assert.ok(r.droppedRanges.length > 0, 'the center holds the data_dropped events');
    assert.ok(r.droppedRanges[0]!.minT <= t0 + 1_000, 'the dropped range starts at the oldest data');
    assert.equal(r.lost.length, 0, describeResult(r));
    assert.equal(r.duplicated.length, 0, describeResult(r));
    assert.equal(r.unexpected.length, 0, describeResult(r));
  } finally {
    await rig.cleanup();
  }
});

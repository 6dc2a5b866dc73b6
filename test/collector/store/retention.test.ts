import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import type { Round } from '../../../proto/index.js';
import { planRetention } from '../../../collector/store/retention.js';
import type { BlockInfo } from '../../../collector/store/index.js';
import { blockEvents, openTestStore, syntheticRound, T0 } from './helpers.js';

const MIN = 60_000;

test('over budget: shipped blocks go first, oldest first; then unshipped, with a data_dropped event in the next block', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const random = seededRandom(13);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 4; j++) await s.store.appendRound(syntheticRound(T0 + i * MIN + j * 15_000, random, { series: 30 }));
    }
    await s.store.flush();
    const blocks = await s.store.listBlocks();
    assert.equal(blocks.length, 6);
    const [b0, b1, b2, b3, b4, b5] = blocks as [BlockInfo, BlockInfo, BlockInfo, BlockInfo, BlockInfo, BlockInfo];
    await s.store.markShipped(b1.id);
    await s.store.markShipped(b3.id);
    const total = s.store.stats().storedBytes;
    // Room for everything but b1, b3 and b0: b1 and b3 (shipped) go, then b0 (the oldest unshipped).
    const budget = total - b1.bytes - b3.bytes - Math.ceil(b0.bytes / 2);
    await s.reopen({ diskBudget: budget });
    await s.store.flush(); // nothing to seal; retention runs
    assert.deepEqual((await s.store.listBlocks()).map((b) => b.id), [b2.id, b4.id, b5.id]);
    const stats = s.store.stats();
    assert.ok(stats.storedBytes <= budget);
    assert.equal(stats.totals.shippedBlocksDeleted, 2);
    assert.equal(stats.totals.unshippedBlocksDropped, 1);
    assert.equal(stats.totals.roundsDropped, 4);
    assert.equal(stats.pendingEvents, 1);
    assert.ok(s.warnings.some((w) => w.includes('data_dropped')));

    // The event survives a restart and goes into the next sealed block, inside its time range.
    await s.reopen({ diskBudget: 1 << 30 });
    await s.store.appendRound(syntheticRound(T0 + 10 * MIN, random));
    const sealed = await s.store.flush();
    assert.ok(sealed !== undefined);
    assert.equal(sealed.minT, T0 + 10 * MIN);
    assert.equal(sealed.maxT, T0 + 10 * MIN);
    const events = await blockEvents(s.store, sealed.id);
    assert.equal(events.length, 1);
    assert.match(events[0]!.labels.seal_ranges ?? '', /^1-1$/, 'the event names the dropped seal index');
    assert.deepEqual({ ...events[0], message: '', labels: {} }, {
      t: T0 + 10 * MIN, kind: 'data_dropped', reason: 'disk_budget', message: '', labels: {},
      rangeMinT: b0.minT, rangeMaxT: b0.maxT, count: 4,
    });
    assert.equal(s.store.stats().pendingEvents, 0);
    assert.equal(sealed.droppedRangeMinT, b0.minT);
  } finally {
    await s.cleanup();
  }
});

test('dropping a block that explained an earlier gap widens the new event, so every gap stays explained', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const random = seededRandom(17);
    // The same 30 float series in every round: blocks of near-equal size.
    const round = (t: number): Round => ({
      t, samples: Array.from({ length: 30 }, (_, k) => ({ name: 'node_load1', labels: { cpu: String(k) }, type: 'float' as const, value: Math.floor(random() * 1000) })),
    });
    const seal = async (i: number): Promise<BlockInfo> => {
      for (let j = 0; j < 4; j++) await s.store.appendRound(round(T0 + i * MIN + j * 15_000));
      const b = await s.store.flush();
      assert.ok(b !== undefined);
      return b;
    };
    const a = await seal(0);
    // Room for about one and a half blocks: each seal drops the block before it.
    await s.reopen({ diskBudget: s.store.stats().storedBytes + Math.floor(a.bytes / 2) });
    const b = await seal(1); // drops a: E1 [a] pending
    assert.deepEqual((await s.store.listBlocks()).map((x) => x.id), [b.id]);
    const c = await seal(2); // c carries E1; drops b: E2 [b] pending
    assert.equal(c.droppedRangeMinT, a.minT);
    await seal(3); // carries E2; drops c, which explained a's gap: E3 must cover a, b and c
    const pending = s.store.stats().pendingEvents;
    assert.equal(pending, 1);
    const d = await seal(4);
    const events = await blockEvents(s.store, d.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.rangeMinT, a.minT, 'the widened range starts at the first gap');
    assert.equal(events[0]!.rangeMaxT, c.maxT);
  } finally {
    await s.cleanup();
  }
});

test('the retention planner skips pinned blocks and deletes quarantined ones after shipped ones', () => {
  const mk = (id: string, minT: number, shipped: boolean): BlockInfo => ({
    id, minT, maxT: minT + 9, sequence: minT, level: 0, bytes: 10, numRounds: 1, numSeries: 1, numSamples: 1, numEvents: 0, replaces: [], createdAt: 0, shipped,
  });
  const blocks = [mk('a', 0, false), mk('b', 10, true), mk('c', 20, true), mk('d', 30, false), mk('e', 40, false)];
  const plan = planRetention({
    blocks, quarantined: [{ id: 'q', reason: 'x', code: 'DW_BLOCK_CHECKSUM_MISMATCH', quarantinedAt: 5, bytes: 10 }],
    otherBytes: 0, budget: 30, isPinned: (id) => id === 'b' || id === 'a',
  });
  assert.deepEqual(plan.deleteShipped.map((b) => b.id), ['c']);
  assert.deepEqual(plan.deleteQuarantined.map((q) => q.id), ['q']);
  assert.deepEqual(plan.dropUnshipped.map((b) => b.id), ['d']);
  assert.equal(plan.bytesAfter, 30); // a (pinned), b (pinned), e
});

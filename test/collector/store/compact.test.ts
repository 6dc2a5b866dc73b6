import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import type { Round } from '../../../proto/index.js';
import { blockToRounds, decodeBlock } from '../../../proto/index.js';
import type { BlockInfo } from '../../../collector/store/index.js';
import { planCompaction } from '../../../collector/store/compact.js';
import { normalizeRound, openTestStore, readAllRounds, syntheticRound, T0, type TestStore } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

async function appendEvery(s: TestStore, from: number, to: number, step: number, random: () => number, out: Round[]): Promise<void> {
  for (let t = from; t < to; t += step) {
    const round = syntheticRound(t, random);
    s.clock.set(t);
    await s.store.appendRound(round);
    out.push(round);
  }
}

test('compaction merges past aligned windows, largest first, with transitive replaces and levels', async () => {
  const s = await openTestStore({ blockDuration: 5 * MIN, maxBlockSpan: 6 * HOUR, compactionWindows: [HOUR, 6 * HOUR] });
  try {
    const random = seededRandom(42);
    const appended: Round[] = [];
    await appendEvery(s, T0, T0 + 7 * HOUR + MIN, MIN, random, appended);
    assert.equal((await s.store.listBlocks()).length, 84);
    const first = await s.store.compact();
    // [T0, T0+6h) is past: one 6 h block of 72; [6h, 7h) is past and before the head: one 1 h block of 12.
    assert.deepEqual(first.created.map((b) => [b.minT - T0, b.maxT - T0, b.level, b.replaces.length]), [
      [0, 6 * HOUR - MIN, 1, 72],
      [6 * HOUR, 7 * HOUR - MIN, 1, 12],
    ]);
    assert.equal(first.replaced, 84);
    const hourBlock = first.created[1]!;
    // Nothing more is due.
    assert.equal((await s.store.compact()).created.length, 0);

    await appendEvery(s, T0 + 7 * HOUR + MIN, T0 + 12 * HOUR + 5 * MIN, MIN, random, appended);
    const before = await s.store.listBlocks();
    const second = await s.store.compact();
    const six = second.created.find((b) => b.minT === T0 + 6 * HOUR)!;
    assert.ok(six !== undefined, 'the second 6 h window is merged');
    assert.equal(six.level, 2);
    assert.equal(six.maxT, T0 + 12 * HOUR - MIN);
    // It replaces the 1 h block, the 12 blocks inside that, and the 60 5-minute blocks after it: 73 ids.
    const inputs = before.filter((b) => b.minT >= T0 + 6 * HOUR && b.maxT < T0 + 12 * HOUR);
    assert.equal(inputs.length, 61);
    assert.deepEqual(new Set(six.replaces), new Set([...hourBlock.replaces, ...inputs.map((b) => b.id)]));
    assert.equal(six.replaces.length, 73);
    assert.ok(six.sequence > hourBlock.sequence);

    // The header says the same, and every round is still there exactly once.
    const read = await s.store.readBlock(six.id);
    assert.equal(read.status, 'ok');
    if (read.status === 'ok') {
      const block = decodeBlock(read.bytes);
      assert.equal(block.header.level, 2);
      assert.equal(block.header.replaces.length, 73);
      assert.equal(blockToRounds(block.data).length, 6 * 60);
    }
    const { rounds } = await readAllRounds(s.store);
    assert.deepEqual(rounds.map(normalizeRound), appended.map(normalizeRound));
    assert.equal(s.store.stats().totals.compactions, 3);

    // Ids compacted away point at the block that holds them now.
    const gone = hourBlock.replaces[3]!;
    assert.deepEqual(await s.store.markShipped(gone), { status: 'replaced', by: six.id });
    assert.deepEqual(await s.store.readBlock(hourBlock.id), { status: 'replaced', by: six.id });
    await s.reopen();
    assert.deepEqual(await s.store.markShipped(gone), { status: 'replaced', by: six.id });
  } finally {
    await s.cleanup();
  }
});

test('compaction leaves windows that are not entirely past, and shipped or pinned blocks', async () => {
  const s = await openTestStore({ blockDuration: 5 * MIN, maxBlockSpan: HOUR, compactionWindows: [HOUR] });
  try {
    const random = seededRandom(7);
    const appended: Round[] = [];
    await appendEvery(s, T0, T0 + 50 * MIN, MIN, random, appended);
    await s.store.flush();
    s.clock.set(T0 + HOUR - 1);
    assert.equal((await s.store.compact()).created.length, 0, 'the window ends in the future');

    const blocks = await s.store.listBlocks(); // 10 blocks of 5 minutes
    assert.equal(blocks.length, 10);
    assert.equal((await s.store.markShipped(blocks[2]!.id)).status, 'marked');
    assert.equal(await s.store.pin(blocks[6]!.id), true);
    assert.equal(await s.store.pin('01ARZ3NDEKTSV4RRFFQ69G5FAV'), false);
    s.clock.set(T0 + HOUR);
    const result = await s.store.compact();
    // Runs: [0,1] | shipped 2 | [3,4,5] | pinned 6 | [7,8,9]
    assert.deepEqual(result.created.map((b) => b.replaces), [
      [blocks[0]!.id, blocks[1]!.id],
      [blocks[3]!.id, blocks[4]!.id, blocks[5]!.id],
      [blocks[7]!.id, blocks[8]!.id, blocks[9]!.id],
    ]);
    const after = await s.store.listBlocks();
    assert.ok(after.some((b) => b.id === blocks[2]!.id && b.shipped));
    assert.ok(after.some((b) => b.id === blocks[6]!.id));
    assert.equal(s.store.stats().pinnedBlocks, 1);

    // Once unpinned, the pinned block and its neighbours merge (the shipped one still splits).
    s.store.unpin(blocks[6]!.id);
    s.store.unpin(blocks[6]!.id); // extra unpins are harmless
    const next = await s.store.compact();
    assert.equal(next.created.length, 1);
    assert.equal(next.created[0]!.level, 2);
    assert.equal(next.created[0]!.replaces.length, 9);
    const { rounds } = await readAllRounds(s.store);
    assert.deepEqual(rounds.map(normalizeRound), appended.map(normalizeRound));
  } finally {
    await s.cleanup();
  }
});

function info(id: string, minT: number, maxT: number, sequence: number, extra: Partial<BlockInfo> = {}): BlockInfo {
  return {
    id, minT, maxT, firstRoundT: minT, lastRoundT: maxT, sequence, level: 0, bytes: 100, numRounds: 1, numSeries: 1, numSamples: 1,
    numEvents: 0, replaces: [], createdAt: 0, shipped: false, ...extra,
  };
}

test('the planner splits runs where rounds overlap, and merges in time order whatever the sequence', () => {
  const blocks = [
    info('A', 0, 9, 1), info('B', 10, 19, 2), info('C', 15, 29, 3), // C overlaps B (a clock step)
    info('D', 30, 39, 4), info('E', 40, 49, 6), info('F', 50, 59, 5), // F sealed before E: fine
    info('G', 100, 109, 7),
  ];
  const runs = planCompaction({ blocks, windows: [100], now: 1000, headFirstT: undefined, isPinned: () => false });
  assert.deepEqual(runs.map((r) => r.blocks.map((b) => b.id)), [['A', 'B'], ['C', 'D', 'E', 'F']]);
  // A window the head still writes into is not compacted.
  assert.deepEqual(planCompaction({ blocks, windows: [100], now: 1000, headFirstT: 60, isPinned: () => false }), []);
  // Events outside the rounds do not move a block out of its window.
  const late = [info('H', 195, 205, 8, { firstRoundT: 200, lastRoundT: 205 }), info('I', 210, 220, 9)];
  assert.deepEqual(planCompaction({ blocks: late, windows: [100], now: 1000, headFirstT: undefined, isPinned: () => false }).map((r) => r.blocks.map((b) => b.id)), [['H', 'I']]);
});

test('the planner leaves a run over the float-sample cap to the smaller windows, and cuts it in the smallest', () => {
  // Twelve 5-minute blocks an hour, 100 float samples each: an hour is 1,200, six hours 7,200.
  const blocks: BlockInfo[] = [];
  for (let i = 0; i < 72; i++) blocks.push(info(`B${String(i).padStart(2, '0')}`, i * 5 * MIN, i * 5 * MIN + 4 * MIN, i + 1, { numSamples: 150, numFloatSamples: 100 }));
  const plan = (maxFloatSamples: number | undefined): string[][] => planCompaction({ blocks, windows: [HOUR, 6 * HOUR], now: 7 * HOUR, headFirstT: undefined, isPinned: () => false, ...(maxFloatSamples === undefined ? {} : { maxFloatSamples }) })
    .map((r) => [`${r.window / HOUR}h`, ...r.blocks.map((b) => b.id)]);
  assert.deepEqual(plan(undefined).map((r) => [r[0], r.length - 1]), [['6h', 72]]);
  assert.deepEqual(plan(7_200).map((r) => [r[0], r.length - 1]), [['6h', 72]]);
  // Over the cap for 6 h: six 1 h blocks instead.
  assert.deepEqual(plan(7_199).map((r) => [r[0], r.length - 1]), [['1h', 12], ['1h', 12], ['1h', 12], ['1h', 12], ['1h', 12], ['1h', 12]]);
  // Over the cap even for 1 h: each hour cut into runs within it (5 + 5 + 2 blocks).
  const cut = plan(500);
  assert.deepEqual(cut.slice(0, 3), [['1h', 'B00', 'B01', 'B02', 'B03', 'B04'], ['1h', 'B05', 'B06', 'B07', 'B08', 'B09'], ['1h', 'B10', 'B11']]);
  assert.equal(cut.length, 18);
  // Infos written before numFloatSamples was kept count every sample.
  const old = blocks.map(({ numFloatSamples: _f, ...b }) => b);
  assert.equal(planCompaction({ blocks: old, windows: [HOUR, 6 * HOUR], now: 7 * HOUR, headFirstT: undefined, isPinned: () => false, maxFloatSamples: 7_200 })[0]!.window, HOUR);
});

test('compaction within the float-sample cap: hour blocks instead of a 6 h block, every round kept once', async () => {
  // syntheticRound has 6 float series at most: 12 blocks of 5 rounds hold at most 360 float samples an hour.
  const s = await openTestStore({ blockDuration: 5 * MIN, maxBlockSpan: 6 * HOUR, compactionWindows: [HOUR, 6 * HOUR], compactionMaxFloatSamples: 400 });
  try {
    const random = seededRandom(99);
    const appended: Round[] = [];
    await appendEvery(s, T0, T0 + 6 * HOUR + MIN, MIN, random, appended);
    const sealed = await s.store.listBlocks();
    assert.equal(sealed.length, 72);
    assert.ok(sealed.every((b) => b.numFloatSamples !== undefined && b.numFloatSamples > 0 && b.numFloatSamples < b.numSamples));
    const result = await s.store.compact();
    assert.deepEqual(result.created.map((b) => [(b.minT - T0) / HOUR, b.replaces.length, b.level]), [0, 1, 2, 3, 4, 5].map((h) => [h, 12, 1]));
    for (const b of result.created) assert.ok(b.numFloatSamples! <= 400, `block ${b.id} holds ${b.numFloatSamples} float samples`);
    // Nothing more: the 6 h window is over the cap, each hour is one block already.
    assert.equal((await s.store.compact()).created.length, 0);
    const { rounds } = await readAllRounds(s.store);
    assert.deepEqual(rounds.map(normalizeRound), appended.map(normalizeRound));
  } finally {
    await s.cleanup();
  }
});

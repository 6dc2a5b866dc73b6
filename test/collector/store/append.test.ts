import { test } from 'node:test';
import { access } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { isDriftwatchError } from '../../../common/errors.js';
import type { Round } from '../../../proto/index.js';
import { openEdgeStore } from '../../../collector/store/index.js';
import { normalizeRound, openTestStore, readAllRounds, SITE, syntheticRound, T0 } from './helpers.js';

const MIN = 60_000;

test('sealed blocks and the head hold exactly the appended rounds, blocks aligned to blockDuration', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const random = seededRandom(11);
    const appended: Round[] = [];
    for (let t = T0 + 7_000; t < T0 + 10 * MIN; t += 15_000) {
      const round = syntheticRound(t, random, { events: true });
      s.clock.set(t);
      await s.store.appendRound(round);
      appended.push(round);
    }
    const before = await s.store.listBlocks();
    assert.equal(before.length, 9); // minutes 0..8 sealed, minute 9 in the head
    for (const b of before) {
      const start = Math.floor(b.minT / MIN) * MIN;
      assert.ok(b.maxT < start + MIN, `block ${b.id} [${b.minT}, ${b.maxT}] crosses an aligned boundary`);
      assert.equal(b.level, 0);
      assert.deepEqual(b.replaces, []);
    }
    assert.deepEqual(before.map((b) => b.sequence), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(s.store.stats().headRounds, 4);
    const { rounds, events } = await readAllRounds(s.store);
    assert.deepEqual(rounds.map(normalizeRound), appended.map((r) => ({ ...normalizeRound(r), events: [] })));
    assert.deepEqual(events.map((e) => e.t), appended.flatMap((r) => (r.events ?? []).map((e) => e.t)));
    const sealed = await s.store.flush();
    assert.ok(sealed !== undefined);
    assert.equal(sealed.numRounds, 4);
    const after = await readAllRounds(s.store);
    assert.deepEqual(after.rounds.map(normalizeRound), rounds.map(normalizeRound));
    assert.equal(s.store.stats().headRounds, 0);
  } finally {
    await s.cleanup();
  }
});

test('a round at or past the aligned block end seals the head; appendRound returns that block', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const r = seededRandom(3);
    assert.equal(await s.store.appendRound(syntheticRound(T0 + 10_000, r)), undefined);
    assert.equal(await s.store.appendRound(syntheticRound(T0 + 59_999, r)), undefined);
    const first = await s.store.appendRound(syntheticRound(T0 + MIN, r));
    assert.ok(first !== undefined);
    assert.equal(first.minT, T0 + 10_000);
    assert.equal(first.maxT, T0 + 59_999);
    assert.equal(first.numRounds, 2);
    assert.equal(first.sequence, 1);
    // A gap of several blocks: the head of minute 1 is sealed alone.
    const second = await s.store.appendRound(syntheticRound(T0 + 5 * MIN + 1, r));
    assert.ok(second !== undefined);
    assert.deepEqual([second.minT, second.maxT, second.sequence], [T0 + MIN, T0 + MIN, 2]);
    assert.equal(s.store.stats().totals.blocksSealed, 2);
  } finally {
    await s.cleanup();
  }
});

test('reopening replays the head: the same rounds, and appends continue as deltas', async () => {
  const s = await openTestStore({ blockDuration: 10 * MIN });
  try {
    const random = seededRandom(5);
    const appended: Round[] = [];
    for (let i = 0; i < 6; i++) {
      const round = syntheticRound(T0 + i * 15_000, random, { events: true });
      await s.store.appendRound(round);
      appended.push(round);
    }
    const headBytes = s.store.stats().headBytes;
    await s.reopen();
    assert.deepEqual(s.store.headRounds().map(normalizeRound), appended.map(normalizeRound));
    assert.equal(s.store.stats().headBytes, headBytes);
    for (let i = 6; i < 12; i++) {
      const round = syntheticRound(T0 + i * 15_000, random);
      await s.store.appendRound(round);
      appended.push(round);
    }
    await s.reopen();
    await s.store.flush();
    await s.reopen();
    const { rounds } = await readAllRounds(s.store);
    assert.deepEqual(rounds.map(normalizeRound), appended.map((r) => ({ ...normalizeRound(r), events: [] })));
    assert.equal(s.store.stats().nextSequence, 2);
  } finally {
    await s.cleanup();
  }
});

test('a round that repeats the last one is stored as a near-empty delta', async () => {
  const s = await openTestStore({ blockDuration: 10 * MIN });
  try {
    const samples = syntheticRound(T0, seededRandom(9), { series: 40 }).samples;
    await s.store.appendRound({ t: T0, samples });
    const full = s.store.stats().headBytes;
    await s.store.appendRound({ t: T0 + 15_000, samples });
    const delta = s.store.stats().headBytes - full;
    assert.ok(full > 500, `the first round is written in full (${full} bytes)`);
    assert.ok(delta <= 24, `an unchanged round costs its key and a few bytes, found ${delta}`);
    // One value changed and one series gone: a few bytes more.
    const changed = samples.slice(1).map((x, i) => (i === 0 && x.type === 'float' ? { ...x, value: 1 } : x));
    await s.store.appendRound({ t: T0 + 30_000, samples: changed });
    assert.ok(s.store.stats().headBytes - full - delta <= 40);
    await s.reopen();
    assert.deepEqual(s.store.headRounds().map((r) => normalizeRound(r)), [
      normalizeRound({ t: T0, samples }), normalizeRound({ t: T0 + 15_000, samples }), normalizeRound({ t: T0 + 30_000, samples: changed }),
    ]);
  } finally {
    await s.cleanup();
  }
});

test('a round that steps back in time seals the head and starts a new one; nothing is lost', async () => {
  const s = await openTestStore({ blockDuration: 10 * MIN });
  try {
    const random = seededRandom(21);
    const ts = [T0 + 10_000, T0 + 20_000, T0 + 30_000, T0 + 15_000, T0 + 25_000, T0 + 30_000, T0 + 5_000];
    const appended = ts.map((t) => syntheticRound(t, random));
    const sealed: (unknown | undefined)[] = [];
    for (const r of appended) sealed.push(await s.store.appendRound(r));
    assert.deepEqual(sealed.map((x) => x !== undefined), [false, false, false, true, false, false, true]);
    await s.store.flush();
    const blocks = await s.store.listBlocks();
    assert.equal(blocks.length, 3);
    assert.equal(s.store.stats().totals.clockStepBacks, 2);
    assert.ok(s.warnings.some((w) => w.includes('stepped back')));
    const { rounds } = await readAllRounds(s.store);
    const key = (r: Round): string => JSON.stringify(normalizeRound({ t: r.t, samples: r.samples }));
    assert.deepEqual(rounds.map(key).sort(), appended.map(key).sort());
  } finally {
    await s.cleanup();
  }
});

test('a series that changes type seals the head first', async () => {
  const s = await openTestStore({ blockDuration: 10 * MIN });
  try {
    await s.store.appendRound({ t: T0, samples: [{ name: 'app_state', labels: {}, type: 'float', value: 1 }] });
    const sealed = await s.store.appendRound({ t: T0 + 1000, samples: [{ name: 'app_state', labels: {}, type: 'string', value: 'ok' }] });
    assert.ok(sealed !== undefined);
    await s.reopen();
    assert.deepEqual(s.store.headRounds().map(normalizeRound), [normalizeRound({ t: T0 + 1000, samples: [{ name: 'app_state', labels: {}, type: 'string', value: 'ok' }] })]);
  } finally {
    await s.cleanup();
  }
});

test('invalid rounds are refused with DW_STORE_INVALID_ROUND and nothing is written', async () => {
  const s = await openTestStore();
  try {
    const bad: unknown[] = [
      { t: -1, samples: [] },
      { t: 1.5, samples: [] },
      { t: T0, samples: [{ name: 'a', labels: {}, type: 'float', value: 'x' }] },
      { t: T0, samples: [{ name: 'a', labels: {}, type: 'string', value: 1 }] },
      { t: T0, samples: [{ name: '1bad', labels: {}, type: 'float', value: 1 }] },
      { t: T0, samples: [{ name: 'a', labels: { 'bad-label': 'x' }, type: 'float', value: 1 }] },
      { t: T0, samples: [{ name: 'a', labels: { x: '1' }, type: 'float', value: 1 }, { name: 'a', labels: { x: '1' }, type: 'float', value: 2 }] },
      { t: T0, samples: [], events: [{ t: T0, kind: '', reason: '', message: '', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 }] },
    ];
    for (const round of bad) {
      await assert.rejects(s.store.appendRound(round as Round), (err) => isDriftwatchError(err, 'DW_STORE_INVALID_ROUND'), JSON.stringify(round));
    }
    assert.equal(s.store.stats().headRounds, 0);
    await s.reopen();
    assert.equal(s.store.stats().headRounds, 0);
  } finally {
    await s.cleanup();
  }
});

test('options are validated and every problem is reported at once', async () => {
  await assert.rejects(
    openEdgeStore({ dir: '', siteId: '', clock: { now: () => 0 }, blockDuration: 0, diskBudget: -1, compactionMaxFloatSamples: 0.5, bogus: 1 } as never),
    (err) => {
      assert.ok(isDriftwatchError(err, 'DW_STORE_INVALID_OPTIONS'));
      for (const field of ['dir', 'siteId', 'blockDuration', 'diskBudget', 'compactionMaxFloatSamples', 'bogus']) assert.match(err.message, new RegExp(`${field}:`));
      return true;
    },
  );
  await assert.rejects(
    openEdgeStore({ dir: '/tmp/x', siteId: 's', clock: { now: () => 0 }, blockDuration: MIN, maxBlockSpan: 90_000, compactionWindows: [30_000] }),
    (err) => isDriftwatchError(err, 'DW_STORE_INVALID_OPTIONS') && /maxBlockSpan/.test(err.message) && /compactionWindows\[0\]/.test(err.message),
  );
});

test('another site, a held lock and use after close are refused with their codes', async () => {
  const s = await openTestStore();
  try {
    await assert.rejects(openEdgeStore({ dir: s.dir, siteId: SITE, clock: s.clock }), (err) => isDriftwatchError(err, 'DW_STORE_LOCKED'));
    await s.store.close();
    await s.store.close(); // idempotent
    await assert.rejects(s.store.appendRound({ t: T0, samples: [] }), (err) => isDriftwatchError(err, 'DW_STORE_CLOSED'));
    assert.throws(() => s.store.stats(), (err) => isDriftwatchError(err, 'DW_STORE_CLOSED'));
    await assert.rejects(openEdgeStore({ dir: s.dir, siteId: 'another-site', clock: s.clock }), (err) => isDriftwatchError(err, 'DW_STORE_SITE_MISMATCH'));
    s.store = await openEdgeStore({ dir: s.dir, siteId: SITE, clock: s.clock });
  } finally {
    await s.cleanup();
  }
});

test('without a site id an existing store opens as its own site; a missing one is refused, not created', async () => {
  const s = await openTestStore();
  try {
    await s.store.close();
    s.store = await openEdgeStore({ dir: s.dir, clock: s.clock });
    assert.equal(s.store.siteId, SITE);
  } finally {
    await s.cleanup();
  }
  const fresh = await openTestStore();
  await fresh.cleanup();
  await assert.rejects(openEdgeStore({ dir: fresh.dir, clock: fresh.clock }), (err) => isDriftwatchError(err, 'DW_STORE_OPEN_FAILED') && /found none/.test((err as Error).message));
  await assert.rejects(access(fresh.dir)); // nothing was created
});

test('sealIfDue seals only once the clock has passed the head block end; sequences survive reopen', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    await s.store.appendRound(syntheticRound(T0 + 1000, seededRandom(1)));
    s.clock.set(T0 + MIN - 1);
    assert.equal(await s.store.sealIfDue(), undefined);
    s.clock.set(T0 + MIN);
    const sealed = await s.store.sealIfDue();
    assert.equal(sealed?.sequence, 1);
    assert.equal(await s.store.flush(), undefined);
    await s.reopen();
    await s.store.appendRound(syntheticRound(T0 + MIN + 1000, seededRandom(2)));
    assert.equal((await s.store.flush())?.sequence, 2);
  } finally {
    await s.cleanup();
  }
});

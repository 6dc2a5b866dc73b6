import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Level } from 'level';
import { seededRandom } from '../../../common/random.js';
import { blockEvents, normalizeRound, openTestStore, readAllRounds, syntheticRound, T0, type TestStore } from './helpers.js';

const MIN = 60_000;

/** Opens the store's LevelDB directly (the store must be closed), runs `fn`, closes it. */
async function withRawDb(dir: string, fn: (db: Level<string, Uint8Array>) => Promise<void>): Promise<void> {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

async function sealBlocks(s: TestStore, n: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) await s.store.appendRound(syntheticRound(T0 + i * MIN + j * 15_000, random));
  }
  await s.store.flush();
}

test('a corrupt sealed block is quarantined, counted and skipped; the rest keeps working', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    await sealBlocks(s, 3, 1);
    const blocks = await s.store.listBlocks();
    const bad = blocks[1]!;
    await s.store.close();
    await withRawDb(s.dir, async (db) => {
      const bytes = Uint8Array.from((await db.get(`b!${bad.id}`))!);
      bytes[bytes.length - 10]! ^= 0x40; // a bit flip in the payload
      await db.put(`b!${bad.id}`, bytes);
    });
    await s.reopen();
    const read = await s.store.readBlock(bad.id);
    assert.equal(read.status, 'quarantined');
    if (read.status === 'quarantined') assert.match(read.code, /^DW_BLOCK_/);
    assert.deepEqual((await s.store.listUnshipped()).map((b) => b.id), [blocks[0]!.id, blocks[2]!.id]);
    assert.equal(await s.store.pin(bad.id), false);
    assert.equal((await s.store.markShipped(bad.id)).status, 'quarantined');
    let stats = s.store.stats();
    assert.equal(stats.quarantinedBlocks, 1);
    assert.equal(stats.totals.blocksQuarantined, 1);
    assert.equal(stats.totals.roundsDropped, 4);
    assert.ok(s.warnings.includes('corrupt block quarantined and skipped'));

    // The loss is explained in the next sealed block; the other blocks read fine.
    await s.store.appendRound(syntheticRound(T0 + 5 * MIN, seededRandom(2)));
    const next = await s.store.flush();
    const events = await blockEvents(s.store, next!.id);
    assert.deepEqual(events.map((e) => [e.kind, e.reason, e.rangeMinT, e.rangeMaxT, e.count]), [['data_dropped', 'corrupt_block', bad.minT, bad.maxT, 4]]);
    assert.equal((await s.store.readBlock(blocks[0]!.id)).status, 'ok');

    // The bytes are kept under the quarantine prefix, and the count survives a restart.
    await s.reopen();
    stats = s.store.stats();
    assert.equal(stats.quarantinedBlocks, 1);
    assert.equal(stats.blocks, 3);
    await s.store.close();
    await withRawDb(s.dir, async (db) => {
      assert.equal(await db.get(`b!${bad.id}`), undefined);
      assert.ok((await db.get(`q!b!${bad.id}`)) !== undefined);
      assert.ok((await db.get(`q!i!${bad.id}`)) !== undefined);
    });
    await s.reopen();
  } finally {
    await s.cleanup();
  }
});

test('compaction quarantines a corrupt input and merges the rest on the next pass', async () => {
  const s = await openTestStore({ blockDuration: MIN, maxBlockSpan: 10 * MIN, compactionWindows: [10 * MIN] });
  try {
    await sealBlocks(s, 4, 3);
    const blocks = await s.store.listBlocks();
    await s.store.close();
    await withRawDb(s.dir, async (db) => {
      await db.put(`b!${blocks[2]!.id}`, new Uint8Array([1, 2, 3, 4, 5]));
    });
    await s.reopen();
    s.clock.set(T0 + 10 * MIN);
    const first = await s.store.compact();
    assert.equal(first.quarantined, 1);
    assert.equal(first.created.length, 0);
    const second = await s.store.compact();
    assert.deepEqual(second.created.map((b) => b.replaces), [[blocks[0]!.id, blocks[1]!.id, blocks[3]!.id]]);
  } finally {
    await s.cleanup();
  }
});

test('an unreadable head record is quarantined with the records after it; the rounds before it replay', async () => {
  const s = await openTestStore({ blockDuration: 10 * MIN });
  try {
    const random = seededRandom(5);
    const rounds = Array.from({ length: 6 }, (_, i) => syntheticRound(T0 + i * 15_000, random));
    for (const r of rounds) await s.store.appendRound(r);
    await s.store.close();
    const badT = T0 + 3 * 15_000;
    await withRawDb(s.dir, async (db) => {
      await db.put(`h!${badT.toString(16).padStart(14, '0')}`, new Uint8Array([1, 200, 200, 200]));
    });
    await s.reopen();
    assert.deepEqual(s.store.headRounds().map(normalizeRound), rounds.slice(0, 3).map(normalizeRound));
    const stats = s.store.stats();
    assert.equal(stats.totals.headRoundsQuarantined, 3);
    assert.equal(stats.pendingEvents, 1);
    // Appending goes on (the next round continues the delta chain from the replayed rounds).
    await s.store.appendRound(syntheticRound(T0 + 10 * 15_000, random));
    await s.reopen();
    assert.equal(s.store.headRounds().length, 4);
    const sealed = await s.store.flush();
    const events = await blockEvents(s.store, sealed!.id);
    assert.deepEqual(events.map((e) => [e.reason, e.rangeMinT, e.rangeMaxT, e.count]), [['corrupt_head', badT, T0 + 5 * 15_000, 3]]);
    const all = await readAllRounds(s.store);
    assert.equal(all.rounds.length, 4);
  } finally {
    await s.cleanup();
  }
});

test('an unreadable block info is rebuilt from its block on open', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    await sealBlocks(s, 2, 9);
    const blocks = await s.store.listBlocks();
    await s.store.markShipped(blocks[0]!.id);
    await s.store.close();
    await withRawDb(s.dir, async (db) => {
      await db.put(`i!${blocks[0]!.id}`, new TextEncoder().encode('{not json'));
    });
    await s.reopen();
    const after = await s.store.listBlocks();
    assert.deepEqual(after.map((b) => ({ ...b, shipped: false })), blocks.map((b) => ({ ...b, shipped: false })));
    assert.equal(after[0]!.shipped, false, 'whether it was shipped is lost: it is shipped again');
    assert.ok(s.warnings.some((w) => w.includes('rebuilt')));
  } finally {
    await s.cleanup();
  }
});

test('a block info whose bytes are gone is quarantined when read, with its range explained', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    await sealBlocks(s, 2, 11);
    const [first, second] = await s.store.listBlocks();
    await s.store.close();
    await withRawDb(s.dir, (db) => db.del(`b!${first!.id}`));
    await s.reopen();
    assert.deepEqual(await s.store.readBlock(first!.id), { status: 'quarantined', code: 'DW_STORE_MISSING_BYTES', reason: 'the block info has no block bytes' });
    assert.equal((await s.store.readBlock(second!.id)).status, 'ok');
    await s.store.appendRound(syntheticRound(T0 + 9 * MIN, seededRandom(1)));
    const sealed = await s.store.flush();
    const events = await blockEvents(s.store, sealed!.id);
    assert.deepEqual(events.map((e) => [e.reason, e.rangeMinT, e.rangeMaxT]), [['corrupt_block', first!.minT, first!.maxT]]);
  } finally {
    await s.cleanup();
  }
});

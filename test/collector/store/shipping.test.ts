import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { decodeBlockHeader } from '../../../proto/index.js';
import { ulidToString } from '../../../common/ulid.js';
import { openTestStore, syntheticRound, T0 } from './helpers.js';

const MIN = 60_000;

test('listUnshipped gives upload order both ways; markShipped is durable and idempotent', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const random = seededRandom(4);
    for (let i = 0; i < 5; i++) await s.store.appendRound(syntheticRound(T0 + i * MIN + 1000, random));
    await s.store.flush();
    const oldest = await s.store.listUnshipped({ order: 'oldest-first' });
    assert.deepEqual(oldest.map((b) => b.minT), [0, 1, 2, 3, 4].map((i) => T0 + i * MIN + 1000));
    assert.deepEqual((await s.store.listUnshipped({ order: 'newest-first' })).map((b) => b.id), oldest.map((b) => b.id).reverse());
    assert.deepEqual((await s.store.listUnshipped()).map((b) => b.id), oldest.map((b) => b.id));

    const newest = oldest[4]!;
    const read = await s.store.readBlock(newest.id);
    assert.equal(read.status, 'ok');
    if (read.status === 'ok') {
      const h = decodeBlockHeader(read.bytes);
      assert.equal(ulidToString(h.blockId), newest.id);
      assert.equal(h.sequence, newest.sequence);
      assert.equal(read.bytes.length, newest.bytes);
    }
    const marked = await s.store.markShipped(newest.id);
    assert.equal(marked.status, 'marked');
    assert.equal((await s.store.markShipped(newest.id)).status, 'already_shipped');
    await s.reopen();
    assert.equal((await s.store.markShipped(newest.id)).status, 'already_shipped');
    assert.deepEqual((await s.store.listUnshipped()).map((b) => b.id), oldest.slice(0, 4).map((b) => b.id));
    const stats = s.store.stats();
    assert.equal(stats.shippedBlocks, 1);
    assert.equal(stats.unshippedBlocks, 4);
    assert.equal(stats.oldestUnshippedMinT, T0 + 1000);
    // A shipped block can still be read (until retention deletes it).
    assert.equal((await s.store.readBlock(newest.id)).status, 'ok');
    assert.deepEqual(await s.store.markShipped('01ARZ3NDEKTSV4RRFFQ69G5FAV'), { status: 'unknown' });
    assert.deepEqual(await s.store.readBlock('not-a-block'), { status: 'unknown' });
  } finally {
    await s.cleanup();
  }
});

test('operations run in call order even when not awaited one by one', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    const random = seededRandom(8);
    const rounds = Array.from({ length: 20 }, (_, i) => syntheticRound(T0 + i * 10_000, random));
    const results = await Promise.all([...rounds.map((r) => s.store.appendRound(r)), s.store.flush()]);
    assert.equal(results.filter((x) => x !== undefined).length, 4); // three boundaries and the flush
    assert.equal(s.store.stats().headRounds, 0);
    assert.equal((await s.store.listBlocks()).reduce((n, b) => n + b.numRounds, 0), 20);
  } finally {
    await s.cleanup();
  }
});

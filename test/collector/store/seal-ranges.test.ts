// Seal indexes: the store numbers the blocks it seals from its head 1, 2, 3… without gaps,
// across restarts; compaction carries the union of its inputs' ranges; every block names the
// store; a data_dropped event says which indexes went. The center finds missing blocks by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { ulidToString } from '../../../common/ulid.js';
import { decodeBlock, decodeBlockHeader, missingSealRanges, unionSealRanges } from '../../../proto/index.js';
import { openTestStore, syntheticRound, T0 } from './helpers.js';

const MIN = 60_000;

test('sealed blocks take consecutive seal indexes across a restart; compaction unions them; all name one store', async () => {
  const s = await openTestStore({ blockDuration: 5 * MIN });
  const random = seededRandom(3);
  try {
    for (let t = T0 + 1000; t < T0 + 30 * MIN; t += 15_000) {
      s.clock.set(t);
      await s.store.appendRound(syntheticRound(t, random));
    }
    await s.reopen();
    for (let t = T0 + 30 * MIN + 1000; t < T0 + 61 * MIN; t += 15_000) {
      s.clock.set(t);
      await s.store.appendRound(syntheticRound(t, random));
    }
    await s.store.flush();
    const before = await s.store.listBlocks();
    assert.deepEqual(before.map((b) => b.sealRanges), before.map((_, i) => [i + 1, i + 1]), 'indexes 1..n in seal order');
    s.clock.set(T0 + 3 * 60 * MIN);
    const c = await s.store.compact();
    assert.ok(c.created.length >= 1);
    const after = await s.store.listBlocks();
    const storeIds = new Set<string>();
    let all: number[] = [];
    for (const info of after) {
      const r = await s.store.readBlock(info.id);
      assert.equal(r.status, 'ok');
      if (r.status !== 'ok') continue;
      const h = decodeBlockHeader(r.bytes);
      assert.deepEqual(h.sealRanges, info.sealRanges);
      assert.ok(h.storeId !== undefined && h.storeId.length === 16);
      storeIds.add(ulidToString(h.storeId));
      all = unionSealRanges(all, h.sealRanges);
    }
    assert.equal(storeIds.size, 1, 'one store id across the restart');
    assert.deepEqual(all, [1, before.length], 'compacted blocks together cover every index');
    assert.deepEqual(missingSealRanges(all, before.length + 2), [before.length + 1, before.length + 2]);
  } finally {
    await s.cleanup();
  }
});

test('a data_dropped event names the seal indexes retention dropped', async () => {
  const s = await openTestStore({ blockDuration: 5 * MIN, diskBudget: 24 * 1024 });
  const random = seededRandom(4);
  try {
    for (let t = T0 + 1000; t < T0 + 12 * 60 * MIN; t += 30_000) {
      s.clock.set(t);
      await s.store.appendRound(syntheticRound(t, random, { series: 30 }));
    }
    await s.store.flush();
    assert.ok(s.store.stats().totals.unshippedBlocksDropped > 0, 'retention dropped blocks');
    // The last drop's event waits for the next seal: seal it with room to spare.
    await s.reopen({ diskBudget: 1 << 30 });
    s.clock.set(T0 + 12 * 60 * MIN + 1000);
    await s.store.appendRound(syntheticRound(s.clock.now(), random, { series: 30 }));
    await s.store.flush();
    const labels: Record<string, string>[] = [];
    let held: number[] = [];
    for (const info of await s.store.listBlocks()) {
      const r = await s.store.readBlock(info.id);
      if (r.status !== 'ok') continue;
      const b = decodeBlock(r.bytes);
      held = unionSealRanges(held, b.header.sealRanges);
      for (const e of b.data.events) if (e.kind === 'data_dropped') labels.push({ ...e.labels });
    }
    assert.ok(labels.length > 0 && labels.every((l) => /^\d+-\d+(,\d+-\d+)*$/.test(l.seal_ranges ?? '') && l.store_id !== undefined), JSON.stringify(labels));
    const dropped = unionSealRanges(...labels.map((l) => l.seal_ranges!.split(',').flatMap((p) => p.split('-').map(Number))));
    const maxHeld = held[held.length - 1]!;
    assert.deepEqual(missingSealRanges(unionSealRanges(held, dropped), maxHeld), [], 'held + dropped explain every index');
  } finally {
    await s.cleanup();
  }
});

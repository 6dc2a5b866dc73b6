// The index over a real level AggregatorStorage: catching up as blocks arrive (in batches), and
// `reindex` from the stored blocks, answer exactly as an index fed the same blocks directly;
// contacts come from the storage's contact history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  catchUp, catchUpContacts, ContactIndex, driftReport, FleetIndex, reindex, staleReport, upgradesReport, type BlockSource, type FleetInputs,
} from '../../../aggregator/fleet/index.js';
import { openLevelStorage, type AggregatorStorage, type BlockSummary } from '../../../aggregator/storage/index.js';
import { HOUR, indexOf, MIN, T0, type EdgeBlock } from './helpers.js';
import { LATE_ARRIVAL, scenario } from './scenario.js';

function summaryOf(b: EdgeBlock): BlockSummary {
  const h = b.header;
  return {
    sha256: createHash('sha256').update(b.bytes).digest('hex'), minT: h.minT, maxT: h.maxT, sequence: h.sequence, level: h.level,
    replaces: [], createdAt: h.createdAt, numRounds: h.numRounds, numSeries: h.numSeries, numSamples: h.numSamples, numEvents: h.numEvents,
    numStringSeries: h.numStringSeries, numStringSamples: h.numStringSamples,
  };
}

async function withStorage(fn: (storage: AggregatorStorage) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-'));
  const storage = await openLevelStorage({ dir: join(dir, 'store'), now: () => T0 });
  try {
    await fn(storage);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const S = scenario();

function reports(inputs: FleetInputs, knownAt: number): string {
  const q = { at: T0 + 3 * HOUR, knownAt };
  return JSON.stringify([upgradesReport(inputs, q), driftReport(inputs, q), staleReport(inputs, q)]);
}

test('catching up from the level storage in batches, and reindexing, answer as the blocks fed directly', async () => {
  await withStorage(async (storage) => {
    const index = new FleetIndex();
    const contacts = new ContactIndex({ resolutionMs: 0 });
    const sorted = [...S.arrivals].sort((a, b) => a.at - b.at);
    const cuts = [T0, T0 + 3 * HOUR + 10 * MIN, LATE_ARRIVAL + HOUR];
    let next = 0;
    let c = 0;
    const contactsSorted = [...S.contacts].sort((a, b) => a.at - b.at);
    for (const cut of cuts) {
      for (; next < sorted.length && sorted[next]!.at <= cut; next++) {
        const { block, at } = sorted[next]!;
        assert.equal((await storage.putBlock(block.site, block.id, block.bytes, summaryOf(block), at)).status, 'stored');
      }
      for (; c < contactsSorted.length && contactsSorted[c]!.at <= cut; c++) {
        const r = contactsSorted[c]!;
        await storage.recordContact(r.site, {
          kind: 'heartbeat', at: r.at, agentTime: r.agentTime, lastRttMs: 0, backlogBlocks: r.backlogBlocks!, backlogBytes: r.backlogBytes!, oldestUnshippedTime: 0,
          lastRoundTime: r.lastRoundTime!, lastErrorCode: '', lastErrorMessage: '', agentStartTime: r.agentStartTime!,
        });
      }
      const r = await catchUp(index, storage, { now: cut });
      assert.equal(r.indexedThrough, cut);
      await catchUpContacts(contacts, storage, { now: cut, graceMs: 0 });
      const inputs: FleetInputs = { index, policies: S.history, contacts, labels: S.labels };
      // The same answers as an index of the same blocks, fed directly.
      const direct = new ContactIndex({ resolutionMs: 0 });
      for (const x of S.contacts) if (x.at <= cut) direct.add(x);
      const fed: FleetInputs = { index: indexOf(S.arrivals, cut), policies: S.history, contacts: direct, labels: S.labels };
      assert.equal(reports(inputs, cut), reports(fed, cut), `after catching up to ${cut}`);
    }
    assert.equal((await catchUp(index, storage, { now: cuts[2]! })).blocks, 0, 'nothing new: nothing read');
    const { index: rebuilt, result } = await reindex(storage, { now: cuts[2]!, maxBatch: 7 });
    assert.equal(result.blocks, S.arrivals.length);
    assert.equal(result.sites, 10);
    assert.ok(result.elapsedMs > 0);
    assert.deepEqual(rebuilt.stats(), index.stats());
    assert.equal(rebuilt.indexedThrough, cuts[2]);
    for (const k of [T0 + 3 * HOUR + 10 * MIN, cuts[2]!]) {
      const a: FleetInputs = { index, policies: S.history, contacts, labels: S.labels };
      const b: FleetInputs = { index: rebuilt, policies: S.history, contacts, labels: S.labels };
      assert.equal(reports(b, k), reports(a, k), `reindexed, as known at ${k}`);
    }
  });
});

test('a block stamped but not yet durable holds the catch-up back below its arrival', async () => {
  await withStorage(async (storage) => {
    const index = new FleetIndex();
    const first = S.arrivals[0]!;
    await storage.putBlock(first.block.site, first.block.id, first.block.bytes, summaryOf(first.block), 100);
    const held: BlockSource = { listBlocks: (s, o) => storage.listBlocks(s, o), readBlock: (s, id) => storage.readBlock(s, id), oldestPendingArrival: () => 150 };
    const r = await catchUp(index, held, { now: 1000 });
    assert.equal(r.indexedThrough, 149, 'cut just below the pending arrival');
    assert.equal(r.blocks, 1);
  });
});

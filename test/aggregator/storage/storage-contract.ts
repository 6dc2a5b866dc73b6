// The contract every AggregatorStorage implementation must meet (STYLE.md: one suite runs
// against every implementation of an interface). Call runStorageContract with a factory from the
// implementation's own test file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AggregatorStorage, BlockMeta, BlockSummary, HeartbeatReport } from '../../../aggregator/storage/index.js';
import { isDriftwatchError } from '../../../common/errors.js';
import { ManualClock } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { newUlid, ulidToString } from '../../../common/ulid.js';

/** One storage under test, and how to restart it. */
export interface StorageHandle {
  storage: AggregatorStorage;
  /** Closes the storage and opens the same one again (a restart); returns the new one. */
  reopen(): Promise<AggregatorStorage>;
  /** Closes it (if open) and removes what it left. */
  cleanup(): Promise<void>;
}

export interface StorageFactory {
  readonly name: string;
  /** A fresh, empty storage. */
  create(): Promise<StorageHandle>;
}

const T0 = Date.UTC(2025, 10, 20, 12);
const SEED = 20251120;

/** Block ids in increasing order (ULIDs of increasing times). */
export function blockIds(n: number, seed = SEED): string[] {
  const clock = new ManualClock(T0);
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    clock.set(T0 + i * 1000);
    return ulidToString(newUlid(clock, random));
  });
}

export function bytesOf(text: string, size = 64): Uint8Array {
  const out = new Uint8Array(size);
  const src = new TextEncoder().encode(text);
  for (let i = 0; i < size; i++) out[i] = src[i % src.length]! ^ (i & 0xff);
  return out;
}

export function summaryOf(bytes: Uint8Array, extra: Partial<BlockSummary> = {}): BlockSummary {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'), minT: T0, maxT: T0 + 299_000, sequence: 1, level: 0, replaces: [],
    createdAt: T0 + 300_000, numRounds: 20, numSeries: 3, numSamples: 60, numEvents: 1, numStringSeries: 1, numStringSamples: 20, ...extra,
  };
}

async function collect(it: AsyncIterable<BlockMeta>): Promise<BlockMeta[]> {
  const out: BlockMeta[] = [];
  for await (const m of it) out.push(m);
  return out;
}

function heartbeat(at: number, fields: Partial<HeartbeatReport> = {}): HeartbeatReport {
  return {
    kind: 'heartbeat', at, agentTime: at - 5_000, lastRttMs: 40, backlogBlocks: 3, backlogBytes: 30_000, oldestUnshippedTime: at - 900_000,
    lastRoundTime: at - 15_000, lastErrorCode: '', lastErrorMessage: '', agentStartTime: T0 - 86_400_000, ...fields,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isDriftwatchError(err, code), `expected ${code}, found ${String(err)}`);
    return true;
  });
}

/** Registers the contract's tests for `factory` (call at a test file's top level). */
export function runStorageContract(factory: StorageFactory): void {
  const withStorage = (name: string, fn: (h: StorageHandle) => Promise<void>): void => {
    it(name, async () => {
      const h = await factory.create();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });
  };

  describe(`storage contract: ${factory.name}`, () => {
    withStorage('putBlock stores once: stored, then duplicate (same bytes), then conflict (other bytes) keeping the original', async ({ storage }) => {
      const [id] = blockIds(1);
      const bytes = bytesOf('block one');
      const first = await storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0 + 1);
      assert.equal(first.status, 'stored');
      assert.equal(first.meta.size, bytes.length);
      assert.equal(first.meta.arrivedAt, T0 + 1);
      assert.deepEqual(await storage.getBlockMeta('shop-1', id!), first.meta);
      assert.deepEqual(await storage.readBlock('shop-1', id!), bytes);

      const again = await storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0 + 2);
      assert.equal(again.status, 'duplicate');
      assert.equal(again.meta.arrivedAt, T0 + 1, 'a duplicate keeps the first arrival time');

      const other = bytesOf('block one, other bytes');
      const conflict = await storage.putBlock('shop-1', id!, other, summaryOf(other), T0 + 3);
      assert.equal(conflict.status, 'conflict');
      assert.equal(conflict.meta.sha256, first.meta.sha256);
      assert.deepEqual(await storage.readBlock('shop-1', id!), bytes, 'the original is kept');
      assert.equal((await collect(storage.listBlocks('shop-1'))).length, 1);
    });

    withStorage('the same block id under two sites is two blocks', async ({ storage }) => {
      const [id] = blockIds(1);
      const a = bytesOf('a');
      const b = bytesOf('b');
      assert.equal((await storage.putBlock('shop-1', id!, a, summaryOf(a), T0)).status, 'stored');
      assert.equal((await storage.putBlock('shop-2', id!, b, summaryOf(b), T0)).status, 'stored');
      assert.deepEqual(await storage.readBlock('shop-2', id!), b);
      assert.equal(await storage.readBlock('shop-3', id!), undefined);
      assert.equal(await storage.getBlockMeta('shop-3', id!), undefined);
    });

    withStorage('concurrent puts of one block: exactly one is stored', async ({ storage }) => {
      const [id] = blockIds(1);
      const bytes = bytesOf('raced');
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0 + i)));
      assert.equal(results.filter((r) => r.status === 'stored').length, 1);
      assert.equal(results.filter((r) => r.status === 'duplicate').length, 11);
    });

    withStorage('listBlocks by site (block id order), for all sites, and cut by arrival time', async ({ storage }) => {
      const ids = blockIds(6);
      const sites = ['shop-b', 'shop-a', 'shop-b', 'shop-a', 'shop-c', 'shop-b'];
      for (let i = 0; i < ids.length; i++) {
        const bytes = bytesOf(`block ${i}`);
        await storage.putBlock(sites[i]!, ids[i]!, bytes, summaryOf(bytes, { sequence: i }), T0 + i * 10);
      }
      const b = await collect(storage.listBlocks('shop-b'));
      assert.deepEqual(b.map((m) => m.id), [ids[0], ids[2], ids[5]]);
      assert.ok(b.every((m) => m.site === 'shop-b'));
      const all = await collect(storage.listBlocks());
      assert.equal(all.length, 6);
      assert.deepEqual(all.map((m) => m.site), ['shop-a', 'shop-a', 'shop-b', 'shop-b', 'shop-b', 'shop-c']);
      const by = await collect(storage.listBlocks(undefined, { arrivedBy: T0 + 20 }));
      assert.deepEqual(by.map((m) => m.id).sort(), [ids[0], ids[1], ids[2]].sort());
      const after = await collect(storage.listBlocks(undefined, { arrivedAfter: T0 + 20 }));
      assert.deepEqual(after.map((m) => m.id).sort(), [ids[3], ids[4], ids[5]].sort());
      const window = await collect(storage.listBlocks('shop-b', { arrivedAfter: T0, arrivedBy: T0 + 20 }));
      assert.deepEqual(window.map((m) => m.id), [ids[2]]);
      assert.equal(storage.oldestPendingArrival(), undefined, 'nothing pending once every put resolved');
    });

    withStorage('oldestPendingArrival: a block, a contact or a label change counts from the call (before any await) until it settled', async ({ storage }) => {
      const [id] = blockIds(1);
      const bytes = bytesOf('pending');
      const block = storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0 + 30);
      assert.equal(storage.oldestPendingArrival(), T0 + 30, 'pending as soon as putBlock is called');
      const contact = storage.recordContact('shop-2', { kind: 'hello', at: T0 + 20, agentTime: T0, agentVersion: 'test' });
      assert.equal(storage.oldestPendingArrival(), T0 + 20, 'a contact counts too');
      const labels = storage.recordSiteLabels('shop-3', { tier: 'shop' }, T0 + 10);
      assert.equal(storage.oldestPendingArrival(), T0 + 10, 'a label change counts too');
      await labels;
      assert.equal(storage.oldestPendingArrival(), T0 + 20);
      await Promise.all([block, contact]);
      assert.equal(storage.oldestPendingArrival(), undefined, 'nothing pending once every write settled');
      const refused = storage.putBlock('shop 1', id!, bytes, summaryOf(bytes), T0 + 5);
      await assert.rejects(refused);
      assert.equal(storage.oldestPendingArrival(), undefined, 'a refused call does not stay pending');
    });

    withStorage('getBlockMetas answers in order, undefined for blocks not held', async ({ storage }) => {
      const ids = blockIds(3);
      const bytes = bytesOf('x');
      await storage.putBlock('shop-1', ids[1]!, bytes, summaryOf(bytes), T0);
      const metas = await storage.getBlockMetas('shop-1', ids);
      assert.deepEqual(metas.map((m) => m?.id), [undefined, ids[1], undefined]);
      assert.deepEqual(await storage.getBlockMetas('shop-1', []), []);
    });

    withStorage('partial uploads: append in order, read back, refuse gaps and other targets, discard', async ({ storage }) => {
      const [id] = blockIds(1);
      const whole = bytesOf('a partial block', 100);
      const target = { size: 100, sha256: summaryOf(whole).sha256 };
      assert.equal(await storage.getPartial('shop-1', id!), undefined);
      await rejectsWith(storage.appendChunk('shop-1', id!, target, 10, whole.subarray(10, 20), T0), 'DW_AGGREGATOR_STORE_OFFSET_MISMATCH');
      let p = await storage.appendChunk('shop-1', id!, target, 0, whole.subarray(0, 30), T0);
      assert.deepEqual({ offset: p.offset, size: p.size, sha256: p.sha256 }, { offset: 30, ...target });
      p = await storage.appendChunk('shop-1', id!, target, 30, whole.subarray(30, 45), T0 + 5);
      assert.equal(p.offset, 45);
      assert.equal(p.updatedAt, T0 + 5);
      assert.deepEqual(await storage.readPartial('shop-1', id!), whole.subarray(0, 45));
      await rejectsWith(storage.appendChunk('shop-1', id!, target, 30, whole.subarray(30, 45), T0), 'DW_AGGREGATOR_STORE_OFFSET_MISMATCH');
      await rejectsWith(storage.appendChunk('shop-1', id!, { ...target, size: 101 }, 45, whole.subarray(45, 50), T0), 'DW_AGGREGATOR_STORE_OFFSET_MISMATCH');
      await rejectsWith(storage.appendChunk('shop-1', id!, target, 45, new Uint8Array(56), T0), 'DW_AGGREGATOR_STORE_OFFSET_MISMATCH');
      assert.deepEqual((await storage.listPartials()).map((x) => [x.site, x.id, x.offset]), [['shop-1', id, 45]]);
      assert.equal(await storage.getBlockMeta('shop-1', id!), undefined, 'a partial block is never a block');
      assert.equal((await collect(storage.listBlocks())).length, 0);
      await storage.discardPartial('shop-1', id!);
      assert.equal(await storage.getPartial('shop-1', id!), undefined);
      assert.equal(await storage.readPartial('shop-1', id!), undefined);
      await storage.discardPartial('shop-1', id!);
    });

    withStorage('putBlock removes the partial upload of the block it stores', async ({ storage }) => {
      const [id] = blockIds(1);
      const whole = bytesOf('finished', 80);
      const summary = summaryOf(whole);
      await storage.appendChunk('shop-1', id!, { size: 80, sha256: summary.sha256 }, 0, whole.subarray(0, 40), T0);
      assert.equal((await storage.putBlock('shop-1', id!, whole, summary, T0 + 1)).status, 'stored');
      assert.equal(await storage.getPartial('shop-1', id!), undefined);
      assert.deepEqual(await storage.listPartials(), []);
    });

    withStorage('blocks, partial uploads and contacts survive a restart', async (h) => {
      const [a, b] = blockIds(2);
      const bytes = bytesOf('kept');
      await h.storage.putBlock('shop-1', a!, bytes, summaryOf(bytes), T0);
      const whole = bytesOf('half', 50);
      await h.storage.appendChunk('shop-1', b!, { size: 50, sha256: summaryOf(whole).sha256 }, 0, whole.subarray(0, 20), T0);
      await h.storage.recordContact('shop-2', { kind: 'hello', at: T0, agentTime: T0 - 1000, agentVersion: '0.1.0' });
      const storage = await h.reopen();
      assert.deepEqual(await storage.readBlock('shop-1', a!), bytes);
      assert.equal((await storage.getPartial('shop-1', b!))?.offset, 20);
      assert.deepEqual(await storage.readPartial('shop-1', b!), whole.subarray(0, 20));
      assert.equal((await storage.getContact('shop-2'))?.agentVersion, '0.1.0');
      assert.deepEqual(await storage.listSites(), ['shop-1', 'shop-2']);
      assert.equal((await storage.contactHistory('shop-2')).length, 1);
    });

    withStorage('contacts: hello then heartbeat fill the record; the clock offset keeps the smallest round trip', async ({ storage }) => {
      let c = await storage.recordContact('shop-1', { kind: 'hello', at: T0, agentTime: T0 - 10_000, agentVersion: '0.1.0' });
      assert.equal(c.firstSeenAt, T0);
      assert.equal(c.lastHelloAt, T0);
      assert.deepEqual(c.clockOffset, { offsetMs: 10_000, rttMs: undefined, measuredAt: T0 });
      c = await storage.recordContact('shop-1', heartbeat(T0 + 30_000, { agentTime: T0 + 20_100, lastRttMs: 200 }));
      assert.deepEqual(c.clockOffset, { offsetMs: 9_800, rttMs: 200, measuredAt: T0 + 30_000 }, 'a known round trip beats an unknown one');
      c = await storage.recordContact('shop-1', heartbeat(T0 + 60_000, { agentTime: T0 + 49_000, lastRttMs: 2_000 }));
      assert.equal(c.clockOffset?.rttMs, 200, 'a slower sample does not replace a faster one');
      c = await storage.recordContact('shop-1', heartbeat(T0 + 90_000, { agentTime: T0 + 80_010, lastRttMs: 20 }));
      assert.deepEqual(c.clockOffset, { offsetMs: 9_980, rttMs: 20, measuredAt: T0 + 90_000 });
      c = await storage.recordContact('shop-1', heartbeat(T0 + 90_000 + 3_700_000, { agentTime: T0 + 3_780_000, lastRttMs: 900 }));
      assert.equal(c.clockOffset?.rttMs, 900, 'an estimate older than the window is replaced');
      assert.equal(c.lastHelloAt, T0);
      assert.equal(c.lastHeartbeatAt, T0 + 3_790_000);
      assert.equal(c.backlogBlocks, 3);
      assert.equal(c.lastErrorCode, '');
      assert.equal(c.agentVersion, '0.1.0');
      assert.deepEqual(await storage.getContact('shop-1'), c);
      assert.equal(await storage.getContact('shop-9'), undefined);
    });

    withStorage('contact history: at most one record a minute, plus every change of error', async ({ storage }) => {
      for (let i = 0; i < 6; i++) await storage.recordContact('shop-1', heartbeat(T0 + i * 10_000)); // 0..50 s: one record
      await storage.recordContact('shop-1', heartbeat(T0 + 55_000, { lastErrorCode: 'DW_SHIP_UNREACHABLE', lastErrorMessage: 'connect ECONNREFUSED' }));
      await storage.recordContact('shop-1', heartbeat(T0 + 58_000, { lastErrorCode: 'DW_SHIP_UNREACHABLE' }));
      await storage.recordContact('shop-1', heartbeat(T0 + 59_000, { lastErrorCode: '' }));
      await storage.recordContact('shop-1', heartbeat(T0 + 60_000));
      await storage.recordContact('shop-1', heartbeat(T0 + 119_000));
      await storage.recordContact('shop-1', heartbeat(T0 + 120_000));
      const all = await storage.contactHistory('shop-1');
      assert.deepEqual(all.map((r) => [r.at - T0, r.lastErrorCode]), [[0, ''], [55_000, 'DW_SHIP_UNREACHABLE'], [59_000, ''], [119_000, '']]);
      assert.equal(all[1]!.lastErrorMessage, 'connect ECONNREFUSED');
      assert.deepEqual((await storage.contactHistory('shop-1', { from: T0 + 55_000, to: T0 + 59_000 })).map((r) => r.at - T0), [55_000, 59_000]);
      assert.deepEqual((await storage.contactHistory('shop-1', { to: T0 })).map((r) => r.at - T0), [0]);
      assert.deepEqual(await storage.contactHistory('shop-2'), []);
    });

    withStorage('site labels: every change kept with its arrival time; siteLabels and listSiteLabels answer as of knownAt', async ({ storage }) => {
      assert.equal(await storage.siteLabels('shop-1'), undefined);
      let r = await storage.recordSiteLabels('shop-1', { tier: 'shop', region: 'eu' }, T0);
      assert.deepEqual(r, { changed: true, current: { site: 'shop-1', labels: { region: 'eu', tier: 'shop' }, arrivedAt: T0 } });
      assert.deepEqual(Object.keys(r.current.labels), ['region', 'tier'], 'names are sorted');
      r = await storage.recordSiteLabels('shop-1', { region: 'eu', tier: 'shop' }, T0 + 60_000);
      assert.deepEqual(r, { changed: false, current: { site: 'shop-1', labels: { region: 'eu', tier: 'shop' }, arrivedAt: T0 } }, 'the same set in another order is no change');
      r = await storage.recordSiteLabels('shop-1', { region: 'us', tier: 'shop' }, T0 + 120_000);
      assert.equal(r.changed, true);
      await storage.recordSiteLabels('shop-1', {}, T0 + 180_000);
      await storage.recordSiteLabels('shop-2', { region: 'eu' }, T0 + 90_000);

      const at = async (site: string, knownAt?: number) => (await storage.siteLabels(site, knownAt === undefined ? {} : { knownAt }))?.labels;
      assert.equal(await at('shop-1', T0 - 1), undefined, 'nothing had arrived');
      assert.deepEqual(await at('shop-1', T0), { region: 'eu', tier: 'shop' }, 'in force from its arrival time on');
      assert.deepEqual(await at('shop-1', T0 + 119_999), { region: 'eu', tier: 'shop' });
      assert.deepEqual(await at('shop-1', T0 + 120_000), { region: 'us', tier: 'shop' });
      assert.deepEqual(await at('shop-1', T0 + 180_000), {}, 'a site that dropped its labels has none');
      assert.deepEqual(await at('shop-1'), {});
      assert.deepEqual((await storage.siteLabelHistory('shop-1')).map((x) => [x.arrivedAt - T0, x.labels]),
        [[0, { region: 'eu', tier: 'shop' }], [120_000, { region: 'us', tier: 'shop' }], [180_000, {}]]);

      const list = async (knownAt?: number) => (await storage.listSiteLabels(knownAt === undefined ? {} : { knownAt })).map((x) => [x.site, x.labels, x.arrivedAt - T0]);
      assert.deepEqual(await list(T0 - 1), []);
      assert.deepEqual(await list(T0 + 100_000), [['shop-1', { region: 'eu', tier: 'shop' }, 0], ['shop-2', { region: 'eu' }, 90_000]]);
      assert.deepEqual(await list(), [['shop-1', {}, 180_000], ['shop-2', { region: 'eu' }, 90_000]]);
      assert.deepEqual(await storage.siteLabelHistory('shop-9'), []);
      assert.deepEqual(await storage.listSites(), ['shop-1', 'shop-2'], 'a site with labels is known');
      assert.equal(storage.oldestPendingArrival(), undefined);
    });

    withStorage('site labels: a clock that went back never reorders the history; two changes in one millisecond are both kept', async ({ storage }) => {
      await storage.recordSiteLabels('shop-1', { tier: 'a' }, T0 + 10_000);
      const back = await storage.recordSiteLabels('shop-1', { tier: 'b' }, T0 + 5_000);
      assert.equal(back.current.arrivedAt, T0 + 10_000, 'raised to the latest arrival');
      await storage.recordSiteLabels('shop-1', { tier: 'c' }, T0 + 10_000);
      assert.deepEqual((await storage.siteLabelHistory('shop-1')).map((x) => x.labels.tier), ['a', 'b', 'c']);
      assert.equal((await storage.siteLabels('shop-1', { knownAt: T0 + 10_000 }))?.labels.tier, 'c', 'the last of equal arrival times is in force');
      assert.equal(await storage.siteLabels('shop-1', { knownAt: T0 + 9_999 }), undefined);
    });

    withStorage('site labels survive a restart, and a change after it continues the history', async (h) => {
      await h.storage.recordSiteLabels('shop-1', { region: 'eu' }, T0);
      await h.storage.recordSiteLabels('shop-1', { region: 'us' }, T0 + 1_000);
      await h.storage.recordSiteLabels('shop-1', { region: 'ap' }, T0 + 1_000);
      const storage = await h.reopen();
      assert.deepEqual((await storage.siteLabelHistory('shop-1')).map((x) => [x.arrivedAt - T0, x.labels.region]), [[0, 'eu'], [1_000, 'us'], [1_000, 'ap']]);
      assert.equal((await storage.recordSiteLabels('shop-1', { region: 'ap' }, T0 + 2_000)).changed, false, 'the latest survives as the latest');
      await storage.recordSiteLabels('shop-1', { region: 'eu' }, T0 + 1_000);
      assert.deepEqual((await storage.siteLabelHistory('shop-1')).map((x) => x.labels.region), ['eu', 'us', 'ap', 'eu']);
      assert.equal((await storage.siteLabels('shop-1', { knownAt: T0 + 1_000 }))?.labels.region, 'eu');
      assert.deepEqual(await storage.listSites(), ['shop-1']);
    });

    withStorage('site labels: bad site ids, arrival times and label sets are refused with DW_AGGREGATOR_STORE_INVALID_ARGUMENT, nothing written', async ({ storage }) => {
      await rejectsWith(storage.recordSiteLabels('a b', { region: 'eu' }, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.recordSiteLabels('shop-1', { region: 'eu' }, -1), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.recordSiteLabels('shop-1', { 'not-a-name': 'x' }, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.recordSiteLabels('shop-1', { region: 'eu\n' }, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.recordSiteLabels('shop-1', { region: 1 } as unknown as Record<string, string>, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v']));
      await rejectsWith(storage.recordSiteLabels('shop-1', many, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.siteLabels('../x'), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      assert.deepEqual(await storage.listSiteLabels(), []);
      assert.deepEqual(await storage.listSites(), []);
    });

    withStorage('every site with a block or a contact is known', async ({ storage }) => {
      const [id] = blockIds(1);
      const bytes = bytesOf('z');
      await storage.putBlock('shop-z', id!, bytes, summaryOf(bytes), T0);
      await storage.recordContact('shop-a', heartbeat(T0));
      assert.deepEqual(await storage.listSites(), ['shop-a', 'shop-z']);
      assert.equal(storage.stats().sites, 2);
    });

    withStorage('bad site ids, block ids and checksums are refused with DW_AGGREGATOR_STORE_INVALID_ARGUMENT', async ({ storage }) => {
      const [id] = blockIds(1);
      const bytes = bytesOf('q');
      await rejectsWith(storage.putBlock('shop!1', id!, bytes, summaryOf(bytes), T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.putBlock('', id!, bytes, summaryOf(bytes), T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.putBlock('shop-1', 'not-a-ulid', bytes, summaryOf(bytes), T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.putBlock('shop-1', id!.toLowerCase(), bytes, summaryOf(bytes), T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.putBlock('shop-1', id!, bytes, { ...summaryOf(bytes), sha256: 'abc' }, T0), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.getBlockMeta('../etc', id!), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      await rejectsWith(storage.recordContact('a b', heartbeat(T0)), 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT');
      assert.deepEqual(await storage.listSites(), []);
    });

    withStorage('after close every call is DW_AGGREGATOR_STORE_CLOSED; close is idempotent', async ({ storage }) => {
      const [id] = blockIds(1);
      await storage.close();
      await storage.close();
      const bytes = bytesOf('late');
      await rejectsWith(storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0), 'DW_AGGREGATOR_STORE_CLOSED');
      await rejectsWith(storage.getPartial('shop-1', id!), 'DW_AGGREGATOR_STORE_CLOSED');
      await rejectsWith(storage.recordContact('shop-1', heartbeat(T0)), 'DW_AGGREGATOR_STORE_CLOSED');
      await rejectsWith(collect(storage.listBlocks()), 'DW_AGGREGATOR_STORE_CLOSED');
      await rejectsWith(storage.recordSiteLabels('shop-1', {}, T0), 'DW_AGGREGATOR_STORE_CLOSED');
      await rejectsWith(storage.listSiteLabels(), 'DW_AGGREGATOR_STORE_CLOSED');
    });

    withStorage('close waits for commits in flight', async ({ storage }) => {
      const ids = blockIds(8);
      const puts = ids.map((id, i) => {
        const bytes = bytesOf(`w${i}`);
        return storage.putBlock(`shop-${i}`, id, bytes, summaryOf(bytes), T0);
      });
      await storage.close();
      const results = await Promise.all(puts);
      assert.ok(results.every((r) => r.status === 'stored'));
    });
  });
}

// The ingest service end to end on loopback over TLS with a real grpc-js client: hello, a whole
// upload, chunked uploads resumed after a cut, a restart of the aggregator mid-upload, duplicates,
// conflicts, heartbeats and clock offsets, push-back, a superseded upload, an untrusted server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status as Status } from '@grpc/grpc-js';
import { RESUME_OFFSET_TRAILER, RETRY_PUSHBACK_TRAILER } from '../../../proto/index.js';
import { describeStatus, IngestClient, sha256Of, trailer } from '../../helpers/ingest-client.js';
import { makeBlock, metricValue, scrape, startTestAggregator, T0, tokenOf, type TestAggregator } from '../helpers.js';

const SITE = 'shop-1';

describe('ingest over TLS', () => {
  let t: TestAggregator;
  before(async () => {
    t = await startTestAggregator([SITE, 'shop-2']);
  });
  after(async () => {
    await t.cleanup();
  });

  it('hello: nothing held yet, the server clock (injected), the limits; a whole upload is then held', async () => {
    const client = t.client(SITE);
    const block = makeBlock(SITE, 1);
    t.clock.set(T0 + 1_000);
    let hello = await client.hello({ siteId: SITE, agentTime: T0 - 4_000, pendingBlockIds: [block.id], agentVersion: '0.1.0' });
    assert.equal(hello.status.code, Status.OK, describeStatus(hello.status));
    assert.deepEqual(hello.response!.heldBlockIds, []);
    assert.deepEqual(hello.response!.partialUploads, []);
    assert.equal(Number(hello.response!.serverTime), T0 + 1_000);
    assert.equal(Number(hello.response!.maxChunkBytes), 1 << 20);
    assert.equal(Number(hello.response!.maxBlockBytes), 64 << 20);

    t.clock.set(T0 + 2_000);
    const up = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes });
    assert.equal(up.status.code, Status.OK, describeStatus(up.status));
    assert.deepEqual(up.stored, { duplicate: false, arrivedAt: T0 + 2_000 });
    assert.equal(up.lastProgress, undefined, 'a block in one chunk is answered with Stored alone');

    const meta = await t.agg.storage.getBlockMeta(SITE, block.idText);
    assert.equal(meta?.arrivedAt, T0 + 2_000);
    assert.equal(meta?.size, block.bytes.length);
    assert.equal(meta?.numSamples, block.samples);
    assert.deepEqual(await t.agg.storage.readBlock(SITE, block.idText), new Uint8Array(block.bytes));

    hello = await client.hello({ siteId: SITE, agentTime: T0, pendingBlockIds: [block.id] });
    assert.deepEqual(hello.response!.heldBlockIds!.map((b) => Buffer.from(b).toString('hex')), [Buffer.from(block.id).toString('hex')]);
    const contact = await t.agg.storage.getContact(SITE);
    assert.equal(contact?.agentVersion, '0.1.0');
    assert.equal(contact?.clockOffset?.offsetMs, 2_000, 'the second hello (neither has a round trip, so the newer wins) measured the agent 2 s behind');

    const metrics = (await scrape(t.agg)).body;
    assert.ok(metricValue(metrics, 'driftwatch_aggregator_ingest_blocks_total', { result: 'stored' }) >= 1);
    assert.ok(metricValue(metrics, 'driftwatch_aggregator_ingest_samples_total') >= block.samples);
    assert.ok(metricValue(metrics, 'driftwatch_aggregator_ingest_upload_duration_seconds_count') >= 1);
    assert.ok(metricValue(metrics, 'driftwatch_aggregator_storage_commit_batch_commits_count') >= 1);
    assert.equal(metricValue(metrics, 'driftwatch_aggregator_sites_known'), 1);
  });

  it('chunked: Progress after each stored chunk; after a cut the upload resumes at the last Progress', async () => {
    const client = t.client(SITE);
    const block = makeBlock(SITE, 2, { rounds: 40, strings: 80, floats: 40, compression: 'none' });
    const chunk = 4096;
    assert.ok(block.bytes.length > 4 * chunk, `the test block is ${block.bytes.length} bytes`);
    const sha256 = sha256Of(block.bytes);
    const first = client.openUpload();
    first.send({ begin: { siteId: SITE, blockId: block.id, size: block.bytes.length, sha256, offset: 0 } });
    for (let i = 0; i < 3; i++) first.send({ chunk: { offset: i * chunk, data: block.bytes.subarray(i * chunk, (i + 1) * chunk) } });
    const third = await first.waitFor((r) => Number(r.progress?.offset ?? 0) === 3 * chunk);
    assert.ok(third !== undefined, 'Progress reached 3 chunks');
    assert.deepEqual(first.responses.map((r) => Number(r.progress!.offset)), [chunk, 2 * chunk, 3 * chunk]);
    first.cancel();
    assert.equal((await first.status).code, Status.CANCELLED);

    // Hello reports the partial; nothing of the block is visible.
    const hello = await client.hello({ siteId: SITE, agentTime: T0, pendingBlockIds: [block.id] });
    assert.deepEqual(hello.response!.heldBlockIds, []);
    assert.deepEqual(hello.response!.partialUploads!.map((p) => Number(p.offset)), [3 * chunk]);
    assert.equal(await t.agg.storage.getBlockMeta(SITE, block.idText), undefined);

    // Resuming anywhere else is refused with the offset to use.
    const wrong = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, offset: chunk, chunkBytes: chunk });
    assert.equal(wrong.status.code, Status.FAILED_PRECONDITION, describeStatus(wrong.status));
    assert.match(wrong.status.details, /^DW_INGEST_RESUME_OFFSET: expected offset 0 or 12288 .*found 4096/);
    assert.equal(trailer(wrong.status, RESUME_OFFSET_TRAILER), String(3 * chunk));

    const resumed = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, offset: 3 * chunk, chunkBytes: chunk });
    assert.equal(resumed.status.code, Status.OK, describeStatus(resumed.status));
    assert.equal(resumed.stored?.duplicate, false);
    assert.deepEqual(await t.agg.storage.readBlock(SITE, block.idText), new Uint8Array(block.bytes));
    assert.equal(await t.agg.storage.getPartial(SITE, block.idText), undefined, 'the partial is gone with the commit');
  });

  it('idempotent: the same block again is Stored with duplicate = true and the first arrival time, also from Begin alone', async () => {
    const client = t.client(SITE);
    const block = makeBlock(SITE, 3);
    t.clock.set(T0 + 10_000);
    const first = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes });
    assert.equal(first.stored?.duplicate, false);
    t.clock.set(T0 + 20_000);
    const again = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, chunkBytes: 100 });
    assert.equal(again.status.code, Status.OK, describeStatus(again.status));
    assert.deepEqual(again.stored, { duplicate: true, arrivedAt: T0 + 10_000 });
    const beginOnly = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, stopAt: 0 });
    assert.deepEqual(beginOnly.stored, { duplicate: true, arrivedAt: T0 + 10_000 });
    const metas = [];
    for await (const m of t.agg.storage.listBlocks(SITE)) if (m.id === block.idText) metas.push(m);
    assert.equal(metas.length, 1);
  });

  it('conflict: the same id with other bytes is ALREADY_EXISTS, the original kept and counted', async () => {
    const client = t.client(SITE);
    const block = makeBlock(SITE, 4);
    assert.equal((await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes })).status.code, Status.OK);
    const other = makeBlock(SITE, 4, { rounds: 21 }); // same seed: same id, other contents
    assert.equal(other.idText, block.idText);
    const before = metricValue((await scrape(t.agg)).body, 'driftwatch_aggregator_ingest_blocks_total', { result: 'conflict' });
    for (const chunkBytes of [1 << 20, 200]) {
      const r = await client.upload({ siteId: SITE, blockId: other.id, bytes: other.bytes, chunkBytes });
      assert.equal(r.status.code, Status.ALREADY_EXISTS, describeStatus(r.status));
      assert.match(r.status.details, /^DW_INGEST_CONFLICT: expected block \w{26} of site shop-1 with the bytes held \(SHA-256 [0-9a-f]{64}, \d+ bytes\), found other bytes/);
    }
    assert.deepEqual(await t.agg.storage.readBlock(SITE, block.idText), new Uint8Array(block.bytes));
    const text = (await scrape(t.agg)).body;
    assert.equal(metricValue(text, 'driftwatch_aggregator_ingest_blocks_total', { result: 'conflict' }), before + 2);
    assert.equal(metricValue(text, 'driftwatch_aggregator_ingest_rejected_total', { code: 'DW_INGEST_CONFLICT' }), before + 2);
  });

  it('heartbeat: the contact record, the history and the clock offset corrected by the round trip', async () => {
    const client = t.client('shop-2');
    t.clock.set(T0 + 100_000);
    const hb = await client.heartbeat({
      siteId: 'shop-2', agentTime: T0 + 130_000, lastRttMs: 400, backlogBlocks: 12, backlogBytes: 345_678, oldestUnshippedTime: T0 - 86_400_000,
      lastRoundTime: T0 + 129_000, lastErrorCode: 'DW_SHIP_UNREACHABLE', lastErrorMessage: 'connect ECONNREFUSED', agentStartTime: T0 - 3_600_000,
    });
    assert.equal(hb.status.code, Status.OK, describeStatus(hb.status));
    assert.equal(Number(hb.response!.serverTime), T0 + 100_000);
    const c = await t.agg.storage.getContact('shop-2');
    assert.equal(c?.backlogBlocks, 12);
    assert.equal(c?.lastErrorCode, 'DW_SHIP_UNREACHABLE');
    assert.deepEqual(c?.clockOffset, { offsetMs: -30_200, rttMs: 400, measuredAt: T0 + 100_000 }, 'the agent clock is 30 s ahead');
    const history = await t.agg.storage.contactHistory('shop-2');
    assert.equal(history.length, 1);
    assert.equal(history[0]!.backlogBytes, 345_678);
  });

  it('a second upload of the same block takes over the first (DW_INGEST_SUPERSEDED)', async () => {
    const client = t.client(SITE);
    const block = makeBlock(SITE, 6, { rounds: 30, strings: 60, compression: 'none' });
    const sha256 = sha256Of(block.bytes);
    const first = client.openUpload();
    first.send({ begin: { siteId: SITE, blockId: block.id, size: block.bytes.length, sha256, offset: 0 } });
    first.send({ chunk: { offset: 0, data: block.bytes.subarray(0, 1000) } });
    await first.waitFor((r) => r.progress != null);
    const second = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, offset: 1000, chunkBytes: 1000 });
    assert.equal(second.status.code, Status.OK, describeStatus(second.status));
    const s = await first.status;
    assert.equal(s.code, Status.ABORTED, describeStatus(s));
    assert.match(s.details, /^DW_INGEST_SUPERSEDED: /);
  });

  it('a client that does not trust the server\'s CA cannot connect; nothing is stored', async () => {
    const client = new IngestClient(t.agg.grpcAddress, { ca: t.pki.otherCaCert, token: tokenOf(SITE) });
    try {
      const block = makeBlock(SITE, 7);
      const r = await client.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes });
      assert.equal(r.status.code, Status.UNAVAILABLE, describeStatus(r.status));
      assert.equal(await t.agg.storage.getBlockMeta(SITE, block.idText), undefined);
    } finally {
      client.close();
    }
  });
});

describe('ingest across a restart of the aggregator', () => {
  it('a restart mid-upload never exposes a partial block; Hello reports the partial and the upload resumes', async () => {
    const t = await startTestAggregator([SITE]);
    try {
      const block = makeBlock(SITE, 8, { rounds: 40, strings: 80, floats: 40, compression: 'none' });
      const sha256 = sha256Of(block.bytes);
      const client = t.client(SITE);
      const up = client.openUpload();
      up.send({ begin: { siteId: SITE, blockId: block.id, size: block.bytes.length, sha256, offset: 0 } });
      up.send({ chunk: { offset: 0, data: block.bytes.subarray(0, 5000) } });
      up.send({ chunk: { offset: 5000, data: block.bytes.subarray(5000, 9000) } });
      await up.waitFor((r) => Number(r.progress?.offset ?? 0) === 9000);

      await t.restart();
      const s = await up.status;
      assert.ok(s.code === Status.UNAVAILABLE || s.code === Status.CANCELLED, describeStatus(s));
      if (s.code === Status.UNAVAILABLE && s.details.startsWith('DW_')) {
        assert.match(s.details, /^DW_INGEST_SHUTTING_DOWN: /);
        assert.equal(trailer(s, RETRY_PUSHBACK_TRAILER), '2000');
      }
      assert.equal(await t.agg.storage.getBlockMeta(SITE, block.idText), undefined);
      const blocks = [];
      for await (const m of t.agg.storage.listBlocks()) blocks.push(m);
      assert.deepEqual(blocks, [], 'no block is visible');

      const again = t.client(SITE);
      const hello = await again.hello({ siteId: SITE, agentTime: T0, pendingBlockIds: [block.id] });
      assert.deepEqual(hello.response!.partialUploads!.map((p) => Number(p.offset)), [9000]);
      const resumed = await again.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, offset: 9000, chunkBytes: 3000 });
      assert.equal(resumed.status.code, Status.OK, describeStatus(resumed.status));
      assert.deepEqual(resumed.responses.filter((r) => r.progress != null).map((r) => Number(r.progress!.offset)).slice(0, 2), [12_000, 15_000]);
      assert.deepEqual(await t.agg.storage.readBlock(SITE, block.idText), new Uint8Array(block.bytes));
    } finally {
      await t.cleanup();
    }
  });
});

describe('ingest push-back', () => {
  it('over the cap on uploads in progress: RESOURCE_EXHAUSTED with grpc-retry-pushback-ms; a slot freed is used again', async () => {
    const sites = ['shop-a', 'shop-b', 'shop-c'];
    const t = await startTestAggregator(sites, { limits: { maxConcurrentUploads: 2, pushbackMs: 1_500 } });
    try {
      const blocks = sites.map((s, i) => makeBlock(s, 20 + i, { rounds: 30, strings: 60, compression: 'none' }));
      const open = sites.slice(0, 2).map((site, i) => {
        const up = t.client(site).openUpload();
        const b = blocks[i]!;
        up.send({ begin: { siteId: site, blockId: b.id, size: b.bytes.length, sha256: sha256Of(b.bytes), offset: 0 } });
        up.send({ chunk: { offset: 0, data: b.bytes.subarray(0, 1000) } });
        return up;
      });
      await Promise.all(open.map((up) => up.waitFor((r) => r.progress != null)));
      const c = blocks[2]!;
      const refused = await t.client('shop-c').upload({ siteId: 'shop-c', blockId: c.id, bytes: c.bytes });
      assert.equal(refused.status.code, Status.RESOURCE_EXHAUSTED, describeStatus(refused.status));
      assert.match(refused.status.details, /^DW_INGEST_BUSY: expected fewer than 2 uploads in progress, found 2/);
      assert.equal(trailer(refused.status, RETRY_PUSHBACK_TRAILER), '1500');
      assert.equal(await t.agg.storage.getBlockMeta('shop-c', c.idText), undefined);
      assert.equal(metricValue((await scrape(t.agg)).body, 'driftwatch_aggregator_ingest_active_uploads'), 2);

      const a = blocks[0]!;
      for (let at = 1000; at < a.bytes.length; at += 1000) open[0]!.send({ chunk: { offset: at, data: a.bytes.subarray(at, at + 1000) } });
      open[0]!.end();
      assert.equal((await open[0]!.status).code, Status.OK);
      const retried = await t.client('shop-c').upload({ siteId: 'shop-c', blockId: c.id, bytes: c.bytes });
      assert.equal(retried.status.code, Status.OK, describeStatus(retried.status));
      open[1]!.cancel();
      await open[1]!.status;
    } finally {
      await t.cleanup();
    }
  });
});

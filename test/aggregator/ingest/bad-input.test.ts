// Every bad input of issue 4 at ingest: each gets its gRPC status with a DW_INGEST_* message,
// nothing is stored, and meanwhile another site keeps uploading without a single failure.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status as Status, type StatusObject } from '@grpc/grpc-js';
import { RESUME_OFFSET_TRAILER } from '../../../proto/index.js';
import { describeStatus, sha256Of, trailer, type IngestClient } from '../../helpers/ingest-client.js';
import { makeBlock, makeBomb, metricValue, scrape, startTestAggregator, T0, type TestAggregator } from '../helpers.js';

const SITE = 'shop-bad';
const OTHER = 'shop-other';
const GOOD = 'shop-good';
/** Small limits, so that over-limit messages stay small: the gRPC receive cap is 128 KiB. */
const LIMITS = { maxChunkBytes: 64 << 10, maxBlockBytes: 1 << 20, maxHelloIds: 1000 };

function expectStatus(s: StatusObject, code: Status, details: RegExp): void {
  assert.equal(s.code, code, describeStatus(s));
  assert.match(s.details, details);
}

describe('bad input at ingest', () => {
  let t: TestAggregator;
  let bad: IngestClient;
  let stopGood: () => void;
  let good: Promise<{ ok: number; failed: string[] }>;

  before(async () => {
    t = await startTestAggregator([SITE, OTHER, GOOD], { limits: LIMITS });
    bad = t.client(SITE);
    // Another site uploads block after block for as long as the bad inputs go on.
    const goodClient = t.client(GOOD);
    let stop = false;
    stopGood = () => {
      stop = true;
    };
    good = (async () => {
      const failed: string[] = [];
      let ok = 0;
      for (let seed = 1000; !stop || ok === 0; seed++) {
        const block = makeBlock(GOOD, seed, { rounds: 10, strings: 20, floats: 10 });
        const r = await goodClient.upload({ siteId: GOOD, blockId: block.id, bytes: block.bytes, chunkBytes: 1500 });
        if (r.status.code === Status.OK && r.stored?.duplicate === false) ok++;
        else failed.push(describeStatus(r.status));
      }
      return { ok, failed };
    })();
  });

  after(async () => {
    stopGood();
    await good.catch(() => undefined);
    await t.cleanup();
  });

  async function nothingStored(idText: string, site = SITE): Promise<void> {
    assert.equal(await t.agg.storage.getBlockMeta(site, idText), undefined, 'no block was stored');
  }

  it('an oversized message: RESOURCE_EXHAUSTED from gRPC\'s receive cap, before any handler', async () => {
    const block = makeBlock(SITE, 1);
    const r = await bad.upload({ siteId: SITE, blockId: block.id, bytes: new Uint8Array(200 << 10), sha256: sha256Of(block.bytes), size: 200 << 10, chunkBytes: 200 << 10 });
    assert.equal(r.status.code, Status.RESOURCE_EXHAUSTED, describeStatus(r.status));
    await nothingStored(block.idText);
  });

  it('a chunk over max_chunk_bytes: RESOURCE_EXHAUSTED DW_INGEST_CHUNK_TOO_LARGE', async () => {
    const block = makeBlock(SITE, 2);
    const big = new Uint8Array(300 << 10);
    const r = await bad.upload({ siteId: SITE, blockId: block.id, bytes: big, chunkBytes: 100 << 10 });
    expectStatus(r.status, Status.RESOURCE_EXHAUSTED, /^DW_INGEST_CHUNK_TOO_LARGE: expected a chunk of at most 65536 bytes \(max_chunk_bytes\), found 102400$/);
    await nothingStored(block.idText);
  });

  it('a block over max_block_bytes: RESOURCE_EXHAUSTED DW_INGEST_BLOCK_TOO_LARGE at Begin', async () => {
    const block = makeBlock(SITE, 3);
    const r = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, size: 2 << 20, stopAt: 0 });
    expectStatus(r.status, Status.RESOURCE_EXHAUSTED, /^DW_INGEST_BLOCK_TOO_LARGE: expected a block of at most 1048576 bytes \(max_block_bytes\), found size 2097152$/);
    await nothingStored(block.idText);
  });

  it('a decompression bomb: INVALID_ARGUMENT DW_INGEST_BLOCK_INVALID (the ratio cap), nothing stored, no partial left', async () => {
    const bomb = makeBomb(SITE, 4);
    assert.ok(bomb.bytes.length < 4096, `the bomb is ${bomb.bytes.length} bytes`);
    const r = await bad.upload({ siteId: SITE, blockId: bomb.id, bytes: bomb.bytes, chunkBytes: 1000 });
    expectStatus(r.status, Status.INVALID_ARGUMENT, /^DW_INGEST_BLOCK_INVALID: expected a block that decodes within the server's limits, found DW_BLOCK_LIMIT_EXCEEDED: .*compression ratio of at most 1000/);
    await nothingStored(bomb.idText);
    assert.equal(await t.agg.storage.getPartial(SITE, bomb.idText), undefined);
  });

  it('a wrong checksum: DATA_LOSS DW_INGEST_CHECKSUM_MISMATCH, the partial discarded', async () => {
    const block = makeBlock(SITE, 5, { rounds: 30, strings: 60, compression: 'none' });
    const wrong = sha256Of(new Uint8Array([1, 2, 3]));
    const r = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, sha256: wrong, chunkBytes: 2000 });
    expectStatus(r.status, Status.DATA_LOSS, /^DW_INGEST_CHECKSUM_MISMATCH: expected SHA-256 039058c6\w+ \(from Begin\), found [0-9a-f]{64} over the \d+ bytes received$/);
    await nothingStored(block.idText);
    assert.equal(await t.agg.storage.getPartial(SITE, block.idText), undefined);
  });

  it('a truncated stream: INVALID_ARGUMENT DW_INGEST_TRUNCATED with where to resume; no block', async () => {
    const block = makeBlock(SITE, 6, { rounds: 30, strings: 60, compression: 'none' });
    const r = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, chunkBytes: 1000, stopAt: 3000 });
    expectStatus(r.status, Status.INVALID_ARGUMENT, new RegExp(`^DW_INGEST_TRUNCATED: expected ${block.bytes.length} bytes of block ${block.idText}, found the stream ended after 3000; 3000 are stored, resume there$`));
    assert.equal(trailer(r.status, RESUME_OFFSET_TRAILER), '3000');
    await nothingStored(block.idText);
    const none = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, stopAt: 0, offset: 3000 });
    assert.match(none.status.details, /^DW_INGEST_TRUNCATED: /);
    const empty = bad.openUpload();
    empty.end();
    expectStatus(await empty.status, Status.INVALID_ARGUMENT, /^DW_INGEST_TRUNCATED: expected a Begin, found the stream ended without one$/);
    await nothingStored(block.idText);
  });

  it('another site\'s credential: PERMISSION_DENIED DW_INGEST_SITE_MISMATCH for Begin, the block header, Hello and Heartbeat', async () => {
    const block = makeBlock(SITE, 7);
    const other = t.client(OTHER);
    const r1 = await other.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes });
    expectStatus(r1.status, Status.PERMISSION_DENIED, /^DW_INGEST_SITE_MISMATCH: expected site_id "shop-other" \(the credential's site\), found "shop-bad"$/);
    const r2 = await other.upload({ siteId: OTHER, blockId: block.id, bytes: block.bytes, chunkBytes: 500 });
    expectStatus(r2.status, Status.PERMISSION_DENIED, /^DW_INGEST_SITE_MISMATCH: expected a block whose header names site "shop-other" \(the credential's site\), found "shop-bad"$/);
    assert.equal(r2.lastProgress, undefined, 'refused at the first chunk, from the header');
    const hello = await other.hello({ siteId: SITE, agentTime: T0 });
    expectStatus(hello.status, Status.PERMISSION_DENIED, /^DW_INGEST_SITE_MISMATCH: /);
    const hb = await other.heartbeat({ siteId: SITE, agentTime: T0 });
    expectStatus(hb.status, Status.PERMISSION_DENIED, /^DW_INGEST_SITE_MISMATCH: /);
    await nothingStored(block.idText);
    await nothingStored(block.idText, OTHER);
    assert.equal(await t.agg.storage.getPartial(OTHER, block.idText), undefined);
    assert.equal(await t.agg.storage.getContact(SITE), undefined, 'no contact was recorded for the impersonated site');
  });

  it('garbage protobuf: INVALID_ARGUMENT DW_INGEST_MALFORMED_MESSAGE on Upload, Hello and Heartbeat', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x42]);
    const up = bad.openUpload();
    up.send(garbage);
    up.end();
    expectStatus(await up.status, Status.INVALID_ARGUMENT, /^DW_INGEST_MALFORMED_MESSAGE: expected an UploadRequest protobuf message, found 7 bytes that do not parse/);
    expectStatus((await bad.hello(garbage)).status, Status.INVALID_ARGUMENT, /^DW_INGEST_MALFORMED_MESSAGE: expected a HelloRequest/);
    expectStatus((await bad.heartbeat(garbage)).status, Status.INVALID_ARGUMENT, /^DW_INGEST_MALFORMED_MESSAGE: expected a HeartbeatRequest/);
    const neither = bad.openUpload();
    neither.send({});
    neither.end();
    expectStatus(await neither.status, Status.INVALID_ARGUMENT, /^DW_INGEST_UNEXPECTED_MESSAGE: expected an UploadRequest with a begin or a chunk, found neither$/);
  });

  it('an unknown token or none: UNAUTHENTICATED DW_INGEST_UNAUTHENTICATED, nothing stored, no contact', async () => {
    const block = makeBlock(SITE, 8);
    const stranger = t.client(SITE, 'dwt_not-a-token-anyone-was-given');
    const r = await stranger.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes });
    expectStatus(r.status, Status.UNAUTHENTICATED, /^DW_INGEST_UNAUTHENTICATED: expected a token the aggregator knows, found an unknown one \(key id [0-9a-f]{12}\)$/);
    const hello = await stranger.hello({ siteId: SITE, agentTime: T0 });
    expectStatus(hello.status, Status.UNAUTHENTICATED, /^DW_INGEST_UNAUTHENTICATED: /);
    const none = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, token: null });
    expectStatus(none.status, Status.UNAUTHENTICATED, /^DW_INGEST_UNAUTHENTICATED: expected metadata "authorization: Bearer <token>", found no authorization metadata$/);
    await nothingStored(block.idText);
    assert.equal(await t.agg.storage.getContact(SITE), undefined);
  });

  it('messages out of order and at wrong offsets: INVALID_ARGUMENT / FAILED_PRECONDITION with clear codes', async () => {
    const block = makeBlock(SITE, 9, { rounds: 30, strings: 60, compression: 'none' });
    const sha256 = sha256Of(block.bytes);
    const chunkFirst = bad.openUpload();
    chunkFirst.send({ chunk: { offset: 0, data: block.bytes.subarray(0, 100) } });
    chunkFirst.end();
    expectStatus(await chunkFirst.status, Status.INVALID_ARGUMENT, /^DW_INGEST_UNEXPECTED_MESSAGE: expected a Begin first, found a chunk$/);
    const gap = bad.openUpload();
    gap.send({ begin: { siteId: SITE, blockId: block.id, size: block.bytes.length, sha256, offset: 0 } });
    gap.send({ chunk: { offset: 0, data: block.bytes.subarray(0, 1000) } });
    gap.send({ chunk: { offset: 1500, data: block.bytes.subarray(1500, 2000) } });
    gap.end();
    expectStatus(await gap.status, Status.INVALID_ARGUMENT, /^DW_INGEST_CHUNK_OFFSET: expected a chunk at offset 1000, found 1500$/);
    const resume = await bad.upload({ siteId: SITE, blockId: block.id, bytes: block.bytes, offset: 777 });
    expectStatus(resume.status, Status.FAILED_PRECONDITION, /^DW_INGEST_RESUME_OFFSET: expected offset 0 or 1000 .*found 777$/);
    assert.equal(trailer(resume.status, RESUME_OFFSET_TRAILER), '1000');
    const small = makeBlock(SITE, 12);
    const past = await bad.upload({ siteId: SITE, blockId: small.id, bytes: new Uint8Array(6000), size: 5000, chunkBytes: 6000 });
    expectStatus(past.status, Status.INVALID_ARGUMENT, /^DW_INGEST_CHUNK_OFFSET: expected at most 5000 bytes at offset 0 \(size 5000\), found 6000$/);
    const badId = await bad.upload({ siteId: SITE, blockId: new Uint8Array(5), bytes: block.bytes });
    expectStatus(badId.status, Status.INVALID_ARGUMENT, /^DW_INGEST_BAD_REQUEST: expected block_id of 16 bytes \(a ULID\), found 5 bytes$/);
    await nothingStored(block.idText);
    await nothingStored(small.idText);
  });

  it('a block whose header names another id, or that is no block: INVALID_ARGUMENT at the first chunk', async () => {
    const block = makeBlock(SITE, 10);
    const otherId = makeBlock(SITE, 11).id;
    const r = await bad.upload({ siteId: SITE, blockId: otherId, bytes: block.bytes });
    expectStatus(r.status, Status.INVALID_ARGUMENT, /^DW_INGEST_HEADER_MISMATCH: expected a block whose header names block \w{26} \(as Begin did\), found \w{26}$/);
    const notBlock = new Uint8Array(5000).fill(7);
    const r2 = await bad.upload({ siteId: SITE, blockId: block.id, bytes: notBlock, chunkBytes: 1000 });
    expectStatus(r2.status, Status.INVALID_ARGUMENT, /^DW_INGEST_BLOCK_INVALID: .*DW_BLOCK_BAD_MAGIC/);
    assert.equal(r2.lastProgress, undefined);
    await nothingStored(block.idText);
  });

  it('the other site uploaded throughout without a failure; every rejection was counted by code', async () => {
    stopGood();
    const result = await good;
    assert.deepEqual(result.failed, []);
    assert.ok(result.ok >= 1);
    let held = 0;
    for await (const _ of t.agg.storage.listBlocks(GOOD)) held++;
    assert.equal(held, result.ok);
    for await (const m of t.agg.storage.listBlocks()) assert.equal(m.site, GOOD, 'only the good site has blocks');
    const text = (await scrape(t.agg)).body;
    for (const code of ['DW_INGEST_CHUNK_TOO_LARGE', 'DW_INGEST_BLOCK_TOO_LARGE', 'DW_INGEST_BLOCK_INVALID', 'DW_INGEST_CHECKSUM_MISMATCH', 'DW_INGEST_TRUNCATED',
      'DW_INGEST_SITE_MISMATCH', 'DW_INGEST_MALFORMED_MESSAGE', 'DW_INGEST_UNAUTHENTICATED', 'DW_INGEST_CHUNK_OFFSET', 'DW_INGEST_RESUME_OFFSET', 'DW_INGEST_HEADER_MISMATCH']) {
      assert.ok(metricValue(text, 'driftwatch_aggregator_ingest_rejected_total', { code }) >= 1, `${code} counted`);
    }
  });
});

// The gRPC transport against a real @grpc/grpc-js server on loopback: every way a call ends maps
// to a DW_SHIP_* failure with the status, the push-back and the resume offset; chunks follow
// the server's limit and the bandwidth cap; TLS with a CA and a server name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, status } from '@grpc/grpc-js';
import { ManualClock } from '../../common/clock.js';
import { seededRandom, seedFromEnv } from '../../common/random.js';
import { fastForwardTimers } from '../../common/timers.js';
import { newUlid, ulidToString } from '../../common/ulid.js';
import { BlockBuilder, encodeBlock } from '../../proto/index.js';
import { createGrpcTransport, ShipperError, ShipperErrorCode, type IngestTransport, type TransportResult, type UploadBlock } from '../../shipper/index.js';
import { missingBinary, freeTcpPort } from '../helpers/free-port.js';
import { tempDir } from '../collector/store/helpers.js';
import { TestIngestServer } from './ingest-server.js';
import { fixture, sealBlocks, SITE, T0, TOKEN, transportTo, FAST_RECONNECT } from './helpers.js';

const SEED = seedFromEnv(99);

async function blockOf(f: Awaited<ReturnType<typeof fixture>>, minutes = 3): Promise<UploadBlock> {
  const [info] = await sealBlocks(f.s.store, T0, minutes, 3, 40);
  const read = await f.s.store.readBlock(info!.id);
  assert.equal(read.status, 'ok');
  const bytes = read.status === 'ok' ? read.bytes : new Uint8Array();
  return { siteId: SITE, id: info!.id, bytes, sha256: createHash('sha256').update(bytes).digest() };
}

/** A block of this site with random floats (they do not compress): about `rounds` × 320 bytes. */
function bigBlock(seed: number, rounds: number): UploadBlock {
  const random = seededRandom(seed);
  const b = new BlockBuilder();
  for (let i = 0; i < rounds; i++) {
    const samples = Array.from({ length: 40 }, (_, k) => ({ name: 'node_noise', labels: { k: String(k) }, type: 'float' as const, value: random() * 1e6 }));
    b.append({ t: T0 + i * 15_000, samples });
  }
  const id = newUlid({ now: () => T0 }, random);
  const bytes = encodeBlock(b.build(), { siteId: SITE, blockId: id, sequence: 1, createdAt: T0 });
  return { siteId: SITE, id: ulidToString(id), bytes, sha256: createHash('sha256').update(bytes).digest() };
}

function errorOf<T>(r: TransportResult<T>): ShipperError {
  assert.notEqual(r.status, 'success', 'expected the call to fail');
  if (r.status === 'success') throw new Error('unreachable');
  assert.equal(r.status, r.error.retryable ? 'retryable' : 'failure');
  return r.error;
}

const HELLO = { siteId: SITE, pendingBlockIds: [], agentVersion: 'test' };

test('hello, upload and heartbeat against the server; chunks shrink to the server\'s max_chunk_bytes', async () => {
  const f = await fixture({ maxChunkBytes: 300 });
  const t = transportTo(f.server, f.clock, { chunkBytes: 512 });
  try {
    const block = await blockOf(f);
    const h = await t.hello({ ...HELLO, pendingBlockIds: [block.id] });
    assert.equal(h.status, 'success');
    if (h.status === 'success') {
      assert.deepEqual(h.value.heldBlockIds, []);
      assert.equal(h.value.maxChunkBytes, 300);
      assert.equal(h.value.serverTime, f.clock.now() + 1234);
      assert.equal(h.value.agentTime, f.clock.now());
    }
    const progress: number[] = [];
    let sent = 0;
    const u = await t.upload(block, 0, { onProgress: (o) => progress.push(o), onSent: (n) => (sent += n) });
    assert.deepEqual(u, { status: 'success', value: { duplicate: false, arrivedAt: f.clock.now() + 1234 } });
    assert.ok(f.server.log.chunkSizes.length > 2 && f.server.log.chunkSizes.every((n) => n <= 300), `chunks ${f.server.log.chunkSizes.join(',')}`);
    assert.equal(sent, block.bytes.length);
    assert.equal(progress.at(-1), block.bytes.length);
    assert.deepEqual(f.server.state.blocks.get(block.id)?.bytes, Buffer.from(block.bytes));
    // Again: the same bytes are a duplicate, answered before the chunks are needed.
    const again = await t.upload(block, 0);
    assert.equal(again.status === 'success' && again.value.duplicate, true);
    const hb = await t.heartbeat({
      siteId: SITE, lastRttMs: 3, backlogBlocks: 2, backlogBytes: 900, oldestUnshippedTime: T0, lastRoundTime: T0 + 5,
      lastErrorCode: '', lastErrorMessage: '', agentStartTime: T0 - 1,
    });
    assert.equal(hb.status, 'success');
    const seen = f.server.log.heartbeats[0]!;
    assert.equal(Number(seen.agentTime), f.clock.now());
    assert.equal(Number(seen.backlogBytes), 900);
    assert.equal(Number(seen.lastRttMs), 3);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('every failing status maps to its DW_SHIP_* code, retryability, push-back and server code', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const block = await blockOf(f, 1);
    const cases: [number, number | undefined, ShipperErrorCode, boolean][] = [
      [status.UNAVAILABLE, 1500, ShipperErrorCode.Unavailable, true],
      [status.UNAVAILABLE, undefined, ShipperErrorCode.Unavailable, true],
      [status.RESOURCE_EXHAUSTED, 30_000, ShipperErrorCode.PushedBack, true],
      [status.RESOURCE_EXHAUSTED, undefined, ShipperErrorCode.Rejected, false], // no push-back: the block is too big for the server
      [status.DEADLINE_EXCEEDED, undefined, ShipperErrorCode.Timeout, true],
      [status.ABORTED, undefined, ShipperErrorCode.ServerAborted, true],
      [status.INTERNAL, undefined, ShipperErrorCode.TransportFailed, true],
      [status.UNKNOWN, undefined, ShipperErrorCode.TransportFailed, true],
      [status.DATA_LOSS, undefined, ShipperErrorCode.ChecksumMismatch, false],
      [status.ALREADY_EXISTS, undefined, ShipperErrorCode.Conflict, false],
      [status.INVALID_ARGUMENT, undefined, ShipperErrorCode.Rejected, false],
      [status.UNAUTHENTICATED, undefined, ShipperErrorCode.Unauthenticated, false],
      [status.PERMISSION_DENIED, undefined, ShipperErrorCode.PermissionDenied, false],
      [status.UNIMPLEMENTED, undefined, ShipperErrorCode.Protocol, false],
    ];
    for (const [code, pushbackMs, want, retryable] of cases) {
      f.server.faults.upload.push({ code, ...(pushbackMs === undefined ? {} : { pushbackMs }) });
      const e = errorOf(await t.upload(block, 0));
      assert.equal(e.code, want, `status ${code}`);
      assert.equal(e.retryable, retryable, `status ${code}`);
      assert.equal(e.grpcStatus, code);
      assert.equal(e.pushbackMs, pushbackMs);
      assert.equal(e.serverCode, 'DW_INGEST_TEST');
      assert.equal(e.resumeOffset, 0);
      assert.match(e.message, new RegExp(`^expected .+, found ${e.grpcStatusName}: DW_INGEST_TEST`));
    }
    // Hello: RESOURCE_EXHAUSTED without push-back is still a slow-down; FAILED_PRECONDITION is not Hello's.
    f.server.faults.hello.push({ code: status.RESOURCE_EXHAUSTED }, { code: status.FAILED_PRECONDITION });
    assert.equal(errorOf(await t.hello(HELLO)).code, ShipperErrorCode.PushedBack);
    assert.equal(errorOf(await t.hello(HELLO)).code, ShipperErrorCode.Protocol);
    f.server.faults.heartbeat.push({ code: status.UNAVAILABLE, pushbackMs: 10 });
    const hb = errorOf(await t.heartbeat({
      siteId: SITE, lastRttMs: 0, backlogBlocks: 0, backlogBytes: 0, oldestUnshippedTime: 0, lastRoundTime: 0, lastErrorCode: '', lastErrorMessage: '', agentStartTime: 0,
    }));
    assert.deepEqual([hb.code, hb.pushbackMs, hb.resumeOffset], [ShipperErrorCode.Unavailable, 10, undefined]);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('a cut upload reports the last Progress; a wrong resume offset gets the server\'s from dw-resume-offset', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock, { chunkBytes: 256 });
  try {
    const block = bigBlock(SEED, 20);
    assert.ok(block.bytes.length > 2000);
    f.server.cutAfterBytes.push(1000);
    const cut = errorOf(await t.upload(block, 0));
    assert.equal(cut.code, ShipperErrorCode.Unavailable);
    assert.equal(cut.resumeOffset, 768, 'three 256-byte chunks were acknowledged before the cut');
    assert.equal(f.server.state.partials.get(block.id)?.data.length, 1000, 'the server kept 1000 bytes');
    const mismatch = errorOf(await t.upload(block, 768));
    assert.equal(mismatch.code, ShipperErrorCode.ResumeMismatch);
    assert.equal(mismatch.retryable, true);
    assert.equal(mismatch.resumeOffset, 1000);
    let sent = 0;
    const r = await t.upload(block, 1000, { onSent: (n) => (sent += n) });
    assert.equal(r.status, 'success');
    assert.equal(sent, block.bytes.length - 1000, 'only the rest was sent');
    assert.deepEqual(f.server.state.blocks.get(block.id)?.bytes, Buffer.from(block.bytes));
    assert.deepEqual(f.server.log.begins.map((b) => b.offset), [0, 768, 1000]);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('credentials: an unknown token is UNAUTHENTICATED, another site\'s id PERMISSION_DENIED, neither retryable', async () => {
  const f = await fixture();
  const bad = transportTo(f.server, f.clock, { token: 'nope' });
  const good = transportTo(f.server, f.clock);
  try {
    const block = await blockOf(f, 1);
    assert.equal(errorOf(await bad.hello(HELLO)).code, ShipperErrorCode.Unauthenticated);
    assert.equal(errorOf(await bad.upload(block, 0)).code, ShipperErrorCode.Unauthenticated);
    const other = errorOf(await good.hello({ ...HELLO, siteId: 'another-site' }));
    assert.equal(other.code, ShipperErrorCode.PermissionDenied);
    assert.equal(other.serverCode, 'DW_INGEST_SITE_MISMATCH');
    assert.equal(errorOf(await good.upload({ ...block, siteId: 'another-site' }, 0)).code, ShipperErrorCode.PermissionDenied);
    assert.equal(f.server.state.blocks.size, 0);
  } finally {
    bad.close();
    good.close();
    await f.cleanup();
  }
});

test('no server listening: UNAVAILABLE, retryable; a conflict and a corrupted chunk are final', async () => {
  const port = await freeTcpPort();
  const clock = new ManualClock(T0);
  const down = createGrpcTransport({ address: `127.0.0.1:${port}`, tls: 'insecure', token: TOKEN, clock, channelOptions: FAST_RECONNECT });
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const e = errorOf(await down.hello(HELLO));
    assert.equal(e.code, ShipperErrorCode.Unavailable);
    assert.match(e.message, new RegExp(`expected the aggregator at 127.0.0.1:${port} to answer Hello, found UNAVAILABLE`));
    const block = await blockOf(f, 1);
    f.server.state.blocks.set(block.id, { bytes: Buffer.from('other bytes'), sha: 'ab', arrivedAt: 1, siteId: SITE });
    const conflict = errorOf(await t.upload(block, 0));
    assert.equal(conflict.code, ShipperErrorCode.Conflict);
    assert.equal(conflict.serverCode, 'DW_INGEST_CONFLICT');
    f.server.state.blocks.clear();
    f.server.corruptNextChunk = true;
    const loss = errorOf(await t.upload(block, 0));
    assert.equal(loss.code, ShipperErrorCode.ChecksumMismatch);
    assert.equal(f.server.state.blocks.size, 0);
    assert.equal(f.server.state.partials.size, 0, 'the partial was discarded');
  } finally {
    down.close();
    t.close();
    await f.cleanup();
  }
});

test('an upload that stalls is given up after callTimeouts.uploadIdleMs; an abort ends it at once', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock, { callTimeouts: { uploadIdleMs: 300 } });
  try {
    const block = await blockOf(f, 1);
    f.server.holdUploads = true;
    const idle = errorOf(await t.upload(block, 0));
    assert.equal(idle.code, ShipperErrorCode.Timeout);
    assert.equal(idle.retryable, true);
    assert.equal(idle.resumeOffset, 0);
    const ac = new AbortController();
    const began = f.server.waitFor('begin');
    const p = t.upload(block, 0, { signal: ac.signal });
    await began;
    ac.abort(new Error('agent stopping'));
    const aborted = errorOf(await p);
    assert.equal(aborted.code, ShipperErrorCode.Aborted);
    assert.equal(aborted.retryable, false);
    const pre = new AbortController();
    pre.abort();
    assert.equal(errorOf(await t.hello(HELLO, { signal: pre.signal })).code, ShipperErrorCode.Aborted);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test(`a large upload is paced by the bandwidth cap on the injected clock (seed ${SEED})`, async () => {
  const f = await fixture({ maxChunkBytes: 64 * 1024 });
  const clock = new ManualClock(T0);
  const rate = 125_000;
  const t = transportTo(f.server, clock, { chunkBytes: 1024, bandwidthBytesPerSecond: rate, burstBytes: 4096, timers: fastForwardTimers(clock) });
  try {
    const block = bigBlock(SEED, 1000);
    assert.ok(block.bytes.length > 250_000, `a block of ${block.bytes.length} bytes`);
    let sent = 0;
    const r = await t.upload(block, 0, { onSent: (n) => (sent += n) });
    assert.equal(r.status, 'success');
    assert.equal(sent, block.bytes.length);
    assert.equal(f.server.log.chunkSizes.length, Math.ceil(block.bytes.length / 1024));
    assert.deepEqual(f.server.state.blocks.get(block.id)?.bytes, Buffer.from(block.bytes));
    const elapsed = clock.now() - T0;
    const ideal = ((block.bytes.length - 4096) * 1000) / rate;
    assert.ok(elapsed >= ideal && elapsed <= ideal + 1000, `expected ~${Math.round(ideal)} ms of simulated time at ${rate} B/s, found ${elapsed}`);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('under a low bandwidth cap chunks are cut to 5 seconds\' worth, so no idle timeout takes a slow link for a dead one', async () => {
  const f = await fixture({ maxChunkBytes: 64 * 1024 });
  const clock = new ManualClock(T0);
  const t = transportTo(f.server, clock, { chunkBytes: 64 * 1024, bandwidthBytesPerSecond: 1000, burstBytes: 0, timers: fastForwardTimers(clock) });
  try {
    const block = bigBlock(SEED + 2, 60);
    assert.ok(block.bytes.length > 15_000, `a block of ${block.bytes.length} bytes`);
    assert.equal((await t.upload(block, 0)).status, 'success');
    assert.ok(f.server.log.chunkSizes.slice(0, -1).every((n) => n === 5000), `chunks ${f.server.log.chunkSizes.join(',')}`);
    assert.ok(clock.now() - T0 >= block.bytes.length, '1000 B/s: a millisecond per byte');
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('without a cap, an upload waits for drain whenever the stream says write() false, and all of it arrives', async () => {
  const f = await fixture({ maxChunkBytes: 64 * 1024 });
  const t = transportTo(f.server, f.clock, { chunkBytes: 1024 });
  // Count the write() calls the stream refused (returned false for) on this test's calls.
  const proto = Client.prototype as unknown as { makeBidiStreamRequest: (...a: unknown[]) => { write: (...x: unknown[]) => boolean } };
  const original = proto.makeBidiStreamRequest;
  let refused = 0;
  proto.makeBidiStreamRequest = function (this: unknown, ...a: unknown[]) {
    const call = original.apply(this, a);
    const write = call.write.bind(call);
    call.write = (...x: unknown[]) => {
      const more = write(...x);
      if (!more) refused++;
      return more;
    };
    return call;
  };
  try {
    const block = bigBlock(SEED + 1, 1000);
    const r = await t.upload(block, 0);
    assert.equal(r.status, 'success');
    assert.ok(refused > 0, 'the stream pushed back at least once');
    assert.deepEqual(f.server.state.blocks.get(block.id)?.bytes, Buffer.from(block.bytes));
  } finally {
    proto.makeBidiStreamRequest = original;
    t.close();
    await f.cleanup();
  }
});

test('options are checked: address, token, chunk size, bandwidth, CA file', () => {
  const base = { address: '127.0.0.1:1', tls: 'insecure' as const, token: 't' };
  const invalid = (e: unknown): boolean => e instanceof ShipperError && e.code === ShipperErrorCode.InvalidOptions && /expected .+, found/.test(e.message);
  assert.throws(() => createGrpcTransport({ ...base, address: 'no-port' }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, token: 'has space' }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, token: '' }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, chunkBytes: 0 }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, chunkBytes: 64 * 1024 * 1024 }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, bandwidthBytesPerSecond: -1 }), invalid);
  assert.throws(() => createGrpcTransport({ ...base, tls: { caFile: '/nonexistent/ca.pem' } }),
    (e: unknown) => e instanceof ShipperError && e.code === ShipperErrorCode.CredentialUnreadable && e.message.includes('/nonexistent/ca.pem'));
  createGrpcTransport(base).close();
});

test('TLS: the aggregator\'s certificate is checked against the CA and the server name', async (t) => {
  const skip = await missingBinary('/usr/bin/openssl', 'openssl');
  if (skip !== undefined) {
    t.skip(skip);
    return;
  }
  const { dir, cleanup } = await tempDir();
  const ossl = (...args: string[]): void => {
    execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=driftwatch test CA');
  ossl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  ossl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=ingest.test');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:ingest.test\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  const server = new TestIngestServer({
    tokens: { [TOKEN]: SITE }, tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) },
  });
  await server.start();
  const clock = new ManualClock(T0);
  const transports: IngestTransport[] = [];
  const make = (tls: { caFile: string; serverName?: string }): IngestTransport => {
    const tr = createGrpcTransport({ address: server.address, tls, token: TOKEN, clock, channelOptions: FAST_RECONNECT });
    transports.push(tr);
    return tr;
  };
  try {
    const ok = await make({ caFile: join(dir, 'ca.pem'), serverName: 'ingest.test' }).hello(HELLO);
    assert.equal(ok.status, 'success');
    const wrongCa = errorOf(await make({ caFile: join(dir, 'other.pem'), serverName: 'ingest.test' }).hello(HELLO));
    assert.equal(wrongCa.code, ShipperErrorCode.Unavailable);
    const wrongName = errorOf(await make({ caFile: join(dir, 'ca.pem'), serverName: 'other.test' }).hello(HELLO));
    assert.equal(wrongName.code, ShipperErrorCode.Unavailable);
    assert.equal(server.log.hellos.length, 1);
  } finally {
    for (const tr of transports) tr.close();
    await server.stop();
    await cleanup();
  }
});

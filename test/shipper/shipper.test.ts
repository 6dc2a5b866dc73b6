// The shipper against a real edge store with real sealed blocks and a real gRPC server on
// loopback: upload order, idempotence, resume, markShipped only on Stored, refused blocks
// skipped, re-listing while the store seals and compacts, outages, the heartbeat's content.
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { status } from '@grpc/grpc-js';
import { ManualTimers } from '../../common/timers.js';
import { seededRandom } from '../../common/random.js';
import { newUlid, ulidToString } from '../../common/ulid.js';
import {
  createShipper, failed, MAX_HELLO_IDS, ShipperError, ShipperErrorCode, type IngestTransport, type ShipperStore, type SyncSummary,
} from '../../shipper/index.js';
import {
  fixture, MIN, recordingLogger, retryingTransportTo, sealBlocks, SITE, T0, TOKEN, transportTo, type Fixture,
} from './helpers.js';

const HOUR = 3_600_000;

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m !== undefined, `metric ${name} is registered`);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

async function unshippedIds(f: Fixture): Promise<string[]> {
  return (await f.s.store.listUnshipped({ order: 'oldest-first' })).map((b) => b.id);
}

/** A ShipperStore over the fixture's store that runs `before(n)` ahead of the n-th listUnshipped (1-based). */
function hookedStore(f: Fixture, before: (n: number) => Promise<void>): ShipperStore {
  const store = f.s.store;
  let n = 0;
  return {
    async listUnshipped(o) {
      await before(++n);
      return store.listUnshipped(o);
    },
    pin: (id) => store.pin(id),
    unpin: (id) => store.unpin(id),
    readBlock: (id) => store.readBlock(id),
    markShipped: (id) => store.markShipped(id),
    stats: () => store.stats(),
  };
}

test('newest block first, then the backlog oldest to newest; each marked shipped on Stored; metrics count it', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const blocks = await sealBlocks(f.s.store, T0, 5);
    assert.equal(blocks.length, 5);
    const typed: ShipperStore = f.s.store; // the edge store fits the shipper's interface as it is
    const registry = new Registry();
    const shipper = createShipper({ store: typed, transport: t, siteId: SITE, clock: f.clock, registry });
    const summary = await shipper.sync();
    const ids = blocks.map((b) => b.id);
    const order = [ids[4], ids[0], ids[1], ids[2], ids[3]];
    assert.equal(summary.outcome, 'done');
    assert.deepEqual(summary.shipped, order);
    assert.deepEqual(f.server.log.acked.map((a) => a.id), order);
    assert.deepEqual([summary.stored, summary.duplicates, summary.held, summary.resumed], [5, 0, 0, 0]);
    assert.deepEqual(await unshippedIds(f), []);
    assert.equal(f.s.store.stats().pinnedBlocks, 0);
    assert.deepEqual(f.server.log.hellos[0]!.pendingBlockIds!.length, 5);
    const bytes = blocks.reduce((a, b) => a + b.bytes, 0);
    assert.equal(summary.bytesSent, bytes);
    for (const b of blocks) assert.equal(f.server.state.blocks.get(b.id)?.bytes.length, b.bytes);
    assert.equal(await metric(registry, 'driftwatch_shipper_blocks_shipped_total', { result: 'stored' }), 5);
    assert.equal(await metric(registry, 'driftwatch_shipper_bytes_sent_total'), bytes);
    assert.equal(await metric(registry, 'driftwatch_shipper_backlog_blocks'), 0);
    assert.equal(shipper.status().lastSyncAt, f.clock.now());
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('idempotent: nothing is sent twice; blocks the center holds are marked from Hello; a late duplicate is acknowledged', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const first = await sealBlocks(f.s.store, T0, 2);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    assert.equal((await shipper.sync()).stored, 2);
    const again = await shipper.sync();
    assert.deepEqual([again.outcome, again.stored, again.held, again.bytesSent], ['done', 0, 0, 0]);
    assert.equal(f.server.log.begins.length, first.length, 'one upload per block');
    assert.equal(f.server.log.calls.hello, 1, 'nothing pending: no Hello, nothing sent');

    // The agent crashed after the center stored two blocks and before it marked them: Hello says so.
    const next = await sealBlocks(f.s.store, T0 + 10 * MIN, 3, 8);
    for (const b of next.slice(0, 2)) {
      const read = await f.s.store.readBlock(b.id);
      assert.equal(read.status, 'ok');
      if (read.status === 'ok') f.server.state.blocks.set(b.id, { bytes: Buffer.from(read.bytes), sha: 'x', arrivedAt: 1, siteId: SITE });
    }
    // And the third reaches the center (another connection) between Hello and its upload.
    const third = await f.s.store.readBlock(next[2]!.id);
    const lateCopy = f.server.waitFor('hello').then(() => {
      if (third.status !== 'ok') return;
      f.server.state.blocks.set(next[2]!.id, { bytes: Buffer.from(third.bytes), sha: createHash('sha256').update(third.bytes).digest('hex'), arrivedAt: 2, siteId: SITE });
    });
    const s = await shipper.sync();
    await lateCopy;
    assert.deepEqual([s.outcome, s.held, s.stored, s.duplicates], ['done', 2, 0, 1]);
    assert.deepEqual(f.server.log.begins.map((b) => b.id).filter((id) => next.some((n) => n.id === id)), [next[2]!.id]);
    assert.deepEqual(await unshippedIds(f), []);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('a block is marked shipped only on Stored: not when the upload is abandoned, nor when it fails', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const blocks = await sealBlocks(f.s.store, T0, 2);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    f.server.holdUploads = true;
    const ac = new AbortController();
    const began = f.server.waitFor('begin');
    const p = shipper.sync(ac.signal);
    await began;
    ac.abort(new Error('agent stopping'));
    const aborted = await p;
    assert.equal(aborted.outcome, 'aborted');
    assert.equal(aborted.error?.code, ShipperErrorCode.Aborted);
    assert.deepEqual(await unshippedIds(f), blocks.map((b) => b.id));
    assert.equal(f.s.store.stats().pinnedBlocks, 0, 'the pin was released');
    assert.equal(shipper.status().lastError, undefined, 'an abort is not an upload failure');

    f.server.holdUploads = false;
    f.server.faults.upload.push({ code: status.UNAVAILABLE, pushbackMs: 5000 });
    const failed = await shipper.sync();
    assert.equal(failed.outcome, 'failed', 'a bare transport does not retry: the sync stops');
    assert.equal(failed.error?.code, ShipperErrorCode.Unavailable);
    assert.equal(failed.error?.pushbackMs, 5000);
    assert.deepEqual(await unshippedIds(f), blocks.map((b) => b.id));
    assert.equal(shipper.status().lastError?.code, ShipperErrorCode.Unavailable);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('resume: a cut upload continues where the server holds it, in the same sync and after an agent restart', async () => {
  const f = await fixture();
  const t = retryingTransportTo(f.server, f.clock, { extra: { chunkBytes: 256 } });
  const bare = transportTo(f.server, f.clock, { chunkBytes: 256 });
  try {
    const [a, b] = await sealBlocks(f.s.store, T0, 2, 5, 40);
    assert.ok(a!.bytes > 700 && b!.bytes > 700, `blocks of ${a!.bytes} and ${b!.bytes} bytes`);
    // In one sync: cut the first upload (the newest, b) at 612 bytes; Progress said 512.
    f.server.cutAfterBytes.push(612);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    const s1 = await shipper.sync();
    assert.equal(s1.outcome, 'done');
    assert.deepEqual(f.server.log.begins.filter((x) => x.id === b!.id).map((x) => x.offset), [0, 512, 612],
      'resumed at the last Progress, told 612 by dw-resume-offset, resumed there');
    assert.deepEqual(f.server.state.blocks.get(b!.id)?.bytes.length, b!.bytes);
    // Chunks already in flight when the cut came are sent again; never the whole block twice over.
    assert.ok(s1.bytesSent >= a!.bytes + b!.bytes + 100 && s1.bytesSent <= a!.bytes + 2 * b!.bytes, `sent ${s1.bytesSent}`);

    // Across a restart of the agent: the first sync is cut and gives up (no retry); a new
    // shipper (a new process) learns the partial from Hello and sends only the rest.
    const [c] = await sealBlocks(f.s.store, T0 + 10 * MIN, 1, 6, 40);
    f.server.cutAfterBytes.push(700);
    const before = await createShipper({ store: f.s.store, transport: bare, siteId: SITE, clock: f.clock }).sync();
    assert.equal(before.outcome, 'failed');
    assert.equal(f.server.state.partials.get(c!.id)?.data.length, 700);
    const after = await createShipper({ store: f.s.store, transport: bare, siteId: SITE, clock: f.clock }).sync();
    assert.deepEqual([after.outcome, after.stored, after.resumed, after.bytesSent], ['done', 1, 1, c!.bytes - 700]);
    assert.deepEqual(f.server.log.begins.filter((x) => x.id === c!.id).map((x) => x.offset), [0, 700]);
    assert.deepEqual(await unshippedIds(f), []);
  } finally {
    t.close();
    bare.close();
    await f.cleanup();
  }
});

test('the server crashes mid-upload: the connection resets, the shipper backs off and resumes after the restart', async () => {
  const f = await fixture();
  const timers = new ManualTimers(f.clock);
  const t = retryingTransportTo(f.server, f.clock, { timers, extra: { chunkBytes: 256 } });
  try {
    const blocks = await sealBlocks(f.s.store, T0, 3, 5, 40);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    const killed = f.server.waitFor<{ id: string; offset: number }>('begin').then(() => f.server.kill());
    let settled = false;
    const p = shipper.sync().finally(() => {
      settled = true;
    });
    await killed;
    await timers.whenPending(1); // the retry's backoff is armed: the agent saw the reset
    const outageStart = f.clock.now();
    for (let i = 0; i < 5; i++) {
      timers.runNext(); // retries against a dead port
      await Promise.race([timers.whenPending(1), p]);
    }
    await f.server.start();
    while (!settled) {
      timers.runNext();
      await Promise.race([timers.whenPending(1), p]);
    }
    const s: SyncSummary = await p;
    assert.equal(s.outcome, 'done');
    assert.equal(s.stored, 3);
    assert.ok(f.clock.now() > outageStart, 'the outage took simulated time');
    assert.ok(f.server.log.begins.filter((b) => b.id === blocks[2]!.id).length >= 2, 'the newest block was begun again after the restart');
    assert.deepEqual(await unshippedIds(f), []);
    for (const b of blocks) assert.equal(f.server.state.blocks.get(b.id)?.bytes.length, b.bytes);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('a conflict or an invalid block is skipped and reported; the rest ships; it is offered again later', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const blocks = await sealBlocks(f.s.store, T0, 4);
    const [b0, b1, b2, b3] = blocks.map((b) => b.id) as [string, string, string, string];
    // Another writer stores other bytes under b1's id after Hello (before it, Hello would call b1 held).
    void f.server.waitFor('hello').then(() => {
      f.server.state.blocks.set(b1, { bytes: Buffer.from('the center holds other bytes'), sha: 'other', arrivedAt: 1, siteId: SITE });
    });
    f.server.refuse.set(b2, { code: status.INVALID_ARGUMENT, details: 'DW_INGEST_INVALID_BLOCK: expected a block that decodes, found garbage' });
    const registry = new Registry();
    const logger = recordingLogger();
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, registry, logger, retryRejectedAfterMs: HOUR });
    const s = await shipper.sync();
    assert.equal(s.outcome, 'done');
    assert.deepEqual(s.shipped, [b3, b0]);
    assert.deepEqual(s.skipped.map((x) => [x.id, x.code]), [[b1, ShipperErrorCode.Conflict], [b2, ShipperErrorCode.Rejected]]);
    assert.deepEqual(await unshippedIds(f), [b1, b2]);
    assert.equal(await metric(registry, 'driftwatch_shipper_errors_total', { code: ShipperErrorCode.Conflict }), 1);
    assert.equal(await metric(registry, 'driftwatch_shipper_errors_total', { code: ShipperErrorCode.Rejected }), 1);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.fields.block === b1 && l.fields.code === ShipperErrorCode.Conflict));

    await shipper.heartbeat();
    assert.equal(f.server.log.heartbeats.at(-1)!.lastErrorCode, ShipperErrorCode.Rejected);
    assert.match(f.server.log.heartbeats.at(-1)!.lastErrorMessage!, /DW_INGEST_INVALID_BLOCK/);

    // A new block ships. Hello now reports b1 held (the center holds that id, with its own
    // bytes): it is marked shipped, the center's copy wins as the protocol keeps the block
    // stored first. b2 is left alone for now, and still reported.
    const [n] = await sealBlocks(f.s.store, T0 + 10 * MIN, 1, 9);
    const s2 = await shipper.sync();
    assert.deepEqual([s2.shipped, s2.held, s2.deferred], [[n!.id], 1, 1]);
    assert.equal(f.server.state.blocks.get(b1)!.sha, 'other', 'the center kept the block it stored first');
    assert.equal(shipper.status().lastError, undefined, 'the last upload succeeded');
    await shipper.heartbeat();
    assert.equal(f.server.log.heartbeats.at(-1)!.lastErrorCode, ShipperErrorCode.Rejected, 'the refusal is still reported');
    assert.match(f.server.log.heartbeats.at(-1)!.lastErrorMessage!, new RegExp(`^block ${b2}: `));

    // After retryRejectedAfter b2 is offered again, and the center takes it now.
    f.server.refuse.delete(b2);
    f.clock.advance(HOUR);
    const s3 = await shipper.sync();
    assert.deepEqual([s3.shipped, s3.skipped], [[b2], []]);
    await shipper.heartbeat();
    assert.equal(f.server.log.heartbeats.at(-1)!.lastErrorCode, '');
    assert.deepEqual(await unshippedIds(f), []);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('a block over the server\'s max_block_bytes is skipped without sending a byte of it', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const blocks = await sealBlocks(f.s.store, T0, 6, 3, 20);
    const sizes = blocks.map((b) => b.bytes).sort((x, y) => x - y);
    const limit = sizes[2]!;
    (f.server as { maxBlockBytes: number }).maxBlockBytes = limit;
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    const s = await shipper.sync();
    const big = blocks.filter((b) => b.bytes > limit).map((b) => b.id);
    assert.ok(big.length > 0 && big.length < blocks.length);
    assert.deepEqual(s.skipped.map((x) => x.id).sort(), [...big].sort());
    assert.ok(s.skipped.every((x) => x.code === ShipperErrorCode.BlockTooLarge && /expected block .+ at most .+, found \d+ bytes/.test(x.message)));
    assert.ok(f.server.log.begins.every((b) => !big.includes(b.id)), 'no Begin for an oversized block');
    assert.equal(s.stored, blocks.length - big.length);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('re-listing between blocks: a block sealed during the sync jumps the backlog; compacted ids are skipped', async () => {
  // Sealed meanwhile: the store seals a new block after the newest one was shipped.
  {
    const f = await fixture();
    const t = transportTo(f.server, f.clock);
    try {
      const ids = (await sealBlocks(f.s.store, T0, 4)).map((b) => b.id);
      let fresh = '';
      const store = hookedStore(f, async (n) => {
        if (n === 3) fresh = (await sealBlocks(f.s.store, T0 + 30 * MIN, 1, 4))[0]!.id;
      });
      const s = await createShipper({ store, transport: t, siteId: SITE, clock: f.clock }).sync();
      assert.deepEqual(s.shipped, [ids[3], fresh, ids[0], ids[1], ids[2]]);
    } finally {
      t.close();
      await f.cleanup();
    }
  }
  // Compacted meanwhile: the backlog is merged into one block after the newest was shipped.
  {
    const f = await fixture();
    const t = transportTo(f.server, f.clock);
    try {
      const old = (await sealBlocks(f.s.store, T0 - 5 * HOUR, 4)).map((b) => b.id);
      const newest = (await sealBlocks(f.s.store, T0 - HOUR, 1, 3))[0]!.id;
      let merged = '';
      const store = hookedStore(f, async (n) => {
        if (n !== 3) return;
        const c = await f.s.store.compact();
        assert.deepEqual([c.created.length, c.replaced], [1, 4], 'the four old blocks were merged');
        merged = c.created[0]!.id;
      });
      const s = await createShipper({ store, transport: t, siteId: SITE, clock: f.clock }).sync();
      assert.deepEqual(s.shipped, [newest, merged]);
      assert.ok(f.server.log.begins.every((b) => !old.includes(b.id)), 'no replaced id was uploaded');
      assert.deepEqual(await unshippedIds(f), []);
    } finally {
      t.close();
      await f.cleanup();
    }
  }
});

test('an unknown credential stops the sync at Hello: nothing sent, nothing marked', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock, { token: 'revoked-token' });
  try {
    const blocks = await sealBlocks(f.s.store, T0, 2);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock });
    const s = await shipper.sync();
    assert.equal(s.outcome, 'failed');
    assert.equal(s.error?.code, ShipperErrorCode.Unauthenticated);
    assert.match(s.error!.message, /expected the aggregator at .+ to accept this site's credential, found UNAUTHENTICATED/);
    assert.equal(f.server.log.begins.length, 0);
    assert.deepEqual(await unshippedIds(f), blocks.map((b) => b.id));
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('an outage at the start: Hello is retried with backoff on the injected clock until the link is back', async () => {
  const f = await fixture();
  const timers = new ManualTimers(f.clock);
  const t = retryingTransportTo(f.server, f.clock, { timers });
  f.server.kill();
  try {
    await sealBlocks(f.s.store, T0, 2);
    const registry = new Registry();
    const logger = recordingLogger();
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, registry, logger });
    let settled = false;
    const p = shipper.sync().finally(() => {
      settled = true;
    });
    for (let i = 0; i < 8; i++) {
      await timers.whenPending(1);
      timers.runNext();
    }
    await timers.whenPending(1);
    assert.equal(shipper.status().lastError?.code, ShipperErrorCode.Unavailable);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /cannot reach the aggregator/.test(l.message)));
    await f.server.start();
    while (!settled) {
      timers.runNext();
      await Promise.race([timers.whenPending(1), p]);
    }
    const s = await p;
    assert.deepEqual([s.outcome, s.stored], ['done', 2]);
    assert.ok(await metric(registry, 'driftwatch_shipper_retries_total', { code: ShipperErrorCode.Unavailable }) >= 9);
    assert.equal(shipper.status().lastError, undefined);
    assert.ok(logger.lines.some((l) => l.level === 'info' && /reached the aggregator again/.test(l.message)));
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('the heartbeat carries the backlog, last round, start time, last round trip and last error; Hello measures the clock offset', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    const blocks = await sealBlocks(f.s.store, T0, 3);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, agentStartTime: T0 - 5000 });
    assert.equal((await shipper.heartbeat({ lastRoundTime: T0 + 999 })).status, 'success');
    let hb = f.server.log.heartbeats.at(-1)!;
    assert.deepEqual(
      [hb.siteId, Number(hb.backlogBlocks), Number(hb.backlogBytes), Number(hb.oldestUnshippedTime), Number(hb.lastRoundTime), Number(hb.agentStartTime), Number(hb.lastRttMs), hb.lastErrorCode],
      [SITE, 3, blocks.reduce((a, b) => a + b.bytes, 0), blocks[0]!.minT, T0 + 999, T0 - 5000, 0, ''],
    );
    // The server's clock is 1234 ms ahead; Hello takes 40 ms on the agent's clock.
    f.server.events.once('hello', () => f.clock.advance(40));
    f.server.faults.upload.push({ code: status.UNAVAILABLE });
    await shipper.sync();
    assert.equal(shipper.status().lastRttMs, 40);
    assert.equal(shipper.status().clockOffsetMs, 1234 + 40 - 20);
    await shipper.heartbeat();
    hb = f.server.log.heartbeats.at(-1)!;
    assert.equal(Number(hb.lastRttMs), 40);
    assert.equal(hb.lastErrorCode, ShipperErrorCode.Unavailable);
    assert.match(hb.lastErrorMessage!, /^expected the aggregator at .+ to answer Upload of block .+, found UNAVAILABLE/);
    assert.equal(Number(hb.lastRoundTime), 0);
    assert.ok(JSON.stringify(hb).length < 600, 'a heartbeat stays small');
  } finally {
    t.close();
    await f.cleanup();
  }
});

test(`Hello asks about at most ${MAX_HELLO_IDS} ids: the newest and the oldest`, async () => {
  const infos = Array.from({ length: MAX_HELLO_IDS + 5 }, (_, i) => ({
    id: ulidToString(newUlid({ now: () => T0 + i }, seededRandom(i))), minT: T0 + i, maxT: T0 + i, sequence: i, bytes: 10, shipped: false,
  }));
  const store: ShipperStore = {
    listUnshipped: async (o) => (o.order === 'oldest-first' ? infos : [...infos].reverse()),
    pin: async () => true, unpin: () => {}, readBlock: async () => ({ status: 'unknown' }), markShipped: async () => ({ status: 'unknown' }),
    stats: () => ({ unshippedBlocks: infos.length, unshippedBytes: infos.length * 10, oldestUnshippedMinT: T0 }),
  };
  let asked: readonly string[] = [];
  const transport: IngestTransport = {
    hello: async (info) => {
      asked = info.pendingBlockIds;
      return failed(new ShipperError(ShipperErrorCode.Unauthenticated, 'expected a credential, found none (scripted)'));
    },
    upload: async () => failed(new ShipperError(ShipperErrorCode.Protocol, 'unused')),
    heartbeat: async () => failed(new ShipperError(ShipperErrorCode.Protocol, 'unused')),
    close() {},
  };
  const s = await createShipper({ store, transport, siteId: SITE, clock: { now: () => T0 } }).sync();
  assert.equal(s.outcome, 'failed');
  assert.equal(asked.length, MAX_HELLO_IDS);
  assert.deepEqual(asked.slice(0, 2), [infos[0]!.id, infos[1]!.id]);
  assert.equal(asked.at(-1), infos.at(-1)!.id);
});

test('createShipper refuses bad options; the token stays out of every message', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock, { token: 'secret-token-123' });
  try {
    assert.throws(() => createShipper({ store: f.s.store, transport: t, siteId: '', clock: f.clock }), /DW_SHIP_INVALID_OPTIONS|expected a site id/);
    await sealBlocks(f.s.store, T0, 1);
    const s = await createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock }).sync();
    assert.equal(s.error?.code, ShipperErrorCode.Unauthenticated);
    assert.ok(!s.error!.message.includes('secret-token-123'));
    assert.ok(!TOKEN.includes('secret'));
  } finally {
    t.close();
    await f.cleanup();
  }
});

// A site that was offline for hours drains its backlog through a capped, flaky link: the
// newest state arrives first, and every round the agent stored arrives exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, seededRandom, seedFromEnv } from '../../common/random.js';
import { blockToRounds, decodeBlock, type Round } from '../../proto/index.js';
import { createShipper } from '../../shipper/index.js';
import { syntheticSite } from '../../bench/synthetic-site.js';
import { normalizeRound, openTestStore, readAllRounds, SITE } from '../collector/store/helpers.js';
import { TestIngestServer } from './ingest-server.js';
import { retryingTransportTo, TOKEN } from './helpers.js';

const SEED = seedFromEnv(424242);
const MIN = 60_000;
const HOUR = 60 * MIN;

test(`a 3-hour backlog drains through a 1 Mbit/s link that cuts uploads at random bytes: newest first, every round exactly once (seed ${SEED})`, async () => {
  const start = Date.UTC(2025, 10, 20, 6);
  const s = await openTestStore({ blockDuration: 5 * MIN });
  s.clock.set(start);
  const server = new TestIngestServer({ tokens: { [TOKEN]: SITE }, now: () => s.clock.now(), maxChunkBytes: 32 * 1024 });
  await server.start();
  const random = seededRandom(SEED);
  const transport = retryingTransportTo(server, s.clock, { seed: SEED, extra: { chunkBytes: 1024, bandwidthBytesPerSecond: 125_000, burstBytes: 8192 } });
  try {
    // 3 hours offline at 15 s; then the store compacts the past hours; then 20 more minutes.
    const site = { seed: SEED, stringSeries: 300, floatSeries: 40, start, durationMs: 3 * HOUR + 20 * MIN };
    for (const round of syntheticSite(site)) {
      if (round.t >= start + 3 * HOUR && s.clock.now() < start + 3 * HOUR) {
        s.clock.set(start + 3 * HOUR);
        const c = await s.store.compact();
        assert.ok(c.replaced > c.created.length, 'the backlog was compacted');
      }
      s.clock.set(round.t);
      await s.store.appendRound(round);
    }
    await s.store.flush();
    const blocks = await s.store.listUnshipped({ order: 'newest-first' });
    assert.ok(blocks.length >= 5, `${blocks.length} blocks`);
    // The link cuts about two uploads in five at a random byte.
    const largest = Math.max(...blocks.map((b) => b.bytes));
    for (let i = 0; i < 60; i++) server.cutAfterBytes.push(random() < 0.4 ? randomInt(random, 1, largest) : Number.MAX_SAFE_INTEGER);

    const reconnect = s.clock.now();
    let newestAt: number | undefined;
    void server.waitFor<{ id: string }>('stored', (x) => x.id === blocks[0]!.id).then(() => {
      newestAt = s.clock.now();
    });
    const shipper = createShipper({ store: s.store, transport, siteId: SITE, clock: s.clock });
    const summary = await shipper.sync();
    assert.equal(summary.outcome, 'done');
    assert.equal(summary.shipped[0], blocks[0]!.id, 'the newest block went first');
    assert.deepEqual(summary.shipped.slice(1), blocks.slice(1).map((b) => b.id).reverse(), 'then the backlog oldest to newest');
    assert.deepEqual(await s.store.listUnshipped({ order: 'oldest-first' }), []);
    const bytes = blocks.reduce((a, b) => a + b.bytes, 0);
    assert.ok(summary.bytesSent >= bytes);
    assert.ok(server.log.begins.some((b) => b.offset > 0), 'some uploads were cut and resumed');

    // The oracle: every round the agent stored is at the center exactly once, sample for sample.
    const atCenter: Round[] = [];
    for (const b of server.state.blocks.values()) atCenter.push(...blockToRounds({ ...decodeBlock(b.bytes).data, events: [] }));
    atCenter.sort((a, b) => a.t - b.t);
    const { rounds: atEdge } = await readAllRounds(s.store);
    assert.equal(new Set(atCenter.map((r) => r.t)).size, atCenter.length, 'no round twice');
    assert.equal(atCenter.length, atEdge.length);
    assert.deepEqual(atCenter.map(normalizeRound), atEdge.map(normalizeRound));

    // Simulated time on the 1 Mbit/s link: the newest state within seconds of reconnecting.
    const newestMs = newestAt! - reconnect;
    assert.ok(newestMs < 10_000, `newest block stored ${newestMs} ms after reconnecting`);
    console.log(`# seed ${SEED}: ${blocks.length} blocks, ${bytes} bytes (${summary.bytesSent} sent); newest stored after ${newestMs} ms, drained after ${s.clock.now() - reconnect} ms of simulated time`);
  } finally {
    transport.close();
    await server.stop();
    await s.cleanup();
  }
});

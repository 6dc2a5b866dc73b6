// A real aggregator (TLS gRPC ingest, the level store, policies from a directory, HTTP) restarted
// on its data directory: a clean close writes the index snapshot and the next start is ready
// without a reindex (it loads the snapshot and reads no stored block); after a crash past the
// last snapshot, the start catches up only with the blocks stored after it; answers pinned to a
// known_at are byte for byte the same through every restart, and the same as a full reindex.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FLEET_INDEX_SNAPSHOT_FILE, type Aggregator } from '../../../aggregator/index.js';
import type { AggregatorLogger } from '../../../aggregator/logger.js';
import { formatRfc3339 } from '../../../common/rfc3339.js';
import { parseUlid } from '../../../common/ulid.js';
import { metricValue, scrape, startTestAggregator, type TestAggregator } from '../helpers.js';
import { EdgeSite, HOUR, nodeBasics, posDeployment, posPolicy, T0 as DATA_T0, type EdgeBlock } from './helpers.js';

const SITES = ['shop-a', 'shop-b', 'shop-c'];

function recordingLogger(): AggregatorLogger & { lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string): void => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('a real aggregator restarted on its data directory starts from the index snapshot', () => {
  let t: TestAggregator;
  let policyDir: string;
  const logger = recordingLogger();
  const edges = new Map(SITES.map((s, i) => [s, nodeBasics(posDeployment(new EdgeSite(s, 40 + i), '2.4.1'))]));
  let hour = 0;
  /** Stored blocks so far. */
  let stored = 0;

  /** One more one-hour block of every site, uploaded over gRPC, a second of the clock apart (site `upgrades` moves to 2.5.0 in it). */
  async function uploadHour(upgrades?: string): Promise<void> {
    for (const site of SITES) {
      const edge = edges.get(site)!;
      const from = DATA_T0 + hour * HOUR;
      const block: EdgeBlock = edge.seal(from, from + HOUR, (x) => {
        if (site === upgrades && x === from + 20 * 60_000) posDeployment(edge, '2.5.0');
      });
      t.clock.advance(1000);
      const r = await t.client(site).upload({ siteId: site, blockId: parseUlid(block.id)!, bytes: block.bytes });
      assert.ok(r.stored !== undefined && !r.stored.duplicate, `${site}: ${JSON.stringify(r.status)}`);
      stored++;
    }
    hour++;
  }

  const metrics = async (agg: Aggregator): Promise<string> => (await scrape(agg)).body;
  /** The answers of every route as known at `knownAt`, as one text. */
  async function pinned(agg: Aggregator, knownAt: number): Promise<string> {
    const k = encodeURIComponent(formatRfc3339(knownAt));
    const out: string[] = [];
    for (const path of ['drift', 'upgrades', 'stale', 'sites', 'sites/shop-a', 'sites/shop-c']) {
      // Inside the data (before the policy was loaded), and as of the cut (the policy in force, the sites' latest state).
      for (const at of [DATA_T0 + 30 * 60_000, knownAt]) {
        const r = await scrape(agg, `/fleet/v1/${path}?known_at=${k}&at=${encodeURIComponent(formatRfc3339(at))}`);
        assert.equal(r.status, 200, `${path}: ${r.body}`);
        out.push(r.body);
      }
    }
    return out.join('\n');
  }
  const linesSince = (n: number, prefix: string) => logger.lines.slice(n).filter((l) => l.message.startsWith(prefix));

  before(async () => {
    policyDir = await mkdtemp(join(tmpdir(), 'dw-snapshot-restart-policies-'));
    await mkdir(policyDir, { recursive: true });
    await writeFile(join(policyDir, 'pos.yaml'), posPolicy('>=2.5.0 <2.6.0'));
    t = await startTestAggregator(SITES, { logger, fleet: { policies: { dir: policyDir, watch: false, pollIntervalMs: 0 } } });
    await t.agg.fleet!.whenReady();
    for (const site of SITES) {
      t.clock.advance(1000);
      const r = await t.client(site).hello({ siteId: site, agentTime: t.clock.now(), siteLabels: { tier: 'shop', region: 'eu-west' } });
      assert.equal(r.status.code, 0, JSON.stringify(r.status));
    }
  });

  after(async () => {
    await t?.cleanup();
    await rm(policyDir, { recursive: true, force: true });
  });

  it('a clean close writes the snapshot; the restart loads it, reads no stored block, and answers byte for byte the same', async () => {
    await uploadHour();
    await uploadHour('shop-b');
    await uploadHour();
    t.clock.advance(1000);
    await t.agg.fleet!.catchUp();
    const knownAt = t.agg.fleet!.indexedThrough();
    const before = await pinned(t.agg, knownAt);
    assert.match(before, /"site":"shop-a".*"actual":"registry\.example\.com\/shop\/pos:2\.4\.1"/, 'drift rows to compare');
    assert.equal(metricValue(await metrics(t.agg), 'driftwatch_aggregator_fleet_snapshot_writes_total', { outcome: 'ok' }), 0, 'an empty start wrote none');

    const mark = logger.lines.length;
    await t.restart();
    await t.agg.fleet!.whenReady();
    const written = linesSince(mark, 'fleet index snapshot written');
    assert.deepEqual(written.map((l) => [l.fields.reason, l.fields.blocks]), [['close', stored]], 'written on close with every block');
    const text = await metrics(t.agg);
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_snapshot_loads_total', { outcome: 'loaded' }), 1);
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_startup_blocks', { source: 'snapshot' }), stored);
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_startup_blocks', { source: 'store' }), 0, 'no stored block read: no reindex');
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_catchup_blocks_total'), 0);
    assert.equal(linesSince(mark, 'fleet index rebuilt').length, 0);
    assert.equal(linesSince(mark, 'fleet index loaded from the snapshot').length, 1);
    assert.match(text, /^driftwatch_aggregator_fleet_index_blocks 9$/m);
    const ready = await scrape(t.agg, '/readyz');
    assert.equal(ready.status, 200, ready.body);
    assert.equal(await pinned(t.agg, knownAt), before, 'the same answers after the restart');
  });

  it('after a crash past the last snapshot, the start catches up only with the blocks stored after it; a reindex answers the same', async () => {
    // The snapshot as of now; then more blocks; then the process "dies" after its last snapshot (the file put back).
    const file = join(t.dataDir, FLEET_INDEX_SNAPSHOT_FILE);
    await t.agg.close();
    const kept = join(t.dataDir, 'kept.snapshot');
    await copyFile(file, kept);
    const atSnapshot = stored;
    await t.restart();
    await t.agg.fleet!.whenReady();
    await uploadHour('shop-c');
    await uploadHour();
    t.clock.advance(1000);
    await t.agg.fleet!.catchUp();
    const knownAt = t.agg.fleet!.indexedThrough();
    const before = await pinned(t.agg, knownAt);
    await t.agg.close();
    await copyFile(kept, file);

    const mark = logger.lines.length;
    await t.restart();
    await t.agg.fleet!.whenReady();
    const text = await metrics(t.agg);
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_startup_blocks', { source: 'snapshot' }), atSnapshot);
    assert.equal(metricValue(text, 'driftwatch_aggregator_fleet_startup_blocks', { source: 'store' }), stored - atSnapshot, 'only the blocks stored after the snapshot');
    const loaded = linesSince(mark, 'fleet index loaded from the snapshot')[0];
    assert.deepEqual([loaded?.fields.snapshotBlocks, loaded?.fields.blocks], [atSnapshot, stored - atSnapshot]);
    assert.equal(await pinned(t.agg, knownAt), before);

    // Without the snapshot: a full reindex, the same answers.
    await t.agg.close();
    await rm(file);
    await t.restart();
    await t.agg.fleet!.whenReady();
    const re = await metrics(t.agg);
    assert.equal(metricValue(re, 'driftwatch_aggregator_fleet_snapshot_loads_total', { outcome: 'missing' }), 1);
    assert.equal(metricValue(re, 'driftwatch_aggregator_fleet_startup_blocks', { source: 'store' }), stored);
    assert.equal(await pinned(t.agg, knownAt), before);
  });
});

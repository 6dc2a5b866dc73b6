// `driftwatch aggregator reindex --data-dir DIR` in a child process: it rebuilds the fleet index
// from the stored blocks and prints blocks, sites and time (JSON too), replacing the index
// snapshot with a fresh one the aggregator loads; a block that does not decode makes it exit 1
// naming it; a running aggregator's store (its lock held) is DW_AGGREGATOR_STORE_LOCKED, its
// snapshot left alone; bad flags are DW_CLI_USAGE.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FLEET_INDEX_SNAPSHOT_FILE, openLevelStorage, type AggregatorStorage } from '../../aggregator/index.js';
import { loadSnapshotFile } from '../../aggregator/fleet/index.js';
import { EdgeSite, HOUR, nodeBasics, posDeployment, T0, type EdgeBlock } from '../aggregator/fleet/helpers.js';
import { runDriftwatch } from './cli-run.js';

async function put(storage: AggregatorStorage, b: EdgeBlock, at: number): Promise<void> {
  const h = b.header;
  await storage.putBlock(b.site, b.id, b.bytes, {
    sha256: createHash('sha256').update(b.bytes).digest('hex'), minT: h.minT, maxT: h.maxT, sequence: h.sequence, level: h.level, replaces: [],
    createdAt: h.createdAt, numRounds: h.numRounds, numSeries: h.numSeries, numSamples: h.numSamples, numEvents: h.numEvents,
    numStringSeries: h.numStringSeries, numStringSamples: h.numStringSamples,
  }, at);
}

describe('driftwatch aggregator reindex', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-reindex-'));
    const storage = await openLevelStorage({ dir: join(dir, 'data', 'store') });
    for (const [n, name] of ['shop-a', 'shop-b', 'shop-c'].entries()) {
      const site = nodeBasics(posDeployment(new EdgeSite(name, n + 1), '2.4.1'));
      for (let i = 0; i < 3; i++) await put(storage, site.seal(T0 + i * HOUR, T0 + (i + 1) * HOUR), T0 + (i + 1) * HOUR);
    }
    await storage.close();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rebuilds the index from every stored block, prints blocks, sites and time, and replaces the snapshot with a fresh one; --json for scripts', async () => {
    const file = join(dir, 'data', FLEET_INDEX_SNAPSHOT_FILE);
    await writeFile(file, 'not a snapshot');
    const r = runDriftwatch(['aggregator', 'reindex', '--data-dir', join(dir, 'data')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^reindexed 9 blocks of 3 sites in \d+\.\d{3} s\n {2}indexed 9, already held through a compaction or twice 0, skipped 0\n {2}\d+ \(site, series\) pairs/);
    assert.match(r.stdout, /\n {2}index snapshot .*fleet-index\.snapshot written: \d+ bytes in \d+\.\d{3} s \(the next start loads it\)\n$/);
    const storage = await openLevelStorage({ dir: join(dir, 'data', 'store') });
    try {
      const loaded = await loadSnapshotFile(file, { cut: Date.now(), storage, now: Date.now() });
      assert.equal(loaded.status, 'loaded', JSON.stringify(loaded));
      if (loaded.status === 'loaded') assert.deepEqual([loaded.index.stats().blocks, loaded.index.sites().length], [9, 3]);
    } finally {
      await storage.close();
    }
    const j = runDriftwatch(['aggregator', 'reindex', '--data-dir', join(dir, 'data'), '--json']);
    assert.equal(j.status, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as Record<string, number> & { snapshot: { file: string; bytes: number } };
    assert.deepEqual([parsed.blocks, parsed.sites, parsed.skippedBlocks], [9, 3, 0]);
    assert.ok(parsed.elapsedMs! > 0 && parsed.siteSeries! > 0);
    assert.equal(parsed.snapshot.file, file);
    assert.equal(parsed.snapshot.bytes, (await readFile(file)).length);
  });

  it('a stored block that does not decode is skipped, named, and exits 1', async () => {
    const other = join(dir, 'bad');
    const storage = await openLevelStorage({ dir: join(other, 'store') });
    const good = nodeBasics(posDeployment(new EdgeSite('shop-a', 9), '2.4.1')).seal(T0, T0 + HOUR);
    await put(storage, good, T0 + HOUR);
    const broken = nodeBasics(posDeployment(new EdgeSite('shop-b', 10), '2.4.1')).seal(T0, T0 + HOUR);
    const bytes = broken.bytes.slice();
    bytes[bytes.length - 10]! ^= 0xff;
    await put(storage, { ...broken, bytes }, T0 + HOUR);
    await storage.close();
    const r = runDriftwatch(['aggregator', 'reindex', '--data-dir', other]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^reindexed 2 blocks of 1 site in/);
    assert.match(r.stderr, new RegExp(`warning: stored block does not decode: skipped by the index .*"site":"shop-b","block":"${broken.id}"`));
    assert.match(r.stderr, /^reindex: 1 stored block could not be indexed \(the warnings above name it\)/m);
  });

  it('refuses the store of a running aggregator (its snapshot left alone), and bad flags', async () => {
    const storage = await openLevelStorage({ dir: join(dir, 'data', 'store') });
    const file = join(dir, 'data', FLEET_INDEX_SNAPSHOT_FILE);
    const snapshot = await readFile(file);
    try {
      const r = runDriftwatch(['aggregator', 'reindex', '--data-dir', join(dir, 'data')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^driftwatch: DW_AGGREGATOR_STORE_LOCKED: expected to hold the store's lock, found it held by another process/);
      assert.ok((await readFile(file)).equals(snapshot), 'the running aggregator\'s snapshot is untouched');
    } finally {
      await storage.close();
    }
    const usage = runDriftwatch(['aggregator', 'reindex']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^driftwatch: DW_CLI_USAGE: expected driftwatch aggregator reindex --data-dir DIR \[--json\], found no --data-dir/);
    const bogus = runDriftwatch(['aggregator', 'reindex', '--data-dir', dir, '--fast']);
    assert.match(bogus.stderr, /DW_CLI_USAGE: .*found "--fast"/);
  });
});

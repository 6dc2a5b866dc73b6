// The level storage: the storage contract, then what is particular to it — group commit, the
// leftovers of a crash, the directory lock, layout versions, corrupt records, and chunk records
// surviving a SIGKILL of the process that wrote them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { openLevelStorage, type AggregatorStorage, type LevelStorageOptions } from '../../../aggregator/storage/index.js';
import { chunkKey, labelsKey, partialKey } from '../../../aggregator/storage/keys.js';
import { isDriftwatchError } from '../../../common/errors.js';
import { blockIds, bytesOf, runStorageContract, summaryOf, type StorageHandle } from './storage-contract.js';

const T0 = Date.UTC(2025, 10, 20, 12);

async function levelHandle(options: Partial<LevelStorageOptions> = {}): Promise<StorageHandle & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-agg-storage-'));
  const open = (): Promise<AggregatorStorage> => openLevelStorage({ dir, ...options });
  const handle = {
    dir,
    storage: await open(),
    async reopen() {
      await handle.storage.close();
      handle.storage = await open();
      return handle.storage;
    },
    async cleanup() {
      await handle.storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

runStorageContract({ name: 'level', create: () => levelHandle() });

describe('level storage', () => {
  it('group commit: concurrent puts from many sites share synced batches', async () => {
    const batches: number[] = [];
    const h = await levelHandle({ groupCommit: { maxDelayMs: 5, maxCommits: 1000 }, onCommitBatch: (b) => batches.push(b.commits) });
    try {
      const ids = blockIds(64);
      const results = await Promise.all(ids.map((id, i) => {
        const bytes = bytesOf(`site ${i}`, 4096);
        return h.storage.putBlock(`shop-${i}`, id, bytes, summaryOf(bytes), T0);
      }));
      assert.ok(results.every((r) => r.status === 'stored'));
      const stats = h.storage.stats();
      assert.equal(stats.commits, 64);
      assert.ok(stats.commitBatches < 16, `expected 64 concurrent commits in few batches, found ${stats.commitBatches}`);
      assert.equal(batches.reduce((a, b) => a + b, 0), 64);
      assert.ok(Math.max(...batches) > 1);
    } finally {
      await h.cleanup();
    }
  });

  it('a crash\'s leftovers are cleaned on open: orphan chunks, chunks after a gap, partial records without chunks', async () => {
    const h = await levelHandle();
    const [a, b, c] = blockIds(3);
    const whole = bytesOf('partial', 90);
    const target = { size: 90, sha256: summaryOf(whole).sha256 };
    await h.storage.appendChunk('shop-1', a!, target, 0, whole.subarray(0, 30), T0);
    await h.storage.close();
    // What no correct run writes, but a damaged disk might hold.
    const db = new Level<string, Uint8Array>(h.dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    await db.put(chunkKey('shop-1', a!, 60), whole.subarray(60, 90)); // after a gap (30..60 missing)
    await db.put(chunkKey('shop-1', b!, 0), whole.subarray(0, 10)); // no partial record
    await db.put(partialKey('shop-1', c!), new TextEncoder().encode(JSON.stringify({ size: 90, sha256: target.sha256, startedAt: T0 })));
    await db.close();
    const warnings: string[] = [];
    const storage = await openLevelStorage({ dir: h.dir, onWarning: (_f, m) => warnings.push(m) });
    h.storage = storage;
    try {
      assert.deepEqual((await storage.listPartials()).map((p) => [p.id, p.offset]), [[a, 30]]);
      assert.deepEqual(await storage.readPartial('shop-1', a!), whole.subarray(0, 30));
      const p = await storage.appendChunk('shop-1', a!, target, 30, whole.subarray(30, 90), T0);
      assert.equal(p.offset, 90, 'the chunk after the gap was dropped, so the real one fits');
    } finally {
      await h.cleanup();
    }
  });

  it('one process per directory: a second open is DW_AGGREGATOR_STORE_LOCKED', async () => {
    const h = await levelHandle();
    try {
      await assert.rejects(openLevelStorage({ dir: h.dir }), (err) => isDriftwatchError(err, 'DW_AGGREGATOR_STORE_LOCKED'));
    } finally {
      await h.cleanup();
    }
  });

  it('another layout version is DW_AGGREGATOR_STORE_UNSUPPORTED_VERSION; a file is DW_AGGREGATOR_STORE_OPEN_FAILED', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-agg-storage-'));
    try {
      const db = new Level<string, string>(join(dir, 'db'));
      await db.open();
      await db.put('meta', JSON.stringify({ format: 99, createdAt: 0 }));
      await db.close();
      await assert.rejects(openLevelStorage({ dir: join(dir, 'db') }), (err) => isDriftwatchError(err, 'DW_AGGREGATOR_STORE_UNSUPPORTED_VERSION') && /expected store layout version 1, found 99/.test(err.message));
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(dir, 'file'), 'not a directory');
      await assert.rejects(openLevelStorage({ dir: join(dir, 'file') }), (err) => isDriftwatchError(err, 'DW_AGGREGATOR_STORE_OPEN_FAILED'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a corrupt block record counts as not held, is reported, and a new upload replaces it', async () => {
    const h = await levelHandle();
    const [id] = blockIds(1);
    const bytes = bytesOf('c');
    await h.storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0);
    await h.storage.close();
    const db = new Level<string, string>(h.dir);
    await db.open();
    await db.put(`m!shop-1!${id}`, '{"not":"a record"');
    await db.close();
    const warnings: string[] = [];
    h.storage = await openLevelStorage({ dir: h.dir, onWarning: (_f, m) => warnings.push(m) });
    try {
      assert.equal(await h.storage.getBlockMeta('shop-1', id!), undefined);
      assert.ok(warnings.some((w) => w.startsWith('corrupt block record')), JSON.stringify(warnings));
      assert.equal((await h.storage.putBlock('shop-1', id!, bytes, summaryOf(bytes), T0 + 1)).status, 'stored');
      assert.equal((await h.storage.getBlockMeta('shop-1', id!))?.arrivedAt, T0 + 1);
    } finally {
      await h.cleanup();
    }
  });

  it('a corrupt site labels record is reported and skipped: the change before it stays in force', async () => {
    const h = await levelHandle();
    await h.storage.recordSiteLabels('shop-1', { region: 'eu' }, T0);
    await h.storage.recordSiteLabels('shop-1', { region: 'us' }, T0 + 1_000);
    await h.storage.close();
    const db = new Level<string, string>(h.dir);
    await db.open();
    await db.put(labelsKey('shop-1', T0 + 1_000, 1), '{"site":"shop-1","labels":{"region":');
    await db.close();
    const warnings: string[] = [];
    h.storage = await openLevelStorage({ dir: h.dir, onWarning: (_f, m) => warnings.push(m) });
    try {
      assert.ok(warnings.some((w) => w.startsWith('corrupt site labels record')), JSON.stringify(warnings));
      assert.deepEqual((await h.storage.siteLabels('shop-1'))?.labels, { region: 'eu' });
      const r = await h.storage.recordSiteLabels('shop-1', { region: 'us' }, T0 + 2_000);
      assert.equal(r.changed, true);
      assert.deepEqual((await h.storage.siteLabelHistory('shop-1')).map((x) => x.labels.region), ['eu', 'us']);
      await h.reopen();
      assert.deepEqual((await h.storage.siteLabelHistory('shop-1')).map((x) => x.labels.region), ['eu', 'us'], 'the new record did not overwrite another');
    } finally {
      await h.cleanup();
    }
  });

  it('chunk records written without fsync survive a SIGKILL of the writer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-agg-kill-'));
    try {
      const child = spawn(process.execPath, [fileURLToPath(new URL('./kill-child.js', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const offset = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /appended (\d+)\n/.exec(out);
          if (m !== null) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before appending: ${out}`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const storage = await openLevelStorage({ dir });
      try {
        const [id] = blockIds(1);
        assert.equal((await storage.getPartial('kill-site', id!))?.offset, offset);
        assert.equal((await storage.readPartial('kill-site', id!))?.length, offset);
      } finally {
        await storage.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

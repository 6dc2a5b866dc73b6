// The fleet index snapshot codec: a snapshot loaded into a fresh index holds exactly what the
// index held and answers every report byte for byte the same (at past `at` and `knownAt` too);
// after a load, the catch-up reads exactly the blocks stored after the snapshot's watermark and
// the index equals a full reindex — an aborted catch-up (a stop during the startup reindex)
// included; a snapshot that is corrupt, truncated, of another version, written with other
// options, for another store or ahead of the clock is never used (a corrupt one is moved aside),
// and no byte string makes the decoder do anything but decode or throw a DW_FLEET_SNAPSHOT_* error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  catchUp, ContactIndex, decodeSnapshot, encodeSnapshotBuffer, FLEET_INDEX_SNAPSHOT_FILE, FLEET_SNAPSHOT_VERSION, FleetError, FleetIndex, loadSnapshotFile, reindex,
  snapshotBlocker, writeSnapshotFile, type BlockSource,
} from '../../../aggregator/fleet/index.js';
import { openLevelStorage, type AggregatorStorage } from '../../../aggregator/storage/index.js';
import { seedFromEnv } from '../../../common/random.js';
import { EdgeSite, heartbeat, HOUR, indexOf, MIN, nodeBasics, posDeployment, T0, type Arrival } from './helpers.js';
import { everyReport, fleetArrivals, indexState, inputsOf, S, storeArrivals } from './snapshot-fixtures.js';
import { LATE_ARRIVAL } from './scenario.js';

const ARRIVALS = fleetArrivals();
const LATEST = LATE_ARRIVAL + HOUR;
/** A little after T0+3h: before shop-late's blocks and the compacting sites arrived. */
const EARLY = T0 + 3 * HOUR + 10 * MIN;
/** Halfway through the compacting sites' arrivals: some compactions arrive after it. */
const MIDWAY = T0 + 4 * HOUR + 9 * MIN;
const KNOWN_ATS = [T0, EARLY, MIDWAY, LATEST];

/** The index fed `arrivals` in (at, site, id) order with `from < at <= to`, continuing `index`. */
function continueWith(index: FleetIndex, arrivals: readonly Arrival[], from: number, to: number): FleetIndex {
  const sorted = [...arrivals].sort((a, b) => a.at - b.at || (a.block.site < b.block.site ? -1 : a.block.site > b.block.site ? 1 : a.block.id < b.block.id ? -1 : 1));
  for (const a of sorted) if (a.at > from && a.at <= to) index.addBlockBytes({ site: a.block.site, id: a.block.id, arrivedAt: a.at }, a.block.bytes);
  index.markIndexedThrough(to);
  return index;
}

async function withStorage(fn: (storage: AggregatorStorage, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-snapshot-'));
  const storage = await openLevelStorage({ dir: join(dir, 'store'), now: () => T0 });
  try {
    await fn(storage, dir);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A snapshot of `content` (header and body) with a trailer that holds: the decoder's structural checks are what is left. */
function framed(content: Buffer): Buffer {
  const trailer = Buffer.alloc(48);
  trailer.writeBigUInt64LE(BigInt(content.length - 16), 0);
  createHash('sha256').update(content).update(trailer.subarray(0, 8)).digest().copy(trailer, 8);
  trailer.write('DWFXEND\n', 40, 'latin1');
  return Buffer.concat([content, trailer]);
}

/** Recomputes a snapshot's checksum after its bytes were changed (to reach the decoder's structural checks). */
function rehash(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  createHash('sha256').update(out.subarray(0, out.length - 40)).digest().copy(out, out.length - 40);
  return out;
}

test('a snapshot loaded into a fresh index holds what the index held and answers every report byte for byte the same', async () => {
  const index = indexOf(ARRIVALS, LATEST);
  const st = index.stats();
  assert.ok(st.duplicateBlocks === 1 && st.skippedBlocks === 1 && st.events > 10 && st.distinctValues > 5, `the fleet exercises the index: ${JSON.stringify(st)}`);
  const bytes = encodeSnapshotBuffer(index, LATEST + 5);
  const { index: loaded, meta } = await decodeSnapshot(bytes, {});
  assert.deepEqual([meta.writtenAt, meta.indexedThrough, meta.lastArrival, meta.blocks, meta.duplicateBlocks, meta.skippedBlocks, meta.sites, meta.floatSeries],
    [LATEST + 5, LATEST, index.lastArrival, st.blocks, st.duplicateBlocks, 1, st.sites, 'default-1']);
  assert.deepStrictEqual(indexState(loaded), indexState(index));

  // The loaded index answers first (its memos empty), then the original: the same text.
  const fromLoaded = everyReport(inputsOf(loaded, LATEST), KNOWN_ATS);
  const fromOriginal = everyReport(inputsOf(index, LATEST), KNOWN_ATS);
  assert.match(fromOriginal, /"actual":"registry\.example\.com\/shop\/pos:2\.4\.1"/, 'drift rows are part of the comparison');
  assert.match(fromOriginal, /"status":"failed","reason":"rolled_back"/, 'upgrade verdicts with evidence too');
  assert.match(fromOriginal, /"dropped":\[\d+,\d+\]/, 'and a seal index reported dropped at the edge');
  assert.match(fromOriginal, /DW_FLEET_UNKNOWN_SITE/, 'a site unknown as of an early knownAt is part of the comparison');
  assert.equal(fromLoaded, fromOriginal);
  assert.ok(encodeSnapshotBuffer(loaded, LATEST + 5).equals(bytes), 'the loaded index snapshots to the same bytes');
});

test('a loaded index goes on as the original: the same later blocks give the same index and answers', async () => {
  const partial = indexOf(ARRIVALS, MIDWAY);
  const { index: loaded } = await decodeSnapshot(encodeSnapshotBuffer(partial, MIDWAY), {});
  const full = indexOf(ARRIVALS, LATEST);
  continueWith(loaded, ARRIVALS, MIDWAY, LATEST);
  assert.deepStrictEqual(indexState(loaded), indexState(full));
  assert.equal(everyReport(inputsOf(loaded, LATEST), KNOWN_ATS), everyReport(inputsOf(full, LATEST), KNOWN_ATS));
});

test('after a load, the catch-up reads exactly the blocks stored after the watermark, and the index equals a full reindex', async () => {
  await withStorage(async (storage, dir) => {
    const edge = nodeBasics(posDeployment(new EdgeSite('shop-edge', 77), '2.4.1'));
    const atWatermark = edge.seal(T0, T0 + HOUR);
    const justAfter = edge.seal(T0 + HOUR, T0 + 2 * HOUR);
    const arrivals: Arrival[] = [...ARRIVALS, { block: atWatermark, at: MIDWAY }, { block: justAfter, at: MIDWAY + 1 }];
    const before = await storeArrivals(storage, arrivals, -1, MIDWAY);
    const index = new FleetIndex();
    assert.equal((await catchUp(index, storage, { now: MIDWAY, maxBatch: 5 })).blocks, before);
    const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
    const written = await writeSnapshotFile(file, index, MIDWAY);
    assert.ok(written.bytes > 1000);

    const after = await storeArrivals(storage, arrivals, MIDWAY, LATEST);
    assert.ok(after >= 5, 'blocks (compactions among them) arrive after the snapshot');
    const loaded = await loadSnapshotFile(file, { cut: LATEST, storage, now: LATEST });
    assert.equal(loaded.status, 'loaded', JSON.stringify(loaded));
    if (loaded.status !== 'loaded') return;
    assert.equal(loaded.meta.indexedThrough, MIDWAY);
    assert.ok(loaded.index.site('shop-edge')!.has(atWatermark.id), 'the block that arrived at the watermark is in the snapshot');
    assert.ok(!loaded.index.site('shop-edge')!.has(justAfter.id), 'the one a millisecond later is not');
    const r = await catchUp(loaded.index, storage, { now: LATEST, maxBatch: 3 });
    assert.equal(r.blocks, after, 'only the blocks stored after the watermark are read');
    assert.ok(loaded.index.site('shop-edge')!.has(justAfter.id));

    const { index: rebuilt, result } = await reindex(storage, { now: LATEST });
    assert.equal(result.blocks, before + after);
    assert.deepStrictEqual(indexState(loaded.index), indexState(rebuilt));
    assert.equal(everyReport(inputsOf(loaded.index, LATEST), KNOWN_ATS), everyReport(inputsOf(rebuilt, LATEST), KNOWN_ATS));
  });
});

test('a catch-up aborted part way leaves the index whole at its watermark: its snapshot, loaded and caught up, equals a full reindex', async () => {
  await withStorage(async (storage, dir) => {
    const total = await storeArrivals(storage, ARRIVALS, -1, LATEST);
    const abort = new AbortController();
    let reads = 0;
    // Aborted after 20 reads (read-ahead included): inside a group of blocks that arrived in the same millisecond.
    const source: BlockSource = {
      listBlocks: (s, o) => storage.listBlocks(s, o),
      oldestPendingArrival: () => storage.oldestPendingArrival(),
      readBlock: (s, id) => {
        if (++reads === 20) abort.abort(new Error('stopping'));
        return storage.readBlock(s, id);
      },
    };
    const index = new FleetIndex();
    await assert.rejects(catchUp(index, source, { now: LATEST, signal: abort.signal, readAhead: 4 }), /stopping/);
    assert.ok(index.blocksGiven > 0 && index.blocksGiven < total, `part way: ${index.blocksGiven} of ${total}`);
    assert.ok(index.indexedThrough >= index.lastArrival && index.indexedThrough < LATEST, `whole at its watermark ${index.indexedThrough}, last arrival ${index.lastArrival}`);
    assert.equal(snapshotBlocker(index), undefined);
    const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
    await writeSnapshotFile(file, index, LATEST);
    const loaded = await loadSnapshotFile(file, { cut: LATEST, storage, now: LATEST });
    assert.equal(loaded.status, 'loaded');
    if (loaded.status !== 'loaded') return;
    const r = await catchUp(loaded.index, storage, { now: LATEST });
    assert.equal(r.blocks + index.blocksGiven, total, 'every block read once');
    const { index: rebuilt } = await reindex(storage, { now: LATEST });
    assert.deepStrictEqual(indexState(loaded.index), indexState(rebuilt));
  });
});

test('a snapshot that cannot be trusted is never used: corrupt and truncated ones are moved aside; another version, other options, another store, a clock behind it are refused', async () => {
  await withStorage(async (storage, dir) => {
    await storeArrivals(storage, ARRIVALS, -1, EARLY);
    const index = new FleetIndex();
    await catchUp(index, storage, { now: EARLY });
    const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
    await writeSnapshotFile(file, index, EARLY);
    const good = await readFile(file);
    const opts = { cut: EARLY, storage, now: 4242 };

    const version = Buffer.from(good);
    version.writeUInt32LE(FLEET_SNAPSHOT_VERSION + 1, 8);
    const version1 = Buffer.from(good);
    version1.writeUInt32LE(1, 8);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)]! ^= 0x40;
    const cases: { name: string; bytes: Buffer; reason: string; message: RegExp; moved: boolean }[] = [
      { name: 'a flipped byte', bytes: flipped, reason: 'corrupt', message: /expected SHA-256 [0-9a-f]{64} over the snapshot, found [0-9a-f]{64}/, moved: true },
      { name: 'truncated', bytes: good.subarray(0, Math.floor(good.length * 0.6)), reason: 'corrupt', message: /expected the snapshot to end with "DWFXEND\\n", found \d+ bytes without it \(truncated\?\)/, moved: true },
      { name: 'empty', bytes: Buffer.alloc(0), reason: 'corrupt', message: /expected a fleet index snapshot starting with "DWFXSNAP", found "" \(0 bytes\)/, moved: true },
      { name: 'not a snapshot', bytes: Buffer.from('{"sites":[]}\n'), reason: 'corrupt', message: /starting with "DWFXSNAP", found "\{\\"sites\\"" \(13 bytes\)/, moved: true },
      { name: 'well framed, a body with bytes past its last site', bytes: framed(Buffer.concat([good.subarray(0, good.length - 48), Buffer.alloc(8)])), reason: 'corrupt', message: /expected the body to end after the last contact site at offset \d+, found 8 more bytes/, moved: true },
      { name: 'another version', bytes: version, reason: 'unsupported_version', message: new RegExp(`expected fleet index snapshot version ${FLEET_SNAPSHOT_VERSION}, found version ${FLEET_SNAPSHOT_VERSION + 1}`), moved: false },
      // Version 1 (the index without the contacts) is refused as such, before its layout is read.
      { name: 'version 1', bytes: version1, reason: 'unsupported_version', message: new RegExp(`expected fleet index snapshot version ${FLEET_SNAPSHOT_VERSION}, found version 1`), moved: false },
    ];
    for (const c of cases) {
      await writeFile(file, c.bytes);
      const r = await loadSnapshotFile(file, opts);
      assert.equal(r.status, 'rejected', c.name);
      if (r.status !== 'rejected') continue;
      assert.equal(r.reason, c.reason, c.name);
      assert.ok(r.error instanceof FleetError);
      assert.match(r.error.message, c.message, c.name);
      assert.equal(r.movedTo !== undefined, c.moved, c.name);
      const files = await readdir(dir);
      assert.equal(files.includes(FLEET_INDEX_SNAPSHOT_FILE), !c.moved, `${c.name}: ${files.join(', ')}`);
      if (c.moved) {
        assert.equal(r.movedTo, `${file}.corrupt-4242`);
        assert.ok((await readFile(r.movedTo!)).equals(c.bytes), `${c.name}: moved aside as it was`);
        await rm(r.movedTo!);
      }
    }

    await writeFile(file, good);
    const refused = async (extra: Record<string, unknown>, reason: string, message: RegExp): Promise<void> => {
      const r = await loadSnapshotFile(file, { ...opts, ...extra });
      assert.equal(r.status, 'rejected', reason);
      if (r.status !== 'rejected') return;
      assert.deepEqual([r.reason, r.movedTo], [reason, undefined]);
      assert.match(r.error.message, message);
    };
    await refused({ gapToleranceMs: 60_000 }, 'options_mismatch', /expected a snapshot of gapToleranceMs 60000, found 120000/);
    await refused({ floatSeries: () => true }, 'options_mismatch', /expected an index whose float-series filter has an id/);
    await refused({ floatSeries: () => true, floatSeriesId: 'all-floats' }, 'options_mismatch', /expected a snapshot of float-series filter "all-floats", found "default-1"/);
    await refused({ cut: EARLY - 1 }, 'clock_behind', /watermark is at or before the aggregator's cut/);
    const otherDir = await mkdtemp(join(tmpdir(), 'dw-fleet-snapshot-other-'));
    const other = await openLevelStorage({ dir: otherDir });
    try {
      await refused({ storage: other }, 'store_mismatch', /expected the store to hold the snapshot's last block shop-[a-z0-9-]+\/[0-9A-Z]{26} arrived at \d+, found no such block/);
    } finally {
      await other.close();
      await rm(otherDir, { recursive: true, force: true });
    }
    assert.equal((await loadSnapshotFile(file, opts)).status, 'loaded', 'the file itself is fine');
    assert.deepEqual(await loadSnapshotFile(join(dir, 'nothing-here'), opts), { status: 'missing' });
  });
});

test('no byte string makes the decoder do anything but decode or throw a DW_FLEET_SNAPSHOT_* error (checksum recomputed: the structure is what is checked)', async () => {
  const small = indexOf(ARRIVALS.filter((a) => ['shop-x', 'shop-ok-1'].includes(a.block.site)), LATEST);
  // The contact section too: heartbeats with and without a backlog, an error, a hello.
  const contacts = new ContactIndex();
  for (const r of S.contacts.filter((c) => c.site === 'shop-backlog').slice(-30)) contacts.add(r);
  contacts.add({ ...heartbeat('shop-ok-1', T0), lastErrorCode: 'UNAVAILABLE' });
  contacts.add({ ...heartbeat('shop-x', T0), kind: 'hello', backlogBlocks: undefined, backlogBytes: undefined, lastRoundTime: undefined, lastErrorCode: undefined });
  contacts.markIndexedThrough(LATEST);
  const good = encodeSnapshotBuffer(small, 1, contacts);
  const seed = seedFromEnv(0x5a9_5707);
  let decoded = 0;
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 49), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
    const bytes = Buffer.from(good);
    for (const [at, x] of flips) bytes[at]! ^= x;
    try {
      await decodeSnapshot(rehash(bytes), {});
      decoded++;
    } catch (err) {
      assert.ok(err instanceof FleetError && /^DW_FLEET_SNAPSHOT_(CORRUPT|UNSUPPORTED|MISMATCH)$/.test(err.code), `seed ${seed}: ${String(err)}`);
    }
  }), { seed, numRuns: Number(process.env.DW_PROPERTY_RUNS ?? 300) });
  assert.ok(decoded > 0, 'some flips (inside values) still decode: the property reaches the whole body');
});

test('a flipped byte fails the checksum even where it breaks the structure first: corrupt, said as such', async () => {
  const good = encodeSnapshotBuffer(indexOf(ARRIVALS, LATEST), 1);
  for (const at of [40, 200, Math.floor(good.length / 3), good.length - 60]) {
    const bytes = Buffer.from(good);
    bytes[at]! ^= 0xff;
    await assert.rejects(decodeSnapshot(bytes, {}), (err) => err instanceof FleetError && err.code === 'DW_FLEET_SNAPSHOT_CORRUPT' && /^expected SHA-256 [0-9a-f]{64} over the snapshot/.test(err.message),
      `byte ${at}`);
  }
});

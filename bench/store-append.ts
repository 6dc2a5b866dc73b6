// store-append: the synthetic site's rounds appended to a real edge store (LevelDB in a temp
// directory, a ManualClock moved to each round's time, the default 5-minute blocks), as fast as
// the store acknowledges them; side by side with a naive write-ahead log that appends each
// round as OpenMetrics text to one file and fsyncs it, measured in the same run on the same disk.
//
// Bytes written to disk come from /proc/self/io `write_bytes`: bytes this process caused to be
// sent to the storage layer (page-cache pages it dirtied, LevelDB's background compaction
// threads included), not bytes handed to write(2). The filesystem's own journal is not in it.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEdgeStore } from '../collector/store/index.js';
import { ManualClock } from '../common/clock.js';
import { seededRandom } from '../common/random.js';
import { roundToOpenMetrics } from './openmetrics.js';
import { quantile, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { syntheticSite, syntheticSiteShape, type SyntheticSiteOptions } from './synthetic-site.js';

interface IoCounters {
  readonly writeBytes: number;
  readonly cancelledWriteBytes: number;
}

/** This process's storage I/O counters, or undefined where /proc/self/io is not readable. */
export function readProcIo(): IoCounters | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/io', 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { writeBytes: field('write_bytes'), cancelledWriteBytes: field('cancelled_write_bytes') };
}

/** Bytes of every file under `dir`, recursively. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUsage(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}

interface Measured {
  readonly latenciesMs: number[];
  readonly writeBytes: number | undefined;
  readonly sizeBytes: number;
  readonly totalMs: number;
  readonly extra: Record<string, number>;
}

function ioDelta(before: IoCounters | undefined): number | undefined {
  const after = readProcIo();
  if (before === undefined || after === undefined) return undefined;
  return after.writeBytes - before.writeBytes - (after.cancelledWriteBytes - before.cancelledWriteBytes);
}

async function measureStore(site: SyntheticSiteOptions, dir: string): Promise<Measured> {
  const shape = syntheticSiteShape(site);
  const clock = new ManualClock(shape.start);
  const rounds = [...syntheticSite(site)];
  const latenciesMs: number[] = [];
  const io = readProcIo();
  const t0 = performance.now();
  const store = await openEdgeStore({ dir, siteId: 'synthetic-site', clock, random: seededRandom(site.seed) });
  let sealed = 0;
  for (const round of rounds) {
    clock.set(round.t);
    const a = performance.now();
    if ((await store.appendRound(round)) !== undefined) sealed++;
    latenciesMs.push(performance.now() - a);
  }
  if ((await store.flush()) !== undefined) sealed++;
  const blocksBeforeCompaction = store.stats().blocks;
  const appendedBytes = ioDelta(io);
  // What the agent does while its blocks wait: compact once the windows are in the past.
  clock.set(shape.end + 24 * 3_600_000);
  const compaction = await store.compact();
  const stats = store.stats();
  const blockBytes = (await store.listBlocks()).reduce((n, b) => n + b.bytes, 0);
  await store.close();
  const totalMs = performance.now() - t0;
  return {
    latenciesMs,
    writeBytes: appendedBytes,
    sizeBytes: await diskUsage(dir),
    totalMs,
    extra: {
      sealedBlocks: sealed,
      blocksBeforeCompaction,
      blocksAfterCompaction: stats.blocks,
      compactedBlocksCreated: compaction.created.length,
      compactedBlocksReplaced: compaction.replaced,
      writeBytesWithCompaction: ioDelta(io) ?? NaN,
      storedBlockBytes: blockBytes,
      statsStoredBytes: stats.storedBytes,
      statsHeadBytes: stats.headBytes,
    },
  };
}

async function measureNaiveWal(site: SyntheticSiteOptions, dir: string): Promise<Measured> {
  const rounds = [...syntheticSite(site)];
  const path = join(dir, 'wal.om');
  const latenciesMs: number[] = [];
  const io = readProcIo();
  const t0 = performance.now();
  const fd = openSync(path, 'a');
  try {
    for (const round of rounds) {
      const a = performance.now();
      writeSync(fd, roundToOpenMetrics(round));
      fsyncSync(fd);
      latenciesMs.push(performance.now() - a);
    }
  } finally {
    closeSync(fd);
  }
  const totalMs = performance.now() - t0;
  return { latenciesMs, writeBytes: ioDelta(io), sizeBytes: (await stat(path)).size, totalMs, extra: {} };
}

export function storeAppendCase(hours: number, seed = 1): BenchCase {
  const site: SyntheticSiteOptions = { seed, stringSeries: 2000, floatSeries: 200, intervalMs: 15_000, durationMs: hours * 3_600_000 };
  const name = `store-append/sites=1/strings=${site.stringSeries}/floats=${site.floatSeries}/hours=${hours}`;
  return { name, run: (opts) => runStoreAppend(name, site, opts) };
}

/** The store-append cases run by default. */
export function storeAppendCases(): BenchCase[] {
  return [storeAppendCase(24)];
}

async function runStoreAppend(name: string, site: SyntheticSiteOptions, opts: RunOptions): Promise<CaseResult> {
  const shape = syntheticSiteShape(site);
  let samples = 0;
  for (const round of syntheticSite(site)) samples += round.samples.length;
  const dir = await mkdtemp(join(tmpdir(), 'dw-bench-store-'));
  try {
    opts.log(`${name}: appending ${shape.rounds} rounds to an edge store in ${dir}`);
    const store = await measureStore(site, join(dir, 'store'));
    opts.log(`${name}: appending the same rounds as OpenMetrics text with fsync per round`);
    const wal = await measureNaiveWal(site, dir);
    const perSample = (b: number | undefined): number => (b === undefined ? NaN : b / samples);
    const figures: Figure[] = [
      { key: 'rounds', label: 'rounds', value: shape.rounds, unit: '', digits: 0 },
      { key: 'samples', label: 'samples', value: samples, unit: '', digits: 0 },
      { key: 'appendP50Ms', label: 'store: append latency per round, p50', value: quantile(store.latenciesMs, 0.5), unit: 'ms', digits: 3 },
      { key: 'appendP99Ms', label: 'store: append latency per round, p99', value: quantile(store.latenciesMs, 0.99), unit: 'ms', digits: 3 },
      { key: 'appendMaxMs', label: 'store: append latency per round, max', value: Math.max(...store.latenciesMs), unit: 'ms', digits: 3 },
      { key: 'roundsPerSec', label: 'store: rounds appended per second', value: shape.rounds / (store.latenciesMs.reduce((a, b) => a + b, 0) / 1000), unit: 'rounds/s', digits: 0 },
      { key: 'writeBytesPerSample', label: 'store: bytes written to disk per sample (appends + seals)', value: perSample(store.writeBytes), unit: 'B/sample' },
      { key: 'writeBytesPerSampleWithCompaction', label: 'store: ... including the final compaction', value: perSample(store.extra.writeBytesWithCompaction), unit: 'B/sample' },
      { key: 'storeSizeBytes', label: 'store: size on disk after flush + compaction', value: store.sizeBytes, unit: 'B', digits: 0 },
      { key: 'storeSizeBytesPerSample', label: 'store: size on disk per sample', value: perSample(store.sizeBytes), unit: 'B/sample' },
      { key: 'storeBlockBytesPerSample', label: 'store: its blocks\' bytes per sample (listBlocks, after compaction)', value: perSample(store.extra.storedBlockBytes), unit: 'B/sample' },
      { key: 'walP50Ms', label: 'naive WAL: append + fsync per round, p50', value: quantile(wal.latenciesMs, 0.5), unit: 'ms', digits: 3 },
      { key: 'walP99Ms', label: 'naive WAL: append + fsync per round, p99', value: quantile(wal.latenciesMs, 0.99), unit: 'ms', digits: 3 },
      { key: 'walWriteBytesPerSample', label: 'naive WAL: bytes written to disk per sample', value: perSample(wal.writeBytes), unit: 'B/sample' },
      { key: 'walSizeBytes', label: 'naive WAL: file size', value: wal.sizeBytes, unit: 'B', digits: 0 },
      { key: 'walWriteRatio', label: 'bytes written: naive WAL / store', value: (wal.writeBytes ?? NaN) / (store.writeBytes ?? NaN), unit: 'x', digits: 1 },
      { key: 'walSizeRatio', label: 'size on disk: naive WAL / store', value: wal.sizeBytes / store.sizeBytes, unit: 'x', digits: 1 },
      { key: 'walP50Ratio', label: 'p50 latency: naive WAL / store', value: quantile(wal.latenciesMs, 0.5) / quantile(store.latenciesMs, 0.5), unit: 'x', digits: 2 },
    ];
    return {
      name,
      figures,
      notes: [
        'store: openEdgeStore with the default 5-minute blocks, a ManualClock set to each round\'s time, one awaited appendRound per round;',
        '  then flush, the clock moved a day on, and compact (as a waiting agent would);',
        'bytes written: /proc/self/io write_bytes - cancelled_write_bytes, LevelDB background compaction included, the fs journal not;',
        'size on disk: every file in the LevelDB directory after close (deleted head records and replaced blocks linger until LevelDB compacts);',
        'naive WAL: each round as OpenMetrics text (see block-codec) appended to one file, fsync per round.',
      ],
      context: {
        seed: site.seed,
        procIo: readProcIo() !== undefined,
        storeSeconds: Math.round(store.totalMs) / 1000,
        walSeconds: Math.round(wal.totalMs) / 1000,
        storeWriteBytes: store.writeBytes ?? NaN,
        walWriteBytes: wal.writeBytes ?? NaN,
        ...store.extra,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

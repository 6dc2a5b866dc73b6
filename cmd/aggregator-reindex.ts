// `driftwatch aggregator reindex --data-dir DIR`: rebuilds the fleet index from the blocks a
// (stopped) aggregator stored, ignoring (and removing) its index snapshot, prints what it read and
// how long it took, and writes a fresh snapshot for the next start. A verification and timing
// tool — that every stored block decodes into the index, how long a start without a snapshot
// takes — and the way to replace a snapshot one does not trust. See docs/aggregator.md, "Fleet
// reports: startup, catch-up, readiness".
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FLEET_INDEX_SNAPSHOT_FILE, openLevelStorage, reindex, writeSnapshotFile } from '../aggregator/index.js';
import { DriftwatchError } from '../common/errors.js';
import type { CliIo } from './cli.js';

const USAGE = 'usage: driftwatch aggregator reindex --data-dir DIR [--json]';

function usageError(found: string): DriftwatchError {
  return new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length)}, found ${found}`);
}

function parseArgs(args: readonly string[]): { dataDir: string; json: boolean } | 'help' {
  let dataDir: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--json') {
      json = true;
      continue;
    }
    const m = /^--data-dir(?:=(.*))?$/s.exec(a);
    if (m === null) throw usageError(JSON.stringify(a));
    if (dataDir !== undefined) throw usageError(`${a} given twice`);
    const value = m[1] ?? args[++i];
    if (value === undefined || value === '') throw usageError(`${a} without a value`);
    dataDir = value;
  }
  if (dataDir === undefined) throw usageError('no --data-dir');
  return { dataDir, json };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The `aggregator reindex` command: 0 when every stored block was indexed, 1 when some were
 * skipped (they do not decode, name another site, or cannot be read: each is printed as a
 * warning on stderr). Throws DW_CLI_USAGE, DW_AGGREGATOR_STORE_LOCKED (the aggregator is
 * running: stop it first), _STORE_OPEN_FAILED, _STORE_UNSUPPORTED_VERSION (exit 2).
 */
export async function reindexCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    io.stdout.write(`${USAGE}\n\nRebuilds the fleet index from every block stored in DIR/store (the aggregator must be stopped: it holds\n`
      + 'the store\'s lock) and prints blocks, sites, series, the index\'s size and the time it took: what an aggregator\n'
      + `start without a usable snapshot does, and a check that every stored block indexes. The index snapshot\n`
      + `DIR/${FLEET_INDEX_SNAPSHOT_FILE} is removed first and written afresh from the rebuilt index.\n`);
    return 0;
  }
  const warnings: string[] = [];
  const storage = await openLevelStorage({
    dir: join(parsed.dataDir, 'store'),
    onWarning: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  });
  try {
    // Opened first: a running aggregator's store is locked, and its snapshot is left alone.
    const snapshotFile = join(parsed.dataDir, FLEET_INDEX_SNAPSHOT_FILE);
    await rm(snapshotFile, { force: true });
    const now = Date.now();
    const { index, result } = await reindex(storage, {
      now,
      onWarning: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    });
    const st = index.stats();
    // No contacts in it (watermark -1): the next start reads the contact history and snapshots it at once.
    const snapshot = index.blocksGiven === 0 ? undefined : await writeSnapshotFile(snapshotFile, index, now);
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    if (parsed.json) {
      io.stdout.write(`${JSON.stringify({
        blocks: result.blocks, indexedBlocks: st.blocks, duplicateBlocks: st.duplicateBlocks, skippedBlocks: st.skippedBlocks, sites: result.sites,
        siteSeries: st.siteSeries, changePoints: st.changePoints, typedArrayBytes: st.typedArrayBytes, elapsedMs: Math.round(result.elapsedMs * 1000) / 1000,
        snapshot: snapshot === undefined ? null : { file: snapshotFile, bytes: snapshot.bytes, elapsedMs: Math.round(snapshot.elapsedMs * 1000) / 1000 },
      })}\n`);
    } else {
      io.stdout.write(`reindexed ${result.blocks} block${result.blocks === 1 ? '' : 's'} of ${result.sites} site${result.sites === 1 ? '' : 's'} in ${seconds(result.elapsedMs)}\n`
        + `  indexed ${st.blocks}, already held through a compaction or twice ${st.duplicateBlocks}, skipped ${st.skippedBlocks}\n`
        + `  ${st.siteSeries} (site, series) pairs, ${st.changePoints} change points, ${st.events} events, ${st.typedArrayBytes} bytes of typed arrays\n`
        + (snapshot === undefined ? '  no blocks: no index snapshot written\n'
          : `  index snapshot ${snapshotFile} written: ${snapshot.bytes} bytes in ${seconds(snapshot.elapsedMs)} (the next start loads it)\n`));
    }
    if (st.skippedBlocks > 0) {
      io.stderr.write(`reindex: ${st.skippedBlocks} stored block${st.skippedBlocks === 1 ? '' : 's'} could not be indexed (the warnings above name ${st.skippedBlocks === 1 ? 'it' : 'them'}); the aggregator skips ${st.skippedBlocks === 1 ? 'it' : 'them'} too\n`);
      return 1;
    }
    return 0;
  } finally {
    await storage.close();
  }
}

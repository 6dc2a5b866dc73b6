// The fleet index snapshot in the data directory (`<dataDir>/fleet-index.snapshot`): written
// durably (temporary file, fsync, rename, fsync of the directory), loaded at start when it can be
// trusted, never used when it cannot — a corrupt one is moved aside. See docs/aggregator.md,
// "Fleet reports", and docs/format/fleet-snapshot.md.
import { open, rename, type FileHandle } from 'node:fs/promises';
import { writeChunksDurably } from '../../common/durable-file.js';
import { errorMessage } from '../../common/errors.js';
import type { AggregatorStorage } from '../storage/index.js';
import type { ContactIndex, ContactIndexOptions } from './contacts.js';
import { FleetError, FleetErrorCode } from './errors.js';
import type { FleetIndex, FleetIndexOptions } from './merge-index.js';
import { encodeSnapshot, snapshotBlocker, type SnapshotMeta } from './snapshot.js';
import { fileSource, readSnapshot, type DecodedSnapshot } from './snapshot-read.js';

/** The snapshot's name in the data directory. */
export const FLEET_INDEX_SNAPSHOT_FILE = 'fleet-index.snapshot';

/** Why a snapshot was not used (the `outcome` label of driftwatch_aggregator_fleet_snapshot_loads_total). */
export type SnapshotRejection = 'corrupt' | 'unsupported_version' | 'options_mismatch' | 'store_mismatch' | 'clock_behind' | 'unreadable';

/** What loading found. */
export type LoadedSnapshot =
  | {
    readonly status: 'loaded'; readonly index: FleetIndex; readonly meta: SnapshotMeta; readonly bytes: number; readonly elapsedMs: number;
    /** The contact index at meta.contacts.indexedThrough, or — contactsUsed false: the snapshot's were kept at another resolution — an empty one at -1. */
    readonly contacts: ContactIndex; readonly contactsUsed: boolean;
  }
  | { readonly status: 'missing' }
  /** Not used; a corrupt file was moved aside to `movedTo` (or could not be: `moveError`). */
  | { readonly status: 'rejected'; readonly reason: SnapshotRejection; readonly error: FleetError; readonly movedTo?: string; readonly moveError?: string };

export interface LoadSnapshotOptions extends FleetIndexOptions {
  /**
   * The cut the index will be caught up to (the aggregator's clock, less what is not final): a
   * snapshot whose watermark is past it was written ahead of this clock (a clock stepped back, a
   * data directory copied between machines) and is not used.
   */
  readonly cut: number;
  /** The store the snapshot must describe: it must hold the snapshot's last block, as arrived then. */
  readonly storage: Pick<AggregatorStorage, 'getBlockMeta'>;
  /** Suffix of a corrupt file moved aside (`<file>.corrupt-<now>`). */
  readonly now: number;
  /** The contact index's options (its resolution must be the snapshot's for its contacts to be used). */
  readonly contacts?: ContactIndexOptions;
}

const reasons: Record<string, SnapshotRejection> = {
  [FleetErrorCode.SnapshotCorrupt]: 'corrupt',
  [FleetErrorCode.SnapshotUnsupported]: 'unsupported_version',
  [FleetErrorCode.SnapshotMismatch]: 'options_mismatch',
};

const unreadable = (file: string, err: unknown): LoadedSnapshot => ({
  status: 'rejected', reason: 'unreadable',
  error: new FleetError(FleetErrorCode.SnapshotCorrupt, `expected a readable snapshot file, found ${errorMessage(err)}`, { where: file, cause: err }),
});

/**
 * Loads the snapshot at `file` into a new index and contact index with `options`, a record at a time (the file is
 * never held whole), letting the event loop run every few ms. Never uses a snapshot it cannot
 * trust: missing; unreadable (an I/O error); corrupt (not a snapshot, truncated, a checksum or
 * structure that does not hold — moved aside to `<file>.corrupt-<now>`); of another format
 * version; written with other index options; whose last block the store does not hold as it
 * says (another or an older store); whose watermarks (the index's, the contacts') are past `cut`. Rejects only with the
 * storage's errors (getBlockMeta).
 */
export async function loadSnapshotFile(file: string, options: LoadSnapshotOptions): Promise<LoadedSnapshot> {
  const started = performance.now();
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return unreadable(file, err);
  }
  const { cut, storage, now, ...indexOptions } = options;
  let decoded: DecodedSnapshot;
  let bytes: number;
  try {
    bytes = (await fh.stat()).size;
    decoded = await readSnapshot(fileSource(fh, bytes), indexOptions, file);
  } catch (err) {
    if (!(err instanceof FleetError) || reasons[err.code] === undefined) return unreadable(file, err);
    const reason = reasons[err.code]!;
    if (reason !== 'corrupt') return { status: 'rejected', reason, error: err };
    const movedTo = `${file}.corrupt-${now}`;
    try {
      await rename(file, movedTo);
      return { status: 'rejected', reason, error: err, movedTo };
    } catch (moveErr) {
      return { status: 'rejected', reason, error: err, moveError: errorMessage(moveErr) };
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  const { meta } = decoded;
  const ahead = Math.max(meta.indexedThrough, meta.contacts.indexedThrough);
  if (ahead > cut) {
    return {
      status: 'rejected', reason: 'clock_behind',
      error: new FleetError(FleetErrorCode.SnapshotMismatch, `expected a snapshot whose watermark is at or before the aggregator's cut ${cut} (the index's and the contacts'), found ${ahead} (the clock stepped back, or the data directory came from another machine?)`, { where: file }),
    };
  }
  if (meta.lastBlock !== null) {
    const held = await storage.getBlockMeta(meta.lastBlock.site, meta.lastBlock.id);
    if (held === undefined || held.arrivedAt !== meta.lastBlock.arrivedAt) {
      return {
        status: 'rejected', reason: 'store_mismatch',
        error: new FleetError(FleetErrorCode.SnapshotMismatch,
          `expected the store to hold the snapshot's last block ${meta.lastBlock.site}/${meta.lastBlock.id} arrived at ${meta.lastBlock.arrivedAt}, found ${held === undefined ? 'no such block' : `it arrived at ${held.arrivedAt}`} (another or an older store?)`,
          { where: file }),
      };
    }
  }
  return { status: 'loaded', index: decoded.index, contacts: decoded.contacts, contactsUsed: decoded.contactsUsed, meta, bytes, elapsedMs: performance.now() - started };
}

/**
 * Writes a snapshot of `index` and `contacts` (undefined: none, at watermark -1 — the next start
 * reads the whole contact history) to `file` atomically and durably, in chunks (each write lets
 * the event loop run). Neither may change until it resolves: the fleet service writes between
 * catch-ups. Rejects with DW_FLEET_SNAPSHOT_UNSUPPORTED when the index cannot be snapshotted
 * (snapshotBlocker), or with the file system's error (the old file then stays).
 */
export async function writeSnapshotFile(file: string, index: FleetIndex, writtenAt: number, contacts?: ContactIndex): Promise<{ bytes: number; elapsedMs: number }> {
  const started = performance.now();
  const blocker = snapshotBlocker(index);
  if (blocker !== undefined) throw new FleetError(FleetErrorCode.SnapshotUnsupported, `expected an index that can be snapshotted, found ${blocker}`, { where: file });
  const bytes = await writeChunksDurably(file, encodeSnapshot(index, writtenAt, contacts));
  return { bytes, elapsedMs: performance.now() - started };
}

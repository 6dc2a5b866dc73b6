// `driftwatch block inspect <file-or-store-dir> [--json]`: a block's header and statistics, or
// those of every sealed block in an edge store.
import { access, cp, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openEdgeStore, type EdgeStore } from '../collector/store/index.js';
import { systemClock } from '../common/clock.js';
import { DriftwatchError } from '../common/errors.js';
import { ulidToString } from '../common/ulid.js';
import { BlockErrorCode, BlockFormatError, decodeBlock, decodeBlockHeader, DEFAULT_DECODE_LIMITS, type BlockHeader } from '../proto/index.js';
import type { CliIo } from './cli.js';

const USAGE = 'usage: driftwatch block inspect <block-file | store-dir> [--json]';

/** A block's statistics, derived from its header and its size. */
export interface BlockStats {
  readonly rounds: number;
  readonly series: number;
  readonly stringSeries: number;
  readonly floatSeries: number;
  readonly samples: number;
  readonly stringSamples: number;
  readonly floatSamples: number;
  readonly events: number;
  readonly bytes: number;
  readonly payloadBytes: number;
  readonly rawPayloadBytes: number;
  readonly bytesPerSample: number | null;
  /** Raw payload / stored payload. */
  readonly compressionRatio: number;
}

/** The JSON form of one block (`--json`). */
export interface InspectedBlock {
  readonly path?: string;
  readonly header: {
    readonly site: string;
    readonly id: string;
    readonly minT: string;
    readonly maxT: string;
    readonly sequence: number;
    readonly encoderVersion: number;
    readonly level: number;
    readonly replaces: readonly string[];
    readonly compression: string;
    readonly createdAt: string;
  };
  readonly stats: BlockStats;
  /** Store listings only: whether the shipper has marked it shipped. */
  readonly shipped?: boolean;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The inspected form of a block from its header and its size in bytes. */
export function inspectHeader(header: BlockHeader, bytes: number, path?: string): InspectedBlock {
  const floatSamples = header.numSamples - header.numStringSamples;
  return {
    ...(path === undefined ? {} : { path }),
    header: {
      site: header.siteId,
      id: ulidToString(header.blockId),
      minT: iso(header.minT),
      maxT: iso(header.maxT),
      sequence: header.sequence,
      encoderVersion: header.encoderVersion,
      level: header.level,
      replaces: header.replaces.map((id) => (id.length === 16 ? ulidToString(id) : Buffer.from(id).toString('hex'))),
      compression: header.compression,
      createdAt: iso(header.createdAt),
    },
    stats: {
      rounds: header.numRounds,
      series: header.numSeries,
      stringSeries: header.numStringSeries,
      floatSeries: header.numSeries - header.numStringSeries,
      samples: header.numSamples,
      stringSamples: header.numStringSamples,
      floatSamples,
      events: header.numEvents,
      bytes,
      payloadBytes: header.payloadLength,
      rawPayloadBytes: header.rawPayloadLength,
      bytesPerSample: header.numSamples === 0 ? null : bytes / header.numSamples,
      compressionRatio: header.payloadLength === 0 ? 1 : header.rawPayloadLength / header.payloadLength,
    },
  };
}

/** The largest file that can hold a block the default limits accept. */
const MAX_BLOCK_FILE_BYTES = 9 + DEFAULT_DECODE_LIMITS.maxHeaderBytes + 4 + DEFAULT_DECODE_LIMITS.maxPayloadBytes + 4;

/**
 * Reads and fully decodes (checksums included) the block in `path`. Throws a DriftwatchError
 * with a DW_BLOCK_* code when the file is not a valid block, naming the file.
 */
export async function inspectBlockFile(path: string, size: number): Promise<InspectedBlock> {
  if (size > MAX_BLOCK_FILE_BYTES) {
    throw new BlockFormatError(BlockErrorCode.LimitExceeded, `expected a block file of at most ${MAX_BLOCK_FILE_BYTES} bytes, found ${size} bytes`, path);
  }
  const bytes = new Uint8Array(size);
  const file = await open(path, 'r');
  try {
    let read = 0;
    while (read < size) {
      const { bytesRead } = await file.read(bytes, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } finally {
    await file.close();
  }
  try {
    const block = decodeBlock(bytes);
    return inspectHeader(block.header, size, path);
  } catch (err) {
    if (err instanceof DriftwatchError) throw new DriftwatchError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

// --- output ----------------------------------------------------------------------------------

const num = (n: number): string => n.toLocaleString('en-US');
const fixed = (n: number | null, digits: number): string => (n === null ? '-' : n.toFixed(digits));

function span(minT: string, maxT: string): string {
  const ms = Date.parse(maxT) - Date.parse(minT);
  if (!Number.isFinite(ms)) return '';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

function aligned(rows: readonly (readonly string[])[], rightAlign: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

function replaces(ids: readonly string[]): string {
  if (ids.length === 0) return '-';
  if (ids.length <= 3) return `${ids.length}: ${ids.join(' ')}`;
  return `${ids.length} blocks: ${ids[0]} .. ${ids[ids.length - 1]} (--json lists all)`;
}

/** The table of one block: header fields, then statistics. */
export function formatBlock(b: InspectedBlock): string {
  const h = b.header;
  const s = b.stats;
  const rows: string[][] = [
    ...(b.path === undefined ? [] : [['file', b.path]]),
    ['site', h.site],
    ['id', h.id],
    ['time range', `${h.minT} .. ${h.maxT}  (${span(h.minT, h.maxT)})`],
    ['sequence', String(h.sequence)],
    ['encoder version', String(h.encoderVersion)],
    ['level', String(h.level)],
    ['replaces', replaces(h.replaces)],
    ['compression', h.compression],
    ['created', h.createdAt],
    ...(b.shipped === undefined ? [] : [['shipped', b.shipped ? 'yes' : 'no']]),
    ['rounds', num(s.rounds)],
    ['series', `${num(s.series)}  (string ${num(s.stringSeries)}, float ${num(s.floatSeries)})`],
    ['samples', `${num(s.samples)}  (string ${num(s.stringSamples)}, float ${num(s.floatSamples)})`],
    ['events', num(s.events)],
    ['bytes', `${num(s.bytes)}  (payload ${num(s.payloadBytes)} stored, ${num(s.rawPayloadBytes)} raw)`],
    ['bytes per sample', fixed(s.bytesPerSample, 4)],
    ['compression ratio', `${fixed(s.compressionRatio, 2)}  (raw/stored)`],
  ];
  return aligned(rows);
}

/** One row per block, oldest first. */
export function formatBlockList(blocks: readonly InspectedBlock[]): string {
  const header = ['id', 'level', 'seq', 'min time', 'max time', 'span', 'rounds', 'series', 'str/float', 'samples', 'events', 'bytes', 'B/sample', 'ratio', 'shipped', 'replaces'];
  const rows = blocks.map((b) => [
    b.header.id, String(b.header.level), String(b.header.sequence), b.header.minT, b.header.maxT, span(b.header.minT, b.header.maxT),
    num(b.stats.rounds), num(b.stats.series), `${b.stats.stringSeries}/${b.stats.floatSeries}`, num(b.stats.samples), num(b.stats.events),
    num(b.stats.bytes), fixed(b.stats.bytesPerSample, 4), fixed(b.stats.compressionRatio, 2),
    b.shipped === undefined ? '-' : b.shipped ? 'yes' : 'no', String(b.header.replaces.length),
  ]);
  return aligned([header, ...rows], new Set([1, 2, 6, 7, 9, 10, 11, 12, 13, 15]));
}

// --- a store directory ---

/** What a store directory holds, as `block inspect` shows it. */
export interface StoreListing {
  /** The store's site. */
  readonly site: string;
  /** Live sealed blocks, oldest first. */
  readonly blocks: InspectedBlock[];
  /** Blocks found corrupt now (quarantined by the store) and those already in quarantine. */
  readonly quarantined: number;
  /** Rounds appended but not yet sealed into a block. */
  readonly headRounds: number;
}

/**
 * Every live sealed block of an open store with its header and statistics. A block that fails
 * to read is quarantined by the store and counted in `quarantined`.
 */
export async function inspectStore(store: EdgeStore): Promise<StoreListing> {
  const site = store.siteId;
  const blocks: InspectedBlock[] = [];
  for (const info of await store.listBlocks()) {
    const read = await store.readBlock(info.id);
    if (read.status !== 'ok') continue;
    blocks.push({ ...inspectHeader(decodeBlockHeader(read.bytes), read.bytes.length), shipped: read.info.shipped });
  }
  const stats = store.stats();
  return { site, blocks, quarantined: stats.quarantinedBlocks, headRounds: stats.headRounds };
}

// Opening an edge store takes its lock, and opening may write (head replay, repairs): `block
// inspect` opens a copy of the directory, never the original, so it also works beside a running
// agent. With no site id given, the store opens as whatever site it belongs to.
async function listStoreBlocks(dir: string): Promise<StoreListing> {
  try {
    await access(join(dir, 'CURRENT'));
  } catch {
    throw new DriftwatchError('DW_CLI_NOT_A_STORE', `expected a block file or an edge store directory (a LevelDB database with a CURRENT file), found a directory without one at ${dir}`);
  }
  const copy = await mkdtemp(join(tmpdir(), 'driftwatch-inspect-'));
  try {
    await cp(dir, copy, { recursive: true, filter: (src) => basename(src) !== 'LOCK' });
    const store = await openEdgeStore({ dir: copy, clock: systemClock });
    try {
      return await inspectStore(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    if (err instanceof DriftwatchError) throw new DriftwatchError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/** The text form of a store listing. */
export function formatStoreListing(path: string, listing: StoreListing): string {
  const n = listing.blocks.length;
  const lines = [`store ${path}  site ${listing.site}  ${n} sealed block${n === 1 ? '' : 's'}, ${listing.headRounds} round${listing.headRounds === 1 ? '' : 's'} in the head, ${listing.quarantined} quarantined`];
  if (n > 0) lines.push(formatBlockList(listing.blocks));
  return lines.join('\n');
}

// --- the command -----------------------------------------------------------------------------

function usage(found: string): DriftwatchError {
  return new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length)}, found ${found}`);
}

/** The `block inspect` command. Returns 0; throws a DriftwatchError (exit 2) on bad input. */
export async function blockInspectCommand(args: string[], io: CliIo): Promise<number> {
  let json = false;
  const paths: string[] = [];
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-') && a !== '-') throw usage(`the unknown option ${JSON.stringify(a)}`);
    else paths.push(a);
  }
  if (paths.length !== 1) throw usage(paths.length === 0 ? 'no path' : `${paths.length} paths`);
  const path = paths[0]!;

  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DriftwatchError('DW_CLI_PATH_NOT_FOUND', `expected a block file or an edge store directory at ${path}, found nothing there`);
    throw new DriftwatchError('DW_CLI_PATH_UNREADABLE', `expected to read ${path}, found ${code ?? 'an error'}: ${(err as Error).message}`);
  }

  if (info.isDirectory()) {
    const listing = await listStoreBlocks(path);
    io.stdout.write(json ? `${JSON.stringify({ path, ...listing }, null, 2)}\n` : `${formatStoreListing(path, listing)}\n`);
    return 0;
  }
  if (!info.isFile()) throw new DriftwatchError('DW_CLI_PATH_UNREADABLE', `expected a block file or an edge store directory at ${path}, found neither`);
  const block = await inspectBlockFile(path, info.size);
  io.stdout.write(json ? `${JSON.stringify(block, null, 2)}\n` : `${formatBlock(block)}\n`);
  return 0;
}

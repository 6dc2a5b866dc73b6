import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { Compression } from '../../proto/index.js';
import type { StoreDb } from './context.js';
import { StoreError, StoreErrorCode } from './errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Default block duration: 5 minutes. */
export const DEFAULT_BLOCK_DURATION = 5 * MINUTE;
/** Default compaction cap: 24 hours. */
export const DEFAULT_MAX_BLOCK_SPAN = 24 * HOUR;
/** Default disk budget: 1 GiB. */
export const DEFAULT_DISK_BUDGET = 1024 * 1024 * 1024;
/**
 * Default cap on the float samples of one compacted block: 2 Mi samples, 16 MiB of values while
 * merging. A day of 200 float series fits in one block; 1,000 float series compact into 6 h blocks.
 */
export const DEFAULT_COMPACTION_MAX_FLOAT_SAMPLES = 2 * 1024 * 1024;
/** The compaction windows tried by default, before filtering by blockDuration and maxBlockSpan. */
export const DEFAULT_COMPACTION_WINDOWS: readonly number[] = [HOUR, 6 * HOUR, 24 * HOUR];

/**
 * Receives the store's warnings: a corrupt block quarantined, unshipped data dropped, a clock
 * step. Same argument order as pino's `logger.warn(fields, message)`, so `logger.warn.bind(logger)` fits.
 */
export type StoreWarning = (fields: Record<string, unknown>, message: string) => void;

/** What `openEdgeStore` accepts. Unknown keys are rejected. */
export interface EdgeStoreOptions {
  /** The store's directory (a LevelDB database). Created when missing. */
  readonly dir: string;
  /**
   * The site this store belongs to; the directory refuses another site's id. Required to create
   * a store; when omitted, the store must already exist and its own site id is used (for tools
   * such as `driftwatch block inspect`).
   */
  readonly siteId?: string;
  /** Where time is read: block ids, `createdAt`, compaction windows, data_dropped events. */
  readonly clock: Clock;
  /** Randomness for block ids; crypto-random when absent. */
  readonly random?: Random;
  /** Milliseconds of event time per sealed block, blocks aligned to multiples of it. Default 5 min. */
  readonly blockDuration?: number;
  /** The longest span a compacted block may cover, in ms. Default 24 h. */
  readonly maxBlockSpan?: number;
  /**
   * Aligned compaction windows in ms, ascending, each a multiple of the one before and of
   * blockDuration, longer than blockDuration, at most maxBlockSpan. Default: 1 h, 6 h, 24 h and
   * maxBlockSpan, those that fit.
   */
  readonly compactionWindows?: readonly number[];
  /**
   * The most float samples one compacted block may hold, which bounds a merge's memory (8 bytes
   * a float sample; string series cost next to nothing): a window whose run of blocks holds more
   * is left to the smaller windows, and in the smallest window runs are cut at it. Default 2 Mi.
   */
  readonly compactionMaxFloatSamples?: number;
  /** Logical bytes the store may hold (blocks, quarantined blocks, head). Default 1 GiB. */
  readonly diskBudget?: number;
  /** Payload compression of sealed and compacted blocks. Default 'brotli'. */
  readonly compression?: Compression;
  /** Called for every warning; silent when absent. */
  readonly onWarning?: StoreWarning;
  /**
   * An open database (a sublevel of one shared by many stores) to use instead of opening `dir`:
   * `dir` then only names the store in messages, and `close` leaves the database open (its
   * owner closes it). For the fleet simulator, which runs thousands of stores in one process.
   */
  readonly db?: StoreDb;
  /**
   * Wait for fsync on every write (default true). Only the fleet simulator turns it off: its
   * sites are not the subject of crash tests, and a lost write there loses nothing real.
   */
  readonly syncWrites?: boolean;
}

/** Options with every default filled in; `siteId` is settled once the meta record is read. */
export interface ResolvedStoreOptions {
  readonly dir: string;
  readonly siteId: string | undefined;
  readonly clock: Clock;
  readonly random: Random | undefined;
  readonly blockDuration: number;
  readonly maxBlockSpan: number;
  readonly compactionWindows: readonly number[];
  readonly compactionMaxFloatSamples: number;
  readonly diskBudget: number;
  readonly compression: Compression;
  readonly onWarning: StoreWarning;
  readonly db: StoreDb | undefined;
  readonly syncWrites: boolean;
}

const KNOWN = new Set(['dir', 'siteId', 'clock', 'random', 'blockDuration', 'maxBlockSpan', 'compactionWindows', 'compactionMaxFloatSamples', 'diskBudget', 'compression', 'onWarning', 'db', 'syncWrites']);

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function defaultWindows(blockDuration: number, maxBlockSpan: number): number[] {
  const kept: number[] = [];
  const candidates = [...new Set([...DEFAULT_COMPACTION_WINDOWS, maxBlockSpan])].sort((a, b) => a - b);
  for (const w of candidates) {
    const last = kept[kept.length - 1];
    if (w > blockDuration && w <= maxBlockSpan && w % blockDuration === 0 && (last === undefined || w % last === 0)) kept.push(w);
  }
  return kept;
}

/**
 * Validates `input` and fills in defaults. Throws StoreError DW_STORE_INVALID_OPTIONS listing
 * every problem found, not only the first.
 */
export function resolveStoreOptions(input: EdgeStoreOptions): ResolvedStoreOptions {
  const problems: string[] = [];
  const o = (input ?? {}) as unknown as Record<string, unknown>;
  if (typeof input !== 'object' || input === null) {
    throw new StoreError(StoreErrorCode.InvalidOptions, `edge store options: expected an object, found ${input === null ? 'null' : typeof input}`);
  }
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);
  if (typeof o.dir !== 'string' || o.dir === '') problems.push(`dir: expected a non-empty path, found ${JSON.stringify(o.dir)}`);
  if (o.siteId !== undefined && (typeof o.siteId !== 'string' || o.siteId === '' || o.siteId.length > 256)) {
    problems.push(`siteId: expected a non-empty string of at most 256 characters, found ${JSON.stringify(o.siteId)}`);
  }
  const clock = o.clock as Clock | undefined;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') problems.push('clock: expected an object with now()');
  if (o.random !== undefined && typeof o.random !== 'function') problems.push(`random: expected a function, found ${typeof o.random}`);
  if (o.syncWrites !== undefined && typeof o.syncWrites !== 'boolean') problems.push(`syncWrites: expected true or false, found ${JSON.stringify(o.syncWrites)}`);
  if (o.db !== undefined && (typeof o.db !== 'object' || o.db === null || typeof (o.db as { batch?: unknown }).batch !== 'function')) {
    problems.push('db: expected an open abstract-level database (a sublevel), found something else');
  }
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') problems.push(`onWarning: expected a function, found ${typeof o.onWarning}`);
  if (o.compression !== undefined && o.compression !== 'none' && o.compression !== 'brotli') {
    problems.push(`compression: expected "none" or "brotli", found ${JSON.stringify(o.compression)}`);
  }
  const blockDuration = o.blockDuration ?? DEFAULT_BLOCK_DURATION;
  if (!isPositiveInteger(blockDuration)) problems.push(`blockDuration: expected a positive integer of milliseconds, found ${String(blockDuration)}`);
  const maxBlockSpan = o.maxBlockSpan ?? DEFAULT_MAX_BLOCK_SPAN;
  if (!isPositiveInteger(maxBlockSpan)) {
    problems.push(`maxBlockSpan: expected a positive integer of milliseconds, found ${String(maxBlockSpan)}`);
  } else if (isPositiveInteger(blockDuration) && (maxBlockSpan < blockDuration || maxBlockSpan % blockDuration !== 0)) {
    problems.push(`maxBlockSpan: expected a multiple of blockDuration (${blockDuration}), found ${maxBlockSpan}`);
  }
  const compactionMaxFloatSamples = o.compactionMaxFloatSamples ?? DEFAULT_COMPACTION_MAX_FLOAT_SAMPLES;
  if (!isPositiveInteger(compactionMaxFloatSamples)) problems.push(`compactionMaxFloatSamples: expected a positive integer, found ${String(compactionMaxFloatSamples)}`);
  const diskBudget = o.diskBudget ?? DEFAULT_DISK_BUDGET;
  if (!isPositiveInteger(diskBudget)) problems.push(`diskBudget: expected a positive integer of bytes, found ${String(diskBudget)}`);

  let windows: number[] = [];
  if (o.compactionWindows !== undefined) {
    if (!Array.isArray(o.compactionWindows)) {
      problems.push(`compactionWindows: expected an array of milliseconds, found ${typeof o.compactionWindows}`);
    } else {
      windows = [...(o.compactionWindows as unknown[])] as number[];
      windows.forEach((w, i) => {
        const prev = windows[i - 1];
        if (!isPositiveInteger(w)) problems.push(`compactionWindows[${i}]: expected a positive integer, found ${String(w)}`);
        else if (isPositiveInteger(blockDuration) && (w <= blockDuration || w % blockDuration !== 0)) {
          problems.push(`compactionWindows[${i}]: expected a multiple of blockDuration (${blockDuration}) longer than it, found ${w}`);
        } else if (isPositiveInteger(maxBlockSpan) && w > maxBlockSpan) {
          problems.push(`compactionWindows[${i}]: expected at most maxBlockSpan (${maxBlockSpan}), found ${w}`);
        } else if (prev !== undefined && isPositiveInteger(prev) && (w <= prev || w % prev !== 0)) {
          problems.push(`compactionWindows[${i}]: expected a multiple of the window before (${prev}) and longer, found ${w}`);
        }
      });
    }
  } else if (isPositiveInteger(blockDuration) && isPositiveInteger(maxBlockSpan)) {
    windows = defaultWindows(blockDuration, maxBlockSpan);
  }
  if (problems.length > 0) {
    throw new StoreError(StoreErrorCode.InvalidOptions, `edge store options: ${problems.length} problem(s): ${problems.join('; ')}`);
  }
  return Object.freeze({
    dir: o.dir as string,
    siteId: o.siteId as string | undefined,
    clock: clock!,
    random: o.random as Random | undefined,
    blockDuration: blockDuration as number,
    maxBlockSpan: maxBlockSpan as number,
    compactionWindows: Object.freeze(windows),
    compactionMaxFloatSamples: compactionMaxFloatSamples as number,
    diskBudget: diskBudget as number,
    compression: (o.compression as Compression | undefined) ?? 'brotli',
    onWarning: (o.onWarning as StoreWarning | undefined) ?? (() => {}),
    db: o.db as StoreDb | undefined,
    syncWrites: (o.syncWrites as boolean | undefined) ?? true,
  });
}

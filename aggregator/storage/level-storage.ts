// The embedded implementation of AggregatorStorage on `level` (LevelDB): one directory, one
// process. Blocks, their records and the arrival index are written in one synced batch per
// group commit; partial uploads without fsync; see docs/aggregator.md for the layout.
import { Level } from 'level';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import { GroupCommit, type BatchObserver, type BatchOp, type GroupCommitOptions } from './group-commit.js';
import { KeyedLock } from './keyed-lock.js';
import {
  ARRIVAL_PREFIX, arrivalKey, BLOCK_META_PREFIX, blockKey, blockMetaKey, hex14, META_KEY, parseArrivalKey, prefixRange,
} from './keys.js';
import { contactHistory, knownSiteOps, loadContacts, recordContact } from './level-contacts.js';
import { checkLabels, labelsAt, loadSiteLabels, recordSiteLabels } from './level-labels.js';
import { blockRef, checkBlock, checkCount, checkSite, type LevelContext, type StorageDb, type StorageWarning } from './level-context.js';
import { appendChunk, discardOps, discardPartial, loadPartials, partialView, readPartial } from './level-partials.js';
import { decodeBlockMeta, decodeStoreMeta, encodeRecord, STORE_FORMAT } from './records.js';
import type {
  AggregatorStorage, BlockMeta, BlockSummary, ContactHistoryRecord, ContactReport, HistoryRange, KnownAtOptions, ListBlocksOptions, PartialTarget,
  PartialUpload, PutBlockResult, RecordSiteLabelsResult, SiteContact, SiteLabels, StorageStats,
} from './storage.js';

export interface LevelStorageOptions {
  /** The LevelDB directory, created when missing. */
  readonly dir: string;
  /** Group commit tuning (see group-commit.ts). */
  readonly groupCommit?: Partial<GroupCommitOptions>;
  /** Told after every synced batch (metrics). */
  readonly onCommitBatch?: BatchObserver;
  /** Told about problems the storage handled (corrupt records skipped). Default: ignored. */
  readonly onWarning?: StorageWarning;
  /** The creation time written into a new store's meta record. Default: Date.now(). */
  readonly now?: () => number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

async function openDb(dir: string): Promise<StorageDb> {
  // Bigger write buffers than LevelDB's 4 MiB: ingest writes whole blocks.
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view', writeBufferSize: 16 << 20 });
  try {
    await db.open({ createIfMissing: true });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new AggregatorError(AggregatorErrorCode.StoreLocked, `expected to hold the store's lock, found it held by another process (${cause.message ?? ''})`, { where: dir, cause: err });
    }
    throw new AggregatorError(AggregatorErrorCode.StoreOpenFailed, `expected a LevelDB store directory, could not open it: ${cause?.message ?? (err as Error).message}`, { where: dir, cause: err });
  }
  return db;
}

function metaOf(site: string, id: string, size: number, summary: BlockSummary, arrivedAt: number): BlockMeta {
  return {
    site, id, sha256: summary.sha256, size, arrivedAt, minT: summary.minT, maxT: summary.maxT, sequence: summary.sequence, level: summary.level,
    replaces: [...summary.replaces], createdAt: summary.createdAt, numRounds: summary.numRounds, numSeries: summary.numSeries,
    numSamples: summary.numSamples, numEvents: summary.numEvents, numStringSeries: summary.numStringSeries, numStringSamples: summary.numStringSamples,
  };
}

class LevelStorage implements AggregatorStorage {
  readonly #ctx: LevelContext;
  readonly #inflight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(ctx: LevelContext) {
    this.#ctx = ctx;
  }

  /** Runs `fn` as a tracked operation: refused after close, awaited by close. */
  #op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new AggregatorError(AggregatorErrorCode.StoreClosed, 'expected an open storage, found it closed'));
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      return Promise.reject(err);
    }
    this.#inflight.add(p);
    void p.then(() => this.#inflight.delete(p), () => this.#inflight.delete(p));
    return p;
  }

  async #getMeta(site: string, id: string): Promise<BlockMeta | undefined> {
    const bytes = await this.#ctx.db.get(blockMetaKey(site, id));
    if (bytes === undefined) return undefined;
    const meta = decodeBlockMeta(bytes);
    if (meta === undefined) this.#ctx.warn({ site, block: id }, 'corrupt block record: the block counts as not held, and a new upload replaces it');
    return meta;
  }

  /**
   * Runs `fn` as a tracked operation whose arrival time `at` counts as pending (oldestPendingArrival)
   * from this call — synchronously, before any await, so that a caller who stamped `at` from its
   * clock and called at once leaves no moment where a reader sees neither the pending time nor
   * the record — until the operation settled (its write durable and visible, or failed).
   */
  #stamped<T>(at: number, fn: () => Promise<T>): Promise<T> {
    const pending = this.#ctx.pendingArrivals;
    const key = Number.isSafeInteger(at) && at >= 0 ? at : undefined;
    if (key !== undefined) pending.set(key, (pending.get(key) ?? 0) + 1);
    const done = (): void => {
      if (key === undefined) return;
      const left = pending.get(key)! - 1;
      if (left === 0) pending.delete(key);
      else pending.set(key, left);
    };
    const p = this.#op(fn);
    p.then(done, done);
    return p;
  }

  putBlock(site: string, id: string, bytes: Uint8Array, summary: BlockSummary, arrivedAt: number): Promise<PutBlockResult> {
    return this.#stamped(arrivedAt, async () => {
      checkBlock(site, id);
      checkCount('arrivedAt', arrivedAt);
      if (!SHA256_HEX.test(summary.sha256)) throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, `expected a SHA-256 as 64 lowercase hex digits, found ${JSON.stringify(summary.sha256)}`);
      const ctx = this.#ctx;
      return ctx.locks.run(blockRef(site, id), async (): Promise<PutBlockResult> => {
        const held = await this.#getMeta(site, id);
        if (held !== undefined) return held.sha256 === summary.sha256 ? { status: 'duplicate', meta: held } : { status: 'conflict', meta: held };
        const meta = metaOf(site, id, bytes.length, summary, arrivedAt);
        const ops: BatchOp[] = [
          { type: 'put', key: blockKey(site, id), value: bytes },
          { type: 'put', key: blockMetaKey(site, id), value: encodeRecord(meta) },
          { type: 'put', key: arrivalKey(arrivedAt, site, id), value: new Uint8Array(0) },
          ...discardOps(site, id, ctx.partials.get(blockRef(site, id))),
          ...knownSiteOps(ctx, site, arrivedAt),
        ];
        await ctx.group.commit(ops);
        ctx.partials.delete(blockRef(site, id));
        if (!ctx.sites.has(site)) ctx.sites.set(site, arrivedAt);
        return { status: 'stored', meta };
      });
    });
  }

  getBlockMeta(site: string, id: string): Promise<BlockMeta | undefined> {
    return this.#op(async () => {
      checkBlock(site, id);
      return this.#getMeta(site, id);
    });
  }

  getBlockMetas(site: string, ids: readonly string[]): Promise<(BlockMeta | undefined)[]> {
    return this.#op(async () => {
      for (const id of ids) checkBlock(site, id);
      if (ids.length === 0) return [];
      const values = await this.#ctx.db.getMany(ids.map((id) => blockMetaKey(site, id)));
      return values.map((v, i) => {
        if (v === undefined) return undefined;
        const meta = decodeBlockMeta(v);
        if (meta === undefined) this.#ctx.warn({ site, block: ids[i] }, 'corrupt block record: the block counts as not held, and a new upload replaces it');
        return meta;
      });
    });
  }

  readBlock(site: string, id: string): Promise<Uint8Array | undefined> {
    return this.#op(async () => {
      checkBlock(site, id);
      const v = await this.#ctx.db.get(blockKey(site, id));
      // classic-level hands out Buffers; the interface promises plain Uint8Arrays (a view, no copy).
      return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    });
  }

  async *listBlocks(site?: string, options: ListBlocksOptions = {}): AsyncIterable<BlockMeta> {
    if (this.#closing !== undefined) throw new AggregatorError(AggregatorErrorCode.StoreClosed, 'expected an open storage, found it closed');
    if (site !== undefined) checkSite(site);
    const { arrivedBy, arrivedAfter } = options;
    const keep = (m: BlockMeta): boolean => (arrivedBy === undefined || m.arrivedAt <= arrivedBy) && (arrivedAfter === undefined || m.arrivedAt > arrivedAfter);
    const db = this.#ctx.db;
    if (site === undefined && (arrivedBy !== undefined || arrivedAfter !== undefined)) {
      // The arrival index: only what arrived in the range is read.
      const gte = arrivedAfter === undefined ? ARRIVAL_PREFIX : `${ARRIVAL_PREFIX}${hex14(Math.max(0, Math.floor(arrivedAfter) + 1))}`;
      const lt = arrivedBy === undefined ? `${ARRIVAL_PREFIX}~` : `${ARRIVAL_PREFIX}${hex14(Math.max(0, Math.floor(arrivedBy)))}~`;
      if (arrivedBy !== undefined && arrivedBy < 0) return;
      let keys: string[] = [];
      const flush = async function* (self: LevelStorage): AsyncGenerator<BlockMeta> {
        const values = await db.getMany(keys);
        for (let i = 0; i < keys.length; i++) {
          const v = values[i];
          const meta = v === undefined ? undefined : decodeBlockMeta(v);
          if (meta === undefined) self.#ctx.warn({ key: keys[i] }, 'arrival index entry without a readable block record skipped');
          else if (keep(meta)) yield meta;
        }
        keys = [];
      };
      for await (const key of db.keys({ gte, lt })) {
        const a = parseArrivalKey(key);
        keys.push(blockMetaKey(a.site, a.id));
        if (keys.length >= 256) yield* flush(this);
      }
      yield* flush(this);
      return;
    }
    const range = prefixRange(site === undefined ? BLOCK_META_PREFIX : `${BLOCK_META_PREFIX}${site}!`);
    for await (const [key, value] of db.iterator(range)) {
      const meta = decodeBlockMeta(value);
      if (meta === undefined) this.#ctx.warn({ key }, 'corrupt block record skipped');
      else if (keep(meta)) yield meta;
    }
  }

  oldestPendingArrival(): number | undefined {
    let min: number | undefined;
    for (const t of this.#ctx.pendingArrivals.keys()) if (min === undefined || t < min) min = t;
    return min;
  }

  getPartial(site: string, id: string): Promise<PartialUpload | undefined> {
    return this.#op(async () => {
      checkBlock(site, id);
      const p = this.#ctx.partials.get(blockRef(site, id));
      return p === undefined ? undefined : partialView(p);
    });
  }

  readPartial(site: string, id: string): Promise<Uint8Array | undefined> {
    return this.#op(async () => {
      checkBlock(site, id);
      return this.#ctx.locks.run(blockRef(site, id), () => readPartial(this.#ctx, site, id));
    });
  }

  appendChunk(site: string, id: string, target: PartialTarget, offset: number, data: Uint8Array, now: number): Promise<PartialUpload> {
    return this.#op(async () => {
      checkBlock(site, id);
      checkCount('size', target.size);
      checkCount('offset', offset);
      if (!SHA256_HEX.test(target.sha256)) throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, `expected a SHA-256 as 64 lowercase hex digits, found ${JSON.stringify(target.sha256)}`);
      return this.#ctx.locks.run(blockRef(site, id), () => appendChunk(this.#ctx, site, id, target, offset, data, now));
    });
  }

  discardPartial(site: string, id: string): Promise<void> {
    return this.#op(async () => {
      checkBlock(site, id);
      return this.#ctx.locks.run(blockRef(site, id), () => discardPartial(this.#ctx, site, id));
    });
  }

  listPartials(): Promise<(PartialUpload & { readonly site: string; readonly id: string })[]> {
    return this.#op(async () => [...this.#ctx.partials].map(([ref, p]) => {
      const i = ref.lastIndexOf('!');
      return { site: ref.slice(0, i), id: ref.slice(i + 1), ...partialView(p) };
    }));
  }

  recordContact(site: string, report: ContactReport): Promise<SiteContact> {
    return this.#stamped(report.at, async () => {
      checkSite(site);
      checkCount('at', report.at);
      return this.#ctx.locks.run(`site:${site}`, () => recordContact(this.#ctx, site, report));
    });
  }

  getContact(site: string): Promise<SiteContact | undefined> {
    return this.#op(async () => {
      checkSite(site);
      return this.#ctx.contacts.get(site);
    });
  }

  listSites(): Promise<string[]> {
    return this.#op(async () => [...this.#ctx.sites.keys()].sort());
  }

  contactHistory(site: string, range: HistoryRange = {}): Promise<ContactHistoryRecord[]> {
    return this.#op(async () => {
      checkSite(site);
      return contactHistory(this.#ctx, site, range);
    });
  }

  recordSiteLabels(site: string, labels: Readonly<Record<string, string>>, arrivedAt: number): Promise<RecordSiteLabelsResult> {
    return this.#stamped(arrivedAt, async () => {
      checkSite(site);
      checkCount('arrivedAt', arrivedAt);
      checkLabels(labels);
      return this.#ctx.locks.run(`site:${site}`, () => recordSiteLabels(this.#ctx, site, labels, arrivedAt));
    });
  }

  siteLabels(site: string, options: KnownAtOptions = {}): Promise<SiteLabels | undefined> {
    return this.#op(async () => {
      checkSite(site);
      return labelsAt(this.#ctx.labels.get(site)?.records ?? [], options.knownAt);
    });
  }

  listSiteLabels(options: KnownAtOptions = {}): Promise<SiteLabels[]> {
    return this.#op(async () => {
      const out: SiteLabels[] = [];
      for (const site of [...this.#ctx.labels.keys()].sort()) {
        const r = labelsAt(this.#ctx.labels.get(site)!.records, options.knownAt);
        if (r !== undefined) out.push(r);
      }
      return out;
    });
  }

  siteLabelHistory(site: string): Promise<SiteLabels[]> {
    return this.#op(async () => {
      checkSite(site);
      return [...(this.#ctx.labels.get(site)?.records ?? [])];
    });
  }

  stats(): StorageStats {
    return { sites: this.#ctx.sites.size, partialUploads: this.#ctx.partials.size, commitBatches: this.#ctx.group.batches, commits: this.#ctx.group.commits };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      await this.#ctx.group.drain();
      await this.#ctx.db.close();
    })();
    return this.#closing;
  }
}

/**
 * Opens (creating when missing) the level storage in `options.dir`. Rejects with
 * DW_AGGREGATOR_STORE_LOCKED when another process holds it, DW_AGGREGATOR_STORE_OPEN_FAILED when
 * it is not a LevelDB directory, DW_AGGREGATOR_STORE_UNSUPPORTED_VERSION for another layout.
 * Partial uploads left by a crash are loaded (or dropped when unusable) before it resolves.
 */
export async function openLevelStorage(options: LevelStorageOptions): Promise<AggregatorStorage> {
  const db = await openDb(options.dir);
  try {
    const metaBytes = await db.get(META_KEY);
    if (metaBytes === undefined) {
      await db.batch([{ type: 'put', key: META_KEY, value: encodeRecord({ format: STORE_FORMAT, createdAt: (options.now ?? Date.now)() }) }], { sync: true });
    } else {
      const meta = decodeStoreMeta(metaBytes);
      if (meta === undefined || meta.format !== STORE_FORMAT) {
        throw new AggregatorError(AggregatorErrorCode.StoreUnsupportedVersion,
          `expected store layout version ${STORE_FORMAT}, found ${meta === undefined ? 'an unreadable meta record' : meta.format}`, { where: options.dir });
      }
    }
    const warn: StorageWarning = (fields, message) => {
      try {
        options.onWarning?.({ code: AggregatorErrorCode.StoreCorruptRecord, ...fields }, message);
      } catch {
        // The handler is the caller's; its failure is not the storage's.
      }
    };
    const ctx: LevelContext = {
      db,
      group: new GroupCommit((ops) => db.batch(ops, { sync: true }), options.groupCommit, options.onCommitBatch),
      locks: new KeyedLock(),
      partials: new Map(),
      sites: new Map(),
      contacts: new Map(),
      history: new Map(),
      labels: new Map(),
      pendingArrivals: new Map(),
      warn,
    };
    await loadPartials(ctx);
    await loadContacts(ctx);
    await loadSiteLabels(ctx);
    return new LevelStorage(ctx);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

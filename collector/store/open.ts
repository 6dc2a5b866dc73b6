// Opening a store directory: the database, the meta record, pending events, quarantine, block
// infos (an unreadable one is rebuilt from its block's header, or the block is quarantined).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { newUlid, ulidToString } from '../../common/ulid.js';
import { decodeBlock } from '../../proto/index.js';
import { decodeBlockInfo, encodeBlockInfo, roundRange, type BlockInfo } from './block-info.js';
import { addBlock, metaOp, warn, writeBatch, type StoreContext, type StoreDb } from './context.js';
import { StoreError, StoreErrorCode } from './errors.js';
import { decodePendingEvent, droppedSealRanges } from './events.js';
import { optionalRanges } from './seal.js';
import {
  BLOCK_INFO_PREFIX, blockKey, EVENT_PREFIX, META_KEY, prefixRange, QUARANTINE_INFO_PREFIX, QUARANTINE_META_KEY,
} from './keys.js';
import { decodeQuarantined, quarantineBlock } from './quarantine.js';
import { decodeStoreMeta, newCounters, STORE_FORMAT, type StoreMeta } from './store-meta.js';

/**
 * LevelDB's memory, smaller than classic-level's defaults (4 MiB write buffer, 8 MiB block cache):
 * the store writes a few KiB a round (a head's first round and a sealed block some 100 KiB) and
 * reads each block about once, to ship or compact it, so a large memtable and cache only hold RSS
 * on a small box; the price is ~15% more bytes written (docs/store.md).
 */
const LEVEL_MEMORY = { writeBufferSize: 1024 * 1024, cacheSize: 1024 * 1024 } as const;

/**
 * Opens the LevelDB database in `dir`, mapping a held lock to DW_STORE_LOCKED. With `create`
 * false a missing database is DW_STORE_OPEN_FAILED and nothing is created.
 */
export async function openDb(dir: string, create = true): Promise<StoreDb> {
  // classic-level makes the directory even when told not to create the database: look first.
  if (!create && !(await exists(join(dir, 'CURRENT')))) {
    throw new StoreError(StoreErrorCode.OpenFailed, 'expected an existing store (a LevelDB database with a CURRENT file), found none', dir);
  }
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  try {
    await db.open({ createIfMissing: create, ...LEVEL_MEMORY });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StoreError(StoreErrorCode.Locked, `expected to hold the store's lock, found it held by another process or store (${cause.message ?? ''})`, dir, err);
    }
    throw new StoreError(StoreErrorCode.OpenFailed, `expected a LevelDB store directory, could not open it: ${cause?.message ?? (err as Error).message}`, dir, err);
  }
  return db;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The meta as found: a valid record, none (a new or damaged store) or an unreadable one. */
export type FoundMeta = { readonly kind: 'ok'; readonly meta: StoreMeta } | { readonly kind: 'missing' } | { readonly kind: 'corrupt'; readonly bytes: Uint8Array };

/**
 * Reads the meta record; throws for another site's store or an unknown layout version. With no
 * `siteId`, any site's store is accepted.
 */
export async function readMeta(db: StoreDb, siteId: string | undefined, dir: string): Promise<FoundMeta> {
  const bytes = await db.get(META_KEY);
  if (bytes === undefined) return { kind: 'missing' };
  const meta = decodeStoreMeta(bytes);
  if (meta === undefined) return { kind: 'corrupt', bytes };
  if (meta.format !== STORE_FORMAT) {
    throw new StoreError(StoreErrorCode.UnsupportedVersion, `expected store layout version ${STORE_FORMAT}, found ${meta.format}`, dir);
  }
  if (siteId !== undefined && meta.siteId !== siteId) {
    throw new StoreError(StoreErrorCode.SiteMismatch, `expected the store of site ${JSON.stringify(siteId)}, found site ${JSON.stringify(meta.siteId)}`, dir);
  }
  return { kind: 'ok', meta };
}

/** A fresh meta record, before any block. */
export function freshMeta(siteId: string, now: number): StoreMeta {
  return { format: STORE_FORMAT, siteId, createdAt: now, nextSequence: 1, counters: newCounters() };
}

/** Loads pending events, quarantine records and block infos into `ctx`. */
export async function loadIndexes(ctx: StoreContext): Promise<void> {
  for await (const [key, value] of ctx.db.iterator(prefixRange(EVENT_PREFIX))) {
    const seq = parseInt(key.slice(EVENT_PREFIX.length), 16);
    if (seq >= ctx.nextEventSeq) ctx.nextEventSeq = seq + 1;
    const found = decodePendingEvent(value);
    if (found === undefined) warn(ctx, { key }, 'unreadable pending event skipped');
    else ctx.pendingEvents.push({ key, event: found.event, ...(found.appended ? { appended: true } : {}) });
  }
  for await (const [key, value] of ctx.db.iterator(prefixRange(QUARANTINE_INFO_PREFIX))) {
    const q = decodeQuarantined(value);
    const id = key.slice(QUARANTINE_INFO_PREFIX.length);
    ctx.quarantined.set(id, q ?? { id, reason: 'unreadable quarantine record', code: 'DW_STORE_CORRUPT_RECORD', quarantinedAt: 0, bytes: 0 });
  }
  const unreadable: string[] = [];
  for await (const [key, value] of ctx.db.iterator(prefixRange(BLOCK_INFO_PREFIX))) {
    const id = key.slice(BLOCK_INFO_PREFIX.length);
    const info = decodeBlockInfo(value);
    if (info === undefined || info.id !== id) unreadable.push(id);
    else addBlock(ctx, info);
  }
  for (const id of unreadable) await recoverInfo(ctx, id);
}

/** Rebuilds an unreadable block info by decoding its block, or quarantines the block. */
async function recoverInfo(ctx: StoreContext, id: string): Promise<void> {
  const bytes = await ctx.db.get(blockKey(id));
  try {
    if (bytes === undefined) throw new Error('no block bytes');
    const { header: h, data } = decodeBlock(bytes);
    if (ulidToString(h.blockId) !== id || h.siteId !== ctx.opts.siteId) throw new Error('the header names another block');
    // Whether it was shipped is lost: ship it again (uploads are idempotent).
    const info: BlockInfo = {
      id, minT: h.minT, maxT: h.maxT, ...roundRange(data), sequence: h.sequence, level: h.level, bytes: bytes.length, numRounds: h.numRounds,
      numSeries: h.numSeries, numSamples: h.numSamples, numFloatSamples: h.numSamples - h.numStringSamples, numEvents: h.numEvents, replaces: h.replaces.map((r) => ulidToString(r)),
      createdAt: h.createdAt, shipped: false, ...(h.sealRanges === undefined ? {} : { sealRanges: h.sealRanges }),
      ...optionalRanges('droppedSealRanges', droppedSealRanges(data.events)),
    };
    await writeBatch(ctx, [{ type: 'put', key: `${BLOCK_INFO_PREFIX}${id}`, value: encodeBlockInfo(info) }]);
    addBlock(ctx, info);
    warn(ctx, { block: id }, 'unreadable block info rebuilt from the block header; the block will be shipped again');
  } catch (err) {
    await quarantineBlock(ctx, id, 'DW_STORE_CORRUPT_RECORD', `unreadable block info and ${(err as Error).message}`, true);
  }
}

/**
 * Settles the meta once the indexes are loaded: a new store writes a fresh one; a damaged one
 * is kept under `q!meta` and rebuilt with a sequence past every block still known.
 */
export async function settleMeta(ctx: StoreContext, found: FoundMeta): Promise<void> {
  if (found.kind === 'ok') {
    if (found.meta.storeId !== undefined && found.meta.nextSealIndex !== undefined) return;
    // A store from before store ids and seal indexes: start both now.
    const meta: StoreMeta = { ...found.meta, storeId: found.meta.storeId ?? newStoreId(ctx), nextSealIndex: found.meta.nextSealIndex ?? nextSealIndexFrom(ctx) };
    await writeBatch(ctx, [metaOp(meta)]);
    ctx.meta = meta;
    return;
  }
  let maxSeq = 0;
  for (const b of ctx.blocks.values()) maxSeq = Math.max(maxSeq, b.sequence);
  for (const q of ctx.quarantined.values()) maxSeq = Math.max(maxSeq, q.info?.sequence ?? 0);
  // A lost meta loses the store id: the blocks written from now on start a new seal-index chain
  // under a new id (the center then sees a new store, not a gap).
  const meta: StoreMeta = { ...ctx.meta, nextSequence: Math.max(ctx.meta.nextSequence, maxSeq + 1), storeId: newStoreId(ctx), nextSealIndex: 1 };
  const ops = [metaOp(meta)];
  if (found.kind === 'corrupt') ops.push({ type: 'put', key: QUARANTINE_META_KEY, value: found.bytes });
  await writeBatch(ctx, ops);
  ctx.meta = meta;
  if (found.kind === 'corrupt' || ctx.blocks.size > 0) {
    warn(ctx, { nextSequence: meta.nextSequence }, 'store meta record missing or unreadable: rebuilt from the blocks, lifetime counters restart at 0');
  }
}

function newStoreId(ctx: StoreContext): string {
  return ulidToString(newUlid(ctx.opts.clock, ctx.opts.random));
}

/** One past the highest seal index any live block holds (1 for none). */
function nextSealIndexFrom(ctx: StoreContext): number {
  let max = 0;
  for (const b of ctx.blocks.values()) {
    const r = b.sealRanges;
    if (r !== undefined && r.length > 0) max = Math.max(max, r[r.length - 1]!);
  }
  return max + 1;
}

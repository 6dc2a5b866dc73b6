// One sync: Hello with the pending ids, mark what the center holds, then upload the newest
// sealed block first and the backlog oldest to newest, re-listing between blocks.
import { createHash } from 'node:crypto';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { noteContact, noteError, onRetry, type ShipperContext } from './context.js';
import type { ShipperBlockInfo } from './store.js';

/** How a sync ended: every eligible block handled, the caller's signal, or a failure that stops it. */
export type SyncOutcome = 'done' | 'aborted' | 'failed';

/** A block this sync skipped because the center refused it (conflict, invalid, too large). */
export interface SyncSkip {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

/** What one sync did. */
export interface SyncSummary {
  readonly outcome: SyncOutcome;
  /** Blocks marked shipped because Hello said the center already held them. */
  readonly held: number;
  /** Blocks uploaded and acknowledged as newly stored. */
  readonly stored: number;
  /** Blocks uploaded and acknowledged as already held (same bytes). */
  readonly duplicates: number;
  /** Uploads (first attempts) that resumed at the offset Hello reported. */
  readonly resumed: number;
  /** Block bytes sent, resent bytes included. */
  readonly bytesSent: number;
  /** Ids acknowledged by uploads, in upload order. */
  readonly shipped: readonly string[];
  /** Blocks refused by the center in this sync; each is offered again after retryRejectedAfter. */
  readonly skipped: readonly SyncSkip[];
  /** Unshipped blocks left alone because an earlier sync had them refused. */
  readonly deferred: number;
  /** Why the sync stopped early (outcome `failed` or `aborted`). */
  readonly error?: ShipperError;
}

interface Tally {
  held: number;
  stored: number;
  duplicates: number;
  resumed: number;
  bytesSent: number;
  shipped: string[];
  skipped: SyncSkip[];
}

/**
 * The most block ids one Hello carries (the aggregator accepts 100,000 by default; at 18 bytes
 * an id this keeps Hello under 200 KB). With more pending, Hello asks about the ones uploaded
 * first — the newest and the oldest — and the rest is learned from the uploads (a block the
 * center holds is answered Stored duplicate).
 */
export const MAX_HELLO_IDS = 10_000;

/** Codes that make the center refuse one block: skip it and go on with the rest. */
const SKIP_BLOCK = new Set<string>([
  ShipperErrorCode.Conflict, ShipperErrorCode.Rejected, ShipperErrorCode.BlockTooLarge,
  ShipperErrorCode.ChecksumMismatch, ShipperErrorCode.Protocol,
]);

function isDeferred(ctx: ShipperContext, id: string): boolean {
  const s = ctx.skipped.get(id);
  if (s === undefined) return false;
  if (s.until > ctx.clock.now()) return true;
  ctx.skipped.delete(id);
  return false;
}

/**
 * The next block to upload: the newest unshipped block while it is newer than every block this
 * sync gave that priority to (so a block sealed meanwhile jumps the backlog), else the oldest
 * one not yet tried in this sync.
 */
async function pickNext(ctx: ShipperContext, tried: Set<string>, frontier: { minT: number }): Promise<{ next?: ShipperBlockInfo; deferred: number }> {
  const newestFirst = await ctx.store.listUnshipped({ order: 'newest-first' });
  let deferred = 0;
  const eligible: ShipperBlockInfo[] = [];
  for (const b of newestFirst) {
    if (tried.has(b.id)) continue;
    if (isDeferred(ctx, b.id)) deferred++;
    else eligible.push(b);
  }
  const newest = eligible[0];
  if (newest !== undefined && newest.minT > frontier.minT) {
    frontier.minT = newest.minT;
    return { next: newest, deferred };
  }
  return { next: eligible[eligible.length - 1], deferred };
}

function skip(ctx: ShipperContext, tally: Tally, id: string, e: ShipperError): void {
  const until = ctx.clock.now() + ctx.retryRejectedAfterMs;
  ctx.skipped.delete(id); // re-inserted last: the heartbeat reports the latest refusal
  ctx.skipped.set(id, { id, code: e.code, message: e.message, until });
  tally.skipped.push({ id, code: e.code, message: e.message });
  ctx.logger.warn({ site: ctx.siteId, block: id, code: e.code, err: e.message, retryAt: new Date(until).toISOString() },
    'block refused by the aggregator; skipped, the rest goes on, offered again later');
}

/** Uploads one block; undefined to go on with the next, or the error that stops the sync. */
async function shipBlock(
  ctx: ShipperContext, info: ShipperBlockInfo, partials: ReadonlyMap<string, number>, maxBlockBytes: number,
  signal: AbortSignal | undefined, tally: Tally,
): Promise<ShipperError | undefined> {
  const id = info.id;
  if (!(await ctx.store.pin(id))) return undefined; // compacted or dropped since the listing
  try {
    const read = await ctx.store.readBlock(id);
    if (read.status !== 'ok') {
      ctx.logger.debug({ site: ctx.siteId, block: id, status: read.status }, 'block gone before upload; skipped');
      return undefined;
    }
    const bytes = read.bytes;
    if (maxBlockBytes > 0 && bytes.length > maxBlockBytes) {
      const e = new ShipperError(ShipperErrorCode.BlockTooLarge,
        `expected block ${id} to be at most the aggregator's max_block_bytes (${maxBlockBytes}), found ${bytes.length} bytes`);
      noteError(ctx, e);
      skip(ctx, tally, id, e);
      return undefined;
    }
    const sha256 = createHash('sha256').update(bytes).digest();
    const partial = partials.get(id) ?? 0;
    const from = partial > 0 && partial <= bytes.length ? partial : 0;
    if (from > 0) tally.resumed++;
    const r = await ctx.transport.upload({ siteId: ctx.siteId, id, bytes, sha256 }, from, {
      ...(signal === undefined ? {} : { signal }),
      onRetry: onRetry(ctx),
      onSent: (n) => {
        tally.bytesSent += n;
        ctx.metrics?.bytesSent.inc(n);
      },
    });
    if (r.status === 'success') {
      // Only now, on Stored (the center's durable write), is the block recorded as shipped.
      await ctx.store.markShipped(id);
      ctx.lastError = undefined;
      if (r.value.duplicate) tally.duplicates++;
      else tally.stored++;
      tally.shipped.push(id);
      ctx.metrics?.blocksShipped.inc({ result: r.value.duplicate ? 'duplicate' : 'stored' });
      ctx.logger.debug({ site: ctx.siteId, block: id, bytes: bytes.length, duplicate: r.value.duplicate, fromOffset: from }, 'block shipped');
      return undefined;
    }
    noteError(ctx, r.error);
    if (SKIP_BLOCK.has(r.error.code)) {
      skip(ctx, tally, id, r.error);
      return undefined;
    }
    return r.error;
  } finally {
    ctx.store.unpin(id);
  }
}

/** The ids Hello asks about (oldest first): all, or the newest and the oldest MAX_HELLO_IDS − 1. */
function helloIds(pending: readonly ShipperBlockInfo[]): string[] {
  const ids = pending.map((b) => b.id);
  return ids.length <= MAX_HELLO_IDS ? ids : [...ids.slice(0, MAX_HELLO_IDS - 1), ids[ids.length - 1]!];
}

/** Runs one sync; see Shipper.sync. */
export async function syncOnce(ctx: ShipperContext, signal: AbortSignal | undefined): Promise<SyncSummary> {
  const tally: Tally = { held: 0, stored: 0, duplicates: 0, resumed: 0, bytesSent: 0, shipped: [], skipped: [] };
  let deferred = 0;
  const end = (outcome: SyncOutcome, error?: ShipperError): SyncSummary => {
    if (outcome === 'done') {
      ctx.lastSyncAt = ctx.clock.now();
      ctx.metrics?.lastSyncSuccess.set(ctx.lastSyncAt / 1000);
    }
    const summary: SyncSummary = { outcome, ...tally, deferred, ...(error === undefined ? {} : { error }) };
    if (tally.shipped.length + tally.held + tally.skipped.length > 0 || outcome === 'failed') {
      ctx.logger.info({
        site: ctx.siteId, outcome, held: tally.held, stored: tally.stored, duplicates: tally.duplicates, skipped: tally.skipped.length,
        bytesSent: tally.bytesSent, ...(error === undefined ? {} : { code: error.code, err: error.message }),
      }, 'sync finished');
    }
    return summary;
  };
  const stopped = (e: ShipperError): SyncSummary => end(e.code === ShipperErrorCode.Aborted || signal?.aborted === true ? 'aborted' : 'failed', e);

  const pending = await ctx.store.listUnshipped({ order: 'oldest-first' });
  if (pending.length === 0) return end('done');
  const hello = await ctx.transport.hello(
    { siteId: ctx.siteId, pendingBlockIds: helloIds(pending), agentVersion: ctx.agentVersion, siteLabels: ctx.siteLabels },
    { ...(signal === undefined ? {} : { signal }), onRetry: onRetry(ctx) },
  );
  if (hello.status !== 'success') {
    noteError(ctx, hello.error);
    return stopped(hello.error);
  }
  noteContact(ctx, hello.value);
  for (const id of hello.value.heldBlockIds) {
    const m = await ctx.store.markShipped(id);
    if (m.status === 'marked') {
      tally.held++;
      ctx.metrics?.blocksShipped.inc({ result: 'held' });
    }
  }

  const tried = new Set<string>();
  const frontier = { minT: -Infinity };
  while (signal?.aborted !== true) {
    const pick = await pickNext(ctx, tried, frontier);
    deferred = pick.deferred;
    if (pick.next === undefined) break;
    tried.add(pick.next.id);
    const stop = await shipBlock(ctx, pick.next, hello.value.partialUploads, hello.value.maxBlockBytes, signal, tally);
    if (stop !== undefined) return stopped(stop);
  }
  if (signal?.aborted === true) {
    return end('aborted', new ShipperError(ShipperErrorCode.Aborted, 'expected the sync to finish, found it abandoned (the caller\'s signal fired)'));
  }
  return end('done');
}

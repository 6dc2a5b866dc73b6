// Partial uploads in the level store: a `p!` record (target and times) and `c!` chunk records,
// written without fsync. They survive a process kill (LevelDB's log is in the page cache); after
// a power loss, what survived is a prefix of what was written, and the offset reported is that.
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import type { BatchOp } from './group-commit.js';
import { CHUNK_PREFIX, chunkKey, chunkPrefix, PARTIAL_PREFIX, partialKey, prefixRange, splitSiteId } from './keys.js';
import { blockRef, type LevelContext, type PartialState } from './level-context.js';
import { decodePartial, encodeRecord, type PartialRecord } from './records.js';
import type { PartialTarget, PartialUpload } from './storage.js';

export function partialView(p: PartialState): PartialUpload {
  return { offset: p.offset, size: p.size, sha256: p.sha256, updatedAt: p.updatedAt };
}

function partialRecord(p: PartialState): Uint8Array {
  return encodeRecord({ size: p.size, sha256: p.sha256, startedAt: p.startedAt, updatedAt: p.updatedAt });
}

/** The operations that delete a partial upload's records. */
export function discardOps(site: string, id: string, p: PartialState | undefined): BatchOp[] {
  if (p === undefined) return [];
  return [{ type: 'del', key: partialKey(site, id) }, ...p.chunks.map((o): BatchOp => ({ type: 'del', key: chunkKey(site, id, o) }))];
}

/**
 * Loads every partial upload into `ctx.partials`. Chunks without a `p!` record, chunks after a
 * gap and `p!` records without chunks (what a crash can leave) are deleted. Returns how many
 * records were dropped.
 */
export async function loadPartials(ctx: LevelContext): Promise<number> {
  const records = new Map<string, PartialRecord>();
  const drop: BatchOp[] = [];
  for await (const [key, value] of ctx.db.iterator(prefixRange(PARTIAL_PREFIX))) {
    const r = decodePartial(value);
    const { site, id } = splitSiteId(key.slice(PARTIAL_PREFIX.length));
    if (r === undefined) {
      ctx.warn({ site, block: id, key }, 'corrupt partial upload record dropped; the upload starts over');
      drop.push({ type: 'del', key });
      continue;
    }
    records.set(blockRef(site, id), r);
  }
  const chunks = new Map<string, { offset: number; length: number; key: string }[]>();
  for await (const [key, value] of ctx.db.iterator(prefixRange(CHUNK_PREFIX))) {
    const rest = key.slice(CHUNK_PREFIX.length);
    const cut = rest.lastIndexOf('!');
    const ref = rest.slice(0, cut);
    const list = chunks.get(ref) ?? [];
    list.push({ offset: parseInt(rest.slice(cut + 1), 16), length: value.length, key });
    chunks.set(ref, list);
  }
  for (const [ref, list] of chunks) {
    const r = records.get(ref);
    let offset = 0;
    const kept: number[] = [];
    for (const c of list) {
      if (r !== undefined && c.offset === offset && offset + c.length <= r.size) {
        kept.push(c.offset);
        offset += c.length;
      } else {
        drop.push({ type: 'del', key: c.key });
      }
    }
    if (r === undefined || kept.length === 0) continue;
    ctx.partials.set(ref, { ...r, offset, chunks: kept });
  }
  for (const ref of records.keys()) {
    if (!ctx.partials.has(ref)) {
      const { site, id } = splitSiteId(ref);
      drop.push({ type: 'del', key: partialKey(site, id) });
    }
  }
  if (drop.length > 0) await ctx.db.batch(drop, { sync: true });
  return drop.length;
}

function mismatch(message: string): AggregatorError {
  return new AggregatorError(AggregatorErrorCode.StoreOffsetMismatch, message);
}

/** appendChunk's body (under the block's lock). */
export async function appendChunk(ctx: LevelContext, site: string, id: string, target: PartialTarget, offset: number, data: Uint8Array, now: number): Promise<PartialUpload> {
  const ref = blockRef(site, id);
  const held = ctx.partials.get(ref);
  if (held === undefined && offset !== 0) throw mismatch(`expected offset 0 for a block with no partial upload, found ${offset}`);
  if (held !== undefined) {
    if (held.size !== target.size || held.sha256 !== target.sha256) {
      throw mismatch(`expected the partial upload's size ${held.size} and SHA-256 ${held.sha256}, found ${target.size} and ${target.sha256}`);
    }
    if (offset !== held.offset) throw mismatch(`expected offset ${held.offset} (the bytes held), found ${offset}`);
  }
  if (offset + data.length > target.size) throw mismatch(`expected at most ${target.size - offset} bytes at offset ${offset}, found ${data.length}`);
  if (data.length === 0) return held === undefined ? { offset: 0, size: target.size, sha256: target.sha256, updatedAt: now } : partialView(held);
  const next: PartialState = held === undefined
    ? { size: target.size, sha256: target.sha256, startedAt: now, updatedAt: now, offset: 0, chunks: [] }
    : { ...held, chunks: [...held.chunks], updatedAt: now };
  const ops: BatchOp[] = [
    { type: 'put', key: partialKey(site, id), value: partialRecord(next) },
    { type: 'put', key: chunkKey(site, id, offset), value: data },
  ];
  await ctx.db.batch(ops, { sync: false });
  next.chunks.push(offset);
  next.offset = offset + data.length;
  ctx.partials.set(ref, next);
  return partialView(next);
}

/** readPartial's body: the held prefix, or undefined. */
export async function readPartial(ctx: LevelContext, site: string, id: string): Promise<Uint8Array | undefined> {
  const p = ctx.partials.get(blockRef(site, id));
  if (p === undefined) return undefined;
  const out = new Uint8Array(p.offset);
  let at = 0;
  for await (const [key, value] of ctx.db.iterator(prefixRange(chunkPrefix(site, id)))) {
    const offset = parseInt(key.slice(key.lastIndexOf('!') + 1), 16);
    if (offset !== at || at + value.length > p.offset) break;
    out.set(value, at);
    at += value.length;
  }
  if (at !== p.offset) {
    // The in-memory index and the disk disagree: forget the partial rather than serve a hole.
    ctx.warn({ site, block: id, expected: p.offset, found: at }, 'partial upload shorter on disk than indexed; discarded, the upload starts over');
    await ctx.db.batch(discardOps(site, id, p), { sync: false });
    ctx.partials.delete(blockRef(site, id));
    return undefined;
  }
  return out;
}

/** discardPartial's body. */
export async function discardPartial(ctx: LevelContext, site: string, id: string): Promise<void> {
  const ref = blockRef(site, id);
  const p = ctx.partials.get(ref);
  if (p === undefined) return;
  await ctx.db.batch(discardOps(site, id, p), { sync: false });
  ctx.partials.delete(ref);
}

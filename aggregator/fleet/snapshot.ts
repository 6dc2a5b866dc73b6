// The fleet index snapshot codec: the merge index's whole state (the series and value tables,
// every site's round runs, value intervals, events and blocks held, the counters and the
// watermark), and the contact index's (every site's held contacts and its own watermark), as one
// versioned, checksummed binary, so that a restart loads it and catches up only with the blocks
// and the contact history stored after their watermarks instead of reading every stored one.
// The layout is documented in docs/format/fleet-snapshot.md. This is the writer; the reader,
// which streams the file a record at a time, is snapshot-read.ts.
//
// A build that changes what the index holds, or how a block is merged into it (site-data.ts,
// site-series.ts, block-changes.ts, round-runs.ts), or what the contact index keeps of a contact
// (contacts.ts: ContactIndex.add, ContactState), must bump FLEET_SNAPSHOT_VERSION: the first
// start of that build then reindexes instead of loading a snapshot of the old semantics.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { Labels } from '../../proto/index.js';
import { DEFAULT_CONTACT_RESOLUTION_MS, type ContactIndex, type ContactState } from './contacts.js';
import { FleetError, FleetErrorCode } from './errors.js';
import type { BlockArrival, FleetIndex } from './merge-index.js';
import type { SiteData } from './site-data.js';

/** The file's first 8 bytes. */
export const FLEET_SNAPSHOT_MAGIC = 'DWFXSNAP';
/** Its last 8 bytes. */
export const FLEET_SNAPSHOT_END = 'DWFXEND\n';
/** The format (and index semantics) version this build writes and reads. */
export const FLEET_SNAPSHOT_VERSION = 2;

/** Magic, version, flags. */
export const SNAPSHOT_HEADER_BYTES = 16;
/** Body length (u64), SHA-256, end magic. */
export const SNAPSHOT_TRAILER_BYTES = 8 + 32 + 8;
const CHUNK_BYTES = 1 << 20;
/** Typed arrays at least this large are written from their own memory, not copied into a chunk. */
const DIRECT_BYTES = 64 << 10;

/** The snapshot's meta record (JSON, right after the header): what the file holds, checked before the body is decoded. */
export interface SnapshotMeta {
  /** The aggregator's clock when it was written (ms). */
  readonly writtenAt: number;
  /**
   * The watermark: every stored block that arrived at or before it was given to the index
   * (indexed, a duplicate, or skipped), and none that arrived after it.
   */
  readonly indexedThrough: number;
  readonly lastArrival: number;
  /** The last block added, for checking that the store still holds it; null when none was. */
  readonly lastBlock: BlockArrival | null;
  readonly gapToleranceMs: number;
  readonly floatSeries: string;
  readonly blocks: number;
  readonly duplicateBlocks: number;
  readonly skippedBlocks: number;
  readonly sites: number;
  readonly series: number;
  readonly values: number;
  /** The contact index's section (version 2). */
  readonly contacts: SnapshotContactsMeta;
}

/** What the snapshot holds of the contact index. */
export interface SnapshotContactsMeta {
  /**
   * Its own watermark: every contact history record that arrived at or before it was given to
   * the contact index, none after it (-1: none, a catch-up reads the whole history).
   */
  readonly indexedThrough: number;
  /** ContactIndexOptions.resolutionMs it was kept at: a snapshot of another resolution has its contacts read again. */
  readonly resolutionMs: number;
  readonly sites: number;
  /** Contacts held, over every site. */
  readonly contacts: number;
}

/** Flags of a contact in the snapshot: which optional fields are present. */
export const CONTACT_HAS_BACKLOG_BLOCKS = 1;
export const CONTACT_HAS_BACKLOG_BYTES = 2;
export const CONTACT_HAS_LAST_ROUND = 4;
export const CONTACT_HAS_ERROR_CODE = 8;

/** Throws DW_FLEET_SNAPSHOT_UNSUPPORTED on a big-endian platform (typed arrays are kept as raw little-endian bytes). */
export function checkSnapshotPlatform(): void {
  if (endianness() !== 'LE') {
    throw new FleetError(FleetErrorCode.SnapshotUnsupported, `expected a little-endian platform for fleet index snapshots (typed arrays are kept as raw bytes), found ${endianness()}`);
  }
}

/** Whether a snapshot of `index` can be written: it must be whole at its watermark and name its float-series filter. Returns why not, or undefined. */
export function snapshotBlocker(index: FleetIndex): string | undefined {
  if (index.floatSeriesId === undefined) return 'the index keeps float series by a filter without an id (FleetIndexOptions.floatSeriesId)';
  if (index.lastArrival > index.indexedThrough) {
    return `the index holds a block that arrived at ${index.lastArrival}, past its watermark ${index.indexedThrough} (a catch-up failed part way; the next one completes it)`;
  }
  return undefined;
}

// ---- Writing -----------------------------------------------------------------------------------

class ChunkWriter {
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  /** Bytes written so far (the file offset of the next byte). */
  pos = 0;
  /** Chunks ready to go out, in order. */
  out: Uint8Array[] = [];

  #room(n: number): void {
    if (this.#used + n <= this.#chunk.length) return;
    this.flush();
    if (n > this.#chunk.length) this.#chunk = Buffer.allocUnsafe(n);
  }

  flush(): void {
    if (this.#used === 0) return;
    this.out.push(this.#chunk.subarray(0, this.#used));
    this.#chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.#used = 0;
  }

  u8(v: number): void {
    this.#room(1);
    this.#chunk[this.#used++] = v;
    this.pos += 1;
  }

  u32(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff)) throw new RangeError(`expected a count below 2^32 in a fleet index snapshot, found ${v}`);
    this.#room(4);
    this.#chunk.writeUInt32LE(v, this.#used);
    this.#used += 4;
    this.pos += 4;
  }

  f64(v: number): void {
    this.#room(8);
    this.#chunk.writeDoubleLE(v, this.#used);
    this.#used += 8;
    this.pos += 8;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u32(n);
    this.#room(n);
    this.#chunk.write(s, this.#used, n, 'utf8');
    this.#used += n;
    this.pos += n;
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#chunk.set(bytes, this.#used);
    this.#used += bytes.length;
    this.pos += bytes.length;
  }

  /** Pads to a multiple of 8 bytes from the file's start, so typed arrays can be viewed in place. */
  pad8(): void {
    while (this.pos % 8 !== 0) this.u8(0);
  }

  /**
   * A record's length prefix (u64), 8-aligned: returns the function that fills it in once the
   * record is written (before its chunks are taken: they are patched in place).
   */
  reserveLength(): (length: number) => void {
    this.pad8();
    this.#room(8);
    const chunk = this.#chunk;
    const at = this.#used;
    chunk.fill(0, at, at + 8);
    this.#used += 8;
    this.pos += 8;
    return (length) => {
      chunk.writeBigUInt64LE(BigInt(length), at);
    };
  }

  /** Writes a record through `fill`, prefixed by its length and padded to 8 bytes. */
  record(fill: () => void): void {
    const setLength = this.reserveLength();
    const start = this.pos;
    fill();
    this.pad8();
    setLength(this.pos - start);
  }

  /**
   * A typed array's bytes, 8-aligned. Large ones go out as views of the array itself (no copy):
   * the caller keeps the index unchanged until every chunk is written.
   */
  array(a: Float64Array | Uint32Array | Uint8Array): void {
    this.pad8();
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (bytes.length < DIRECT_BYTES) {
      this.raw(bytes);
      return;
    }
    this.flush();
    this.out.push(bytes);
    this.pos += bytes.length;
  }

  labels(l: Labels): void {
    const names = Object.keys(l);
    this.u32(names.length);
    for (const n of names) {
      this.str(n);
      this.str(l[n]!);
    }
  }

  strings(xs: readonly string[]): void {
    this.u32(xs.length);
    for (const x of xs) this.str(x);
  }

  take(): Uint8Array[] {
    const o = this.out;
    this.out = [];
    return o;
  }
}

function writeSite(w: ChunkWriter, d: SiteData): void {
  w.str(d.site);
  w.f64(d.firstArrived);
  w.f64(d.lastArrived);
  w.f64(d.latestT);
  w.f64(d.shadowedRounds);
  const r = d.runs;
  w.u32(r.n);
  w.u32(r.first.length);
  w.array(r.first.subarray(0, r.n));
  w.array(r.step.subarray(0, r.n));
  w.array(r.count.subarray(0, r.n));
  w.array(r.arrived.subarray(0, r.n));
  const s = d.series;
  w.u32(s.count);
  w.u32(s.t.length);
  w.array(s.ids);
  w.array(s.start);
  w.array(s.t);
  w.array(s.kind);
  w.array(s.value);
  w.u32(d.blocks.length);
  for (const b of d.blocks) {
    w.str(b.id);
    w.f64(b.arrivedAt);
    w.f64(b.minT);
    w.f64(b.maxT);
    w.f64(b.level);
    w.strings(b.replaces);
    if (b.sealRanges === undefined) {
      w.u8(0);
    } else {
      w.u8(1);
      w.u32(b.sealRanges.length);
      for (const x of b.sealRanges) w.f64(x);
    }
    w.f64(b.sealMax);
    w.str(b.store);
    w.strings(b.eventKeys);
  }
  w.u32(d.events.length);
  for (const e of d.events) {
    w.f64(e.t);
    w.str(e.kind);
    w.str(e.reason);
    w.str(e.message);
    w.labels(e.labels);
    w.f64(e.rangeMinT);
    w.f64(e.rangeMaxT);
    w.f64(e.count);
    w.f64(e.arrived);
    w.str(e.key);
  }
}

function writeContactSite(w: ChunkWriter, site: string, at: readonly number[], states: readonly ContactState[]): void {
  w.str(site);
  w.u32(at.length);
  for (let i = 0; i < at.length; i++) {
    const c = states[i]!;
    const flags = (c.backlogBlocks === undefined ? 0 : CONTACT_HAS_BACKLOG_BLOCKS) | (c.backlogBytes === undefined ? 0 : CONTACT_HAS_BACKLOG_BYTES)
      | (c.lastRoundTime === undefined ? 0 : CONTACT_HAS_LAST_ROUND) | (c.lastErrorCode === undefined ? 0 : CONTACT_HAS_ERROR_CODE);
    w.u8(c.kind === 'hello' ? 0 : 1);
    w.u8(flags);
    w.f64(at[i]!);
    if (c.backlogBlocks !== undefined) w.f64(c.backlogBlocks);
    if (c.backlogBytes !== undefined) w.f64(c.backlogBytes);
    if (c.lastRoundTime !== undefined) w.f64(c.lastRoundTime);
    if (c.lastErrorCode !== undefined) w.str(c.lastErrorCode);
  }
}

/** The contact section's meta of `contacts` (undefined: an empty section at watermark -1, the default resolution). */
function contactsMeta(contacts: ContactIndex | undefined, resolutionMs: number): SnapshotContactsMeta {
  if (contacts === undefined) return { indexedThrough: -1, resolutionMs, sites: 0, contacts: 0 };
  let sites = 0;
  for (const _ of contacts.sites()) sites++;
  return { indexedThrough: contacts.indexedThrough, resolutionMs: contacts.resolutionMs, sites, contacts: contacts.kept };
}

/**
 * The meta record of a snapshot of `index` and `contacts` written at `writtenAt`. Without
 * `contacts` the snapshot holds none, at watermark -1: a start reads the whole contact history.
 */
export function snapshotMeta(index: FleetIndex, writtenAt: number, contacts?: ContactIndex): SnapshotMeta {
  const st = index.stats();
  return {
    writtenAt, indexedThrough: index.indexedThrough, lastArrival: index.lastArrival, lastBlock: index.lastBlock ?? null,
    gapToleranceMs: index.gapToleranceMs, floatSeries: index.floatSeriesId ?? '',
    blocks: st.blocks, duplicateBlocks: st.duplicateBlocks, skippedBlocks: st.skippedBlocks, sites: st.sites, series: index.series.size, values: index.values.size,
    contacts: contactsMeta(contacts, DEFAULT_CONTACT_RESOLUTION_MS),
  };
}

/**
 * The snapshot of `index` and `contacts` (undefined: none, at watermark -1) as a sequence of
 * chunks, the checksum trailer last. Neither may change until the last chunk is consumed (large
 * typed arrays go out as views of the index's memory): the fleet service writes a snapshot
 * between catch-ups. Throws DW_FLEET_SNAPSHOT_UNSUPPORTED (snapshotBlocker, a big-endian
 * platform) before yielding anything.
 */
export function* encodeSnapshot(index: FleetIndex, writtenAt: number, contacts?: ContactIndex): Generator<Uint8Array, void, undefined> {
  checkSnapshotPlatform();
  const blocker = snapshotBlocker(index);
  if (blocker !== undefined) throw new FleetError(FleetErrorCode.SnapshotUnsupported, `expected an index that can be snapshotted, found ${blocker}`);
  const hash = createHash('sha256');
  const w = new ChunkWriter();
  const drain = function* (): Generator<Uint8Array, void, undefined> {
    for (const c of w.take()) {
      hash.update(c);
      yield c;
    }
  };
  w.raw(Buffer.from(FLEET_SNAPSHOT_MAGIC, 'latin1'));
  w.u32(FLEET_SNAPSHOT_VERSION);
  w.u32(0);
  const meta = snapshotMeta(index, writtenAt, contacts);
  w.str(JSON.stringify(meta));
  // The tables, in id order: interning them again in this order gives the same ids.
  w.record(() => {
    const values = index.values;
    w.u32(values.size);
    for (let i = 0; i < values.size; i++) w.str(values.get(i));
    const series = index.series;
    w.u32(series.size);
    for (let i = 0; i < series.size; i++) {
      w.str(series.keys[i]!);
      w.str(series.names[i]!);
      w.labels(series.labels[i]!);
    }
  });
  const sites = index.sites();
  w.u32(sites.length);
  w.u32(0);
  for (const site of sites) {
    w.record(() => writeSite(w, index.site(site)!));
    if (w.out.length > 0) yield* drain();
  }
  // The contact section: sites sorted, each site's held contacts in arrival order.
  w.u32(meta.contacts.sites);
  w.u32(0);
  if (contacts !== undefined) {
    for (const { site, at, states } of contacts.entries()) {
      w.record(() => writeContactSite(w, site, at, states));
      if (w.out.length > 0) yield* drain();
    }
  }
  w.flush();
  yield* drain();
  const trailer = Buffer.alloc(SNAPSHOT_TRAILER_BYTES);
  trailer.writeBigUInt64LE(BigInt(w.pos - SNAPSHOT_HEADER_BYTES), 0);
  hash.update(trailer.subarray(0, 8));
  hash.digest().copy(trailer, 8);
  trailer.write(FLEET_SNAPSHOT_END, 40, 'latin1');
  yield trailer;
}

/** The whole snapshot in one buffer (tests, small indexes). */
export function encodeSnapshotBuffer(index: FleetIndex, writtenAt: number, contacts?: ContactIndex): Buffer {
  return Buffer.concat([...encodeSnapshot(index, writtenAt, contacts)]);
}


// Reading a fleet index snapshot (docs/format/fleet-snapshot.md) a record at a time — the header,
// the meta record, the tables, one site after another, then the contact index's sites — so that a file of several GiB is
// never held whole (only the index it becomes, and one record). The SHA-256 is computed over
// every byte read and compared at the end, before the index is returned: an index decoded from a
// file that fails it is dropped, never used. A problem found on the way (a malformed record, other
// index options) is only reported as such when the checksum holds; otherwise the file is corrupt.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Labels } from '../../proto/index.js';
import { ABSENT, FLOAT, STRING } from './block-changes.js';
import { ContactIndex, type ContactIndexOptions, type ContactState } from './contacts.js';
import { FleetError, FleetErrorCode } from './errors.js';
import { FleetIndex, type FleetIndexOptions } from './merge-index.js';
import { RoundRuns } from './round-runs.js';
import {
  checkSnapshotPlatform, CONTACT_HAS_BACKLOG_BLOCKS, CONTACT_HAS_BACKLOG_BYTES, CONTACT_HAS_ERROR_CODE, CONTACT_HAS_LAST_ROUND, FLEET_SNAPSHOT_END, FLEET_SNAPSHOT_MAGIC,
  FLEET_SNAPSHOT_VERSION, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, type SnapshotMeta,
} from './snapshot.js';
import { SiteData, type HeldBlock, type SiteEvent } from './site-data.js';
import { SiteSeries } from './site-series.js';

/** Where the bytes come from: a whole buffer (tests) or a file read through a window. */
export interface SnapshotSource {
  readonly size: number;
  /** `n` bytes at offset `at`, in a buffer whose first byte is 8-aligned; rejects when the source ends first. */
  read(at: number, n: number): Promise<Buffer>;
}

/** A snapshot held whole in memory. */
export function bufferSource(buf: Buffer): SnapshotSource {
  let whole = buf;
  if (buf.byteOffset % 8 !== 0) {
    const copy = new Uint8Array(buf);
    whole = Buffer.from(copy.buffer, 0, copy.length);
  }
  return {
    size: whole.length,
    read: async (at, n) => {
      if (at + n > whole.length) throw new Error(`expected ${n} bytes at offset ${at}, found the snapshot ends at ${whole.length}`);
      return whole.subarray(at, at + n);
    },
  };
}

const WINDOW_BYTES = 8 << 20;

/** A snapshot file read sequentially through an 8 MiB window; large records are read straight into their own buffer. */
export function fileSource(fh: FileHandle, size: number): SnapshotSource {
  const buf = Buffer.allocUnsafeSlow(WINDOW_BYTES);
  let win = buf.subarray(0, 0);
  let winAt = 0;
  const readAt = async (into: Buffer, offset: number, n: number, at: number): Promise<number> => {
    const { bytesRead } = await fh.read(into, offset, n, at);
    if (bytesRead === 0) throw new Error(`expected ${n} more bytes at offset ${at}, found the file ends there (it shrank while read?)`);
    return bytesRead;
  };
  return {
    size,
    async read(at, n) {
      if (at + n > size) throw new Error(`expected ${n} bytes at offset ${at}, found the file ends at ${size}`);
      const out = Buffer.allocUnsafeSlow(n);
      let done = 0;
      if (at >= winAt && at < winAt + win.length) done = win.copy(out, 0, at - winAt, Math.min(win.length, at - winAt + n));
      while (done < n) {
        const rest = n - done;
        if (rest >= WINDOW_BYTES) {
          done += await readAt(out, done, Math.min(rest, 1 << 30), at + done);
          continue;
        }
        const got = await readAt(buf, 0, Math.min(WINDOW_BYTES, size - (at + done)), at + done);
        win = buf.subarray(0, got);
        winAt = at + done;
        done += win.copy(out, done, 0, Math.min(got, rest));
      }
      return out;
    },
  };
}

function corrupt(message: string, where: string): FleetError {
  return new FleetError(FleetErrorCode.SnapshotCorrupt, message, { where });
}

/** A record's fields, read in order with every count checked against the bytes left; offsets in messages are the file's. */
class Reader {
  pos = 0;

  constructor(readonly buf: Buffer, readonly base: number, readonly where: string) {}

  need(n: number, what: string): void {
    if (!(n >= 0) || this.pos + n > this.buf.length) {
      throw corrupt(`expected ${what} (${n} bytes) at offset ${this.base + this.pos}, found the record ends at ${this.base + this.buf.length}`, this.where);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(what: string): string {
    const n = this.u32(`${what}'s length`);
    this.need(n, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A count of items each at least `min` bytes: checked against what is left before anything is allocated. */
  count(what: string, min: number): number {
    const n = this.u32(`the number of ${what}`);
    if (n * min > this.buf.length - this.pos) {
      throw corrupt(`expected ${n} ${what} of at least ${min} bytes each at offset ${this.base + this.pos}, found ${this.buf.length - this.pos} bytes left in the record`, this.where);
    }
    return n;
  }

  /** `n` items of `size` bytes, 8-aligned (records start 8-aligned in the file and in their buffer). */
  #view(n: number, size: number, what: string): number {
    while (this.pos % 8 !== 0) this.pos++;
    this.need(n * size, what);
    const offset = this.buf.byteOffset + this.pos;
    this.pos += n * size;
    return offset;
  }

  f64s(n: number, what: string): Float64Array {
    return new Float64Array(this.buf.buffer, this.#view(n, 8, what), n);
  }

  u32s(n: number, what: string): Uint32Array {
    return new Uint32Array(this.buf.buffer, this.#view(n, 4, what), n);
  }

  u8s(n: number, what: string): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.#view(n, 1, what), n);
  }

  labels(what: string): Labels {
    const n = this.count(`${what} labels`, 8);
    const out: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const k = this.str(`${what} label name`);
      out[k] = this.str(`${what} label value`);
    }
    return out;
  }

  strings(what: string): string[] {
    const n = this.count(what, 4);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.str(what);
    return out;
  }

  /** The record must end here (after its padding). */
  end(what: string): void {
    while (this.pos % 8 !== 0 && this.pos < this.buf.length) this.pos++;
    if (this.pos !== this.buf.length) throw corrupt(`expected ${what} to end at offset ${this.base + this.pos}, found ${this.buf.length - this.pos} more bytes in its record`, this.where);
  }
}

function checkMeta(meta: SnapshotMeta, where: string): void {
  const nums = ['writtenAt', 'indexedThrough', 'lastArrival', 'gapToleranceMs', 'blocks', 'duplicateBlocks', 'skippedBlocks', 'sites', 'series', 'values'] as const;
  for (const k of nums) if (typeof meta?.[k] !== 'number') throw corrupt(`expected the meta record's ${k} as a number, found ${JSON.stringify(meta?.[k])}`, where);
  const lb = meta.lastBlock;
  if (lb !== null && (typeof lb !== 'object' || typeof lb.site !== 'string' || typeof lb.id !== 'string' || typeof lb.arrivedAt !== 'number')) {
    throw corrupt(`expected the meta record's lastBlock as null or { site, id, arrivedAt }, found ${JSON.stringify(lb)}`, where);
  }
  if (typeof meta.floatSeries !== 'string') throw corrupt(`expected the meta record's floatSeries as a string, found ${JSON.stringify(meta.floatSeries)}`, where);
  const c = meta.contacts as Partial<SnapshotMeta['contacts']> | undefined;
  for (const k of ['indexedThrough', 'resolutionMs', 'sites', 'contacts'] as const) {
    if (typeof c?.[k] !== 'number') throw corrupt(`expected the meta record's contacts.${k} as a number, found ${JSON.stringify(c?.[k])}`, where);
  }
}

/** DW_FLEET_SNAPSHOT_MISMATCH when the snapshot was written with other index options than `index`'s. */
function checkOptions(meta: SnapshotMeta, index: FleetIndex, where: string): void {
  if (index.floatSeriesId === undefined) {
    throw new FleetError(FleetErrorCode.SnapshotMismatch, 'expected an index whose float-series filter has an id, found one without (FleetIndexOptions.floatSeriesId)', { where });
  }
  if (meta.floatSeries !== index.floatSeriesId) {
    throw new FleetError(FleetErrorCode.SnapshotMismatch, `expected a snapshot of float-series filter ${JSON.stringify(index.floatSeriesId)}, found ${JSON.stringify(meta.floatSeries)}`, { where });
  }
  if (meta.gapToleranceMs !== index.gapToleranceMs) {
    throw new FleetError(FleetErrorCode.SnapshotMismatch, `expected a snapshot of gapToleranceMs ${index.gapToleranceMs}, found ${meta.gapToleranceMs}`, { where });
  }
}

function readTables(r: Reader, index: FleetIndex): void {
  const nValues = r.count('values', 4);
  for (let i = 0; i < nValues; i++) {
    if (index.values.intern(r.str('a value')) !== i) throw corrupt(`expected distinct values, found value ${i} repeated`, r.where);
  }
  const nSeries = r.count('series', 12);
  for (let i = 0; i < nSeries; i++) {
    const key = r.str('a series key');
    const name = r.str('a series name');
    const labels = r.labels('a series\'');
    if (index.series.intern(key, name, labels) !== i) throw corrupt(`expected distinct series, found series ${i} (${key}) repeated`, r.where);
  }
  r.end('the tables');
}

function readSite(r: Reader, index: FleetIndex): SiteData {
  const site = r.str('a site id');
  const firstArrived = r.f64('firstArrived');
  const lastArrived = r.f64('lastArrived');
  const latestT = r.f64('latestT');
  const shadowedRounds = r.f64('shadowedRounds');
  const where = `site ${site}`;
  const n = r.u32(`${where}: round runs`);
  const capacity = r.u32(`${where}: round run capacity`);
  if (capacity < n || capacity > 2 * n + 2) throw corrupt(`expected ${where}'s round run capacity between ${n} and ${2 * n + 2}, found ${capacity}`, r.where);
  r.need(n * 28, `${where}: ${n} round runs`);
  const runs = new RoundRuns(capacity);
  runs.first.set(r.f64s(n, `${where}: round run starts`));
  runs.step.set(r.f64s(n, `${where}: round run steps`));
  runs.count.set(r.u32s(n, `${where}: round run counts`));
  runs.arrived.set(r.f64s(n, `${where}: round run arrivals`));
  runs.n = n;
  const count = r.u32(`${where}: series`);
  const points = r.u32(`${where}: change points`);
  const ids = r.u32s(count, `${where}: series ids`).slice();
  const start = r.u32s(count + 1, `${where}: series starts`).slice();
  const t = r.f64s(points, `${where}: change point times`).slice();
  const kind = r.u8s(points, `${where}: change point kinds`).slice();
  const value = r.f64s(points, `${where}: change point values`).slice();
  if (start[0] !== 0 || start[count] !== points) throw corrupt(`expected ${where}'s series starts from 0 to ${points}, found ${start[0]} to ${start[count]}`, r.where);
  for (let i = 0; i < count; i++) {
    if (start[i + 1]! < start[i]! || ids[i]! >= index.series.size || (i > 0 && ids[i]! <= ids[i - 1]!)) {
      throw corrupt(`expected ${where}'s series ascending below ${index.series.size} with ascending starts, found series ${ids[i]} at ${i}`, r.where);
    }
  }
  for (let i = 0; i < points; i++) {
    const k = kind[i]!;
    if (k === STRING ? !(Number.isInteger(value[i]!) && value[i]! >= 0 && value[i]! < index.values.size) : k !== FLOAT && k !== ABSENT) {
      throw corrupt(`expected ${where}'s change point ${i} to be absent, a float or a known string, found kind ${k} value ${value[i]}`, r.where);
    }
  }
  const series = count === 0 && points === 0 ? SiteSeries.EMPTY : new SiteSeries(ids, start, t, kind, value);
  const blocks: HeldBlock[] = new Array<HeldBlock>(r.count(`${where} blocks`, 40));
  for (let i = 0; i < blocks.length; i++) {
    const id = r.str(`${where}: a block id`);
    const arrivedAt = r.f64(`${where}: a block's arrival`);
    const minT = r.f64('minT');
    const maxT = r.f64('maxT');
    const level = r.f64('level');
    const replaces = r.strings(`${where}: replaced block ids`);
    let sealRanges: number[] | undefined;
    if (r.u8('a seal range flag') === 1) {
      const m = r.count(`${where} seal range bounds`, 8);
      sealRanges = new Array<number>(m);
      for (let k = 0; k < m; k++) sealRanges[k] = r.f64('a seal range bound');
    }
    const sealMax = r.f64('sealMax');
    const store = r.str(`${where}: an edge store id`);
    const eventKeys = r.strings(`${where}: event keys`);
    if (i > 0 && arrivedAt < blocks[i - 1]!.arrivedAt) throw corrupt(`expected ${where}'s blocks in arrival order, found block ${id} at ${arrivedAt} after ${blocks[i - 1]!.arrivedAt}`, r.where);
    blocks[i] = { id, arrivedAt, minT, maxT, level, replaces, sealRanges, sealMax, store, eventKeys };
  }
  const events: (SiteEvent & { key: string })[] = new Array<SiteEvent & { key: string }>(r.count(`${where} events`, 60));
  for (let i = 0; i < events.length; i++) {
    // The decoder's key order, then the index's: reports show events as they are.
    events[i] = {
      t: r.f64('an event time'), kind: r.str('an event kind'), reason: r.str('an event reason'), message: r.str('an event message'), labels: r.labels('an event\'s'),
      rangeMinT: r.f64('rangeMinT'), rangeMaxT: r.f64('rangeMaxT'), count: r.f64('an event count'), arrived: r.f64('an event arrival'), key: r.str('an event key'),
    };
  }
  r.end(where);
  return SiteData.restore({ site, runs, series, events, blocks, firstArrived, lastArrived, latestT, shadowedRounds });
}

/** One site of the contact section: its held contacts, strictly ascending in arrival time. */
function readContactSite(r: Reader): { site: string; at: number[]; states: ContactState[] } {
  const site = r.str('a contact site id');
  const where = `contacts of site ${site}`;
  // A contact is at least kind, flags and its arrival: 10 bytes.
  const n = r.count(`${where}`, 10);
  const at = new Array<number>(n);
  const states = new Array<ContactState>(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8(`${where}: a kind`);
    const flags = r.u8(`${where}: flags`);
    if (kind > 1 || flags > 15) throw corrupt(`expected ${where}: contact ${i} of kind 0 or 1 with flags below 16, found kind ${kind} flags ${flags}`, r.where);
    const t = r.f64(`${where}: an arrival`);
    if (!Number.isFinite(t) || (i > 0 && t <= at[i - 1]!)) throw corrupt(`expected ${where} strictly ascending in arrival, found ${t} at ${i}`, r.where);
    at[i] = t;
    // The order of ContactIndex.add's fields: reports show them as they are.
    states[i] = {
      kind: kind === 0 ? 'hello' : 'heartbeat', at: t,
      backlogBlocks: (flags & CONTACT_HAS_BACKLOG_BLOCKS) === 0 ? undefined : r.f64(`${where}: a backlog`),
      backlogBytes: (flags & CONTACT_HAS_BACKLOG_BYTES) === 0 ? undefined : r.f64(`${where}: backlog bytes`),
      lastRoundTime: (flags & CONTACT_HAS_LAST_ROUND) === 0 ? undefined : r.f64(`${where}: a last round`),
      lastErrorCode: (flags & CONTACT_HAS_ERROR_CODE) === 0 ? undefined : r.str(`${where}: an error code`),
    };
  }
  r.end(where);
  return { site, at, states };
}

/** What readSnapshot builds: the index options, and the contact index's. */
export interface SnapshotReadOptions extends FleetIndexOptions {
  readonly contacts?: ContactIndexOptions;
}

/** A decoded snapshot. */
export interface DecodedSnapshot {
  readonly index: FleetIndex;
  /**
   * The contact index at the snapshot's contact watermark; when the snapshot's contacts were kept
   * at another resolution than asked (contactsUsed false), a new empty one (watermark -1).
   */
  readonly contacts: ContactIndex;
  readonly contactsUsed: boolean;
  readonly meta: SnapshotMeta;
}

/** The decoder yields to the event loop after about this long (ms) of work. */
const STEP_MS = 8;

/**
 * Reads a snapshot from `source` into a new index and contact index with `options`, letting the event loop run
 * every few ms. Throws DW_FLEET_SNAPSHOT_CORRUPT (not a snapshot, truncated, a checksum that does
 * not hold, a malformed record: `where` names the file, the message the offset),
 * DW_FLEET_SNAPSHOT_UNSUPPORTED (another version, a big-endian platform), DW_FLEET_SNAPSHOT_MISMATCH
 * (written with other index options; only when the checksum holds). Every length and count is
 * checked against the bytes left before anything is allocated. Rejects with the source's own
 * errors (a read that fails) as they are.
 */
export async function readSnapshot(source: SnapshotSource, options: SnapshotReadOptions, where = 'fleet index snapshot'): Promise<DecodedSnapshot> {
  checkSnapshotPlatform();
  const size = source.size;
  const header = await source.read(0, Math.min(size, SNAPSHOT_HEADER_BYTES));
  if (size < SNAPSHOT_HEADER_BYTES || header.toString('latin1', 0, 8) !== FLEET_SNAPSHOT_MAGIC) {
    throw corrupt(`expected a fleet index snapshot starting with ${JSON.stringify(FLEET_SNAPSHOT_MAGIC)}, found ${JSON.stringify(header.toString('latin1', 0, Math.min(8, size)))}${size < SNAPSHOT_HEADER_BYTES ? ` (${size} bytes)` : ''}`, where);
  }
  const version = header.readUInt32LE(8);
  if (version !== FLEET_SNAPSHOT_VERSION) {
    throw new FleetError(FleetErrorCode.SnapshotUnsupported, `expected fleet index snapshot version ${FLEET_SNAPSHOT_VERSION}, found version ${version}`, { where });
  }
  const bodyEnd = size - SNAPSHOT_TRAILER_BYTES;
  const trailer = bodyEnd < SNAPSHOT_HEADER_BYTES ? undefined : await source.read(bodyEnd, SNAPSHOT_TRAILER_BYTES);
  if (trailer === undefined || trailer.toString('latin1', 40) !== FLEET_SNAPSHOT_END) {
    throw corrupt(`expected the snapshot to end with ${JSON.stringify(FLEET_SNAPSHOT_END)}, found ${size} bytes without it (truncated?)`, where);
  }
  const declared = trailer.readBigUInt64LE(0);
  if (declared !== BigInt(bodyEnd - SNAPSHOT_HEADER_BYTES)) throw corrupt(`expected a body of ${declared} bytes, found ${bodyEnd - SNAPSHOT_HEADER_BYTES}`, where);

  const hash: Hash = createHash('sha256').update(header);
  let pos = SNAPSHOT_HEADER_BYTES;
  const take = async (n: number, what: string): Promise<Buffer> => {
    if (!(n >= 0) || pos + n > bodyEnd) throw corrupt(`expected ${what} (${n} bytes) at offset ${pos}, found the body ends at ${bodyEnd}`, where);
    const b = await source.read(pos, n);
    hash.update(b);
    pos += n;
    return b;
  };
  const record = async (what: string): Promise<Reader> => {
    const len = Number((await take(8, `${what}'s length`)).readBigUInt64LE(0));
    if (len % 8 !== 0) throw corrupt(`expected ${what}'s length at offset ${pos - 8} to be a multiple of 8, found ${len}`, where);
    const at = pos;
    return new Reader(await take(len, what), at, where);
  };
  /** The checksum over what is left: whether the file is intact. */
  const verify = async (): Promise<void> => {
    while (pos < bodyEnd) await take(Math.min(WINDOW_BYTES, bodyEnd - pos), 'the rest of the body');
    const sum = hash.update(trailer.subarray(0, 8)).digest();
    if (!sum.equals(trailer.subarray(8, 40))) {
      throw corrupt(`expected SHA-256 ${trailer.toString('hex', 8, 40)} over the snapshot, found ${sum.toString('hex')}`, where);
    }
  };

  let decoded: DecodedSnapshot;
  try {
    decoded = await readBody();
  } catch (err) {
    // A problem in a file that fails its checksum is the corruption, whatever it looked like.
    if (err instanceof FleetError && err.code !== FleetErrorCode.SnapshotUnsupported) await verify();
    throw err;
  }
  await verify();
  return decoded;

  async function readBody(): Promise<DecodedSnapshot> {
    const metaLen = (await take(4, 'the meta record\'s length')).readUInt32LE(0);
    const metaText = (await take(metaLen, 'the meta record')).toString('utf8');
    let meta: SnapshotMeta;
    try {
      meta = JSON.parse(metaText) as SnapshotMeta;
    } catch (err) {
      throw corrupt(`expected the meta record as JSON, found ${(err as Error).message}`, where);
    }
    checkMeta(meta, where);
    const { contacts: contactOptions, ...indexOptions } = options;
    const index = new FleetIndex(indexOptions);
    checkOptions(meta, index, where);
    if (pos % 8 !== 0) await take(8 - (pos % 8), 'padding');
    readTables(await record('the tables'), index);
    const counts = await take(8, 'the number of sites');
    const nSites = counts.readUInt32LE(0);
    if (nSites * 72 > bodyEnd - pos) throw corrupt(`expected ${nSites} sites of at least 72 bytes each at offset ${pos}, found ${bodyEnd - pos} bytes left`, where);
    const sites: SiteData[] = [];
    let stepStart = performance.now();
    for (let i = 0; i < nSites; i++) {
      const s = readSite(await record(`site ${i}`), index);
      if (i > 0 && s.site <= sites[i - 1]!.site) throw corrupt(`expected sites sorted and distinct, found ${s.site} after ${sites[i - 1]!.site}`, where);
      sites.push(s);
      if (performance.now() - stepStart >= STEP_MS) {
        await nextTurn();
        stepStart = performance.now();
      }
    }
    if (index.values.size !== meta.values || index.series.size !== meta.series || nSites !== meta.sites) {
      throw corrupt(`expected ${meta.values} values, ${meta.series} series and ${meta.sites} sites as the meta record says, found ${index.values.size}, ${index.series.size} and ${nSites}`, where);
    }
    // The contact section.
    const contactCounts = await take(8, 'the number of contact sites');
    const nContactSites = contactCounts.readUInt32LE(0);
    if (nContactSites * 16 > bodyEnd - pos) throw corrupt(`expected ${nContactSites} contact sites of at least 16 bytes each at offset ${pos}, found ${bodyEnd - pos} bytes left`, where);
    const contactSites: { site: string; at: number[]; states: ContactState[] }[] = [];
    let held = 0;
    for (let i = 0; i < nContactSites; i++) {
      const s = readContactSite(await record(`contact site ${i}`));
      if (i > 0 && s.site <= contactSites[i - 1]!.site) throw corrupt(`expected contact sites sorted and distinct, found ${s.site} after ${contactSites[i - 1]!.site}`, where);
      contactSites.push(s);
      held += s.at.length;
      if (performance.now() - stepStart >= STEP_MS) {
        await nextTurn();
        stepStart = performance.now();
      }
    }
    if (pos !== bodyEnd) throw corrupt(`expected the body to end after the last contact site at offset ${pos}, found ${bodyEnd - pos} more bytes`, where);
    if (nContactSites !== meta.contacts.sites || held !== meta.contacts.contacts) {
      throw corrupt(`expected ${meta.contacts.sites} contact sites and ${meta.contacts.contacts} contacts as the meta record says, found ${nContactSites} and ${held}`, where);
    }
    index.restoreState(sites, {
      indexedThrough: meta.indexedThrough, lastArrival: meta.lastArrival, lastBlock: meta.lastBlock ?? undefined,
      blocks: meta.blocks, duplicateBlocks: meta.duplicateBlocks, skippedBlocks: meta.skippedBlocks,
    });
    const contacts = new ContactIndex(contactOptions);
    const contactsUsed = contacts.resolutionMs === meta.contacts.resolutionMs;
    if (contactsUsed) contacts.restoreState(contactSites, meta.contacts.indexedThrough);
    return { index, contacts, contactsUsed, meta };
  }
}

/** readSnapshot over a snapshot held in memory (tests, tools). */
export function decodeSnapshot(buf: Buffer, options: SnapshotReadOptions, where?: string): Promise<DecodedSnapshot> {
  return readSnapshot(bufferSource(buf), options, where);
}

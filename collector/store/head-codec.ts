// The bytes of a head round record and of a series definition (docs/store.md, "Head rounds").
// A head round record holds only what changed since the round before it in the same head:
//
//   version   u8 (1)
//   steps     varint n, then n × (ref delta varint, varint zigzag(step) × 5 + d)
//             a float whose value and previous value are both m / 10^d (d = 0..4): the step in m
//   ints      varint n, then n × (ref delta varint, zigzag varint)   other integer values
//   floats    varint n, then n × (ref delta varint, f64 little-endian)
//   strings   varint n, then n × (ref delta varint, varint length, UTF-8)
//   gone      varint n, then n × ref delta varint                    series absent since this round
//   events    varint n, then n × (varint length, JSON UTF-8)
//
// Refs in each list are ascending and stored as the difference to the previous one (the first
// against 0). The first round of a head is a record against an empty state: everything is set.
import type { BlockEvent, Labels, ValueType } from '../../proto/index.js';

const VERSION = 1;
// Integers up to 2^52 in magnitude keep their zigzag form exact in a double.
const INT_LIMIT = 2 ** 52;
// A step up to 2^49 in magnitude keeps zigzag(step) × 5 + d below 2^53.
const STEP_LIMIT = 2 ** 49;
const SCALES = [1, 10, 100, 1000, 10000];

/** The previous value of a series in the head: what a step is taken from. */
export type PreviousValue = (ref: number) => number | string | undefined;

/** One round's changes against the round before it in the head. */
export interface HeadDelta {
  /** Changed or new values, ascending by ref. */
  readonly set: ReadonlyArray<readonly [ref: number, value: number | string]>;
  /** Series present in the previous round and absent in this one, ascending. */
  readonly gone: readonly number[];
  readonly events: readonly BlockEvent[];
}

/** A series definition stored once under `s!<ref>`. */
export interface SeriesDef {
  readonly ref: number;
  readonly name: string;
  readonly labels: Labels;
  readonly type: ValueType;
}

/** Thrown by the decoders below on bytes that are not a record; the store quarantines them. */
export class HeadRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadRecordError';
  }
}

class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  varint(v: number): void {
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.len++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new HeadRecordError(`head record: expected a byte at offset ${this.pos}, found the end`);
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
    throw new HeadRecordError(`head record: expected a varint of at most 8 bytes at offset ${this.pos}`);
  }
  count(): number {
    const n = this.varint();
    // Every entry takes at least one byte: a larger count is corrupt, not a reason to allocate.
    if (n > this.buf.length - this.pos) throw new HeadRecordError(`head record: a count of ${n} exceeds the ${this.buf.length - this.pos} bytes left`);
    return n;
  }
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new HeadRecordError(`head record: expected 8 bytes at offset ${this.pos}`);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new HeadRecordError(`head record: expected ${n} bytes at offset ${this.pos}, found ${this.buf.length - this.pos}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function isZigzagInt(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) <= INT_LIMIT && !Object.is(v, -0);
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** The scaled integer of `v` at 10^d when exact and in range, else undefined. */
function scaled(v: number, d: number): number | undefined {
  const m = Math.round(v * SCALES[d]!);
  return Math.abs(m) <= INT_LIMIT && m / SCALES[d]! === v && !Object.is(v, -0) ? m : undefined;
}

/** `zigzag(step) × 5 + d` for a value and its previous value on a common decimal scale. */
function stepCode(value: number, before: number): number | undefined {
  for (let d = 0; d < SCALES.length; d++) {
    const m = scaled(value, d);
    if (m === undefined) continue;
    const p = scaled(before, d);
    if (p === undefined) continue;
    const step = m - p;
    return Math.abs(step) <= STEP_LIMIT ? zigzag(step) * 5 + d : undefined;
  }
  return undefined;
}

/**
 * Encodes one round's delta. `set` and `gone` must be ascending by ref; `previous` gives the
 * values of the round before (a float that changed is stored as a step from it when it can be).
 */
export function encodeHeadDelta(delta: HeadDelta, previous: PreviousValue = () => undefined): Uint8Array {
  const steps: [number, number][] = [];
  const ints: [number, number][] = [];
  const floats: [number, number][] = [];
  const strings: [number, string][] = [];
  for (const [ref, value] of delta.set) {
    if (typeof value === 'string') {
      strings.push([ref, value]);
      continue;
    }
    const before = previous(ref);
    const code = typeof before === 'number' ? stepCode(value, before) : undefined;
    if (code !== undefined) steps.push([ref, code]);
    else if (isZigzagInt(value)) ints.push([ref, value]);
    else floats.push([ref, value]);
  }
  const w = new Writer();
  w.byte(VERSION);
  let prev = 0;
  w.varint(steps.length);
  for (const [ref, code] of steps) {
    w.varint(ref - prev);
    prev = ref;
    w.varint(code);
  }
  prev = 0;
  w.varint(ints.length);
  for (const [ref, v] of ints) {
    w.varint(ref - prev);
    prev = ref;
    w.varint(zigzag(v));
  }
  prev = 0;
  w.varint(floats.length);
  for (const [ref, v] of floats) {
    w.varint(ref - prev);
    prev = ref;
    w.f64(v);
  }
  prev = 0;
  w.varint(strings.length);
  for (const [ref, v] of strings) {
    w.varint(ref - prev);
    prev = ref;
    w.bytes(utf8.encode(v));
  }
  prev = 0;
  w.varint(delta.gone.length);
  for (const ref of delta.gone) {
    w.varint(ref - prev);
    prev = ref;
  }
  w.varint(delta.events.length);
  for (const e of delta.events) w.bytes(utf8.encode(JSON.stringify(e)));
  return w.done();
}

/**
 * Decodes a head round record against `previous`, the values of the round before. Throws
 * HeadRecordError on anything malformed, or a step from a value that is not there.
 */
export function decodeHeadDelta(bytes: Uint8Array, previous: PreviousValue = () => undefined): HeadDelta {
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new HeadRecordError(`head record: expected version ${VERSION}, found ${version}`);
  const set: [number, number | string][] = [];
  let ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.varint();
    const code = r.varint();
    const d = code % 5;
    const before = previous(ref);
    const p = typeof before === 'number' ? scaled(before, d) : undefined;
    if (p === undefined) throw new HeadRecordError(`head record: a step for ref ${ref} needs a previous value on scale 10^${d}, found ${String(before)}`);
    set.push([ref, (p + unzigzag((code - d) / 5)) / SCALES[d]!]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.varint();
    set.push([ref, unzigzag(r.varint())]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.varint();
    set.push([ref, r.f64()]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.varint();
    let s: string;
    try {
      s = fromUtf8.decode(r.bytes());
    } catch (err) {
      if (err instanceof HeadRecordError) throw err;
      throw new HeadRecordError(`head record: expected UTF-8 text for ref ${ref}`);
    }
    set.push([ref, s]);
  }
  const gone: number[] = [];
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.varint();
    gone.push(ref);
  }
  const events: BlockEvent[] = [];
  for (let n = r.count(); n > 0; n--) events.push(parseEvent(r.bytes()));
  if (r.pos !== bytes.length) throw new HeadRecordError(`head record: expected the end at offset ${r.pos}, found ${bytes.length - r.pos} more bytes`);
  return { set, gone, events };
}

function parseEvent(bytes: Uint8Array): BlockEvent {
  let e: unknown;
  try {
    e = JSON.parse(fromUtf8.decode(bytes));
  } catch {
    throw new HeadRecordError('head record: expected an event as JSON');
  }
  const ev = e as BlockEvent;
  if (typeof ev !== 'object' || ev === null || typeof ev.t !== 'number' || typeof ev.kind !== 'string') {
    throw new HeadRecordError('head record: expected an event with t and kind');
  }
  return ev;
}

/** The stored form of a series definition. */
export function encodeSeriesDef(def: SeriesDef): Uint8Array {
  return utf8.encode(JSON.stringify([def.type, def.name, def.labels]));
}

/** Parses a series definition. Throws HeadRecordError when it is not one. */
export function decodeSeriesDef(ref: number, bytes: Uint8Array): SeriesDef {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8.decode(bytes));
  } catch {
    throw new HeadRecordError(`series definition ${ref}: expected JSON`);
  }
  if (!Array.isArray(v) || v.length !== 3 || (v[0] !== 'float' && v[0] !== 'string') || typeof v[1] !== 'string'
    || typeof v[2] !== 'object' || v[2] === null || Object.values(v[2] as object).some((x) => typeof x !== 'string')) {
    throw new HeadRecordError(`series definition ${ref}: expected [type, name, labels]`);
  }
  return { ref, type: v[0] as ValueType, name: v[1] as string, labels: v[2] as Labels };
}

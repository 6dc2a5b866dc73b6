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
import { ByteReader, ByteWriter, unzigzag, zigzag } from '../../common/bytes.js';
import { decodeJsonRecord, encodeJsonRecord, isObject } from './json-record.js';
import type { BlockEvent, Labels, ValueType } from '../../proto/index.js';

const VERSION = 1;
// Integers below 2^52 in magnitude keep their zigzag form below 2^53, exact in a double.
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

/** A reader whose problems are HeadRecordErrors. */
function headReader(bytes: Uint8Array): ByteReader {
  return new ByteReader(bytes, 'head record', (_kind, message, where) => {
    throw new HeadRecordError(`head record: ${message} (${where})`);
  });
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function isZigzagInt(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) < INT_LIMIT && !Object.is(v, -0);
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
  const w = new ByteWriter();
  w.byte(VERSION);
  writeRefList(w, steps, (code) => w.uvarint(code));
  writeRefList(w, ints, (v) => w.uvarint(zigzag(v)));
  writeRefList(w, floats, (v) => w.f64(v));
  writeRefList(w, strings, (v) => w.lengthPrefixed(utf8.encode(v)));
  writeRefList(w, delta.gone.map((ref) => [ref, undefined] as const), () => {});
  w.uvarint(delta.events.length);
  for (const e of delta.events) w.lengthPrefixed(encodeJsonRecord(e));
  return w.bytes().slice();
}

/** A count, then each entry's ref as the difference to the previous ref (the first against 0), then its value. */
function writeRefList<V>(w: ByteWriter, entries: ReadonlyArray<readonly [number, V]>, writeValue: (v: V) => void): void {
  let prev = 0;
  w.uvarint(entries.length);
  for (const [ref, v] of entries) {
    w.uvarint(ref - prev);
    prev = ref;
    writeValue(v);
  }
}

/**
 * Decodes a head round record against `previous`, the values of the round before. Throws
 * HeadRecordError on anything malformed, or a step from a value that is not there.
 */
export function decodeHeadDelta(bytes: Uint8Array, previous: PreviousValue = () => undefined): HeadDelta {
  const r = headReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new HeadRecordError(`head record: expected version ${VERSION}, found ${version}`);
  const set: [number, number | string][] = [];
  let ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.uvarint();
    const code = r.uvarint();
    const d = code % 5;
    const before = previous(ref);
    const p = typeof before === 'number' ? scaled(before, d) : undefined;
    if (p === undefined) throw new HeadRecordError(`head record: a step for ref ${ref} needs a previous value on scale 10^${d}, found ${String(before)}`);
    set.push([ref, (p + unzigzag((code - d) / 5)) / SCALES[d]!]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.uvarint();
    set.push([ref, unzigzag(r.uvarint())]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.uvarint();
    set.push([ref, r.f64()]);
  }
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.uvarint();
    let s: string;
    try {
      s = fromUtf8.decode(r.lengthPrefixed());
    } catch (err) {
      if (err instanceof HeadRecordError) throw err;
      throw new HeadRecordError(`head record: expected UTF-8 text for ref ${ref}`);
    }
    set.push([ref, s]);
  }
  const gone: number[] = [];
  ref = 0;
  for (let n = r.count(); n > 0; n--) {
    ref += r.uvarint();
    gone.push(ref);
  }
  const events: BlockEvent[] = [];
  for (let n = r.count(); n > 0; n--) events.push(parseEvent(r.lengthPrefixed()));
  r.end();
  return { set, gone, events };
}

function parseEvent(bytes: Uint8Array): BlockEvent {
  const ev = decodeJsonRecord(bytes, (e): e is BlockEvent => isObject(e) && typeof e.t === 'number' && typeof e.kind === 'string');
  if (ev === undefined) throw new HeadRecordError('head record: expected an event as JSON with t and kind');
  return ev;
}

/** The stored form of a series definition. */
export function encodeSeriesDef(def: SeriesDef): Uint8Array {
  return encodeJsonRecord([def.type, def.name, def.labels]);
}

/** Parses a series definition. Throws HeadRecordError when it is not one. */
export function decodeSeriesDef(ref: number, bytes: Uint8Array): SeriesDef {
  const v = decodeJsonRecord(bytes, (x): x is [ValueType, string, Labels] => Array.isArray(x) && x.length === 3
    && (x[0] === 'float' || x[0] === 'string') && typeof x[1] === 'string'
    && isObject(x[2]) && Object.values(x[2]).every((l) => typeof l === 'string'));
  if (v === undefined) throw new HeadRecordError(`series definition ${ref}: expected JSON [type, name, labels]`);
  return { ref, type: v[0], name: v[1], labels: v[2] };
}

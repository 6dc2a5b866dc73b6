// Encodes a block: column form in, framed bytes out. See docs/format/block.md.
import { brotliCompressSync, constants as zc } from 'node:zlib';
import { blockPb } from '../pb.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';
import { checkEvent } from './events.js';
import { decimalDigits, encodeDecimal } from './float-decimal.js';
import { encodeXor } from './float-xor.js';
import { ENCODER_VERSION, writeFrame } from './frame.js';
import { compareStrings, isValidLabelName, isValidMetricName, seriesKey, sortedLabelNames } from './labels.js';
import { DEFAULT_DECODE_LIMITS } from './limits.js';
import { checkPresence, encodePresence } from './presence.js';
import { encodeRoundTimes } from './round-times.js';
import { encodeChanges } from './string-changes.js';
import type { BlockData, BlockHeader, BlockIdentity, Compression, SeriesData } from './types.js';

const pb = blockPb.block.v1;

export interface EncodeOptions {
  /** Default 'brotli'. */
  readonly compression?: Compression;
  /** Brotli quality, 0 to 11. Default 5: most of the gain at a fraction of the time of 11. */
  readonly brotliQuality?: number;
}

function invalid(message: string, where: string): never {
  throw new BlockFormatError(BlockErrorCode.InvalidInput, message, where);
}

function checkData(data: BlockData): void {
  const n = data.rounds.length;
  for (let i = 0; i < n; i++) {
    const t = data.rounds[i]!;
    if (!(Number.isSafeInteger(t) && t >= 0) || (i > 0 && t <= data.rounds[i - 1]!)) invalid(`expected strictly increasing round times in whole ms >= 0, found ${t} at round ${i}`, 'rounds');
  }
  if (n === 0 && data.series.length > 0) invalid(`expected no series in a block without rounds, found ${data.series.length}`, 'series');
  if (n === 0 && data.events.length === 0) invalid('expected rounds or events, found an empty block', 'block');
  let prevKey: string | undefined;
  for (const s of data.series) {
    const key = seriesKey(s.name, s.labels);
    const where = `series ${key}`;
    if (prevKey !== undefined && compareStrings(prevKey, key) >= 0) invalid(`expected series sorted by key without duplicates, found ${key} after ${prevKey}`, where);
    prevKey = key;
    if (!isValidMetricName(s.name)) invalid(`expected a valid metric name, found ${JSON.stringify(s.name)}`, where);
    for (const l of Object.keys(s.labels)) if (!isValidLabelName(l)) invalid(`expected valid label names, found ${JSON.stringify(l)}`, where);
    const present = checkPresence(s.presence, n, where);
    if (s.type === 'float') {
      if (s.values.length !== present) invalid(`expected ${present} values, found ${s.values.length}`, where);
    } else if (s.type === 'string') {
      const m = s.changeAt.length;
      if (m === 0 || m !== s.changeValues.length || s.changeAt[0] !== 0) invalid(`expected change points starting at 0 with one value each, found ${m} points and ${s.changeValues.length} values`, where);
      for (let i = 1; i < m; i++) {
        if (s.changeAt[i]! <= s.changeAt[i - 1]! || s.changeAt[i]! >= present) invalid(`expected increasing change points below ${present}, found ${s.changeAt[i]} at ${i}`, where);
        if (s.changeValues[i] === s.changeValues[i - 1]) invalid(`expected each change point to change the value, found ${JSON.stringify(s.changeValues[i])} twice at ${i}`, where);
      }
      for (const v of s.changeValues) if (typeof v !== 'string') invalid(`expected string values, found ${typeof v}`, where);
    } else {
      invalid(`expected type float or string, found ${JSON.stringify((s as SeriesData).type)}`, where);
    }
  }
  for (let i = 0; i < data.events.length; i++) {
    checkEvent(data.events[i]!, `event ${i}`);
    if (i > 0 && data.events[i]!.t < data.events[i - 1]!.t) invalid(`expected events sorted by time, found ${data.events[i]!.t} after ${data.events[i - 1]!.t}`, `event ${i}`);
  }
}

/** Encodes the float values of one series with whichever encoding is smaller. */
function encodeFloats(values: Float64Array): { encoding: number; digits: number; bytes: Uint8Array } {
  const xor = encodeXor(values);
  const digits = decimalDigits(values);
  if (digits >= 0) {
    const dec = encodeDecimal(values, digits);
    if (dec.length <= xor.length) return { encoding: pb.FloatEncoding.FLOAT_ENCODING_DECIMAL, digits, bytes: dec };
  }
  return { encoding: pb.FloatEncoding.FLOAT_ENCODING_XOR, digits: 0, bytes: xor };
}

/**
 * Encodes a block. `data` must be canonical (see BlockData; BlockBuilder and mergeBlockData
 * produce it): anything else is a DW_BLOCK_INVALID_INPUT error. The result decodes with the
 * default limits: a payload that would compress past the default ratio cap is stored uncompressed.
 */
export function encodeBlock(data: BlockData, id: BlockIdentity, options: EncodeOptions = {}): Uint8Array {
  checkData(data);
  if (id.blockId.length !== 16) invalid(`expected a 16-byte block id, found ${id.blockId.length} bytes`, 'identity');
  if (id.siteId === '') invalid('expected a site id, found an empty one', 'identity');
  if (!(Number.isSafeInteger(id.sequence) && id.sequence >= 0)) invalid(`expected a sequence number >= 0, found ${id.sequence}`, 'identity');

  // The dictionary: every string the series use, sorted, "" first.
  const symbolSet = new Set<string>(['']);
  for (const s of data.series) {
    symbolSet.add(s.name);
    for (const [k, v] of Object.entries(s.labels)) {
      symbolSet.add(k);
      symbolSet.add(v);
    }
    if (s.type === 'string') for (const v of s.changeValues) symbolSet.add(v);
  }
  const symbols = [...symbolSet].sort(compareStrings);
  const ref = new Map<string, number>();
  for (let i = 0; i < symbols.length; i++) ref.set(symbols[i]!, i);

  let numSamples = 0;
  let numStringSeries = 0;
  let numStringSamples = 0;
  const series = data.series.map((s) => {
    const labels: number[] = [];
    for (const k of sortedLabelNames(s.labels)) labels.push(ref.get(k)!, ref.get(s.labels[k]!)!);
    const presence = encodePresence(s.presence);
    if (s.type === 'float') {
      numSamples += s.values.length;
      const f = encodeFloats(s.values);
      return { name: ref.get(s.name)!, labels, type: pb.ValueType.VALUE_TYPE_FLOAT, presence, floatEncoding: f.encoding, decimalDigits: f.digits, values: f.bytes };
    }
    let present = 0;
    for (let i = 1; i < s.presence.length; i += 2) present += s.presence[i]!;
    numSamples += present;
    numStringSeries++;
    numStringSamples += present;
    const refs = Uint32Array.from(s.changeValues, (v) => ref.get(v)!);
    return { name: ref.get(s.name)!, labels, type: pb.ValueType.VALUE_TYPE_STRING, presence, values: encodeChanges(s.changeAt, refs) };
  });
  const events = data.events.map((e) => ({
    t: e.t, kind: e.kind, reason: e.reason, message: e.message,
    labels: sortedLabelNames(e.labels).map((name) => ({ name, value: e.labels[name]! })),
    rangeMinT: e.rangeMinT, rangeMaxT: e.rangeMaxT, count: e.count,
  }));
  const raw = pb.BlockPayload.encode({ symbols, roundTimes: encodeRoundTimes(data.rounds), series, events }).finish();

  let compression: Compression = options.compression ?? 'brotli';
  let stored: Uint8Array = raw;
  if (compression === 'brotli') {
    stored = brotliCompressSync(raw, {
      params: {
        [zc.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 5,
        [zc.BROTLI_PARAM_SIZE_HINT]: raw.length,
        // A window no larger than the payload (the default is 4 MiB): the same output for a
        // payload that fits, and megabytes less memory while an edge agent seals.
        [zc.BROTLI_PARAM_LGWIN]: brotliWindowBits(raw.length),
      },
    });
    if (raw.length > stored.length * DEFAULT_DECODE_LIMITS.maxCompressionRatio) {
      compression = 'none';
      stored = raw;
    }
  }

  let minT = Infinity;
  let maxT = -Infinity;
  if (data.rounds.length > 0) {
    minT = data.rounds[0]!;
    maxT = data.rounds[data.rounds.length - 1]!;
  }
  for (const e of data.events) {
    if (e.t < minT) minT = e.t;
    if (e.t > maxT) maxT = e.t;
  }
  const header: BlockHeader = {
    siteId: id.siteId,
    blockId: id.blockId,
    minT,
    maxT,
    sequence: id.sequence,
    encoderVersion: ENCODER_VERSION,
    replaces: id.replaces ?? [],
    compression,
    payloadLength: stored.length,
    rawPayloadLength: raw.length,
    numRounds: data.rounds.length,
    numSeries: data.series.length,
    numSamples,
    numEvents: data.events.length,
    numStringSeries,
    numStringSamples,
    level: id.level ?? 0,
    createdAt: id.createdAt,
    ...(id.sealRanges !== undefined && id.sealRanges.length > 0 ? { sealRanges: id.sealRanges } : {}),
    ...(id.storeId !== undefined ? { storeId: id.storeId } : {}),
  };
  return writeFrame(header, stored);
}

/** log2 of the smallest Brotli window (16..22 bits: 64 KiB..4 MiB) that holds `n` bytes. */
export function brotliWindowBits(n: number): number {
  return Math.max(16, Math.min(22, Math.ceil(Math.log2(Math.max(1, n)))));
}

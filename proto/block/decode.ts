// Decodes a block: framed bytes in, column form out, every length and index checked.
import { brotliDecompressSync } from 'node:zlib';
import { blockPb } from '../pb.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';
import { decodeDecimal } from './float-decimal.js';
import { decodeXor } from './float-xor.js';
import { readFrameHeader, readFramePayload } from './frame.js';
import { compareStrings, isValidLabelName, isValidMetricName, seriesKey } from './labels.js';
import { resolveLimits, type DecodeLimits } from './limits.js';
import { decodePresence } from './presence.js';
import { decodeRoundTimes } from './round-times.js';
import { decodeChanges } from './string-changes.js';
import type { Block, BlockEvent, BlockHeader, Labels, SeriesData } from './types.js';

const pb = blockPb.block.v1;
// Decoded nested messages are class instances: absent fields read as their defaults.
type PbSeries = InstanceType<typeof pb.Series>;
type PbEvent = InstanceType<typeof pb.Event>;
type PbLabel = InstanceType<typeof pb.Label>;

function malformed(message: string, where: string): never {
  throw new BlockFormatError(BlockErrorCode.Malformed, message, where);
}

/**
 * Reads a block's header without decompressing or checking the payload: the frame prefix, the
 * header checksum and the header's declared lengths against `limits`. `bytes` may be just a
 * prefix of the block that holds the whole header. Throws BlockFormatError.
 */
export function decodeBlockHeader(bytes: Uint8Array, limits?: Partial<DecodeLimits>): BlockHeader {
  return readFrameHeader(bytes, resolveLimits(limits)).header;
}

function decompress(header: BlockHeader, stored: Uint8Array): Uint8Array {
  if (header.compression === 'none') return stored;
  let raw: Uint8Array;
  try {
    // Never more than the declared length is produced: a bomb stops there.
    raw = brotliDecompressSync(stored, { maxOutputLength: Math.max(1, header.rawPayloadLength) });
  } catch (err) {
    throw new BlockFormatError(BlockErrorCode.Decompression, `expected a Brotli stream of ${header.rawPayloadLength} bytes, found one that fails to decompress within that: ${(err as Error).message}`, 'payload', err);
  }
  if (raw.length !== header.rawPayloadLength) {
    throw new BlockFormatError(BlockErrorCode.Decompression, `expected ${header.rawPayloadLength} decompressed bytes, found ${raw.length}`, 'payload');
  }
  return raw;
}

function labelsFrom(refs: readonly number[], symbols: readonly string[], where: string): Labels {
  if (refs.length % 2 !== 0) malformed(`expected label refs in (name, value) pairs, found ${refs.length} refs`, where);
  const out: Record<string, string> = {};
  let prev: string | undefined;
  for (let i = 0; i < refs.length; i += 2) {
    const n = refs[i]!;
    const v = refs[i + 1]!;
    if (n >= symbols.length || v >= symbols.length) malformed(`expected symbol indexes below ${symbols.length}, found ${Math.max(n, v)}`, where);
    const name = symbols[n]!;
    if (!isValidLabelName(name)) malformed(`expected a valid label name, found ${JSON.stringify(name)}`, where);
    if (prev !== undefined && compareStrings(prev, name) >= 0) malformed(`expected label names sorted without duplicates, found ${name} after ${prev}`, where);
    prev = name;
    out[name] = symbols[v]!;
  }
  return out;
}

/**
 * Decodes and fully validates a block. Every problem is a BlockFormatError (code, what was
 * expected and found, where); nothing is allocated from a length before it is checked against
 * `limits` or the bytes that hold it. The result is canonical (see BlockData).
 */
export function decodeBlock(bytes: Uint8Array, limits?: Partial<DecodeLimits>): Block {
  const lim = resolveLimits(limits);
  const frame = readFrameHeader(bytes, lim);
  const header = frame.header;
  const raw = decompress(header, readFramePayload(bytes, frame));

  let payload: InstanceType<typeof pb.BlockPayload>;
  try {
    payload = pb.BlockPayload.decode(raw);
  } catch (err) {
    throw new BlockFormatError(BlockErrorCode.Malformed, `expected a BlockPayload message, found bytes that do not parse: ${(err as Error).message}`, 'payload', err);
  }

  const symbols = payload.symbols;
  if (symbols.length > lim.maxSymbols) throw new BlockFormatError(BlockErrorCode.LimitExceeded, `expected at most ${lim.maxSymbols} symbols, found ${symbols.length}`, 'symbols');
  if (symbols.length === 0 || symbols[0] !== '') malformed('expected the empty string as symbol 0', 'symbols');
  for (let i = 1; i < symbols.length; i++) {
    if (compareStrings(symbols[i - 1]!, symbols[i]!) >= 0) malformed(`expected symbols sorted without duplicates, found ${JSON.stringify(symbols[i])} after ${JSON.stringify(symbols[i - 1])}`, `symbols, index ${i}`);
  }

  const rounds = decodeRoundTimes(payload.roundTimes, lim.maxRounds);
  if (rounds.length !== header.numRounds) malformed(`expected ${header.numRounds} rounds as the header declares, found ${rounds.length}`, 'round times');
  if (payload.series.length !== header.numSeries) malformed(`expected ${header.numSeries} series as the header declares, found ${payload.series.length}`, 'series');
  if (rounds.length === 0 && payload.series.length > 0) malformed(`expected no series in a block without rounds, found ${payload.series.length}`, 'series');

  let numSamples = 0;
  let numStringSeries = 0;
  let numStringSamples = 0;
  let prevKey: string | undefined;
  const series: SeriesData[] = new Array(payload.series.length);
  for (let i = 0; i < payload.series.length; i++) {
    const s = payload.series[i] as PbSeries;
    let where = `series ${i}`;
    if (s.name >= symbols.length) malformed(`expected a symbol index below ${symbols.length}, found ${s.name}`, where);
    const name = symbols[s.name]!;
    if (!isValidMetricName(name)) malformed(`expected a valid metric name, found ${JSON.stringify(name)}`, where);
    const labels = labelsFrom(s.labels, symbols, where);
    const key = seriesKey(name, labels);
    where = `series ${i} (${key})`;
    if (prevKey !== undefined && compareStrings(prevKey, key) >= 0) malformed(`expected series sorted by key without duplicates, found ${key} after ${prevKey}`, where);
    prevKey = key;
    const { runs, present } = decodePresence(s.presence, rounds.length, `${where}, presence`);
    numSamples += present;
    if (s.type === pb.ValueType.VALUE_TYPE_FLOAT) {
      let values: Float64Array;
      if (s.floatEncoding === pb.FloatEncoding.FLOAT_ENCODING_XOR) values = decodeXor(s.values, present, `${where}, values`);
      else if (s.floatEncoding === pb.FloatEncoding.FLOAT_ENCODING_DECIMAL) values = decodeDecimal(s.values, present, s.decimalDigits, `${where}, values`);
      else throw new BlockFormatError(BlockErrorCode.UnsupportedVersion, `expected float encoding XOR (1) or DECIMAL (2), found ${s.floatEncoding}`, where);
      series[i] = { name, labels, type: 'float', presence: runs, values };
    } else if (s.type === pb.ValueType.VALUE_TYPE_STRING) {
      const { changeAt, changeValues } = decodeChanges(s.values, present, symbols, `${where}, values`);
      numStringSeries++;
      numStringSamples += present;
      series[i] = { name, labels, type: 'string', presence: runs, changeAt, changeValues };
    } else {
      throw new BlockFormatError(BlockErrorCode.UnsupportedVersion, `expected value type FLOAT (1) or STRING (2), found ${s.type}`, where);
    }
  }
  if (numSamples !== header.numSamples || numStringSeries !== header.numStringSeries || numStringSamples !== header.numStringSamples) {
    malformed(`expected ${header.numSamples} samples (${header.numStringSamples} string, ${header.numStringSeries} string series) as the header declares, found ${numSamples} (${numStringSamples}, ${numStringSeries})`, 'series');
  }

  if (payload.events.length !== header.numEvents) malformed(`expected ${header.numEvents} events as the header declares, found ${payload.events.length}`, 'events');
  const events: BlockEvent[] = new Array(payload.events.length);
  for (let i = 0; i < payload.events.length; i++) {
    const e = payload.events[i] as PbEvent;
    const where = `event ${i}`;
    if (!(Number.isSafeInteger(e.t) && e.t >= 0)) malformed(`expected an event time >= 0, found ${e.t}`, where);
    if (i > 0 && e.t < events[i - 1]!.t) malformed(`expected events sorted by time, found ${e.t} after ${events[i - 1]!.t}`, where);
    if (e.kind === '') malformed('expected an event kind, found an empty one', where);
    if (!(e.rangeMinT >= 0 && e.rangeMinT <= e.rangeMaxT && Number.isSafeInteger(e.rangeMaxT))) malformed(`expected 0 <= rangeMinT <= rangeMaxT, found ${e.rangeMinT}..${e.rangeMaxT}`, where);
    if (!(Number.isSafeInteger(e.count) && e.count >= 0)) malformed(`expected a count >= 0, found ${e.count}`, where);
    const labels: Record<string, string> = {};
    let prev: string | undefined;
    for (const l of e.labels as PbLabel[]) {
      if (l.name === '' || (prev !== undefined && compareStrings(prev, l.name) >= 0)) malformed(`expected event label names sorted without duplicates, found ${JSON.stringify(l.name)}`, where);
      prev = l.name;
      labels[l.name] = l.value;
    }
    events[i] = { t: e.t, kind: e.kind, reason: e.reason, message: e.message, labels, rangeMinT: e.rangeMinT, rangeMaxT: e.rangeMaxT, count: e.count };
  }

  let minT = Infinity;
  let maxT = -Infinity;
  if (rounds.length > 0) {
    minT = rounds[0]!;
    maxT = rounds[rounds.length - 1]!;
  }
  for (const e of events) {
    if (e.t < minT) minT = e.t;
    if (e.t > maxT) maxT = e.t;
  }
  if (rounds.length === 0 && events.length === 0) malformed('expected rounds or events, found an empty block', 'block');
  if (minT !== header.minT || maxT !== header.maxT) malformed(`expected the header's time range ${header.minT}..${header.maxT} to match the data, found ${minT}..${maxT}`, 'header');

  return { header, data: { rounds, series, events } };
}

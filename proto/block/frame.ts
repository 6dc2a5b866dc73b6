// The block frame: magic, version, header, checksums. See "The frame" in docs/format/block.md.
import { crc32 } from 'node:zlib';
import { blockPb as driftwatch } from '../pb.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';
import type { DecodeLimits } from './limits.js';
import type { BlockHeader, Compression } from './types.js';

const pb = driftwatch.block.v1;

/** "DWBK": the first four bytes of every block. */
export const BLOCK_MAGIC = 0x4457424b;
/** The version of the frame layout. */
export const FRAME_VERSION = 1;
/** The version of the value encodings inside the payload. */
export const ENCODER_VERSION = 1;
/** magic (4) + version (1) + header length (4). */
export const PREFIX_BYTES = 9;
/** Both CRC-32 fields. */
const CRC_BYTES = 8;

const COMPRESSION_TO_PB: Record<Compression, number> = { none: pb.Compression.COMPRESSION_NONE, brotli: pb.Compression.COMPRESSION_BROTLI };

/** Frames an encoded header and a stored payload into a block. */
export function writeFrame(header: BlockHeader, payload: Uint8Array): Uint8Array {
  const headerBytes = pb.BlockHeader.encode({
    siteId: header.siteId,
    blockId: header.blockId,
    minT: header.minT,
    maxT: header.maxT,
    sequence: header.sequence,
    encoderVersion: header.encoderVersion,
    replaces: header.replaces.slice(),
    compression: COMPRESSION_TO_PB[header.compression],
    payloadLength: header.payloadLength,
    rawPayloadLength: header.rawPayloadLength,
    numRounds: header.numRounds,
    numSeries: header.numSeries,
    numSamples: header.numSamples,
    numEvents: header.numEvents,
    level: header.level,
    createdAt: header.createdAt,
    numStringSeries: header.numStringSeries,
    numStringSamples: header.numStringSamples,
    sealRanges: header.sealRanges?.slice() ?? [],
    storeId: header.storeId ?? new Uint8Array(0),
  }).finish();
  const out = new Uint8Array(PREFIX_BYTES + headerBytes.length + 4 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, BLOCK_MAGIC);
  view.setUint8(4, FRAME_VERSION);
  view.setUint32(5, headerBytes.length);
  out.set(headerBytes, PREFIX_BYTES);
  const headerEnd = PREFIX_BYTES + headerBytes.length;
  view.setUint32(headerEnd, crc32(out.subarray(0, headerEnd)));
  out.set(payload, headerEnd + 4);
  view.setUint32(out.length - 4, crc32(payload));
  return out;
}

export interface ParsedFrame {
  readonly header: BlockHeader;
  /** Offset of the payload in the input. */
  readonly payloadOffset: number;
  /** Total length of the block as its header declares it. */
  readonly totalLength: number;
}

/** Seal ranges are (first, last) pairs, first ≤ last, ascending and disjoint, indexes ≥ 1. */
function checkSealRanges(r: readonly number[], where: string): void {
  if (r.length % 2 !== 0) fail(BlockErrorCode.Malformed, `expected seal ranges as (first, last) pairs, found ${r.length} numbers`, where);
  let prev = 0;
  for (let i = 0; i < r.length; i += 2) {
    const first = r[i]!;
    const last = r[i + 1]!;
    if (!(first > prev && first <= last && Number.isSafeInteger(last))) {
      fail(BlockErrorCode.Malformed, `expected ascending, disjoint seal ranges of indexes ≥ 1, found [${first}, ${last}] after ${prev}`, where);
    }
    prev = last;
  }
}

function fail(code: BlockErrorCode, message: string, where: string): never {
  throw new BlockFormatError(code, message, where);
}

/**
 * Parses and checks the frame prefix and header (magic, version, header CRC, header fields and
 * declared lengths against `limits`). Reads no payload byte. `bytes` may be only a prefix of the
 * block as long as it holds the whole header.
 */
export function readFrameHeader(bytes: Uint8Array, limits: DecodeLimits): ParsedFrame {
  if (bytes.length < PREFIX_BYTES) {
    if (bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) !== BLOCK_MAGIC) {
      fail(BlockErrorCode.BadMagic, `expected the block magic 0x${BLOCK_MAGIC.toString(16)} ("DWBK"), found 0x${hex(bytes.subarray(0, 4))}`, 'byte 0');
    }
    fail(BlockErrorCode.Truncated, `expected at least ${PREFIX_BYTES} bytes of block prefix, found ${bytes.length}`, 'byte 0');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== BLOCK_MAGIC) fail(BlockErrorCode.BadMagic, `expected the block magic 0x${BLOCK_MAGIC.toString(16)} ("DWBK"), found 0x${magic.toString(16).padStart(8, '0')}`, 'byte 0');
  const version = view.getUint8(4);
  if (version !== FRAME_VERSION) fail(BlockErrorCode.UnsupportedVersion, `expected frame version ${FRAME_VERSION}, found ${version}`, 'byte 4');
  const headerLength = view.getUint32(5);
  if (headerLength > limits.maxHeaderBytes) fail(BlockErrorCode.LimitExceeded, `expected a header of at most ${limits.maxHeaderBytes} bytes, found a declared ${headerLength}`, 'byte 5');
  const headerEnd = PREFIX_BYTES + headerLength;
  if (bytes.length < headerEnd + 4) fail(BlockErrorCode.Truncated, `expected ${headerEnd + 4} bytes of prefix, header and header checksum, found ${bytes.length}`, `byte ${bytes.length}`);
  const storedCrc = view.getUint32(headerEnd);
  const actualCrc = crc32(bytes.subarray(0, headerEnd));
  if (storedCrc !== actualCrc) fail(BlockErrorCode.ChecksumMismatch, `expected header CRC-32 0x${hex32(storedCrc)}, found 0x${hex32(actualCrc)} over bytes 0..${headerEnd}`, `byte ${headerEnd}`);
  let h: InstanceType<typeof pb.BlockHeader>;
  try {
    h = pb.BlockHeader.decode(bytes.subarray(PREFIX_BYTES, headerEnd));
  } catch (err) {
    throw new BlockFormatError(BlockErrorCode.Malformed, `expected a BlockHeader message, found bytes that do not parse: ${(err as Error).message}`, `header, byte ${PREFIX_BYTES}`, err);
  }
  const where = 'header';
  if (h.encoderVersion !== ENCODER_VERSION) fail(BlockErrorCode.UnsupportedVersion, `expected encoder version ${ENCODER_VERSION}, found ${h.encoderVersion}`, where);
  let compression: Compression;
  if (h.compression === pb.Compression.COMPRESSION_BROTLI) compression = 'brotli';
  else if (h.compression === pb.Compression.COMPRESSION_NONE) compression = 'none';
  else fail(BlockErrorCode.UnsupportedVersion, `expected compression NONE (1) or BROTLI (2), found ${h.compression}`, where);
  if (h.blockId.length !== 16) fail(BlockErrorCode.Malformed, `expected a 16-byte block id, found ${h.blockId.length} bytes`, where);
  for (const r of h.replaces) if (r.length !== 16) fail(BlockErrorCode.Malformed, `expected 16-byte ids in replaces, found ${r.length} bytes`, where);
  if (h.siteId === '') fail(BlockErrorCode.Malformed, 'expected a site id, found an empty one', where);
  if (!(h.minT >= 0 && h.minT <= h.maxT && Number.isSafeInteger(h.maxT))) fail(BlockErrorCode.Malformed, `expected 0 <= minT <= maxT, found ${h.minT}..${h.maxT}`, where);
  if (h.payloadLength > limits.maxPayloadBytes) fail(BlockErrorCode.LimitExceeded, `expected a stored payload of at most ${limits.maxPayloadBytes} bytes, found a declared ${h.payloadLength}`, where);
  if (h.rawPayloadLength > limits.maxRawPayloadBytes) fail(BlockErrorCode.LimitExceeded, `expected a decompressed payload of at most ${limits.maxRawPayloadBytes} bytes, found a declared ${h.rawPayloadLength}`, where);
  if (compression === 'none' && h.rawPayloadLength !== h.payloadLength) fail(BlockErrorCode.Malformed, `expected an uncompressed payload's two lengths to agree, found ${h.payloadLength} and ${h.rawPayloadLength}`, where);
  if (compression === 'brotli' && h.rawPayloadLength > h.payloadLength * limits.maxCompressionRatio) {
    fail(BlockErrorCode.LimitExceeded, `expected a compression ratio of at most ${limits.maxCompressionRatio}, found a declared ${h.rawPayloadLength} bytes from ${h.payloadLength}`, where);
  }
  if (h.numRounds > limits.maxRounds) fail(BlockErrorCode.LimitExceeded, `expected at most ${limits.maxRounds} rounds, found a declared ${h.numRounds}`, where);
  if (h.numSeries > limits.maxSeries) fail(BlockErrorCode.LimitExceeded, `expected at most ${limits.maxSeries} series, found a declared ${h.numSeries}`, where);
  checkSealRanges(h.sealRanges, where);
  if (h.storeId.length !== 0 && h.storeId.length !== 16) fail(BlockErrorCode.Malformed, `expected a 16-byte store id, found ${h.storeId.length} bytes`, where);
  if (h.numEvents > limits.maxEvents) fail(BlockErrorCode.LimitExceeded, `expected at most ${limits.maxEvents} events, found a declared ${h.numEvents}`, where);
  const header: BlockHeader = {
    siteId: h.siteId,
    blockId: Uint8Array.from(h.blockId),
    minT: h.minT,
    maxT: h.maxT,
    sequence: h.sequence,
    encoderVersion: h.encoderVersion,
    replaces: h.replaces.map((r) => Uint8Array.from(r)),
    compression,
    payloadLength: h.payloadLength,
    rawPayloadLength: h.rawPayloadLength,
    numRounds: h.numRounds,
    numSeries: h.numSeries,
    numSamples: h.numSamples,
    numEvents: h.numEvents,
    numStringSeries: h.numStringSeries,
    numStringSamples: h.numStringSamples,
    level: h.level,
    createdAt: h.createdAt,
    ...(h.sealRanges.length > 0 ? { sealRanges: h.sealRanges.slice() } : {}),
    ...(h.storeId.length > 0 ? { storeId: Uint8Array.from(h.storeId) } : {}),
  };
  return { header, payloadOffset: headerEnd + 4, totalLength: headerEnd + CRC_BYTES + h.payloadLength };
}

/** Checks the whole frame's length and the payload CRC; returns the stored payload bytes. */
export function readFramePayload(bytes: Uint8Array, frame: ParsedFrame): Uint8Array {
  if (bytes.length < frame.totalLength) fail(BlockErrorCode.Truncated, `expected ${frame.totalLength} bytes of block, found ${bytes.length}`, `byte ${bytes.length}`);
  if (bytes.length > frame.totalLength) fail(BlockErrorCode.TrailingBytes, `expected the block to end at byte ${frame.totalLength}, found ${bytes.length - frame.totalLength} more bytes`, `byte ${frame.totalLength}`);
  const payload = bytes.subarray(frame.payloadOffset, frame.totalLength - 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storedCrc = view.getUint32(frame.totalLength - 4);
  const actualCrc = crc32(payload);
  if (storedCrc !== actualCrc) fail(BlockErrorCode.ChecksumMismatch, `expected payload CRC-32 0x${hex32(storedCrc)}, found 0x${hex32(actualCrc)}`, `byte ${frame.totalLength - 4}`);
  return payload;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

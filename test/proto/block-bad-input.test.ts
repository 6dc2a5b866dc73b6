import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync } from 'node:zlib';
import { BlockBuilder, BlockErrorCode, BlockFormatError, decodeBlock, decodeBlockHeader, encodeBlock, type BlockData } from '../../proto/index.js';
import { readFrameHeader, writeFrame } from '../../proto/block/frame.js';
import { DEFAULT_DECODE_LIMITS } from '../../proto/block/limits.js';
import { blockPb } from '../../proto/pb.js';

const id = { siteId: 'site-a', blockId: new Uint8Array(16).fill(3), sequence: 1, createdAt: 1000 };

function sample(): BlockData {
  const b = new BlockBuilder();
  for (let i = 0; i < 10; i++) {
    b.append({ t: 1_000_000 + i * 15000, samples: [
      { name: 'kube_deployment_container_image', labels: { deployment: 'web' }, type: 'string', value: i < 5 ? 'web:1' : 'web:2' },
      { name: 'node_hwmon_temp_celsius', labels: {}, type: 'float', value: 40 + i / 10 },
    ] });
  }
  return b.build();
}
const good = encodeBlock(sample(), id);

function rejects(input: Uint8Array, code: string, match?: RegExp): BlockFormatError {
  let caught: unknown;
  try {
    decodeBlock(input);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof BlockFormatError, `expected a BlockFormatError, found ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (match) assert.match(caught.message, match);
  assert.ok(caught.where !== undefined, 'says where');
  return caught;
}

/** Re-frames `raw` (a payload) under the good block's header, with valid checksums. */
function withPayload(raw: Uint8Array, compress = true): Uint8Array {
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS).header;
  const stored = compress ? brotliCompressSync(raw) : raw;
  return writeFrame({ ...h, compression: compress ? 'brotli' : 'none', payloadLength: stored.length, rawPayloadLength: raw.length }, stored);
}

test('the good block decodes', () => {
  assert.equal(decodeBlock(good).header.numRounds, 10);
});

test('empty and short input is truncated, never a crash', () => {
  rejects(new Uint8Array(0), BlockErrorCode.Truncated, /expected at least 9 bytes/);
  rejects(good.subarray(0, 5), BlockErrorCode.Truncated);
  rejects(good.subarray(0, 20), BlockErrorCode.Truncated);
  rejects(good.subarray(0, good.length - 1), BlockErrorCode.Truncated, /expected \d+ bytes of block, found \d+/);
});

test('a foreign file is rejected by its magic', () => {
  const e = rejects(new TextEncoder().encode('# HELP node_load1 1m load average.\n'), BlockErrorCode.BadMagic);
  assert.match(e.message, /expected the block magic 0x4457424b \("DWBK"\), found 0x23204845/);
});

test('an unknown frame version or encoder version is refused', () => {
  const v2 = Uint8Array.from(good);
  v2[4] = 2;
  rejects(v2, BlockErrorCode.UnsupportedVersion, /expected frame version 1, found 2/);
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS);
  const stored = good.subarray(h.payloadOffset, h.totalLength - 4);
  rejects(writeFrame({ ...h.header, encoderVersion: 9 }, stored), BlockErrorCode.UnsupportedVersion, /expected encoder version 1, found 9/);
});

test('a flipped bit in the header or the payload fails its checksum', () => {
  const inHeader = Uint8Array.from(good);
  inHeader[12]! ^= 0x10;
  rejects(inHeader, BlockErrorCode.ChecksumMismatch, /header CRC-32/);
  const inPayload = Uint8Array.from(good);
  inPayload[good.length - 10]! ^= 0x01;
  rejects(inPayload, BlockErrorCode.ChecksumMismatch, /payload CRC-32/);
});

test('declared lengths past the limits are refused before anything is allocated', () => {
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setUint32(5, 0xffffffff);
  rejects(huge, BlockErrorCode.LimitExceeded, /header of at most 1048576 bytes, found a declared 4294967295/);
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS);
  const stored = good.subarray(h.payloadOffset, h.totalLength - 4);
  rejects(writeFrame({ ...h.header, rawPayloadLength: 2 ** 40 }, stored), BlockErrorCode.LimitExceeded, /decompressed payload of at most/);
  rejects(writeFrame({ ...h.header, payloadLength: 2 ** 40 }, stored), BlockErrorCode.LimitExceeded, /stored payload of at most/);
  rejects(writeFrame({ ...h.header, numRounds: 2 ** 31 }, stored), BlockErrorCode.LimitExceeded, /rounds/);
  assert.throws(() => decodeBlock(good, { maxRounds: 5 }), (e: unknown) => e instanceof BlockFormatError && e.code === BlockErrorCode.LimitExceeded);
});

test('a decompression bomb is stopped at the declared length or by the ratio cap', () => {
  const bomb = brotliCompressSync(new Uint8Array(16 << 20)); // 16 MiB of zeros in a few bytes
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS).header;
  // Declares a plausible small length: decompression stops there and says so.
  rejects(writeFrame({ ...h, payloadLength: bomb.length, rawPayloadLength: 4096 }, bomb), BlockErrorCode.Decompression, /expected a Brotli stream of 4096 bytes/);
  // Declares the real length: over the ratio cap, refused without decompressing.
  rejects(writeFrame({ ...h, payloadLength: bomb.length, rawPayloadLength: 16 << 20 }, bomb), BlockErrorCode.LimitExceeded, /compression ratio of at most 1000/);
});

test('bytes after the block are refused', () => {
  const longer = new Uint8Array(good.length + 3);
  longer.set(good);
  rejects(longer, BlockErrorCode.TrailingBytes, /found 3 more bytes/);
});

test('garbage payloads with valid checksums are malformed, not crashes', () => {
  rejects(withPayload(new Uint8Array([0xff, 0xff, 0xff])), BlockErrorCode.Malformed, /BlockPayload/);
  rejects(withPayload(new Uint8Array(0), false), BlockErrorCode.Malformed);
  const pb = blockPb.block.v1;
  // Symbols out of order.
  rejects(withPayload(pb.BlockPayload.encode({ symbols: ['', 'b', 'a'] }).finish()), BlockErrorCode.Malformed, /symbols sorted/);
  // A series pointing past the symbols.
  const badRef = pb.BlockPayload.encode({ symbols: [''], roundTimes: new Uint8Array([1, 1]), series: [{ name: 5, type: 1, presence: new Uint8Array([2, 0, 1]), floatEncoding: 1, values: new Uint8Array(8) }] }).finish();
  rejects(withPayload(badRef), BlockErrorCode.Malformed);
});

test('header and data that disagree are malformed', () => {
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS);
  const stored = good.subarray(h.payloadOffset, h.totalLength - 4);
  rejects(writeFrame({ ...h.header, numSamples: h.header.numSamples + 1 }, stored), BlockErrorCode.Malformed, /samples/);
  rejects(writeFrame({ ...h.header, minT: h.header.minT - 1 }, stored), BlockErrorCode.Malformed, /time range/);
});

test('decodeBlockHeader reads a prefix without the payload', () => {
  const h = readFrameHeader(good, DEFAULT_DECODE_LIMITS);
  const header = decodeBlockHeader(good.subarray(0, h.payloadOffset));
  assert.equal(header.siteId, 'site-a');
  assert.equal(header.numSeries, 2);
  assert.throws(() => decodeBlockHeader(good.subarray(0, h.payloadOffset - 2)), (e: unknown) => e instanceof BlockFormatError && e.code === BlockErrorCode.Truncated);
});

test('the builder and encoder refuse input that is not canonical', () => {
  const b = new BlockBuilder();
  b.append({ t: 100, samples: [{ name: 'up', labels: {}, type: 'float', value: 1 }] });
  const invalid = (fn: () => void, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof BlockFormatError && e.code === BlockErrorCode.InvalidInput && re.test(e.message));
  invalid(() => b.append({ t: 100, samples: [] }), /expected round times to increase, found 100 after 100/);
  invalid(() => b.append({ t: 200, samples: [{ name: 'up', labels: {}, type: 'string', value: 'x' }] }), /expected up to stay float/);
  invalid(() => b.append({ t: 200, samples: [{ name: 'up', labels: {}, type: 'float', value: 1 }, { name: 'up', labels: {}, type: 'float', value: 2 }] }), /found up twice/);
  invalid(() => b.append({ t: 200, samples: [{ name: 'bad name', labels: {}, type: 'float', value: 1 }] }), /metric name/);
  invalid(() => b.append({ t: 200, samples: [{ name: 'ok', labels: { 'bad-label': 'x' }, type: 'float', value: 1 }] }), /label names/);
  invalid(() => b.append({ t: 200, samples: [{ name: 'ok', labels: {}, type: 'float', value: 'x' }] }), /expected a number value/);
  invalid(() => b.append({ t: 1.5, samples: [] }), /whole milliseconds/);
  // A rejected round leaves nothing behind, and the same series is welcome in the next round.
  assert.equal(b.roundCount, 1);
  const labels = { deployment: 'web' };
  invalid(() => b.append({ t: 200, samples: [{ name: 'kube_image', labels, type: 'string', value: 'a' }, { name: 'kube_image', labels: { ...labels }, type: 'string', value: 'b' }] }), /found kube_image\{deployment="web"\} twice/);
  b.append({ t: 200, samples: [{ name: 'kube_image', labels, type: 'string', value: 'a' }, { name: 'up', labels: {}, type: 'float', value: 1 }] });
  assert.equal(b.roundCount, 2);
  assert.equal(b.build().series.length, 2);
  invalid(() => encodeBlock({ rounds: new Float64Array(0), series: [], events: [] }, id), /empty block/);
  invalid(() => encodeBlock({ rounds: new Float64Array([2, 1]), series: [], events: [] }, id), /strictly increasing/);
  invalid(() => encodeBlock(sample(), { ...id, blockId: new Uint8Array(3) }), /16-byte block id/);
  const data = sample();
  invalid(() => encodeBlock({ ...data, series: [...data.series].reverse() }, id), /sorted by key/);
});

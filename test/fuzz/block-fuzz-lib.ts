// Mutation fuzzing of the block decoder. Every mutated input must either decode to a canonical
// block (one that encodes again) or be rejected with a BlockFormatError: never another exception,
// never a hang. Structure-aware mutations re-frame the data with valid checksums so that the
// inner decoders (protobuf, presence, values, strings) are reached, not just the CRC check.
import { brotliCompressSync, brotliDecompressSync, constants as zc } from 'node:zlib';
import { randomInt, seededRandom, type Random } from '../../common/random.js';
import { BlockFormatError } from '../../proto/block/errors.js';
import { decodeBlock } from '../../proto/block/decode.js';
import { encodeBlock } from '../../proto/block/encode.js';
import { readFrameHeader, writeFrame } from '../../proto/block/frame.js';
import { DEFAULT_DECODE_LIMITS } from '../../proto/block/limits.js';
import type { BlockHeader } from '../../proto/block/types.js';
import { randomBlockData } from '../helpers/block-gen.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** A case taking longer than this is reported as a hang. Default 2000 ms. */
  hangMs?: number;
}

export interface FuzzResult {
  cases: number;
  accepted: number;
  rejected: Record<string, number>;
  byMutation: Record<string, number>;
  slowestMs: number;
}

/** Thrown for a case that broke the decoder's contract; says how to replay it. */
export class FuzzFailure extends Error {}

function mutateBytes(random: Random, input: Uint8Array): { bytes: Uint8Array; how: string } {
  const b = Uint8Array.from(input);
  const kind = randomInt(random, 0, 7);
  const at = () => randomInt(random, 0, Math.max(0, b.length - 1));
  switch (kind) {
    case 0: {
      for (let k = randomInt(random, 1, 4); k > 0 && b.length > 0; k--) b[at()]! ^= 1 << randomInt(random, 0, 7);
      return { bytes: b, how: 'bit flip' };
    }
    case 1: {
      if (b.length > 0) b[at()] = randomInt(random, 0, 255);
      return { bytes: b, how: 'byte set' };
    }
    case 2:
      return { bytes: b.subarray(0, randomInt(random, 0, b.length)), how: 'truncate' };
    case 3: {
      const extra = Uint8Array.from({ length: randomInt(random, 1, 16) }, () => randomInt(random, 0, 255));
      const out = new Uint8Array(b.length + extra.length);
      const p = randomInt(random, 0, b.length);
      out.set(b.subarray(0, p));
      out.set(extra, p);
      out.set(b.subarray(p), p + extra.length);
      return { bytes: out, how: 'insert' };
    }
    case 4: {
      const p = at();
      const q = Math.min(b.length, p + randomInt(random, 1, 16));
      const out = new Uint8Array(b.length - (q - p));
      out.set(b.subarray(0, p));
      out.set(b.subarray(q), p);
      return { bytes: out, how: 'delete' };
    }
    case 5: {
      // A varint-looking field set to a huge value: 0xff bytes.
      const p = at();
      for (let i = p; i < Math.min(b.length, p + randomInt(random, 1, 9)); i++) b[i] = 0xff;
      return { bytes: b, how: '0xff run' };
    }
    case 6: {
      const p = at();
      for (let i = p; i < Math.min(b.length, p + randomInt(random, 1, 8)); i++) b[i] = 0;
      return { bytes: b, how: 'zero run' };
    }
    default: {
      if (b.length >= 2) {
        const p = at();
        const q = at();
        const tmp = b[p]!;
        b[p] = b[q]!;
        b[q] = tmp;
      }
      return { bytes: b, how: 'swap' };
    }
  }
}

function reframe(header: BlockHeader, raw: Uint8Array, compress: boolean): Uint8Array {
  const stored = compress ? brotliCompressSync(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: 1 } }) : raw;
  return writeFrame({ ...header, compression: compress ? 'brotli' : 'none', payloadLength: stored.length, rawPayloadLength: raw.length }, stored);
}

function mutateHeader(random: Random, header: BlockHeader): { header: BlockHeader; how: string } {
  const fields: (keyof BlockHeader)[] = ['minT', 'maxT', 'sequence', 'encoderVersion', 'payloadLength', 'rawPayloadLength', 'numRounds', 'numSeries', 'numSamples', 'numEvents', 'numStringSeries', 'numStringSamples', 'level'];
  const f = fields[randomInt(random, 0, fields.length - 1)]!;
  const values = [0, 1, 2, (header[f] as number) + 1, (header[f] as number) - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER];
  return { header: { ...header, [f]: values[randomInt(random, 0, values.length - 1)]! }, how: `header ${f}` };
}

/** Runs `cases` mutations over a pool of seeded random blocks. Throws FuzzFailure on a contract break. */
export function runBlockFuzz(opts: FuzzOptions): FuzzResult {
  const random = seededRandom(opts.seed);
  const hangMs = opts.hangMs ?? 2000;
  const id = { siteId: 'fuzz', blockId: new Uint8Array(16).fill(9), sequence: 1, createdAt: 1 };
  const pool = Array.from({ length: 40 }, (_, i) => encodeBlock(randomBlockData(random, { maxRounds: 30, maxSeries: 10 }), id, { compression: i % 4 === 0 ? 'none' : 'brotli' }));
  const result: FuzzResult = { cases: 0, accepted: 0, rejected: {}, byMutation: {}, slowestMs: 0 };
  // A real decompression bomb: 64 MiB of zeros compress to a few hundred bytes.
  const bombPayload = brotliCompressSync(new Uint8Array(64 << 20), { params: { [zc.BROTLI_PARAM_QUALITY]: 5 } });
  for (let c = 0; c < opts.cases; c++) {
    const base = pool[randomInt(random, 0, pool.length - 1)]!;
    const frame = readFrameHeader(base, DEFAULT_DECODE_LIMITS);
    const stored = base.subarray(frame.payloadOffset, frame.totalLength - 4);
    const raw = frame.header.compression === 'brotli' ? brotliDecompressSync(stored) : stored;
    let input: Uint8Array;
    let how: string;
    const layer = randomInt(random, 0, 9);
    if (layer <= 3) {
      ({ bytes: input, how } = mutateBytes(random, base));
      how = `raw ${how}`;
    } else if (layer <= 7) {
      const m = mutateBytes(random, raw);
      input = reframe(frame.header, m.bytes, random() < 0.5);
      how = `payload ${m.how}`;
    } else if (layer === 8) {
      const m = mutateHeader(random, frame.header);
      const st = frame.header.compression === 'brotli' ? brotliCompressSync(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: 1 } }) : raw;
      input = writeFrame(m.header, st);
      how = m.how;
    } else {
      const declared = [16, raw.length, 1 << 20, 64 << 20, (64 << 20) + 1][randomInt(random, 0, 4)]!;
      input = writeFrame({ ...frame.header, compression: 'brotli', payloadLength: bombPayload.length, rawPayloadLength: declared }, bombPayload);
      how = `bomb declaring ${declared}`;
    }
    result.byMutation[how.split(' ').slice(0, 2).join(' ')] = (result.byMutation[how.split(' ').slice(0, 2).join(' ')] ?? 0) + 1;
    const started = performance.now();
    try {
      const block = decodeBlock(input);
      // Whatever the decoder accepts must be canonical: it encodes again.
      encodeBlock(block.data, { siteId: block.header.siteId, blockId: block.header.blockId, sequence: block.header.sequence, createdAt: block.header.createdAt });
      result.accepted++;
    } catch (err) {
      if (!(err instanceof BlockFormatError)) {
        throw new FuzzFailure(`case ${c} (${how}), seed ${opts.seed}: expected a BlockFormatError, found ${(err as Error)?.stack ?? String(err)}`);
      }
      result.rejected[err.code] = (result.rejected[err.code] ?? 0) + 1;
    }
    const ms = performance.now() - started;
    if (ms > result.slowestMs) result.slowestMs = ms;
    if (ms > hangMs) throw new FuzzFailure(`case ${c} (${how}), seed ${opts.seed}: took ${ms.toFixed(0)} ms, expected under ${hangMs} ms`);
    result.cases++;
  }
  return result;
}

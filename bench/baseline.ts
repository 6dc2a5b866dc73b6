// The baseline a block is compared with: the same rounds as OpenMetrics text (one exposition per
// round), compressed with gzip (node:zlib) and zstd (@bokuweb/zstd-wasm: zstd's C library
// compiled to WebAssembly and shipped inside the npm tarball, so it installs offline and needs no
// native build). The text is compressed in chunks of one hour of rounds (~70 MB for 2,200
// series), each an independent gzip member or zstd frame: both codecs' windows (32 KiB for gzip,
// 2-8 MiB for zstd at these levels) are far smaller than a chunk, so chunking costs next to
// nothing, and it keeps memory bounded.
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import type { Round, ValueType } from '../proto/block/types.js';
import { roundToOpenMetrics } from './openmetrics.js';

/** A compressor of the baseline: name as shown (`gzip-6`), and a function of one chunk. */
export interface Compressor {
  readonly name: string;
  readonly key: string;
  compress(chunk: Uint8Array): number;
}

let zstdReady: Promise<void> | undefined;

/** The compressors the baseline reports. Loads the zstd WebAssembly module once. */
export async function baselineCompressors(): Promise<Compressor[]> {
  zstdReady ??= zstdInit();
  await zstdReady;
  return [
    { name: 'gzip -6', key: 'gzip6', compress: (c) => gzipSync(c, { level: 6 }).length },
    { name: 'zstd -3', key: 'zstd3', compress: (c) => zstdCompress(c, 3).length },
    { name: 'zstd -9', key: 'zstd9', compress: (c) => zstdCompress(c, 9).length },
  ];
}

/** Which samples of a round a baseline stream holds. */
export type StreamFilter = 'all' | ValueType;

export interface BaselineResult {
  /** Text bytes before compression, per stream. */
  readonly textBytes: Record<StreamFilter, number>;
  /** Samples per stream. */
  readonly samples: Record<StreamFilter, number>;
  /** Compressed bytes per stream and compressor key. */
  readonly compressed: Record<StreamFilter, Record<string, number>>;
  readonly chunks: number;
}

/**
 * Renders `rounds` as three OpenMetrics streams (all samples, string series only, float series
 * only), compresses each in chunks of `roundsPerChunk` rounds with every compressor, and returns
 * the sizes. Memory: one chunk of text per stream.
 */
export async function measureBaseline(rounds: Iterable<Round>, roundsPerChunk: number): Promise<BaselineResult> {
  const compressors = await baselineCompressors();
  const filters: StreamFilter[] = ['all', 'string', 'float'];
  const textBytes = { all: 0, string: 0, float: 0 };
  const samples = { all: 0, string: 0, float: 0 };
  const compressed = Object.fromEntries(filters.map((f) => [f, Object.fromEntries(compressors.map((c) => [c.key, 0]))])) as BaselineResult['compressed'];
  const pending: Record<StreamFilter, string[]> = { all: [], string: [], float: [] };
  let inChunk = 0;
  let chunks = 0;
  const flush = (): void => {
    if (inChunk === 0) return;
    for (const f of filters) {
      const bytes = Buffer.from(pending[f].join(''));
      pending[f] = [];
      textBytes[f] += bytes.length;
      for (const c of compressors) compressed[f][c.key]! += c.compress(bytes);
    }
    inChunk = 0;
    chunks++;
  };
  for (const round of rounds) {
    const strings = round.samples.filter((s) => s.type === 'string');
    const floats = round.samples.filter((s) => s.type === 'float');
    samples.all += round.samples.length;
    samples.string += strings.length;
    samples.float += floats.length;
    pending.all.push(roundToOpenMetrics(round));
    pending.string.push(roundToOpenMetrics({ t: round.t, samples: strings }));
    pending.float.push(roundToOpenMetrics({ t: round.t, samples: floats }));
    if (++inChunk === roundsPerChunk) flush();
  }
  flush();
  return { textBytes, samples, compressed, chunks };
}

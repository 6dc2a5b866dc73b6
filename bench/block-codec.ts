// block-codec: how small and how fast a block of the synthetic site is, against OpenMetrics text
// with gzip and zstd in the same run.
import { BlockBuilder, blockToRounds, decodeBlock, decodeBlockHeader, encodeBlock, type BlockData, type BlockIdentity } from '../proto/index.js';
import { ManualClock } from '../common/clock.js';
import { seededRandom } from '../common/random.js';
import { newUlid } from '../common/ulid.js';
import { measureBaseline } from './baseline.js';
import { median, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { syntheticSite, syntheticSiteShape, type SyntheticSiteOptions } from './synthetic-site.js';

/** The goals of issue 2. */
export const CODEC_GOALS = {
  stringBytesPerSample: 0.02,
  floatBytesPerSample: 1.3,
  decodeSamplesPerSec: 2_000_000,
  encodeSamplesPerSec: 1_000_000,
} as const;

/** Builds the column form of a synthetic site's whole run. */
export function buildSiteBlock(site: SyntheticSiteOptions): BlockData {
  const builder = new BlockBuilder();
  for (const round of syntheticSite(site)) builder.append(round);
  return builder.build();
}

/** The same rounds with only the series of one type (and no events). */
export function onlyType(data: BlockData, type: 'string' | 'float'): BlockData {
  return { rounds: data.rounds, series: data.series.filter((s) => s.type === type), events: [] };
}

function identity(seed: number, start: number, end: number): BlockIdentity {
  return { siteId: 'synthetic-site', blockId: newUlid(new ManualClock(start), seededRandom(seed)), sequence: 0, level: 1, createdAt: end };
}

function timed<T>(fn: () => T): { ms: number; result: T } {
  const t0 = performance.now();
  const result = fn();
  return { ms: performance.now() - t0, result };
}

/**
 * The case for a block of `hours` of the synthetic site. The goals are for a compacted
 * block (a day); a shorter block is shown without them.
 */
export function blockCodecCase(hours: number, seed = 1): BenchCase {
  const site: SyntheticSiteOptions = { seed, stringSeries: 2000, floatSeries: 200, intervalMs: 15_000, durationMs: hours * 3_600_000 };
  const name = `block-codec/sites=1/strings=${site.stringSeries}/floats=${site.floatSeries}/hours=${hours}`;
  return { name, run: (opts) => runBlockCodec(name, site, opts, hours >= 24) };
}

async function runBlockCodec(name: string, site: SyntheticSiteOptions, opts: RunOptions, withGoals: boolean): Promise<CaseResult> {
  const shape = syntheticSiteShape(site);
  const id = identity(site.seed, shape.start, shape.end);

  opts.log(`${name}: generating ${shape.rounds} rounds and building the block`);
  const generate = timed(() => [...syntheticSite(site)]);
  const rounds = generate.result;
  const build = timed(() => {
    const builder = new BlockBuilder();
    for (const round of rounds) builder.append(round);
    return builder.build();
  });
  const data = build.result;

  const block = encodeBlock(data, id, { compression: 'brotli' });
  const header = decodeBlockHeader(block);
  const samples = header.numSamples;
  const stringSamples = header.numStringSamples;
  const floatSamples = samples - stringSamples;
  const stringBlock = encodeBlock(onlyType(data, 'string'), id, { compression: 'brotli' });
  const floatBlock = encodeBlock(onlyType(data, 'float'), id, { compression: 'brotli' });

  opts.log(`${name}: encoding and decoding ${opts.iterations} times each (${samples} samples)`);
  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  const floatEncodeMs: number[] = [];
  const floatDecodeMs: number[] = [];
  const floatData = onlyType(data, 'float');
  for (let i = 0; i < opts.iterations; i++) {
    encodeMs.push(timed(() => encodeBlock(data, id, { compression: 'brotli' })).ms);
    decodeMs.push(timed(() => decodeBlock(block)).ms);
    floatEncodeMs.push(timed(() => encodeBlock(floatData, id, { compression: 'brotli' })).ms);
    floatDecodeMs.push(timed(() => decodeBlock(floatBlock)).ms);
  }
  // Decoding into column form leaves string values as change points; expanding every sample
  // into row form (a Sample object per value) is the cost a reader pays to see them all.
  const expandMs: number[] = [];
  for (let i = 0; i < Math.min(3, opts.iterations); i++) expandMs.push(timed(() => blockToRounds(decodeBlock(block).data)).ms);
  const perSec = (ms: number, n = samples): number => n / (ms / 1000);

  opts.log(`${name}: rendering OpenMetrics text and compressing it with gzip and zstd`);
  const baseStart = performance.now();
  const baseline = await measureBaseline(rounds, Math.max(1, Math.round(3_600_000 / shape.intervalMs)));
  const baseMs = performance.now() - baseStart;

  const bps = (bytes: number, n: number): number => (n === 0 ? 0 : bytes / n);
  const dw = { all: bps(block.length, samples), string: bps(stringBlock.length, stringSamples), float: bps(floatBlock.length, floatSamples) };
  const figures: Figure[] = [
    { key: 'rounds', label: 'rounds', value: header.numRounds, unit: '', digits: 0 },
    { key: 'series', label: 'series (string + float)', value: header.numSeries, unit: '', digits: 0 },
    { key: 'samples', label: 'samples', value: samples, unit: '', digits: 0 },
    { key: 'events', label: 'events', value: header.numEvents, unit: '', digits: 0 },
    { key: 'blockBytes', label: 'block bytes (brotli)', value: block.length, unit: 'B', digits: 0 },
    { key: 'compressionRatio', label: 'compression raw/stored', value: header.rawPayloadLength / header.payloadLength, unit: 'x', digits: 1 },
    { key: 'stringBytesPerSample', label: 'string series, strings-only block', value: dw.string, unit: 'B/sample', goal: { op: '<=', value: CODEC_GOALS.stringBytesPerSample } },
    { key: 'floatBytesPerSample', label: 'float series, floats-only block', value: dw.float, unit: 'B/sample', goal: { op: '<=', value: CODEC_GOALS.floatBytesPerSample } },
    { key: 'blockBytesPerSample', label: 'whole block', value: dw.all, unit: 'B/sample' },
    { key: 'encodeSamplesPerSec', label: 'encode (brotli), median', value: perSec(median(encodeMs)), unit: 'samples/s', goal: { op: '>=', value: CODEC_GOALS.encodeSamplesPerSec } },
    { key: 'encodeSamplesPerSecBest', label: 'encode (brotli), best', value: perSec(Math.min(...encodeMs)), unit: 'samples/s' },
    { key: 'decodeSamplesPerSec', label: 'decode, median', value: perSec(median(decodeMs)), unit: 'samples/s', goal: { op: '>=', value: CODEC_GOALS.decodeSamplesPerSec } },
    { key: 'decodeSamplesPerSecBest', label: 'decode, best', value: perSec(Math.min(...decodeMs)), unit: 'samples/s' },
    { key: 'floatEncodeSamplesPerSec', label: 'encode floats-only block, median', value: perSec(median(floatEncodeMs), floatSamples), unit: 'samples/s' },
    { key: 'floatDecodeSamplesPerSec', label: 'decode floats-only block, median', value: perSec(median(floatDecodeMs), floatSamples), unit: 'samples/s' },
    { key: 'decodeToRowsSamplesPerSec', label: 'decode + expand every sample to rows, median', value: perSec(median(expandMs)), unit: 'samples/s' },
    { key: 'buildSamplesPerSec', label: 'BlockBuilder.append + build from rounds', value: perSec(build.ms), unit: 'samples/s' },
    { key: 'generateSamplesPerSec', label: 'synthetic site generator', value: perSec(generate.ms), unit: 'samples/s' },
    { key: 'openmetricsTextBytesPerSample', label: 'OpenMetrics text, uncompressed', value: bps(baseline.textBytes.all, baseline.samples.all), unit: 'B/sample' },
  ];
  const streams = [['all', 'whole', 'Bytes'], ['string', 'strings', 'StringBytes'], ['float', 'floats', 'FloatBytes']] as const;
  for (const [stream, label, keyPart] of streams) {
    for (const [c, bytes] of Object.entries(baseline.compressed[stream])) {
      const b = bps(bytes, baseline.samples[stream]);
      figures.push({ key: `${c}${keyPart}PerSample`, label: `OpenMetrics + ${c.replace(/(\d+)$/, ' -$1')}, ${label}`, value: b, unit: 'B/sample' });
      figures.push({ key: `${c}${keyPart}Ratio`, label: `  ${c.replace(/(\d+)$/, ' -$1')} / driftwatch, ${label}`, value: b / dw[stream], unit: 'x', digits: 1 });
    }
  }
  const shown = withGoals ? figures : figures.map(({ goal: _goal, ...f }) => f);
  return {
    name,
    figures: shown,
    notes: [
      ...(withGoals ? [] : ['goals: the issue sets them for a compacted (day) block, so a shorter block is shown without them;']),
      'strings/floats B/sample: the same data encoded as a strings-only and a floats-only block (each also holds the round times);',
      `throughput: ${opts.iterations} iterations on one core (the main thread), over all ${samples} samples; a string series' unchanged`,
      '  samples cost next to nothing in column form, so the floats-only and the expand-to-rows lines show the per-value work;',
      `baseline: one OpenMetrics exposition per round with timestamps, string series as name{...,value="..."} 1, compressed in ${baseline.chunks} one-hour chunks.`,
    ],
    context: {
      seed: site.seed, iterations: opts.iterations, stringSamples, floatSamples,
      stringBlockBytes: stringBlock.length, floatBlockBytes: floatBlock.length, rawPayloadBytes: header.rawPayloadLength,
      openmetricsTextBytes: baseline.textBytes.all, baselineSeconds: Math.round(baseMs) / 1000,
    },
  };
}

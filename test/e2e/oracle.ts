// The shipping oracle: every sample the agent stored is present exactly once at the aggregator
// (lost = duplicated = unexpected = 0), except ranges the agent itself reported as dropped.
//
// Both sides are given as encoded blocks. At the edge, every live block counts (shipped or
// not: the test ends by letting the agent ship everything). At the center, a block that
// another stored block replaces (transitively, by id) is superseded: its samples are in the
// replacing block, so counting both would be double counting — the reports do the same.
import { ulidToString } from '../../common/ulid.js';
import { decodeBlock, forEachSample, seriesKey, type BlockEvent } from '../../proto/index.js';

/** One sample's identity and value, as text: `series\0t` → value. */
type SampleMap = Map<string, string>;

export interface SideSamples {
  readonly samples: SampleMap;
  /** Samples found twice in the blocks that count (same series and time). */
  readonly duplicated: string[];
  readonly droppedRanges: { minT: number; maxT: number }[];
  readonly blocks: number;
  readonly superseded: number;
  readonly events: BlockEvent[];
}

/** Collects the samples of `blocks`, leaving out blocks that another one replaces. */
export function collectSamples(blocks: readonly Uint8Array[]): SideSamples {
  const decoded = blocks.map((bytes) => decodeBlock(bytes));
  const replaced = new Set<string>();
  for (const b of decoded) for (const r of b.header.replaces) replaced.add(ulidToString(r));
  const samples: SampleMap = new Map();
  const duplicated: string[] = [];
  const droppedRanges: { minT: number; maxT: number }[] = [];
  const events: BlockEvent[] = [];
  let counted = 0;
  for (const b of decoded) {
    if (replaced.has(ulidToString(b.header.blockId))) continue;
    counted++;
    const { rounds, series } = b.data;
    for (const s of series) {
      const key = seriesKey(s.name, s.labels);
      forEachSample(s, (round, value) => {
        const k = `${key}\0${rounds[round]!}`;
        const v = typeof value === 'number' ? `f:${Object.is(value, -0) ? '-0' : String(value)}` : `s:${value}`;
        if (samples.has(k)) duplicated.push(k);
        samples.set(k, v);
      });
    }
    for (const e of b.data.events) {
      events.push(e);
      if (e.kind === 'data_dropped') droppedRanges.push({ minT: e.rangeMinT, maxT: e.rangeMaxT });
    }
  }
  return { samples, duplicated, droppedRanges, blocks: counted, superseded: decoded.length - counted, events };
}

export interface OracleResult {
  readonly edgeSamples: number;
  readonly centerSamples: number;
  /** At the edge, not at the center, and not in a range the edge reported dropped. */
  readonly lost: string[];
  /** At the center more than once. */
  readonly duplicated: string[];
  /** At the center but not at the edge, or with another value. */
  readonly unexpected: string[];
  readonly droppedRanges: { minT: number; maxT: number }[];
}

function sampleTime(key: string): number {
  return Number(key.slice(key.lastIndexOf('\0') + 1));
}

/** Compares the edge's blocks with the center's. */
export function compareSides(edge: readonly Uint8Array[], center: readonly Uint8Array[]): OracleResult {
  const e = collectSamples(edge);
  const c = collectSamples(center);
  const dropped = [...e.droppedRanges, ...c.droppedRanges];
  const inDropped = (t: number): boolean => dropped.some((r) => t >= r.minT && t <= r.maxT);
  const lost: string[] = [];
  const unexpected: string[] = [];
  for (const [k, v] of e.samples) {
    const got = c.samples.get(k);
    if (got === undefined) {
      if (!inDropped(sampleTime(k))) lost.push(k);
    } else if (got !== v) {
      unexpected.push(`${k} = ${got} (edge: ${v})`);
    }
  }
  for (const k of c.samples.keys()) if (!e.samples.has(k)) unexpected.push(k);
  return {
    edgeSamples: e.samples.size,
    centerSamples: c.samples.size,
    lost,
    duplicated: c.duplicated,
    unexpected,
    droppedRanges: dropped,
  };
}

/** A one-line account for assertion messages. */
export function describeResult(r: OracleResult): string {
  const first = (xs: string[]): string => xs.slice(0, 3).map((x) => JSON.stringify(x)).join(', ');
  return `edge ${r.edgeSamples} samples, center ${r.centerSamples}; lost ${r.lost.length} [${first(r.lost)}], ` +
    `duplicated ${r.duplicated.length} [${first(r.duplicated)}], unexpected ${r.unexpected.length} [${first(r.unexpected)}], ` +
    `dropped ranges ${r.droppedRanges.length}`;
}

import type { BlockData } from '../../proto/index.js';
import { decodeJsonRecord, encodeJsonRecord, isObject } from './json-record.js';

/** What the store knows about one sealed block without reading its bytes (kept under `i!<id>`). */
export interface BlockInfo {
  /** The block id: a ULID in its 26-character text form. */
  readonly id: string;
  /**
   * The block header's range: the first and last round or event time, inclusive, ms since the
   * epoch. An event may lie outside the rounds (a Kubernetes event seen late).
   */
  readonly minT: number;
  readonly maxT: number;
  /** The first and last round time; absent for a block that holds only events. Compaction goes by these. */
  readonly firstRoundT?: number;
  readonly lastRoundT?: number;
  /** Strictly increasing per site over every block the store seals or compacts. */
  readonly sequence: number;
  /** 0 when sealed from the head; 1 + the highest input level when compacted. */
  readonly level: number;
  /** Encoded size in bytes. */
  readonly bytes: number;
  readonly numRounds: number;
  readonly numSeries: number;
  readonly numSamples: number;
  /**
   * Of numSamples, those of float series (what compaction's memory goes by: 8 bytes each while
   * merging). Absent in infos written before it was kept: then numSamples counts.
   */
  readonly numFloatSamples?: number;
  readonly numEvents: number;
  /** Ids of every block this one holds, transitively (empty for a sealed block). */
  readonly replaces: readonly string[];
  /** When the block was sealed or compacted (store clock). */
  readonly createdAt: number;
  /** True once `markShipped` recorded that the center holds it. */
  readonly shipped: boolean;
  /**
   * The lowest `rangeMinT` of the data_dropped events inside, if any: dropping this block
   * later widens the new event's range so the older gap stays explained.
   */
  readonly droppedRangeMinT?: number;
  /** The seal indexes this block holds, (first, last) pairs (BlockHeader.sealRanges); absent in older blocks. */
  readonly sealRanges?: readonly number[];
  /**
   * The seal indexes the data_dropped events inside name: dropping this block later names them
   * again in the new event, so the older gap stays explained (like droppedRangeMinT for time).
   */
  readonly droppedSealRanges?: readonly number[];
}

/** The stored (JSON) form of a BlockInfo. */
export function encodeBlockInfo(info: BlockInfo): Uint8Array {
  return encodeJsonRecord(info);
}

function isBlockInfo(v: unknown): v is BlockInfo {
  if (!isObject(v) || typeof v.id !== 'string' || !Array.isArray(v.replaces) || typeof v.shipped !== 'boolean') return false;
  const b = v as unknown as BlockInfo;
  for (const f of ['minT', 'maxT', 'sequence', 'level', 'bytes', 'numRounds', 'numSeries', 'numSamples', 'numEvents', 'createdAt'] as const) {
    if (typeof b[f] !== 'number' || !Number.isFinite(b[f])) return false;
  }
  return true;
}

/** Parses a stored BlockInfo; undefined when the record is not one. */
export function decodeBlockInfo(bytes: Uint8Array): BlockInfo | undefined {
  return decodeJsonRecord(bytes, isBlockInfo);
}

/** The first and last round time of `data`, as BlockInfo fields (none without rounds). */
export function roundRange(data: BlockData): { firstRoundT?: number; lastRoundT?: number } {
  const n = data.rounds.length;
  return n === 0 ? {} : { firstRoundT: data.rounds[0]!, lastRoundT: data.rounds[n - 1]! };
}

/** The float samples of a block as compaction counts them: numFloatSamples, else every sample. */
export function floatSamples(b: BlockInfo): number {
  return typeof b.numFloatSamples === 'number' ? b.numFloatSamples : b.numSamples;
}

/** The range compaction and alignment go by: the rounds, or the header range without rounds. */
export function roundSpan(b: BlockInfo): { readonly from: number; readonly to: number } {
  return b.firstRoundT === undefined || b.lastRoundT === undefined ? { from: b.minT, to: b.maxT } : { from: b.firstRoundT, to: b.lastRoundT };
}

/** Oldest first: by minT, then sequence. `newest-first` is exactly the reverse. */
export function compareOldestFirst(a: BlockInfo, b: BlockInfo): number {
  return a.minT - b.minT || a.sequence - b.sequence;
}

// The in-memory forms of a block: the row form the collector produces (rounds of samples) and
// the column form a block stores (one column per series). See docs/format/block.md.

/** Label names to values. Never includes the metric name. */
export type Labels = Readonly<Record<string, string>>;

export type ValueType = 'float' | 'string';

/** One value of one series in one round (row form). */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly type: ValueType;
  /** A number for a float series, a string for a string series. */
  readonly value: number | string;
}

/** Something that happened at a time. */
export interface BlockEvent {
  /** Event time, milliseconds since the epoch. */
  readonly t: number;
  /** "kubernetes", "reboot", "agent_start", "agent_stop", "source_error", "data_dropped", ... */
  readonly kind: string;
  readonly reason: string;
  readonly message: string;
  readonly labels: Labels;
  /** For "data_dropped": the event-time range that was dropped, inclusive; 0 otherwise. */
  readonly rangeMinT: number;
  readonly rangeMaxT: number;
  /** Occurrences (Kubernetes event count), or rounds dropped for "data_dropped"; 0 if unknown. */
  readonly count: number;
}

/** One sampling pass over all sources at time `t` (row form). A series absent in a round is absent. */
export interface Round {
  readonly t: number;
  readonly samples: readonly Sample[];
  readonly events?: readonly BlockEvent[];
}

/**
 * Presence of a series over a block's rounds as run lengths, alternating absent and present,
 * starting with an absent run (0 when the series is present in the first round). No other run is
 * 0, and the runs add up to the number of rounds.
 */
export type PresenceRuns = Uint32Array;

export interface FloatSeriesData {
  readonly name: string;
  readonly labels: Labels;
  readonly type: 'float';
  readonly presence: PresenceRuns;
  /** One value per round in which the series is present, in round order. */
  readonly values: Float64Array;
}

export interface StringSeriesData {
  readonly name: string;
  readonly labels: Labels;
  readonly type: 'string';
  readonly presence: PresenceRuns;
  /**
   * Change points: `changeAt[i]` is the index, among the series' present samples, at which the
   * value becomes `changeValues[i]`. `changeAt[0]` is 0; both arrays have the same length; no
   * value equals the one before it. Empty only when the series is never present.
   */
  readonly changeAt: Uint32Array;
  readonly changeValues: readonly string[];
}

export type SeriesData = FloatSeriesData | StringSeriesData;

/**
 * The contents of a block in column form, canonical: rounds strictly increasing; series sorted
 * by `seriesKey`, each present in at least one round; events sorted by time (stable).
 */
export interface BlockData {
  /** Round timestamps, milliseconds since the epoch, strictly increasing. */
  readonly rounds: Float64Array;
  readonly series: readonly SeriesData[];
  readonly events: readonly BlockEvent[];
}

export type Compression = 'none' | 'brotli';

/** The header of a block: readable without decompressing the payload. */
export interface BlockHeader {
  readonly siteId: string;
  /** 16-byte ULID. */
  readonly blockId: Uint8Array;
  readonly minT: number;
  readonly maxT: number;
  readonly sequence: number;
  readonly encoderVersion: number;
  /** Ids of every block this one holds and replaces, transitively. */
  readonly replaces: readonly Uint8Array[];
  readonly compression: Compression;
  readonly payloadLength: number;
  readonly rawPayloadLength: number;
  readonly numRounds: number;
  readonly numSeries: number;
  readonly numSamples: number;
  readonly numEvents: number;
  readonly numStringSeries: number;
  readonly numStringSamples: number;
  /** 0 when sealed from the head; 1 + the highest input level when compacted. */
  readonly level: number;
  readonly createdAt: number;
  /**
   * The seal indexes of the blocks sealed from the head that this block holds, as (first, last)
   * pairs, ascending and disjoint; absent in blocks written before the field existed.
   */
  readonly sealRanges?: readonly number[];
  /** The 16-byte id of the edge store that wrote the block; absent in older blocks. */
  readonly storeId?: Uint8Array;
}

/** A decoded block. */
export interface Block {
  readonly header: BlockHeader;
  readonly data: BlockData;
}

/** What the encoder needs besides the data; the rest of the header is derived. */
export interface BlockIdentity {
  readonly siteId: string;
  readonly blockId: Uint8Array;
  readonly sequence: number;
  readonly replaces?: readonly Uint8Array[];
  readonly level?: number;
  readonly createdAt: number;
  /** See BlockHeader.sealRanges. */
  readonly sealRanges?: readonly number[];
  /** See BlockHeader.storeId. */
  readonly storeId?: Uint8Array;
}

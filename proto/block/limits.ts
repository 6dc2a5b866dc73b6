/**
 * What a decoder accepts at most. Every declared length or count is checked against these
 * before anything is allocated from it. The defaults fit a week of 15 s rounds of 100,000 series.
 */
export interface DecodeLimits {
  /** Header bytes. Default 1 MiB. */
  readonly maxHeaderBytes: number;
  /** Stored (compressed) payload bytes. Default 256 MiB. */
  readonly maxPayloadBytes: number;
  /** Decompressed payload bytes. Default 512 MiB. */
  readonly maxRawPayloadBytes: number;
  /** Decompressed / stored payload bytes. Default 1000. The encoder stores a payload uncompressed rather than exceed it. */
  readonly maxCompressionRatio: number;
  readonly maxRounds: number;
  readonly maxSeries: number;
  readonly maxEvents: number;
  readonly maxSymbols: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxHeaderBytes: 1 << 20,
  maxPayloadBytes: 256 << 20,
  maxRawPayloadBytes: 512 << 20,
  maxCompressionRatio: 1000,
  maxRounds: 1_000_000,
  maxSeries: 1_000_000,
  maxEvents: 1_000_000,
  maxSymbols: 4_000_000,
});

export function resolveLimits(limits?: Partial<DecodeLimits>): DecodeLimits {
  return limits === undefined ? DEFAULT_DECODE_LIMITS : { ...DEFAULT_DECODE_LIMITS, ...limits };
}

// What the ingest service accepts at most, and how it pushes back. Defaults beside the type; the
// config (limits.*) overrides them. See docs/aggregator.md.
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../../proto/index.js';

export interface IngestLimits {
  /** The largest block accepted (Begin.size), in bytes. Default 64 MiB. */
  readonly maxBlockBytes: number;
  /** The largest chunk accepted, in bytes. Default 1 MiB. gRPC messages are capped a little above it. */
  readonly maxChunkBytes: number;
  /** Uploads in progress at once, over all sites. Default 256. */
  readonly maxConcurrentUploads: number;
  /** Uploads in progress at once for one site. Default 4. */
  readonly maxUploadsPerSite: number;
  /** Declared bytes of the uploads in progress (they are buffered whole to be verified). Default 1 GiB. */
  readonly maxBufferedBytes: number;
  /** The push-back asked for with RESOURCE_EXHAUSTED / UNAVAILABLE (grpc-retry-pushback-ms). Default 2 s. */
  readonly pushbackMs: number;
  /** An upload that sends nothing for this long is ended (its stored bytes stay resumable). Default 60 s. */
  readonly uploadIdleTimeoutMs: number;
  /** Block ids in one Hello. Default 100,000. */
  readonly maxHelloIds: number;
  /** The block decoder's limits (ratio and absolute caps on decompression). Default: the codec's defaults. */
  readonly decode: DecodeLimits;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  maxBlockBytes: 64 << 20,
  maxChunkBytes: 1 << 20,
  maxConcurrentUploads: 256,
  maxUploadsPerSite: 4,
  maxBufferedBytes: 1 << 30,
  pushbackMs: 2_000,
  uploadIdleTimeoutMs: 60_000,
  maxHelloIds: 100_000,
  decode: DEFAULT_DECODE_LIMITS,
});

/** Room for a message's other fields besides a chunk's data (and for a Hello's ids). */
export const MESSAGE_OVERHEAD_BYTES = 64 << 10;

/** The gRPC receive limit: a message above it is refused by grpc-js with RESOURCE_EXHAUSTED before it reaches a handler. */
export function maxReceiveMessageBytes(limits: IngestLimits): number {
  return Math.max(limits.maxChunkBytes + MESSAGE_OVERHEAD_BYTES, limits.maxHelloIds * 20 + MESSAGE_OVERHEAD_BYTES);
}

// The ingest service's error catalog: each DW_INGEST_* code, the gRPC status it is sent with,
// and the status object a handler ends a call with. A status message always starts with the
// code: `DW_INGEST_CONFLICT: expected …, found …` (docs/format/ingest.md, docs/errors.md).
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { RESUME_OFFSET_TRAILER, RETRY_PUSHBACK_TRAILER } from '../../proto/index.js';

export const IngestErrorCode = {
  /** No credential, a malformed one, or a token the aggregator does not know. */
  Unauthenticated: 'DW_INGEST_UNAUTHENTICATED',
  /** The credential belongs to another site than the request's site_id or the block's header. */
  SiteMismatch: 'DW_INGEST_SITE_MISMATCH',
  /** A request message that does not parse as protobuf. */
  MalformedMessage: 'DW_INGEST_MALFORMED_MESSAGE',
  /** A message out of order: a chunk before Begin, a second Begin, neither Begin nor chunk. */
  UnexpectedMessage: 'DW_INGEST_UNEXPECTED_MESSAGE',
  /** A field out of range: a block id that is not 16 bytes, a size or SHA-256 of the wrong shape, negative numbers. */
  BadRequest: 'DW_INGEST_BAD_REQUEST',
  /** A block larger than the server's max_block_bytes. */
  BlockTooLarge: 'DW_INGEST_BLOCK_TOO_LARGE',
  /** A chunk larger than the server's max_chunk_bytes. */
  ChunkTooLarge: 'DW_INGEST_CHUNK_TOO_LARGE',
  /** A chunk whose offset is not where the previous one ended, or that runs past the declared size. */
  ChunkOffset: 'DW_INGEST_CHUNK_OFFSET',
  /** Begin.offset is neither 0 nor the offset the server holds; the trailer dw-resume-offset says where to resume. */
  ResumeOffset: 'DW_INGEST_RESUME_OFFSET',
  /** The stream ended before the declared size arrived. The bytes stored so far stay resumable. */
  Truncated: 'DW_INGEST_TRUNCATED',
  /** The bytes' SHA-256 is not Begin's. The partial upload is discarded. */
  ChecksumMismatch: 'DW_INGEST_CHECKSUM_MISMATCH',
  /** The block fails to decode (any DW_BLOCK_* code, decompression bombs included). Nothing is stored. */
  BlockInvalid: 'DW_INGEST_BLOCK_INVALID',
  /** The block's header names another block id, or its frame is another size than Begin declared. */
  HeaderMismatch: 'DW_INGEST_HEADER_MISMATCH',
  /** The center holds this block id with other bytes; the block stored first is kept. */
  Conflict: 'DW_INGEST_CONFLICT',
  /** Too many uploads at once (in all, for this site, or in bytes buffered); retry after the push-back. */
  Busy: 'DW_INGEST_BUSY',
  /** A newer upload of the same block from the same site took over this one. */
  Superseded: 'DW_INGEST_SUPERSEDED',
  /** No message for longer than the upload idle timeout. The bytes stored so far stay resumable. */
  IdleTimeout: 'DW_INGEST_IDLE_TIMEOUT',
  /** The aggregator is shutting down; retry after the push-back. */
  ShuttingDown: 'DW_INGEST_SHUTTING_DOWN',
  /** The storage failed to write (a full disk, an I/O error); retry after the push-back. */
  StorageFailed: 'DW_INGEST_STORAGE_FAILED',
  /** A bug in the aggregator; the message says what failed. Nothing was stored. */
  Internal: 'DW_INGEST_INTERNAL',
} as const;

export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

/** The gRPC status of each code. */
export const INGEST_STATUS: Readonly<Record<IngestErrorCode, Status>> = {
  DW_INGEST_UNAUTHENTICATED: Status.UNAUTHENTICATED,
  DW_INGEST_SITE_MISMATCH: Status.PERMISSION_DENIED,
  DW_INGEST_MALFORMED_MESSAGE: Status.INVALID_ARGUMENT,
  DW_INGEST_UNEXPECTED_MESSAGE: Status.INVALID_ARGUMENT,
  DW_INGEST_BAD_REQUEST: Status.INVALID_ARGUMENT,
  DW_INGEST_BLOCK_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  DW_INGEST_CHUNK_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  DW_INGEST_CHUNK_OFFSET: Status.INVALID_ARGUMENT,
  DW_INGEST_RESUME_OFFSET: Status.FAILED_PRECONDITION,
  DW_INGEST_TRUNCATED: Status.INVALID_ARGUMENT,
  DW_INGEST_CHECKSUM_MISMATCH: Status.DATA_LOSS,
  DW_INGEST_BLOCK_INVALID: Status.INVALID_ARGUMENT,
  DW_INGEST_HEADER_MISMATCH: Status.INVALID_ARGUMENT,
  DW_INGEST_CONFLICT: Status.ALREADY_EXISTS,
  DW_INGEST_BUSY: Status.RESOURCE_EXHAUSTED,
  DW_INGEST_SUPERSEDED: Status.ABORTED,
  DW_INGEST_IDLE_TIMEOUT: Status.DEADLINE_EXCEEDED,
  DW_INGEST_SHUTTING_DOWN: Status.UNAVAILABLE,
  DW_INGEST_STORAGE_FAILED: Status.UNAVAILABLE,
  DW_INGEST_INTERNAL: Status.INTERNAL,
};

/** Why a call failed: its code, the gRPC status, the message, and trailers to send. */
export class IngestFailure extends Error {
  readonly code: IngestErrorCode;
  readonly status: Status;
  /** Ask the agent to wait this long (ms) before retrying: the grpc-retry-pushback-ms trailer. */
  readonly pushbackMs: number | undefined;
  /** Where an upload may resume: the dw-resume-offset trailer. */
  readonly resumeOffset: number | undefined;
  constructor(code: IngestErrorCode, message: string, options: { pushbackMs?: number; resumeOffset?: number; cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestFailure';
    this.code = code;
    this.status = INGEST_STATUS[code];
    this.pushbackMs = options.pushbackMs;
    this.resumeOffset = options.resumeOffset;
  }

  /** The status object a grpc-js handler answers with (callback error, or a stream's 'error'). */
  toServiceError(): Partial<ServiceError> {
    const metadata = new Metadata();
    if (this.pushbackMs !== undefined) metadata.set(RETRY_PUSHBACK_TRAILER, String(Math.max(0, Math.round(this.pushbackMs))));
    if (this.resumeOffset !== undefined) metadata.set(RESUME_OFFSET_TRAILER, String(this.resumeOffset));
    return { code: this.status, details: this.message, metadata };
  }
}

/** Shorthand: `new IngestFailure(...)`. */
export function fail(code: IngestErrorCode, message: string, options?: { pushbackMs?: number; resumeOffset?: number; cause?: unknown }): IngestFailure {
  return new IngestFailure(code, message, options);
}

/**
 * Any error as the failure to answer with: an IngestFailure as it is; a storage error
 * (DW_AGGREGATOR_STORE_*) as DW_INGEST_STORAGE_FAILED with a push-back; anything else as
 * DW_INGEST_INTERNAL.
 */
export function asFailure(err: unknown, pushbackMs: number): IngestFailure {
  if (err instanceof IngestFailure) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && (code.startsWith('DW_AGGREGATOR_STORE_') || code.startsWith('LEVEL_'))) {
    return fail(IngestErrorCode.StorageFailed, `expected the storage to write, found ${code}: ${message}`, { pushbackMs, cause: err });
  }
  return fail(IngestErrorCode.Internal, `expected no internal error, found ${message}`, { cause: err });
}

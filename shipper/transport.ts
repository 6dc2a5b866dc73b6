// The shipper's seam to the center: three calls whose results are a tagged union, never a
// throw. createGrpcTransport (grpc-transport.ts) speaks driftwatch.ingest.v1 over gRPC;
// withRetry (retry.ts) wraps any transport. Block ids are ULID texts here; the gRPC transport
// puts their 16 bytes on the wire.
import type { ShipperError } from './errors.js';

/**
 * The outcome of a transport call: `success`, or a `failure` that trying again will not mend,
 * or a `retryable` one (`error.retryable` says the same).
 */
export type TransportResult<T> =
  | { readonly status: 'success'; readonly value: T }
  | { readonly status: 'failure' | 'retryable'; readonly error: ShipperError };

/** What withRetry reports before it waits to try a call again. */
export interface RetryEvent {
  readonly method: 'hello' | 'upload' | 'heartbeat';
  /** 1 for the first retry. */
  readonly attempt: number;
  /** How long it waits before the next attempt (ms; 0 for an immediate resume or restart). */
  readonly delayMs: number;
  /** Why the attempt before failed. */
  readonly error: ShipperError;
  /** Upload only: where the next attempt starts. */
  readonly nextOffset?: number;
}

export interface CallOptions {
  /** Abandons the call (and any retry wait): the result is a DW_SHIP_ABORTED failure. */
  readonly signal?: AbortSignal;
  /** Called by a retrying transport before each retry; plain transports never call it. */
  readonly onRetry?: (event: RetryEvent) => void;
}

export interface HelloInfo {
  readonly siteId: string;
  /** The sealed blocks the agent holds unacknowledged (ULID texts). */
  readonly pendingBlockIds: readonly string[];
  readonly agentVersion: string;
  /** The site's labels; absent: none (the center records that as no labels). */
  readonly siteLabels?: Readonly<Record<string, string>>;
}

export interface HelloResult {
  /** Of the pending ids, those the center holds whole (ULID texts). */
  readonly heldBlockIds: readonly string[];
  /** Of the pending ids, those the center holds in part, and how many bytes it holds. */
  readonly partialUploads: ReadonlyMap<string, number>;
  /** The center's clock when it answered, and the agent's when it asked (ms). */
  readonly serverTime: number;
  readonly agentTime: number;
  /** Round trip of this call on the transport's clock (ms). */
  readonly rttMs: number;
  /** Server limits; 0 when the server did not say. */
  readonly maxChunkBytes: number;
  readonly maxBlockBytes: number;
}

export interface UploadBlock {
  readonly siteId: string;
  /** ULID text. */
  readonly id: string;
  /** The encoded block, exactly as stored. */
  readonly bytes: Uint8Array;
  /** SHA-256 of `bytes`. */
  readonly sha256: Uint8Array;
}

export interface UploadOptions extends CallOptions {
  /** Each Progress the server sends: the offset it has stored (resuming there is safe). */
  readonly onProgress?: (offset: number) => void;
  /** Block bytes handed to the connection (after the bandwidth cap), per chunk. */
  readonly onSent?: (bytes: number) => void;
}

export interface UploadResult {
  /** True when the center already held the block with the same bytes. */
  readonly duplicate: boolean;
  /** When the center first stored the block durably (ms since the epoch). */
  readonly arrivedAt: number;
}

export interface HeartbeatInfo {
  readonly siteId: string;
  /** Round trip of the agent's previous answered call (ms; 0: none yet). */
  readonly lastRttMs: number;
  readonly backlogBlocks: number;
  readonly backlogBytes: number;
  /** The oldest unshipped block's minT (0: no backlog). */
  readonly oldestUnshippedTime: number;
  /** The agent's last round (0: none yet). */
  readonly lastRoundTime: number;
  /** Why uploads fail, when they do; empty when the last upload succeeded. */
  readonly lastErrorCode: string;
  readonly lastErrorMessage: string;
  readonly agentStartTime: number;
}

export interface HeartbeatResult {
  readonly serverTime: number;
  readonly agentTime: number;
  readonly rttMs: number;
}

/**
 * The ingest service as the shipper needs it. Calls never throw: they resolve to a
 * TransportResult. The agent's clock in Hello and Heartbeat is stamped by the transport when
 * each attempt is sent.
 */
export interface IngestTransport {
  /** Which pending blocks the center holds, whole or in part, and its clock. Changes nothing. */
  hello(info: HelloInfo, options?: CallOptions): Promise<TransportResult<HelloResult>>;
  /**
   * Sends `block` from `fromOffset` (0, or the offset the server holds) and resolves after the
   * server's Stored, i.e. after the center stored the whole block durably.
   */
  upload(block: UploadBlock, fromOffset: number, options?: UploadOptions): Promise<TransportResult<UploadResult>>;
  /** Tells the center the agent is alive and how far behind it is. */
  heartbeat(info: HeartbeatInfo, options?: CallOptions): Promise<TransportResult<HeartbeatResult>>;
  /** Closes the connection; calls after close fail. Idempotent. */
  close(): void;
}

/** A success result. */
export function success<T>(value: T): TransportResult<T> {
  return { status: 'success', value };
}

/** The failure result for `error`: `retryable` when error.retryable. */
export function failed<T>(error: ShipperError): TransportResult<T> {
  return { status: error.retryable ? 'retryable' : 'failure', error };
}

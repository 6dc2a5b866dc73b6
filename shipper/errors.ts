import { DriftwatchError } from '../common/errors.js';

/**
 * The shipper's error catalog (docs/shipper.md, docs/errors.md). Transports return these as
 * failures (they never throw for a failed call); config and option checks throw them.
 */
export const ShipperErrorCode = {
  /** UNAVAILABLE: the aggregator cannot be reached (refused, reset, going away). Retryable. */
  Unavailable: 'DW_SHIP_UNAVAILABLE',
  /** DEADLINE_EXCEEDED, or an upload that made no progress for `callTimeouts.uploadIdle`. Retryable. */
  Timeout: 'DW_SHIP_TIMEOUT',
  /** RESOURCE_EXHAUSTED with a push-back trailer: the aggregator asks the agent to slow down. Retryable. */
  PushedBack: 'DW_SHIP_PUSHED_BACK',
  /** ABORTED, or CANCELLED by the server (a restart, a lost race). Retryable. */
  ServerAborted: 'DW_SHIP_SERVER_ABORTED',
  /** UNKNOWN or INTERNAL: a transport failure such as a reset stream. Retryable. */
  TransportFailed: 'DW_SHIP_TRANSPORT_FAILED',
  /** FAILED_PRECONDITION on Upload: the server holds another offset; retried there (`dw-resume-offset`). */
  ResumeMismatch: 'DW_SHIP_RESUME_MISMATCH',
  /** DATA_LOSS: the whole-block SHA-256 did not match what the server received; restarted from 0 once. */
  ChecksumMismatch: 'DW_SHIP_CHECKSUM_MISMATCH',
  /** ALREADY_EXISTS: the center holds this block id with other bytes (it keeps its own). The block is skipped. */
  Conflict: 'DW_SHIP_CONFLICT',
  /** INVALID_ARGUMENT, OUT_OF_RANGE, or RESOURCE_EXHAUSTED without push-back on Upload: the block was refused. Skipped. */
  Rejected: 'DW_SHIP_REJECTED',
  /** The block is larger than the server's `max_block_bytes` (from Hello); not sent. Skipped. */
  BlockTooLarge: 'DW_SHIP_BLOCK_TOO_LARGE',
  /** UNAUTHENTICATED: the site credential is missing, unknown or revoked. Stops the sync. */
  Unauthenticated: 'DW_SHIP_UNAUTHENTICATED',
  /** PERMISSION_DENIED: the credential belongs to another site. Stops the sync. */
  PermissionDenied: 'DW_SHIP_PERMISSION_DENIED',
  /** The server broke the protocol (UNIMPLEMENTED, an upload that ended OK without Stored, a bad offset). */
  Protocol: 'DW_SHIP_PROTOCOL',
  /** The caller's AbortSignal fired: the call or the wait before a retry was abandoned. */
  Aborted: 'DW_SHIP_ABORTED',
  /** Transport or shipper options are invalid (thrown by the constructors). */
  InvalidOptions: 'DW_SHIP_INVALID_OPTIONS',
  /** The `shipping:` config section has problems; every one is listed at once. */
  ConfigInvalid: 'DW_SHIP_CONFIG_INVALID',
  /** The token file or the TLS CA file cannot be read, or the token in it is not usable. */
  CredentialUnreadable: 'DW_SHIP_CREDENTIAL_UNREADABLE',
} as const;

export type ShipperErrorCode = (typeof ShipperErrorCode)[keyof typeof ShipperErrorCode];

/** The gRPC status names by number (grpc's Status enum), for messages. */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

export interface ShipperErrorDetails {
  /** Whether trying again later may succeed (withRetry retries these). */
  readonly retryable?: boolean;
  /** The gRPC status code of the failed call, when there was one. */
  readonly grpcStatus?: number;
  /** The code at the start of the server's status message (`DW_INGEST_...`), when it sent one. */
  readonly serverCode?: string;
  /** The server's `grpc-retry-pushback-ms` trailer: wait at least this long before retrying. */
  readonly pushbackMs?: number;
  /** Upload only: the offset a retry may resume at (the `dw-resume-offset` trailer, else the last Progress). */
  readonly resumeOffset?: number;
  /** For DW_SHIP_CONFIG_INVALID: one `path: expected …, found …` line per problem. */
  readonly problems?: readonly string[];
  readonly cause?: unknown;
}

/** An error of the shipper's: a DW_SHIP_* code and a message saying what was expected and found. */
export class ShipperError extends DriftwatchError {
  declare readonly code: ShipperErrorCode;
  readonly retryable: boolean;
  readonly grpcStatus: number | undefined;
  readonly serverCode: string | undefined;
  readonly pushbackMs: number | undefined;
  readonly resumeOffset: number | undefined;
  readonly problems: readonly string[];
  constructor(code: ShipperErrorCode, message: string, details: ShipperErrorDetails = {}) {
    super(code, message, details.cause === undefined ? {} : { cause: details.cause });
    this.name = 'ShipperError';
    this.retryable = details.retryable ?? false;
    this.grpcStatus = details.grpcStatus;
    this.serverCode = details.serverCode;
    this.pushbackMs = details.pushbackMs;
    this.resumeOffset = details.resumeOffset;
    this.problems = details.problems ?? [];
  }

  /** The gRPC status name (`UNAVAILABLE`), or undefined when no call was made. */
  get grpcStatusName(): string | undefined {
    return this.grpcStatus === undefined ? undefined : (GRPC_STATUS_NAMES[this.grpcStatus] ?? String(this.grpcStatus));
  }
}

/** True when `err` is a ShipperError, optionally with the given code. */
export function isShipperError(err: unknown, code?: ShipperErrorCode): err is ShipperError {
  return err instanceof ShipperError && (code === undefined || err.code === code);
}

import { DriftwatchError } from '../common/errors.js';

/** The aggregator's error catalog for starting, configuring and storing (docs/errors.md, docs/aggregator.md). */
export const AggregatorErrorCode = {
  /** The config (file, env or flags) has problems; every one is listed. */
  ConfigInvalid: 'DW_AGGREGATOR_CONFIG_INVALID',
  /** The config file is missing or cannot be read. */
  ConfigUnreadable: 'DW_AGGREGATOR_CONFIG_UNREADABLE',
  /** The credentials file is not a valid credentials file; every problem is listed. */
  CredentialsInvalid: 'DW_AGGREGATOR_CREDENTIALS_INVALID',
  /** The credentials file is missing or cannot be read (or written, for `credentials add`). */
  CredentialsUnreadable: 'DW_AGGREGATOR_CREDENTIALS_UNREADABLE',
  /** A TLS certificate or key file is missing, unreadable or not PEM, or they do not match. */
  TlsInvalid: 'DW_AGGREGATOR_TLS_INVALID',
  /** Plaintext gRPC (`insecure`) was asked for on an address that is not loopback. */
  InsecureNotLoopback: 'DW_AGGREGATOR_INSECURE_NOT_LOOPBACK',
  /** The gRPC listen address could not be bound. */
  GrpcListenFailed: 'DW_AGGREGATOR_GRPC_LISTEN_FAILED',
  /** The HTTP listen address could not be bound. */
  HttpListenFailed: 'DW_AGGREGATOR_HTTP_LISTEN_FAILED',
  /** Another process holds the data directory's store. */
  StoreLocked: 'DW_AGGREGATOR_STORE_LOCKED',
  /** The data directory's store could not be opened. */
  StoreOpenFailed: 'DW_AGGREGATOR_STORE_OPEN_FAILED',
  /** The store's layout version is not one this build knows. */
  StoreUnsupportedVersion: 'DW_AGGREGATOR_STORE_UNSUPPORTED_VERSION',
  /** A storage call after `close()`. */
  StoreClosed: 'DW_AGGREGATOR_STORE_CLOSED',
  /** A storage call with an argument it cannot take (a bad site id, block id or size). */
  StoreInvalidArgument: 'DW_AGGREGATOR_STORE_INVALID_ARGUMENT',
  /** `appendChunk` at an offset other than the partial upload's, or for another size or checksum. */
  StoreOffsetMismatch: 'DW_AGGREGATOR_STORE_OFFSET_MISMATCH',
  /** A stored record does not parse; it is skipped and counted, never used. */
  StoreCorruptRecord: 'DW_AGGREGATOR_STORE_CORRUPT_RECORD',
} as const;

export type AggregatorErrorCode = (typeof AggregatorErrorCode)[keyof typeof AggregatorErrorCode];

/** An error of the aggregator's: `code` from AggregatorErrorCode, a message saying what was expected and found. */
export class AggregatorError extends DriftwatchError {
  declare readonly code: AggregatorErrorCode;
  /** For the *_INVALID codes: one `path: what was expected, found …` line per problem. */
  readonly problems: readonly string[];
  constructor(code: AggregatorErrorCode, message: string, options: { problems?: readonly string[]; where?: string; cause?: unknown } = {}) {
    super(code, message, { ...(options.where === undefined ? {} : { where: options.where }), cause: options.cause });
    this.name = 'AggregatorError';
    this.problems = options.problems ?? [];
  }
}

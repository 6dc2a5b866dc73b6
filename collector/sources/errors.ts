import { DriftwatchError } from '../../common/errors.js';

/** The sources' error catalog: what a failed collection says about its target. */
export const SourceErrorCode = {
  /** The target refused the connection or is unreachable. */
  Unreachable: 'DW_SOURCE_UNREACHABLE',
  /** No answer before the deadline. */
  Timeout: 'DW_SOURCE_TIMEOUT',
  /** The target answered something that is not what the protocol says. */
  BadResponse: 'DW_SOURCE_BAD_RESPONSE',
  /** The target refused: 401/403, wrong SNMP community or credentials, EACCES. */
  PermissionDenied: 'DW_SOURCE_PERMISSION_DENIED',
  /** The answer was larger than the configured cap. */
  TooLarge: 'DW_SOURCE_TOO_LARGE',
  /** A command exited non-zero or was killed. */
  CommandFailed: 'DW_SOURCE_COMMAND_FAILED',
  /** Anything else, with the cause in the message. */
  Failed: 'DW_SOURCE_FAILED',
} as const;

export type SourceErrorCode = (typeof SourceErrorCode)[keyof typeof SourceErrorCode];

/** A failed collection: `code` from SourceErrorCode; the message says what was expected and found. */
export class SourceError extends DriftwatchError {
  declare readonly code: SourceErrorCode;
  constructor(code: SourceErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'SourceError';
  }
}

/** An abort for the deadline: AbortSignal.timeout's TimeoutError or the sampler's DW_SOURCE_TIMEOUT. */
export function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && (reason.name === 'TimeoutError' || (reason as { code?: unknown }).code === SourceErrorCode.Timeout);
}

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

/**
 * The time a collection may take: until the earlier of the round's deadline and `timeout` (the
 * source's own, when set) from now. Throws DW_SOURCE_TIMEOUT when none is left; `doing` and
 * `target` word that error ("scrape http://…", "http://…").
 */
export function collectionBudget(ctx: { now(): number; readonly deadline: number }, timeout: number | undefined, doing: string, target: string): { deadline: number; budgetMs: number } {
  const start = ctx.now();
  const deadline = timeout === undefined ? ctx.deadline : Math.min(ctx.deadline, start + timeout);
  const budgetMs = deadline - start;
  if (budgetMs <= 0) {
    throw new SourceError(SourceErrorCode.Timeout, `expected time left to ${doing}, found the deadline already passed`, { where: target });
  }
  return { deadline, budgetMs };
}

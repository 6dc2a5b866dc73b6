/**
 * The base of every error a user can meet. `code` is stable (documented in docs/errors.md);
 * the message says what was expected and what was found.
 */
export class DriftwatchError extends Error {
  readonly code: string;
  /** Where the problem was found: a file, a byte offset, a key, a config path. */
  readonly where: string | undefined;
  constructor(code: string, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where === undefined ? message : `${message} (at ${options.where})`,
      options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriftwatchError';
    this.code = code;
    this.where = options.where;
  }
}

/** True when `err` is a DriftwatchError, optionally with the given code. */
export function isDriftwatchError(err: unknown, code?: string): err is DriftwatchError {
  return err instanceof DriftwatchError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs and error events. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

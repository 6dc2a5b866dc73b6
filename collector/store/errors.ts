import { DriftwatchError } from '../../common/errors.js';

/**
 * The edge store's error catalog (docs/store.md, "Errors"). Every error the store throws is a
 * StoreError with one of these codes and a message that says what was expected and what was found.
 */
export const StoreErrorCode = {
  /** `openEdgeStore` options are invalid: every problem is listed in the message at once. */
  InvalidOptions: 'DW_STORE_INVALID_OPTIONS',
  /** `appendRound` was given a round that cannot be stored; nothing was written. */
  InvalidRound: 'DW_STORE_INVALID_ROUND',
  /** `appendEvents` was given an event that cannot be stored; nothing was written. */
  InvalidEvents: 'DW_STORE_INVALID_EVENTS',
  /** The store was used after `close()`. */
  Closed: 'DW_STORE_CLOSED',
  /** Another process (or another open store in this one) holds the directory's lock. */
  Locked: 'DW_STORE_LOCKED',
  /** The directory could not be opened as a LevelDB database. */
  OpenFailed: 'DW_STORE_OPEN_FAILED',
  /** The directory holds the store of another site. */
  SiteMismatch: 'DW_STORE_SITE_MISMATCH',
  /** The directory holds a store in a layout version this code does not know. */
  UnsupportedVersion: 'DW_STORE_UNSUPPORTED_VERSION',
} as const;

/** One of the codes above. */
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** An edge store error: `code` from StoreErrorCode, `where` the option, round field or key. */
export class StoreError extends DriftwatchError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, where?: string, cause?: unknown) {
    super(code, message, { ...(where === undefined ? {} : { where }), cause });
    this.name = 'StoreError';
  }
}

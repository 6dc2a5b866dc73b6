// The fleet API's error catalog (docs/api.md, docs/errors.md): every error answer is
// `{ "error": { "code": "DW_API_…", "message": "expected …, found …" } }` with the status below.
import { DriftwatchError } from '../../common/errors.js';

export const ApiErrorCode = {
  /** A query or path parameter is malformed, out of range, repeated or unknown (400). */
  BadParam: 'DW_API_BAD_PARAM',
  /** The `selector` parameter is not a label selector (400). */
  BadSelector: 'DW_API_BAD_SELECTOR',
  /** `/fleet/v1/sites/:site` for a site the center did not know by `known_at` (404). */
  UnknownSite: 'DW_API_UNKNOWN_SITE',
  /** `upgrades?policy=` names no policy whose expected values the revision changed (404). */
  UnknownPolicy: 'DW_API_UNKNOWN_POLICY',
  /** `upgrades?revision=` names no policy revision known by `known_at` (404). */
  UnknownRevision: 'DW_API_UNKNOWN_REVISION',
  /** No such route under /fleet/ (404). */
  NotFound: 'DW_API_NOT_FOUND',
  /** The index has not caught up with the stored blocks yet, or the aggregator is stopping (503, with Retry-After). */
  NotReady: 'DW_API_NOT_READY',
  /** A bug: the report failed (500). The message says what failed; the aggregator logs it. */
  Internal: 'DW_API_INTERNAL',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** The HTTP status of each code. */
export const API_ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  DW_API_BAD_PARAM: 400,
  DW_API_BAD_SELECTOR: 400,
  DW_API_UNKNOWN_SITE: 404,
  DW_API_UNKNOWN_POLICY: 404,
  DW_API_UNKNOWN_REVISION: 404,
  DW_API_NOT_FOUND: 404,
  DW_API_NOT_READY: 503,
  DW_API_INTERNAL: 500,
};

/** The body of every error answer. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * An error the fleet API answers with: `code` from ApiErrorCode, its HTTP status, a message that
 * says what was expected and what was found. A FleetReports implementation may throw one, or a
 * DW_FLEET_* error (FLEET_ERROR_API_CODES); anything else it throws is answered as DW_API_INTERNAL.
 */
export class ApiError extends DriftwatchError {
  declare readonly code: ApiErrorCode;
  readonly status: number;
  constructor(code: ApiErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
  }

  body(): ApiErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * The API code of an error the reports (aggregator/fleet, DW_FLEET_*) throw; undefined for one
 * that is a bug. DW_FLEET_NOT_INDEXED (a known_at past what the index has caught up with) is
 * "not ready": the same request succeeds once the index catches up.
 */
export const FLEET_ERROR_API_CODES: Readonly<Record<string, ApiErrorCode>> = {
  DW_FLEET_BAD_SELECTOR: ApiErrorCode.BadSelector,
  DW_FLEET_BAD_QUERY: ApiErrorCode.BadParam,
  DW_FLEET_UNKNOWN_SITE: ApiErrorCode.UnknownSite,
  DW_FLEET_UNKNOWN_POLICY: ApiErrorCode.UnknownPolicy,
  DW_FLEET_UNKNOWN_REVISION: ApiErrorCode.UnknownRevision,
  DW_FLEET_NOT_INDEXED: ApiErrorCode.NotReady,
};

/** True for a code of the catalog. */
export function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.prototype.hasOwnProperty.call(API_ERROR_STATUS, code);
}

// The fleet API's query parameters, checked for meaning after the JSON schema checked their shape:
// times (RFC 3339 or ms), the known_at cut not in the future, limit and offset ranges, the
// selector's syntax, the site id. Every problem of a request is reported at once.
import { isValidSiteId } from '../../common/site-id.js';
import { formatRfc3339, parseTimeParam, TIME_PARAM_EXPECTED } from '../../common/rfc3339.js';
import { isDriftwatchError } from '../../common/errors.js';
import { parseSiteSelector } from '../fleet/index.js';
import type { ReportQuery } from '../fleet/types.js';
import { ApiError, ApiErrorCode } from './errors.js';

/** Rows per page when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The most rows one page may hold. */
export const MAX_PAGE_LIMIT = 1000;

/** The querystring of a report route, as the schema lets it through (strings, each at most once). */
export interface RawReportParams {
  readonly at?: string;
  readonly known_at?: string;
  readonly selector?: string;
  readonly limit?: string;
  readonly offset?: string;
  readonly policy?: string;
  readonly revision?: string;
}

/** Where "now" comes from. */
export interface ParamClock {
  /** The aggregator's clock: `known_at` may not be later. */
  now(): number;
  /** The default `known_at`: now, or a little earlier while a write stamped before now is not durable yet (so the answer is final). */
  knownAtNow(): number;
}

/** A report query with its paging resolved. */
export interface ResolvedQuery extends ReportQuery {
  readonly offset: number;
  readonly limit: number;
  readonly policy?: string;
  readonly revision?: string;
}

function quoted(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

/** Collects problems; `code` becomes DW_API_BAD_SELECTOR when the selector is the only problem. */
class Problems {
  readonly list: string[] = [];
  selectorOnly = true;
  add(problem: string, selector = false): void {
    this.list.push(problem);
    if (!selector) this.selectorOnly = false;
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw new ApiError(this.selectorOnly ? ApiErrorCode.BadSelector : ApiErrorCode.BadParam, this.list.join('; '));
  }
}

function times(q: RawReportParams, clock: ParamClock, problems: Problems): { at: number; knownAt: number } {
  const parse = (name: 'at' | 'known_at'): number | undefined => {
    const text = q[name];
    if (text === undefined) return undefined;
    const t = parseTimeParam(text);
    if (t === undefined) problems.add(`expected ${name} to be ${TIME_PARAM_EXPECTED}, found ${quoted(text)}`);
    return t;
  };
  const at = parse('at');
  let knownAt = parse('known_at');
  const now = clock.now();
  if (knownAt !== undefined && knownAt > now) {
    problems.add(`expected known_at at or before the aggregator's clock (${formatRfc3339(now)}), found ${formatRfc3339(knownAt)}: an answer as of a later cut could still change`);
  }
  if (q.known_at === undefined) knownAt = Math.min(clock.knownAtNow(), now);
  return { knownAt: knownAt ?? now, at: at ?? knownAt ?? now };
}

function whole(q: RawReportParams, name: 'limit' | 'offset', min: number, max: number, fallback: number, problems: Problems): number {
  const text = q[name];
  if (text === undefined) return fallback;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    problems.add(`expected ${name} to be a whole number from ${min} to ${max}, found ${quoted(text)}`);
    return fallback;
  }
  return n;
}

/**
 * The query of a list route (drift, upgrades, stale, sites). `at` defaults to `known_at`, which
 * defaults to now (`clock.knownAtNow()`): a request that pins `known_at` alone is repeatable.
 * Throws ApiError DW_API_BAD_PARAM (or DW_API_BAD_SELECTOR when the selector is the only problem).
 */
export function parseReportQuery(q: RawReportParams, clock: ParamClock): ResolvedQuery {
  const problems = new Problems();
  const { at, knownAt } = times(q, clock, problems);
  const limit = whole(q, 'limit', 1, MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT, problems);
  const offset = whole(q, 'offset', 0, Number.MAX_SAFE_INTEGER, 0, problems);
  let selector: string | undefined;
  if (q.selector !== undefined && q.selector.trim() !== '') {
    try {
      // The reports' own parser (aggregator/fleet/selector.ts): what passes here, they take.
      parseSiteSelector(q.selector);
      selector = q.selector.trim();
    } catch (err) {
      if (!isDriftwatchError(err, 'DW_FLEET_BAD_SELECTOR')) throw err;
      problems.add(err.message, true);
    }
  }
  problems.throwIfAny();
  return {
    at, knownAt, offset, limit, ...(selector === undefined ? {} : { selector }), ...(q.policy === undefined ? {} : { policy: q.policy }),
    ...(q.revision === undefined ? {} : { revision: q.revision }),
  };
}

/** The query of /fleet/v1/sites/:site; throws ApiError DW_API_BAD_PARAM for a bad site id or time. */
export function parseSiteQuery(site: string, q: RawReportParams, clock: ParamClock): { site: string; at: number; knownAt: number } {
  const problems = new Problems();
  if (!isValidSiteId(site)) problems.add(`expected a site id of letters, digits, ".", "_" and "-" (at most 256 characters), found ${quoted(site)}`);
  const { at, knownAt } = times(q, clock, problems);
  problems.throwIfAny();
  return { site, at, knownAt };
}

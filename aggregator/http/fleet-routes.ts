// The fleet API (/fleet/v1/*) on the aggregator's fastify instance: sites, one site, drift,
// upgrades and stale, each a thin layer over FleetReports — parameters checked (schema, then
// meaning), readiness checked, the report asked, its page serialised (times as RFC 3339), errors
// answered as `{ error: { code, message } }`. See docs/api.md.
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage, isDriftwatchError } from '../../common/errors.js';
import { AggregatorErrorCode } from '../errors.js';
import type { DriftRow, Page, ReportQuery, SiteDetail, SiteRow, StaleRow, UpgradeQuery, UpgradesPage } from '../fleet/types.js';
import { silentLogger, type AggregatorLogger } from '../logger.js';
import { ApiError, ApiErrorCode, FLEET_ERROR_API_CODES } from './errors.js';
import { parseReportQuery, parseSiteQuery, type ParamClock, type RawReportParams, type ResolvedQuery } from './fleet-params.js';
import type { HealthStatus } from './routes.js';
import {
  driftRowSchema, listQuerySchema, pageResponses, paramNames, siteParamsSchema, siteQuerySchema, siteResponses, siteRowSchema, staleRowSchema,
  upgradesQuerySchema, upgradesResponses,
} from './schemas.js';
import { formatRfc3339 } from '../../common/rfc3339.js';
import {
  wireDriftRow, wirePage, wireSiteDetail, wireSiteRow, wireStaleRow, wireUpgradesPage, type WirePage, type WireSiteReport, type WireUpgradesPage,
} from './wire.js';

/** The query of one site's report. */
export interface SiteQuery {
  readonly at: number;
  readonly knownAt: number;
}

/**
 * The fleet reports, as the HTTP API asks them (implemented over the merge index in
 * aggregator/fleet/: driftReport, upgradesReport, staleReport, sitesReport, siteDetail). Every
 * query carries resolved `at` and `knownAt` (ms), `offset` and `limit`; `selector`, when
 * present, has passed aggregator/fleet's parseSiteSelector and is passed as the user wrote it
 * (trimmed). A page's `fleet` line covers every site the selector matched, whatever the paging;
 * `total` counts every row; `rows` holds at most `limit` rows from `offset`, in the report's
 * stable order. The same query with the same `knownAt` must answer the same forever. Methods may
 * throw ApiError or a DW_FLEET_* error (mapped by FLEET_ERROR_API_CODES: DW_FLEET_UNKNOWN_SITE is
 * 404, DW_FLEET_NOT_INDEXED 503, …); any other error is answered as DW_API_INTERNAL
 * (DW_AGGREGATOR_STORE_CLOSED as DW_API_NOT_READY).
 */
export interface FleetReports {
  drift(query: ReportQuery): Promise<Page<DriftRow>>;
  /** `revision` and `policy` as the user gave them (checked by the implementation). */
  upgrades(query: UpgradeQuery): Promise<UpgradesPage>;
  stale(query: ReportQuery): Promise<Page<StaleRow>>;
  sites(query: ReportQuery): Promise<Page<SiteRow>>;
  /** One site in detail; undefined (or DW_FLEET_UNKNOWN_SITE) when the center did not know it by `knownAt`: 404 DW_API_UNKNOWN_SITE. */
  site(site: string, query: SiteQuery): Promise<SiteDetail | undefined>;
}

export interface FleetRoutesOptions {
  readonly reports: FleetReports;
  /** Whether the reports can answer (the index has caught up). Default: always. Not ready: 503 DW_API_NOT_READY with the reason. */
  readonly ready?: () => HealthStatus;
  /** The aggregator's clock (ms): `known_at` may not be later than it. */
  readonly now: () => number;
  /**
   * The default `known_at`: a cut whose answer is final and indexed (below any write not yet
   * durable, at most what the index has caught up with). Default: `now`.
   */
  readonly knownAtNow?: () => number;
  /** Where DW_API_INTERNAL failures are logged. Default: silent. */
  readonly logger?: AggregatorLogger;
}

/** The routes, for the not-found answer. */
export const FLEET_ROUTES = ['/fleet/v1/sites', '/fleet/v1/sites/:site', '/fleet/v1/drift', '/fleet/v1/upgrades', '/fleet/v1/stale'] as const;

/** Seconds a client is told to wait after DW_API_NOT_READY. */
const RETRY_AFTER_S = 5;

interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly data?: unknown;
  readonly parentSchema?: { readonly description?: string };
}

/** A schema validation failure as one `expected …, found …` message. */
function validationMessage(err: FastifyError, known: readonly string[]): string {
  const problems = (err.validation as unknown as AjvError[] | undefined ?? []).map((e) => {
    const name = e.instancePath.replace(/^\//, '');
    if (e.keyword === 'additionalProperties') {
      return `expected parameters among ${known.join(', ')}, found ${JSON.stringify(String(e.params.additionalProperty))}`;
    }
    if (e.keyword === 'type' && Array.isArray(e.data)) return `expected ${name} once, found it ${e.data.length} times`;
    const expected = e.parentSchema?.description ?? (e.message ?? 'something else');
    const found = typeof e.data === 'string' ? JSON.stringify(e.data.length > 80 ? `${e.data.slice(0, 80)}…` : e.data) : JSON.stringify(e.data);
    if (e.keyword === 'maxLength') return `expected ${name} of at most ${String(e.params.limit)} characters, found ${typeof e.data === 'string' ? e.data.length : found}`;
    return `expected ${name} to be ${expected}, found ${found}`;
  });
  return [...new Set(problems)].join('; ') || `expected valid parameters, found ${err.message}`;
}

function send(reply: FastifyReply, err: ApiError): FastifyReply {
  if (err.status === 503) reply.header('retry-after', String(RETRY_AFTER_S));
  return reply.code(err.status).send(err.body());
}

/** The path and query of the next page, pinning `at` and `known_at`; null when `page` is the last. */
function nextLink(path: string, q: ResolvedQuery, page: Page<unknown>): string | null {
  const end = page.offset + page.rows.length;
  if (end >= page.total || page.rows.length === 0) return null;
  const params = new URLSearchParams({ at: formatRfc3339(page.at), known_at: formatRfc3339(page.knownAt) });
  if (q.selector !== undefined) params.set('selector', q.selector);
  if (q.revision !== undefined) params.set('revision', q.revision);
  if (q.policy !== undefined) params.set('policy', q.policy);
  params.set('limit', String(q.limit));
  params.set('offset', String(end));
  return `${path}?${params.toString()}`;
}

/**
 * The fleet API as a fastify plugin (register it on the aggregator's instance, or pass it in
 * startAggregator's `fleet`). Its error handler and schemas stay inside the plugin.
 */
export function fleetRoutes(options: FleetRoutesOptions): FastifyPluginAsync {
  const reports = options.reports;
  const logger = options.logger ?? silentLogger;
  const clock: ParamClock = { now: options.now, knownAtNow: options.knownAtNow ?? options.now };
  const checkReady = (): void => {
    const r = options.ready?.() ?? { ok: true, reason: '' };
    if (!r.ok) throw new ApiError(ApiErrorCode.NotReady, `expected the fleet index to have caught up with the stored blocks, found it not ready: ${r.reason}`);
  };

  return async (app) => {
    app.setErrorHandler(async (err: FastifyError, req, reply) => {
      if (err instanceof ApiError) return send(reply, err);
      const mapped = typeof err.code === 'string' ? FLEET_ERROR_API_CODES[err.code] : undefined;
      if (mapped !== undefined) return send(reply, new ApiError(mapped, err.message, { cause: err }));
      if (err.validation !== undefined) {
        const schema = req.routeOptions.schema?.querystring as Record<string, unknown> | undefined;
        return send(reply, new ApiError(ApiErrorCode.BadParam, validationMessage(err, schema === undefined ? [] : paramNames(schema))));
      }
      if (isDriftwatchError(err, AggregatorErrorCode.StoreClosed)) {
        return send(reply, new ApiError(ApiErrorCode.NotReady, `expected an open storage, found the aggregator stopping (${err.message})`));
      }
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return send(reply, new ApiError(ApiErrorCode.BadParam, `expected a GET request with a query string, found ${err.message}`));
      }
      logger.error({ code: ApiErrorCode.Internal, method: req.method, url: req.url, err: errorMessage(err), errCode: (err as { code?: string }).code }, 'fleet api request failed');
      return send(reply, new ApiError(ApiErrorCode.Internal, `expected a report, found an internal error: ${(err as { code?: string }).code ?? 'Error'}: ${errorMessage(err)}`));
    });

    type ListReq = FastifyRequest<{ Querystring: RawReportParams }>;
    const list = <Row, Wire>(path: string, rowSchema: Record<string, unknown>, ask: (q: ResolvedQuery) => Promise<Page<Row>>, row: (r: Row) => Wire): void => {
      app.get(path, { schema: { querystring: listQuerySchema, response: pageResponses(rowSchema) } }, async (req: ListReq): Promise<WirePage<Wire>> => {
        const q = parseReportQuery(req.query, clock);
        checkReady();
        const page = await ask(q);
        return wirePage(page, row, { selector: q.selector ?? null, limit: q.limit, next: nextLink(path, q, page) });
      });
    };
    const base = (q: ResolvedQuery): ReportQuery => ({
      at: q.at, knownAt: q.knownAt, offset: q.offset, limit: q.limit, ...(q.selector === undefined ? {} : { selector: q.selector }),
    });

    list('/fleet/v1/sites', siteRowSchema, (q) => reports.sites(base(q)), wireSiteRow);
    list('/fleet/v1/drift', driftRowSchema, (q) => reports.drift(base(q)), wireDriftRow);
    list('/fleet/v1/stale', staleRowSchema, (q) => reports.stale(base(q)), wireStaleRow);
    app.get('/fleet/v1/upgrades', { schema: { querystring: upgradesQuerySchema, response: upgradesResponses } }, async (req: ListReq): Promise<WireUpgradesPage> => {
      const q = parseReportQuery(req.query, clock);
      checkReady();
      const page = await reports.upgrades({
        ...base(q), ...(q.revision === undefined ? {} : { revision: q.revision }), ...(q.policy === undefined ? {} : { policy: q.policy }),
      });
      return wireUpgradesPage(page, { selector: q.selector ?? null, limit: q.limit, next: nextLink('/fleet/v1/upgrades', q, page) });
    });

    type SiteReq = FastifyRequest<{ Params: { site: string }; Querystring: RawReportParams }>;
    app.get('/fleet/v1/sites/:site', { schema: { params: siteParamsSchema, querystring: siteQuerySchema, response: siteResponses } },
      async (req: SiteReq): Promise<WireSiteReport> => {
        const q = parseSiteQuery(req.params.site, req.query, clock);
        checkReady();
        const r = await reports.site(q.site, { at: q.at, knownAt: q.knownAt });
        if (r === undefined) {
          throw new ApiError(ApiErrorCode.UnknownSite, `expected a site the center knew of by known_at ${formatRfc3339(q.knownAt)}, found none named ${JSON.stringify(q.site)}`);
        }
        return { at: formatRfc3339(q.at), knownAt: formatRfc3339(q.knownAt), site: wireSiteDetail(r) };
      });
  };
}

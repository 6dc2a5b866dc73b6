// What every report shares: its inputs, checking a query, the sites it covers (known by knownAt,
// picked by the selector), each row's freshness, the fleet line and pagination.
import { matchesSelector, type Labels, type LabelSelector, type PolicyHistory } from '../policy/index.js';
import type { ContactSource } from './contacts.js';
import { FleetError, FleetErrorCode } from './errors.js';
import type { SiteLabelSource } from './labels.js';
import type { FleetIndex } from './merge-index.js';
import { labelsKey, policyCache, type PolicyCache } from './policy-cache.js';
import { parseSiteSelector } from './selector.js';
import { SiteView } from './site-view.js';
import type { FleetLine, Page, ReportQuery, SiteFreshness } from './types.js';

/** Everything a report reads. Reports are pure functions of these and the query. */
export interface FleetInputs {
  readonly index: FleetIndex;
  readonly policies: PolicyHistory;
  readonly contacts: ContactSource;
  readonly labels: SiteLabelSource;
}

/** One site as a report sees it. */
export interface SiteContext {
  readonly site: string;
  readonly labels: Labels;
  /** labelsKey(labels). */
  readonly labelsKey: string;
  /** Undefined when no block of the site had arrived by knownAt (it is known by contact only). */
  readonly view: SiteView | undefined;
}

/** A checked query and what every report derives from it. */
export interface QueryContext {
  readonly query: ReportQuery;
  readonly at: number;
  readonly knownAt: number;
  readonly inputs: FleetInputs;
  readonly cache: PolicyCache;
  /** The selected sites, sorted by id. */
  readonly sites: readonly SiteContext[];
  /** Identifies what the policy history holds as of knownAt (for memos). */
  readonly policyKey: string;
}

const EMPTY: Labels = Object.freeze({});

function isTime(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
}

/**
 * Checks a query: `at` and `knownAt` whole milliseconds >= 0, knownAt not past the index's
 * watermark (DW_FLEET_NOT_INDEXED: the answer could still change), offset and limit whole
 * numbers (limit >= 1), the selector parseable. Throws DW_FLEET_BAD_QUERY / _BAD_SELECTOR.
 */
export function checkQuery(query: ReportQuery, index: FleetIndex): LabelSelector {
  if (!isTime(query.at)) throw new FleetError(FleetErrorCode.BadQuery, `expected at in whole milliseconds since the epoch (>= 0), found ${JSON.stringify(query.at)}`);
  if (!isTime(query.knownAt)) throw new FleetError(FleetErrorCode.BadQuery, `expected knownAt in whole milliseconds since the epoch (>= 0), found ${JSON.stringify(query.knownAt)}`);
  if (query.knownAt > index.indexedThrough) {
    throw new FleetError(FleetErrorCode.NotIndexed,
      `expected knownAt at or before ${index.indexedThrough}, the arrival time the index has caught up with, found ${query.knownAt}: ask again after the index catches up, or with knownAt=${index.indexedThrough}`);
  }
  if (query.offset !== undefined && !(Number.isSafeInteger(query.offset) && query.offset >= 0)) {
    throw new FleetError(FleetErrorCode.BadQuery, `expected offset to be a whole number >= 0, found ${JSON.stringify(query.offset)}`);
  }
  if (query.limit !== undefined && !(Number.isSafeInteger(query.limit) && query.limit >= 1)) {
    throw new FleetError(FleetErrorCode.BadQuery, `expected limit to be a whole number >= 1, found ${JSON.stringify(query.limit)}`);
  }
  if (query.selector !== undefined && typeof query.selector !== 'string') {
    throw new FleetError(FleetErrorCode.BadQuery, `expected selector to be a string, found ${typeof query.selector}`);
  }
  return parseSiteSelector(query.selector ?? '');
}

/** Every site known by knownAt: a block or a contact had arrived. Sorted. */
export function knownSites(inputs: FleetInputs, knownAt: number): string[] {
  const index = inputs.index;
  const out = index.sites().filter((s) => index.site(s)!.firstArrived <= knownAt);
  const extra: string[] = [];
  for (const s of inputs.contacts.sites()) {
    const data = index.site(s);
    if ((data === undefined || data.firstArrived > knownAt) && inputs.contacts.lastContact(s, knownAt) !== undefined) extra.push(s);
  }
  return extra.length === 0 ? out : [...out, ...extra].sort();
}

/** The view of one site at knownAt, or undefined when none of its blocks had arrived. */
export function siteView(inputs: FleetInputs, site: string, knownAt: number): SiteView | undefined {
  const data = inputs.index.site(site);
  if (data === undefined || data.firstArrived > knownAt) return undefined;
  return new SiteView(inputs.index, data, knownAt);
}

/** Checks the query and selects the sites. */
export function prepare(inputs: FleetInputs, query: ReportQuery): QueryContext {
  const selector = checkQuery(query, inputs.index);
  const sites: SiteContext[] = [];
  for (const site of knownSites(inputs, query.knownAt)) {
    const labels = inputs.labels.siteLabels(site, query.knownAt) ?? EMPTY;
    if (!matchesSelector(selector, labels)) continue;
    sites.push({ site, labels, labelsKey: labelsKey(labels), view: siteView(inputs, site, query.knownAt) });
  }
  const policyKey = `${historyId(inputs.policies)}:${inputs.policies.revisions({ knownAt: query.knownAt }).length}`;
  return { query, at: query.at, knownAt: query.knownAt, inputs, cache: policyCache(inputs.index), sites, policyKey };
}

const historyIds = new WeakMap<PolicyHistory, number>();
let nextHistoryId = 1;

function historyId(h: PolicyHistory): number {
  let id = historyIds.get(h);
  if (id === undefined) historyIds.set(h, (id = nextHistoryId++));
  return id;
}

/**
 * What `compute` returns for a site, remembered until the site's next block when the query sees
 * all of it — knownAt at or after its last arrival and `at` past everything it holds — where
 * the answer depends only on the site's data, its labels and `key` (which must name the policies
 * known: start it with ctx.policyKey). Otherwise computed.
 */
export function siteMemo<T>(ctx: QueryContext, s: SiteContext, key: string, compute: () => T): T {
  const data = s.view?.data;
  if (data === undefined || ctx.knownAt < data.lastArrived || ctx.at < data.latestT) return compute();
  let inner = data.memo.get(key) as Map<string, T> | undefined;
  if (inner === undefined) data.memo.set(key, (inner = new Map()));
  let v = inner.get(s.labelsKey);
  if (v === undefined && !inner.has(s.labelsKey)) {
    v = compute();
    inner.set(s.labelsKey, v);
  }
  return v as T;
}

/** The time contacts are read as of: the latest that had arrived by knownAt and by `at`. */
export function contactCut(ctx: QueryContext): number {
  return Math.min(ctx.at, ctx.knownAt);
}

/**
 * A site's freshness as of the query: last data at or before `at`, completeThrough as of
 * knownAt, and the last contact that had arrived by knownAt and by `at`.
 */
export function freshness(ctx: QueryContext, s: SiteContext): SiteFreshness {
  const contact = ctx.inputs.contacts.lastContact(s.site, contactCut(ctx));
  return {
    site: s.site,
    lastDataT: s.view?.lastDataAt(ctx.at),
    completeThrough: s.view?.completeThrough,
    lastContactAt: contact?.at,
  };
}

/** The fleet line over the selected sites. */
export function fleetLine(ctx: QueryContext): FleetLine {
  let withData = 0;
  let complete = 0;
  for (const s of ctx.sites) {
    if (s.view === undefined) continue;
    if (s.view.lastDataAt(ctx.at) !== undefined) withData++;
    const ct = s.view.completeThrough;
    if (ct !== undefined && ct >= ctx.at) complete++;
  }
  return { sites: ctx.sites.length, sitesWithData: withData, sitesCompleteThroughAt: complete };
}

/** The rows the query's page holds: indexes [from, to) in report order. */
export function pageWindow(ctx: QueryContext): { from: number; to: number } {
  const from = ctx.query.offset ?? 0;
  return { from, to: ctx.query.limit === undefined ? Infinity : from + ctx.query.limit };
}

/** A page of rows already cut to the window, out of `total`. */
export function pageOf<Row>(ctx: QueryContext, rows: readonly Row[], total: number): Page<Row> {
  return { at: ctx.at, knownAt: ctx.knownAt, fleet: fleetLine(ctx), total, offset: ctx.query.offset ?? 0, rows };
}

/** The page of `rows` (every row, in report order) the query asks for. */
export function page<Row>(ctx: QueryContext, rows: readonly Row[]): Page<Row> {
  const { from, to } = pageWindow(ctx);
  return pageOf(ctx, rows.slice(from, to), rows.length);
}

/** String order by UTF-16 code units (the order every report sorts by). */
export function compareText(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}

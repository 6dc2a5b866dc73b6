// The sites report (every selected site: labels, last contact, completeThrough, drift count) and
// one site in detail (coverage, seal indexes, blocks).
import { isValidSiteId } from '../../common/site-id.js';
import { siteDriftCore } from './drift.js';
import { FleetError, FleetErrorCode } from './errors.js';
import { contactCut, freshness, knownSites, pageOf, pageWindow, prepare, type FleetInputs, type QueryContext, type SiteContext } from './query.js';
import type { SiteView } from './site-view.js';
import type { Page, ReportQuery, SiteDetail, SiteRow } from './types.js';

function siteRow(ctx: QueryContext, s: SiteContext): SiteRow {
  return { ...freshness(ctx, s), labels: s.labels, driftCount: siteDriftCore(ctx, s).length };
}

/**
 * The sites report, rows sorted by site. Throws DW_FLEET_BAD_QUERY, DW_FLEET_BAD_SELECTOR or
 * DW_FLEET_NOT_INDEXED (see checkQuery).
 */
export function sitesReport(inputs: FleetInputs, query: ReportQuery): Page<SiteRow> {
  const ctx = prepare(inputs, query);
  const { from, to } = pageWindow(ctx);
  return pageOf(ctx, ctx.sites.slice(from, to).map((s) => siteRow(ctx, s)), ctx.sites.length);
}

/** Event-time ranges held: round runs joined when the gap between them is at most one step. */
function coverage(view: SiteView): [number, number][] {
  const runs = view.runs;
  const out: [number, number][] = [];
  let prevStep = 0;
  for (let i = 0; i < runs.n; i++) {
    const first = runs.first[i]!;
    const last = runs.last(i);
    const step = runs.step[i]!;
    const tail = out[out.length - 1];
    if (tail !== undefined && first - tail[1] <= Math.max(step, prevStep)) tail[1] = Math.max(tail[1], last);
    else out.push([first, last]);
    prevStep = step;
  }
  return out;
}

/**
 * One site in detail. Throws DW_FLEET_UNKNOWN_SITE when the site id is not one, or the center
 * knew nothing of it (no block, no contact) by knownAt; the query's selector, offset and limit
 * are ignored.
 */
export function siteDetail(inputs: FleetInputs, site: string, query: ReportQuery): SiteDetail {
  if (typeof site !== 'string' || !isValidSiteId(site)) {
    throw new FleetError(FleetErrorCode.UnknownSite, `expected a site id (letters, digits, ".", "_" and "-", starting with a letter or digit), found ${JSON.stringify(site)}`);
  }
  const ctx = prepare(inputs, { at: query.at, knownAt: query.knownAt });
  const s = ctx.sites.find((x) => x.site === site);
  if (s === undefined) {
    const known = knownSites(inputs, query.knownAt).length;
    throw new FleetError(FleetErrorCode.UnknownSite, `expected a site the center knew of by knownAt ${query.knownAt} (one of ${known} with a block or a contact), found ${JSON.stringify(site)}`);
  }
  const view = s.view;
  const contact = inputs.contacts.lastContact(site, contactCut(ctx));
  let superseded = 0;
  if (view !== undefined) {
    const ids = new Set(view.blocks.map((b) => b.id));
    for (const b of view.blocks) for (const r of b.replaces) if (ids.delete(r)) superseded++;
  }
  return {
    ...siteRow(ctx, s),
    coverage: view === undefined ? [] : coverage(view),
    seal: view === undefined ? [] : view.completeness.seal.map((c) => ({ store: c.store, held: c.held, missing: c.missing, dropped: c.dropped })),
    blocks: view?.blocks.length ?? 0,
    supersededBlocks: superseded,
    series: view === undefined ? 0 : countSeries(view),
    backlogBlocks: contact?.backlogBlocks,
    backlogBytes: contact?.backlogBytes,
  };
}

/** Series present in some round visible at knownAt. */
function countSeries(view: SiteView): number {
  let n = 0;
  for (let i = 0; i < view.data.series.count; i++) if (view.presentBy(i, Infinity)) n++;
  return n;
}

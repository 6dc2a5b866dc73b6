// The stale report: selected sites whose last data at or before `at` is older than their
// staleness threshold (or that have none), split into dark (no contact within the threshold
// either) and backlogged (the agent calls in, its data lags).
import { staleAfterFor } from '../policy/index.js';
import { contactCut, freshness, page, prepare, type FleetInputs, type QueryContext, type SiteContext } from './query.js';
import type { Page, ReportQuery, StaleRow } from './types.js';

/** The staleness threshold of a site at `at`: policies in force then that select it (1 h when none says). */
export function staleAfterOf(ctx: QueryContext, s: SiteContext): number {
  const revision = ctx.inputs.policies.inForceAt(ctx.at, { knownAt: ctx.knownAt });
  return staleAfterFor(revision === undefined ? [] : ctx.cache.policies(revision, s.labels));
}

/** The stale row of a site, or undefined when it is not stale at `at`. */
export function siteStale(ctx: QueryContext, s: SiteContext): StaleRow | undefined {
  const staleAfterMs = staleAfterOf(ctx, s);
  const lastDataT = s.view?.lastDataAt(ctx.at);
  if (lastDataT !== undefined && ctx.at - lastDataT <= staleAfterMs) return undefined;
  const contact = ctx.inputs.contacts.lastContact(s.site, contactCut(ctx));
  const backlogged = contact !== undefined && ctx.at - contact.at <= staleAfterMs;
  return {
    ...freshness(ctx, s),
    state: backlogged ? 'backlogged' : 'dark',
    staleAfterMs,
    backlogBlocks: contact?.backlogBlocks,
    backlogBytes: contact?.backlogBytes,
  };
}

/**
 * The stale report, rows sorted by site. Throws DW_FLEET_BAD_QUERY, DW_FLEET_BAD_SELECTOR or
 * DW_FLEET_NOT_INDEXED (see checkQuery).
 */
export function staleReport(inputs: FleetInputs, query: ReportQuery): Page<StaleRow> {
  const ctx = prepare(inputs, query);
  const rows: StaleRow[] = [];
  for (const s of ctx.sites) {
    const r = siteStale(ctx, s);
    if (r !== undefined) rows.push(r);
  }
  return page(ctx, rows);
}

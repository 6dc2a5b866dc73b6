// The drift report: every (site, series, expectation) whose value at `at` does not satisfy the
// revision in force at `at`, with since when it has drifted without interruption — each earlier
// stretch judged against the revision in force then.
import type { PolicyRevision } from '../policy/index.js';
import type { PolicyExpectation } from './policy-cache.js';
import { compareText, freshness, pageOf, pageWindow, prepare, siteMemo, type FleetInputs, type QueryContext, type SiteContext } from './query.js';
import type { DriftRow, Page, ReportQuery, SiteFreshness } from './types.js';

/** Since when local series `i` has drifted from `pe` (in force at `at` in `revision`), walking back over earlier revisions. */
function driftSince(ctx: QueryContext, s: SiteContext, i: number, pe: PolicyExpectation, revision: PolicyRevision, dataT: number): number {
  const view = s.view!;
  const series = view.data.series;
  let rev = revision;
  let expectation = pe.expectation;
  let r: number | undefined = dataT;
  let since = dataT;
  while (r !== undefined) {
    const c = series.changeAt(i, r);
    if (c < 0) break; // before the series first appeared: not drift
    if (ctx.cache.check(expectation, { kind: series.kind[c]!, value: series.value[c]! }).ok) break;
    const runStart = view.firstDataAtOrAfter(series.t[c]!)!;
    const start = Math.max(runStart, rev.effectiveAt);
    since = start;
    r = view.lastDataAt(start - 1);
    if (r === undefined) break;
    const prev = ctx.inputs.policies.inForceAt(start - 1, { knownAt: ctx.knownAt });
    if (prev === undefined) break;
    if (prev !== rev) {
      if (!ctx.cache.policies(prev, s.labels).some((p) => p.name === pe.policy.name)) break;
      const found = ctx.cache.find(prev, pe.policy.name, pe.expectation.series.text);
      if (found === undefined) break;
      rev = prev;
      expectation = found.expectation;
    }
  }
  return since;
}

/** A drift row without the site's freshness (which moves with contacts). */
type DriftCore = Omit<DriftRow, keyof SiteFreshness>;

/** The drift of one site at the query's `at`, in report order, without its freshness. */
export function siteDriftCore(ctx: QueryContext, s: SiteContext, revision = ctx.inputs.policies.inForceAt(ctx.at, { knownAt: ctx.knownAt })): readonly DriftCore[] {
  if (s.view === undefined || revision === undefined) return [];
  return siteMemo(ctx, s, `${ctx.policyKey}|drift|${revision.seq}`, () => driftCore(ctx, s, revision).sort(compareCore));
}

/** The drift rows of one site at the query's `at`, in report order. */
export function siteDrift(ctx: QueryContext, s: SiteContext): DriftRow[] {
  const core = siteDriftCore(ctx, s);
  if (core.length === 0) return [];
  const fresh = freshness(ctx, s);
  return core.map((c) => ({ ...fresh, ...c }));
}

function driftCore(ctx: QueryContext, s: SiteContext, revision: PolicyRevision): DriftCore[] {
  const view = s.view!;
  const dataT = view.lastDataAt(ctx.at);
  if (dataT === undefined) return [];
  const expectations = ctx.cache.expectations(revision, s.labels);
  if (expectations.length === 0) return [];
  const series = view.data.series;
  const ids = series.ids;
  const keys = ctx.inputs.index.series.keys;
  const rows: DriftCore[] = [];
  for (const pe of expectations) {
    const matching = ctx.cache.matching(pe.expectation);
    const verdicts = ctx.cache.verdicts(pe.expectation);
    // The site's series the expectation selects: both lists are sorted by global id; walk them
    // together when they are of a size, else look each match up.
    const walk = matching.length * 11 > matching.length + ids.length;
    let j = 0;
    for (let m = 0; m < matching.length; m++) {
      const gid = matching[m]!;
      let i: number;
      if (walk) {
        while (j < ids.length && ids[j]! < gid) j++;
        if (j >= ids.length) break;
        if (ids[j] !== gid) continue;
        i = j;
      } else {
        i = series.indexOf(gid);
        if (i < 0) continue;
      }
      // Most series last changed before `at`: their last change point, without a search.
      const last = series.start[i + 1]! - 1;
      const c = series.t[last]! <= dataT ? last : series.changeAt(i, dataT);
      if (c < 0) continue; // not appeared yet at `at`
      const kind = series.kind[c]!;
      const value = series.value[c]!;
      if (ctx.cache.satisfies(pe.expectation, verdicts, kind, value)) continue;
      if (kind === 0 && !view.presentBy(i, dataT)) continue; // never present in a round known by knownAt
      const v = { kind, value };
      rows.push({
        series: keys[gid]!, expected: ctx.cache.check(pe.expectation, v).expectedText, actual: view.text(v),
        since: driftSince(ctx, s, i, pe, revision, dataT), policy: pe.policy.name, revision: revision.id,
      });
    }
  }
  return rows;
}

/** Report order within a site: series, policy, expected. */
function compareCore(a: DriftCore, b: DriftCore): number {
  return compareText(a.series, b.series) || compareText(a.policy, b.policy) || compareText(a.expected, b.expected);
}

/**
 * The drift report. Throws DW_FLEET_BAD_QUERY, DW_FLEET_BAD_SELECTOR or DW_FLEET_NOT_INDEXED
 * (see checkQuery). Rows sorted by site, series, policy, expected value; only the page's rows
 * are built in full.
 */
export function driftReport(inputs: FleetInputs, query: ReportQuery): Page<DriftRow> {
  const ctx = prepare(inputs, query);
  const { from, to } = pageWindow(ctx);
  const revision = ctx.inputs.policies.inForceAt(ctx.at, { knownAt: ctx.knownAt });
  const rows: DriftRow[] = [];
  let total = 0;
  for (const s of ctx.sites) {
    const core = siteDriftCore(ctx, s, revision);
    if (core.length === 0) continue;
    if (total + core.length > from && total < to) {
      const fresh = freshness(ctx, s);
      for (let k = Math.max(0, from - total); k < core.length && total + k < to; k++) rows.push({ ...fresh, ...core[k]! });
    }
    total += core.length;
  }
  return pageOf(ctx, rows, total);
}

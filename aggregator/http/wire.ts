// The fleet API's JSON bodies: the report types of aggregator/fleet/types.ts with every point in
// time as RFC 3339 text (UTC, milliseconds) and every missing value as null. `driftwatch report`
// reads these types back. See docs/api.md.
import { formatRfc3339 } from '../../common/rfc3339.js';
import type {
  DriftRow, Evidence, FleetLine, Page, SiteDetail, SiteFreshness, SiteRow, StaleRow, UpgradeReason, UpgradeRow, UpgradesPage, UpgradeStatus,
  UpgradeSummary,
} from '../fleet/types.js';

/** RFC 3339 text: `2025-11-20T12:00:00.000Z`. */
export type WireTime = string;

export interface WireFreshness {
  readonly site: string;
  readonly lastDataT: WireTime | null;
  readonly completeThrough: WireTime | null;
  readonly lastContactAt: WireTime | null;
}

export interface WireDriftRow extends WireFreshness {
  readonly series: string;
  readonly expected: string;
  /** null: the series is absent at `at`. */
  readonly actual: string | null;
  readonly since: WireTime;
  readonly policy: string;
  readonly revision: string;
}

export interface WireEvidence {
  readonly t: WireTime;
  readonly kind: Evidence['kind'];
  readonly text: string;
}

export interface WireUpgradeRow extends WireFreshness {
  readonly policy: string;
  readonly revision: string;
  readonly revisionEffectiveAt: WireTime;
  readonly status: UpgradeStatus;
  readonly reason: UpgradeReason;
  readonly convergedAt: WireTime | null;
  readonly deadline: WireTime;
  readonly evidence: readonly WireEvidence[];
}

export interface WireStaleRow extends WireFreshness {
  readonly state: StaleRow['state'];
  readonly staleAfterMs: number;
  readonly backlogBlocks: number | null;
  readonly backlogBytes: number | null;
}

export interface WireSiteRow extends WireFreshness {
  readonly labels: Readonly<Record<string, string>>;
  readonly driftCount: number;
}

/** One page of a report. */
export interface WirePage<Row> {
  readonly at: WireTime;
  readonly knownAt: WireTime;
  /** The selector applied, as given; null: every site. */
  readonly selector: string | null;
  readonly fleet: FleetLine;
  /** Rows in the whole report. */
  readonly total: number;
  /** Rows skipped before this page. */
  readonly offset: number;
  /** The most rows a page holds (the request's limit). */
  readonly limit: number;
  /** The next page (at and known_at pinned, so it continues this very answer), or null: this is the last. */
  readonly next: string | null;
  readonly rows: readonly Row[];
}

/** GET /fleet/v1/upgrades: a page of one revision's rows, with counts over every row. */
export interface WireUpgradesPage extends WirePage<WireUpgradeRow> {
  /** The revision followed; null when no revision changed an expected value by `at`. */
  readonly revision: string | null;
  readonly revisionSeq: number | null;
  readonly revisionEffectiveAt: WireTime | null;
  readonly summary: UpgradeSummary;
}

/** One edge store's seal indexes as known at knownAt: [first, last] pairs. */
export interface WireSealCoverage {
  readonly store: string;
  readonly held: readonly (readonly [number, number])[];
  readonly missing: readonly (readonly [number, number])[];
  readonly dropped: readonly (readonly [number, number])[];
}

export interface WireSiteDetail extends WireSiteRow {
  /** Event-time ranges held, [from, to]. */
  readonly coverage: readonly (readonly [WireTime, WireTime])[];
  readonly seal: readonly WireSealCoverage[];
  readonly blocks: number;
  readonly supersededBlocks: number;
  readonly series: number;
  readonly backlogBlocks: number | null;
  readonly backlogBytes: number | null;
}

/** GET /fleet/v1/sites/:site. */
export interface WireSiteReport {
  readonly at: WireTime;
  readonly knownAt: WireTime;
  readonly site: WireSiteDetail;
}

function time(ms: number): WireTime {
  return formatRfc3339(ms);
}

function optTime(ms: number | undefined): WireTime | null {
  return ms === undefined ? null : formatRfc3339(ms);
}

function freshness(r: SiteFreshness): WireFreshness {
  return { site: r.site, lastDataT: optTime(r.lastDataT), completeThrough: optTime(r.completeThrough), lastContactAt: optTime(r.lastContactAt) };
}

export function wireDriftRow(r: DriftRow): WireDriftRow {
  return {
    ...freshness(r), series: r.series, expected: r.expected, actual: r.actual ?? null, since: time(r.since), policy: r.policy, revision: r.revision,
  };
}

export function wireUpgradeRow(r: UpgradeRow): WireUpgradeRow {
  return {
    ...freshness(r), policy: r.policy, revision: r.revision, revisionEffectiveAt: time(r.revisionEffectiveAt), status: r.status, reason: r.reason,
    convergedAt: optTime(r.convergedAt), deadline: time(r.deadline),
    evidence: r.evidence.map((e) => ({ t: time(e.t), kind: e.kind, text: e.text })),
  };
}

export function wireStaleRow(r: StaleRow): WireStaleRow {
  return { ...freshness(r), state: r.state, staleAfterMs: r.staleAfterMs, backlogBlocks: r.backlogBlocks ?? null, backlogBytes: r.backlogBytes ?? null };
}

export function wireSiteRow(r: SiteRow): WireSiteRow {
  return { ...freshness(r), labels: { ...r.labels }, driftCount: r.driftCount };
}

function pairs(flat: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

export function wireSiteDetail(d: SiteDetail): WireSiteDetail {
  return {
    ...wireSiteRow(d),
    coverage: d.coverage.map(([from, to]) => [time(from), time(to)] as const),
    seal: d.seal.map((c) => ({ store: c.store, held: pairs(c.held), missing: pairs(c.missing), dropped: pairs(c.dropped) })),
    blocks: d.blocks, supersededBlocks: d.supersededBlocks, series: d.series, backlogBlocks: d.backlogBlocks ?? null, backlogBytes: d.backlogBytes ?? null,
  };
}

/** The upgrades page in its wire form. */
export function wireUpgradesPage(page: UpgradesPage, extra: { selector: string | null; limit: number; next: string | null }): WireUpgradesPage {
  const s = page.summary;
  return {
    ...wirePage(page, wireUpgradeRow, extra),
    revision: page.revision ?? null, revisionSeq: page.revisionSeq ?? null, revisionEffectiveAt: optTime(page.revisionEffectiveAt),
    summary: { converged: s.converged, in_progress: s.in_progress, failed: s.failed, unknown: s.unknown },
  };
}

/** A page in its wire form; `next` is computed by the caller (it knows the route and the query). */
export function wirePage<Row, Wire>(page: Page<Row>, row: (r: Row) => Wire, extra: { selector: string | null; limit: number; next: string | null }): WirePage<Wire> {
  return {
    at: time(page.at), knownAt: time(page.knownAt), selector: extra.selector,
    fleet: { sites: page.fleet.sites, sitesWithData: page.fleet.sitesWithData, sitesCompleteThroughAt: page.fleet.sitesCompleteThroughAt },
    total: page.total, offset: page.offset, limit: extra.limit, next: extra.next, rows: page.rows.map(row),
  };
}

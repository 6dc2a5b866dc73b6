// The fleet reports' contract: what the merge index answers and what each report returns. The
// HTTP API (/fleet/v1/*) and the CLI (`driftwatch report`) serialise these types; the index and
// the report functions compute them. See docs/reports.md.
//
// Times are milliseconds since the epoch. Every report takes `at` (event time: the state as of
// then) and `knownAt` (arrival cutoff: only blocks and contacts that had arrived by then). The
// same query with the same knownAt gives the same answer forever.

/** How fresh and how complete one site's data is, as of a query's knownAt. */
export interface SiteFreshness {
  readonly site: string;
  /** The latest round time held for the site (undefined: no data). */
  readonly lastDataT: number | undefined;
  /**
   * The latest time T such that every block the site sealed with data before T is held (or
   * reported dropped by the edge): no unexplained gap before it. Undefined: nothing held.
   */
  readonly completeThrough: number | undefined;
  /** The last hello or heartbeat that had arrived by knownAt (center clock) — and by `at`, for a query about the past. */
  readonly lastContactAt: number | undefined;
}

/** The fleet line every report carries. */
export interface FleetLine {
  /** Sites the selector matched that the center knows of (by knownAt). */
  readonly sites: number;
  /** Of them, sites with any data at or before `at`. */
  readonly sitesWithData: number;
  /** Of them, sites complete through `at` (completeThrough ≥ at). */
  readonly sitesCompleteThroughAt: number;
}

export interface ReportQuery {
  /** Event time. Required here; the HTTP API defaults it to knownAt. */
  readonly at: number;
  /** Arrival cutoff. Required here; the HTTP API defaults it to the watermark, the latest final cut ("now"). */
  readonly knownAt: number;
  /** A Kubernetes-style label selector on site labels (`region=eu,tier!=lab`); default all. */
  readonly selector?: string;
  /** Pagination: rows to skip and the most to return (the fleet line always covers all). */
  readonly offset?: number;
  readonly limit?: number;
}

export interface Page<Row> {
  readonly at: number;
  readonly knownAt: number;
  readonly fleet: FleetLine;
  readonly total: number;
  readonly offset: number;
  readonly rows: readonly Row[];
}

export interface DriftRow extends SiteFreshness {
  /** The series, as a PromQL selector text (`name{a="b"}`). */
  readonly series: string;
  readonly expected: string;
  /** The value held at `at`; undefined when the series is absent (absent ≠ unchanged). */
  readonly actual: string | undefined;
  /** Since when (event time) the series has been drifting without interruption. */
  readonly since: number;
  readonly policy: string;
  /** The policy revision in force at `at`. */
  readonly revision: string;
}

export type UpgradeStatus = 'converged' | 'in_progress' | 'failed' | 'unknown';

export type UpgradeReason =
  | 'converged'
  | 'within_deadline'
  | 'no_data_dark'
  | 'no_data_backlogged'
  | 'image_pull_error'
  | 'crash_loop'
  | 'rolled_back'
  | 'resource_exhaustion'
  | 'gitops_error'
  | 'deadline_passed';

/** One piece of evidence: an event or a state change, with its time. */
export interface Evidence {
  readonly t: number;
  /** `contact` (added by the fleet reports, issue 5): the last hello or heartbeat, with the backlog it reported. */
  readonly kind: 'event' | 'state' | 'contact';
  /** For events: kind/reason/message; for state: series, from → to; for contact: what the agent last said. */
  readonly text: string;
}

export interface UpgradeRow extends SiteFreshness {
  readonly policy: string;
  /** The revision that changed the expected values, and when it took effect. */
  readonly revision: string;
  readonly revisionEffectiveAt: number;
  readonly status: UpgradeStatus;
  readonly reason: UpgradeReason;
  /** When the site converged (status converged). */
  readonly convergedAt?: number;
  readonly deadline: number;
  readonly evidence: readonly Evidence[];
}

export interface StaleRow extends SiteFreshness {
  /** dark: no contact either; backlogged: contact arrives, data lags. */
  readonly state: 'dark' | 'backlogged';
  readonly staleAfterMs: number;
  readonly backlogBlocks: number | undefined;
  readonly backlogBytes: number | undefined;
}

export interface SiteRow extends SiteFreshness {
  readonly labels: Readonly<Record<string, string>>;
  readonly driftCount: number;
}

// ---- Extensions added with the reports (issue 5); all compatible with the contract above. ----

/** An upgrades query: which revision's change to follow (default: see docs/reports.md). */
export interface UpgradeQuery extends ReportQuery {
  /**
   * A revision id (a content hash or commit sha), or `seq:N`. Default: the latest revision in
   * force at `at` (as known at knownAt) that changed or added an expected value.
   */
  readonly revision?: string;
  /** Only this policy's rows; DW_FLEET_UNKNOWN_POLICY when the revision has no such policy with a changed value. */
  readonly policy?: string;
}

export interface UpgradeSummary {
  readonly converged: number;
  readonly in_progress: number;
  readonly failed: number;
  readonly unknown: number;
}

/** The upgrades report: a Page of rows for one revision, with counts over every row. */
export interface UpgradesPage extends Page<UpgradeRow> {
  /** The revision followed, or undefined when no revision changed an expected value by `at`. */
  readonly revision: string | undefined;
  readonly revisionSeq: number | undefined;
  readonly revisionEffectiveAt: number | undefined;
  /** Counts by status over all rows (not only this page). */
  readonly summary: UpgradeSummary;
}

/** One edge store's seal indexes as known at knownAt (pairs of first, last). */
export interface SealCoverageRow {
  readonly store: string;
  readonly held: readonly number[];
  readonly missing: readonly number[];
  readonly dropped: readonly number[];
}

/** One site in detail (`/fleet/v1/sites/:site`). */
export interface SiteDetail extends SiteRow {
  /** Event-time ranges held, as [from, to] pairs of round times. */
  readonly coverage: readonly (readonly [number, number])[];
  readonly seal: readonly SealCoverageRow[];
  /** Blocks held by knownAt, and of them those a held compaction replaces. */
  readonly blocks: number;
  readonly supersededBlocks: number;
  readonly series: number;
  readonly backlogBlocks: number | undefined;
  readonly backlogBytes: number | undefined;
}

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
  /** The last hello or heartbeat that had arrived by knownAt (center clock). */
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
  /** Event time; default now. */
  readonly at: number;
  /** Arrival cutoff; default now. */
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
  readonly kind: 'event' | 'state';
  /** For events: kind/reason/message; for state: series, from → to. */
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

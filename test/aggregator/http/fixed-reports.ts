// A small in-test FleetReports that answers fixed pages — NOT the real merge index (that lives in
// aggregator/fleet/ and gets its own end-to-end tests). It lets the HTTP layer and the CLI be
// tested on their own: schemas, parameters, errors, paging passthrough and rendering. It pages
// its fixed rows by offset/limit like a real implementation must, and records every query.
import type { FleetReports, SiteQuery } from '../../../aggregator/index.js';
import { FleetError, FleetErrorCode } from '../../../aggregator/fleet/index.js';
import type {
  DriftRow, FleetLine, Page, ReportQuery, SiteDetail, SiteRow, StaleRow, UpgradeQuery, UpgradeRow, UpgradesPage,
} from '../../../aggregator/fleet/types.js';

/** 2025-11-20T12:00:00Z: the fixed reports' `at`. */
export const AT = Date.UTC(2025, 10, 20, 12);
const MIN = 60_000;
const HOUR = 3_600_000;

export const FLEET: FleetLine = { sites: 480, sitesWithData: 479, sitesCompleteThroughAt: 477 };

const fresh = (site: string, lastData: number | undefined, complete: number | undefined, contact: number | undefined) => ({
  site, lastDataT: lastData, completeThrough: complete, lastContactAt: contact,
});

export const DRIFT_ROWS: readonly DriftRow[] = [
  {
    ...fresh('shop-0042', AT - 15_000, AT - 15_000, AT - 10_000), series: 'kube_deployment_container_image{deployment="pos",namespace="shop"}',
    expected: 'semver >=2.5.0 (registry.example/pos)', actual: 'registry.example/pos:2.4.1', since: AT - 3 * HOUR, policy: 'pos-rollout', revision: 'a1b2c3d',
  },
  {
    ...fresh('shop-0107', AT - 2 * HOUR, AT - 2 * HOUR, AT - 30 * MIN), series: 'kube_deployment_container_image{deployment="pos",namespace="shop"}',
    expected: 'semver >=2.5.0 (registry.example/pos)', actual: undefined, since: AT - 26 * HOUR, policy: 'pos-rollout', revision: 'a1b2c3d',
  },
  {
    ...fresh('shop-0311', AT - 15_000, AT - 15_000, AT - 5_000), series: 'node_os_info{name="Ubuntu"}',
    expected: 'one of "24.04", "22.04"', actual: '20.04, "focal"', since: AT - 9 * 86_400_000, policy: 'base-os', revision: 'a1b2c3d',
  },
];

export const UPGRADE_ROWS: readonly UpgradeRow[] = [
  {
    ...fresh('shop-0042', AT - 15_000, AT - 15_000, AT - 10_000), policy: 'pos-rollout', revision: 'a1b2c3d', revisionEffectiveAt: AT - 6 * HOUR,
    status: 'failed', reason: 'image_pull_error', deadline: AT - 2 * HOUR,
    evidence: [
      { t: AT - 5 * HOUR, kind: 'event', text: 'Pod shop/pos-7d9f Failed: ErrImagePull registry.example/pos:2.5.0: not found' },
      { t: AT - 5 * HOUR + MIN, kind: 'event', text: 'Pod shop/pos-7d9f BackOff: Back-off pulling image "registry.example/pos:2.5.0"' },
    ],
  },
  {
    ...fresh('shop-0107', AT - 2 * HOUR, AT - 2 * HOUR, AT - 30 * MIN), policy: 'pos-rollout', revision: 'a1b2c3d', revisionEffectiveAt: AT - 6 * HOUR,
    status: 'unknown', reason: 'no_data_backlogged', deadline: AT - 2 * HOUR,
    evidence: [{ t: AT - 30 * MIN, kind: 'state', text: 'heartbeat: backlog 14 blocks (3.1 MB), last round 2025-11-20T10:00:00Z' }],
  },
  {
    ...fresh('shop-0200', AT - 15_000, AT - 15_000, AT - 12_000), policy: 'pos-rollout', revision: 'a1b2c3d', revisionEffectiveAt: AT - 6 * HOUR,
    status: 'converged', reason: 'converged', convergedAt: AT - 5 * HOUR - 20 * MIN, deadline: AT - 2 * HOUR,
    evidence: [{ t: AT - 5 * HOUR - 20 * MIN, kind: 'state', text: 'kube_deployment_container_image{deployment="pos"}: registry.example/pos:2.4.1 → registry.example/pos:2.5.0' }],
  },
  {
    ...fresh('shop-0311', undefined, undefined, AT - 4 * 86_400_000), policy: 'base-os', revision: 'a1b2c3d', revisionEffectiveAt: AT - 6 * HOUR,
    status: 'failed', reason: 'no_data_dark', deadline: AT - 2 * HOUR,
    evidence: [{ t: AT - 4 * 86_400_000, kind: 'contact', text: 'last heartbeat: backlog 0 blocks; nothing since' }],
  },
];

export const STALE_ROWS: readonly StaleRow[] = [
  { ...fresh('shop-0107', AT - 2 * HOUR, AT - 2 * HOUR, AT - 30 * MIN), state: 'backlogged', staleAfterMs: 15 * MIN, backlogBlocks: 14, backlogBytes: 3_100_000 },
  { ...fresh('shop-0311', AT - 4 * 86_400_000, AT - 4 * 86_400_000 - HOUR, AT - 4 * 86_400_000), state: 'dark', staleAfterMs: HOUR, backlogBlocks: undefined, backlogBytes: undefined },
];

export const SITE_ROWS: readonly SiteRow[] = [
  { ...fresh('shop-0042', AT - 15_000, AT - 15_000, AT - 10_000), labels: { region: 'eu-north', tier: 'shop' }, driftCount: 1 },
  { ...fresh('shop-0107', AT - 2 * HOUR, AT - 2 * HOUR, AT - 30 * MIN), labels: { region: 'eu-west', tier: 'shop', customer: 'Acme, "North"' }, driftCount: 1 },
  { ...fresh('shop-0200', AT - 15_000, AT - 15_000, AT - 12_000), labels: { region: 'eu-north', tier: 'flagship' }, driftCount: 0 },
  { ...fresh('shop-0311', undefined, undefined, undefined), labels: {}, driftCount: 1 },
];

/** The revision every fixed upgrade row follows. */
export const REVISION = { id: 'a1b2c3d', seq: 12, effectiveAt: AT - 6 * HOUR } as const;

/** The detail of every fixed site. */
function detail(row: SiteRow): SiteDetail {
  const held = row.lastDataT !== undefined;
  return {
    ...row,
    coverage: held ? [[AT - 7 * 86_400_000, AT - 26 * HOUR], [AT - 25 * HOUR, row.lastDataT!]] : [],
    seal: held ? [{ store: '01KAG0000000000000000STORE', held: [0, 41, 44, 310], missing: [42, 43], dropped: [] }] : [],
    blocks: held ? 312 : 0, supersededBlocks: held ? 288 : 0, series: held ? 2_200 : 0,
    backlogBlocks: row.site === 'shop-0107' ? 14 : undefined, backlogBytes: row.site === 'shop-0107' ? 3_100_000 : undefined,
  };
}

/** What the fixed reports were asked. */
export interface RecordedCall {
  readonly method: keyof FleetReports;
  readonly query: { readonly at: number; readonly knownAt: number; readonly offset?: number; readonly limit?: number; readonly selector?: string; readonly policy?: string };
  readonly site?: string;
}

function page<Row>(rows: readonly Row[], q: ReportQuery): Page<Row> {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? rows.length;
  return { at: q.at, knownAt: q.knownAt, fleet: FLEET, total: rows.length, offset, rows: rows.slice(offset, offset + limit) };
}

/** The fixed in-test implementation. `fail` makes the next call throw it. */
export class FixedFleetReports implements FleetReports {
  readonly calls: RecordedCall[] = [];
  fail: Error | undefined;
  /** Replaces the rows of one report (e.g. many rows for paging). */
  drifts: readonly DriftRow[] = DRIFT_ROWS;

  #take(method: keyof FleetReports, query: RecordedCall['query'], site?: string): void {
    this.calls.push({ method, query, ...(site === undefined ? {} : { site }) });
    const f = this.fail;
    this.fail = undefined;
    if (f !== undefined) throw f;
  }

  async drift(q: ReportQuery): Promise<Page<DriftRow>> {
    this.#take('drift', q);
    return page(this.drifts, q);
  }

  async upgrades(q: UpgradeQuery): Promise<UpgradesPage> {
    this.#take('upgrades', q);
    if (q.revision !== undefined && q.revision !== REVISION.id && q.revision !== `seq:${REVISION.seq}`) {
      throw new FleetError(FleetErrorCode.UnknownRevision, `expected a policy revision known by knownAt (${REVISION.id} or seq:${REVISION.seq}), found ${JSON.stringify(q.revision)}`);
    }
    if (q.policy !== undefined && !UPGRADE_ROWS.some((r) => r.policy === q.policy)) {
      throw new FleetError(FleetErrorCode.UnknownPolicy, `expected a policy whose expected values revision ${REVISION.id} changed, found none named ${JSON.stringify(q.policy)}`);
    }
    const rows = UPGRADE_ROWS.filter((r) => q.policy === undefined || r.policy === q.policy);
    const count = (s: UpgradeRow['status']): number => rows.filter((r) => r.status === s).length;
    return {
      ...page(rows, q), revision: REVISION.id, revisionSeq: REVISION.seq, revisionEffectiveAt: REVISION.effectiveAt,
      summary: { converged: count('converged'), in_progress: count('in_progress'), failed: count('failed'), unknown: count('unknown') },
    };
  }

  async stale(q: ReportQuery): Promise<Page<StaleRow>> {
    this.#take('stale', q);
    return page(STALE_ROWS, q);
  }

  async sites(q: ReportQuery): Promise<Page<SiteRow>> {
    this.#take('sites', q);
    return page(SITE_ROWS, q);
  }

  async site(site: string, q: SiteQuery): Promise<SiteDetail | undefined> {
    this.#take('site', q, site);
    // Both ways of saying "unknown" that FleetReports allows: the fleet's error, or undefined.
    if (site === 'shop-9998') throw new FleetError(FleetErrorCode.UnknownSite, `expected a site the center knew of by knownAt ${q.knownAt}, found "shop-9998"`);
    const row = SITE_ROWS.find((r) => r.site === site);
    return row === undefined ? undefined : detail(row);
  }
}

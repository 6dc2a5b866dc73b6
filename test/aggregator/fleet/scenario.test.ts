// The upgrade scenario (scenario.ts) through every report: which sites converged and when, which
// did not and why (with the evidence), drift, stale (dark vs backlogged), sites; a site whose
// blocks arrive days late changes the answer about the past, while the same query with a knownAt
// before that arrival gives the earlier answer byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContactIndex, driftReport, siteDetail, sitesReport, staleReport, upgradesReport, type FleetInputs, type UpgradeRow, type UpgradesPage,
} from '../../../aggregator/fleet/index.js';
import { DAY, HOUR, indexOf, MIN, STEP, T0 } from './helpers.js';
import { LATE_ARRIVAL, scenario } from './scenario.js';

const S = scenario();
/** The center's view a little after T0+3h, before shop-late's blocks arrived. */
const EARLY = T0 + 3 * HOUR + 10 * MIN;
/** After everything arrived. */
const LATER = LATE_ARRIVAL + DAY;

function inputsAt(through: number): FleetInputs {
  const contacts = new ContactIndex({ resolutionMs: 0 });
  for (const c of S.contacts) if (c.at <= through) contacts.add(c);
  return { index: indexOf(S.arrivals, through), policies: S.history, contacts, labels: S.labels };
}

const early = inputsAt(EARLY);
const later = inputsAt(LATER);

function bySite(page: UpgradesPage): Record<string, UpgradeRow> {
  return Object.fromEntries(page.rows.map((r) => [r.site, r]));
}

function statusOf(page: UpgradesPage): Record<string, string> {
  return Object.fromEntries(page.rows.map((r) => [r.site, `${r.status}/${r.reason}`]));
}

test('upgrades within the deadline: who converged when, who did not and why', () => {
  const page = upgradesReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.equal(page.revisionEffectiveAt, T0);
  assert.deepEqual(statusOf(page), {
    'shop-backlog': 'unknown/no_data_backlogged',
    'shop-crash': 'failed/rolled_back',
    'shop-dark': 'unknown/no_data_dark',
    'shop-disk': 'in_progress/resource_exhaustion',
    'shop-late': 'unknown/no_data_dark',
    'shop-ok-1': 'converged/converged',
    'shop-ok-2': 'converged/converged',
    'shop-pull': 'in_progress/image_pull_error',
    'shop-slow': 'in_progress/within_deadline',
  });
  assert.deepEqual(page.summary, { converged: 2, in_progress: 3, failed: 1, unknown: 3 });
  assert.deepEqual(page.fleet, { sites: 10, sitesWithData: 10, sitesCompleteThroughAt: 7 }, 'dark, backlogged and late (no data after T0 as known) are not complete through at');
  const rows = bySite(page);
  assert.equal(rows['shop-ok-1']!.convergedAt, T0 + 12 * MIN, 'converged when the rollout finished, not when the image was asked for');
  assert.equal(rows['shop-ok-2']!.convergedAt, T0 + 25 * MIN);
  assert.equal(rows['shop-ok-1']!.deadline, T0 + 6 * HOUR);
  for (const r of page.rows) {
    assert.equal(r.revisionEffectiveAt, T0);
    assert.ok(r.evidence.length > 0, `${r.site} has evidence`);
  }
  const texts = (site: string) => rows[site]!.evidence.map((e) => `${e.kind}@${(e.t - T0) / MIN}m ${e.text}`);
  assert.ok(texts('shop-pull').some((t) => /^event@6m kubernetes\/Failed: Failed to pull image .*manifest unknown \(Pod shop\/pos-/.test(t)), texts('shop-pull').join('\n'));
  assert.ok(texts('shop-pull').includes('state@6m kube_workload_containers_waiting{namespace="shop",reason="ImagePullBackOff",workload="pos",workload_kind="Deployment"} is 1'), texts('shop-pull').join('\n'));
  assert.ok(texts('shop-pull').some((t) => t.startsWith('state@5m kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}: registry.example.com/shop/pos:2.4.1 → registry.example.com/shop/pos:2.5.0')));
  assert.ok(texts('shop-pull').some((t) => /rollout of deployment shop\/pos incomplete: 1 of 2 replicas updated, 1 unavailable/.test(t)));
  assert.ok(texts('shop-crash').some((t) => t.startsWith('state@40m kube_deployment_container_image') && t.endsWith('pos:2.5.0 → registry.example.com/shop/pos:2.4.1')), texts('shop-crash').join('\n'));
  assert.ok(texts('shop-crash').some((t) => /CrashLoopBackOff/.test(t) && t.startsWith('state@7m')));
  assert.ok(texts('shop-crash').some((t) => /^event@7m kubernetes\/BackOff: Back-off restarting failed container/.test(t)));
  assert.ok(texts('shop-disk').some((t) => /no space left on device/.test(t)));
  assert.ok(texts('shop-disk').some((t) => /kube_node_status_condition\{condition="DiskPressure",node="n1"\} is "True"/.test(t)));
  assert.ok(texts('shop-disk').some((t) => /node_filesystem_avail_bytes\{mountpoint="\/"\} is 1500000000/.test(t)));
  assert.deepEqual(rows['shop-backlog']!.evidence.map((e) => e.kind), ['state', 'contact']);
  assert.match(rows['shop-backlog']!.evidence[1]!.text, /last heartbeat from the agent; backlog 5 block\(s\), 100000 bytes/);
  assert.deepEqual(rows['shop-dark']!.evidence, [
    { t: T0 - 30 * MIN - STEP, kind: 'state', text: 'last data held from the site' },
    { t: T0 - 30 * MIN, kind: 'contact', text: `last heartbeat from the agent; backlog 0 block(s), 0 bytes; last round at ${new Date(T0 - 30 * MIN).toISOString()}` },
  ]);
  assert.equal(rows['shop-dark']!.lastDataT, T0 - 30 * MIN - STEP);
  assert.equal(rows['shop-dark']!.lastContactAt, T0 - 30 * MIN);
  assert.equal(rows['shop-ok-1']!.completeThrough, T0 + 3 * HOUR, 'complete through the last block that had arrived: its last round and one interval');
});

test('upgrades after the deadline: what was in progress has failed or converged', () => {
  const page = upgradesReport(later, { at: T0 + 7 * HOUR, knownAt: LATER });
  assert.deepEqual(statusOf(page), {
    'shop-backlog': 'unknown/no_data_backlogged',
    'shop-crash': 'failed/rolled_back',
    'shop-dark': 'unknown/no_data_dark',
    'shop-disk': 'failed/resource_exhaustion',
    'shop-late': 'converged/converged',
    'shop-ok-1': 'converged/converged',
    'shop-ok-2': 'converged/converged',
    'shop-pull': 'failed/image_pull_error',
    'shop-slow': 'converged/converged',
  });
  assert.equal(bySite(page)['shop-slow']!.convergedAt, T0 + 210 * MIN);
  assert.equal(bySite(page)['shop-late']!.convergedAt, T0 + 15 * MIN);
  const one = upgradesReport(later, { at: T0 + 7 * HOUR, knownAt: LATER, policy: 'shop-pos', selector: 'region=eu-north' });
  assert.deepEqual(one.rows.map((r) => r.site), ['shop-ok-2', 'shop-pull']);
  assert.deepEqual(one.summary, { converged: 1, in_progress: 0, failed: 1, unknown: 0 });
});

test('late blocks change the answer about the past; a knownAt before their arrival gives the earlier answer byte for byte', () => {
  const query = { at: T0 + 3 * HOUR, knownAt: EARLY };
  const reports = (inputs: FleetInputs, q: typeof query) => JSON.stringify({
    upgrades: upgradesReport(inputs, q), drift: driftReport(inputs, q), stale: staleReport(inputs, q), sites: sitesReport(inputs, q),
    late: siteDetail(inputs, 'shop-late', q),
  });
  const then = reports(early, query);
  const now = reports(later, query);
  assert.equal(now, then, 'the same query, asked again after the late blocks arrived, answers the same');
  const revised = reports(later, { ...query, knownAt: LATER });
  assert.notEqual(revised, then);
  const row = (inputs: FleetInputs, knownAt: number) => upgradesReport(inputs, { at: T0 + 3 * HOUR, knownAt }).rows.find((r) => r.site === 'shop-late')!;
  assert.equal(row(later, EARLY).status, 'unknown');
  assert.equal(row(later, LATE_ARRIVAL - 1).status, 'unknown', 'one millisecond before the arrival, still unknown');
  assert.equal(row(later, LATE_ARRIVAL).status, 'converged');
  assert.equal(row(later, LATE_ARRIVAL).convergedAt, T0 + 15 * MIN);
  const lateDetail = siteDetail(later, 'shop-late', { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.equal(lateDetail.lastDataT, T0 - STEP);
  assert.deepEqual(lateDetail.seal, [{ store: lateDetail.seal[0]!.store, held: [1, 2], missing: [], dropped: [] }]);
  assert.deepEqual(siteDetail(later, 'shop-late', { at: T0 + 3 * HOUR, knownAt: LATER }).coverage, [[T0 - 2 * HOUR, T0 + 8 * HOUR - STEP]]);
});

test('drift: each site and series off the revision in force at `at`, since when', () => {
  const page = driftReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.deepEqual(page.rows.map((r) => [r.site, r.actual, (r.since - T0) / MIN]), [
    ['shop-backlog', 'registry.example.com/shop/pos:2.4.1', 0],
    ['shop-crash', 'registry.example.com/shop/pos:2.4.1', 40],
    ['shop-dark', 'registry.example.com/shop/pos:2.4.1', 0],
    ['shop-late', 'registry.example.com/shop/pos:2.4.1', 0],
  ]);
  const r = page.rows[1]!;
  assert.equal(r.series, 'kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}');
  assert.equal(r.expected, 'registry.example.com/shop/pos with a tag in semver >=2.5.0 <2.6.0');
  assert.equal(r.policy, 'shop-pos');
  assert.equal(r.revision, S.history.inForceAt(T0)!.id);
  assert.equal(r.lastDataT, T0 + 3 * HOUR - STEP);
  // Before the change, judged against the revision then in force: everyone was fine, except the
  // early 2.5.0 of shop-crash between T0+5m and T0+40m is no drift either (it is after T0).
  assert.deepEqual(driftReport(early, { at: T0 - MIN, knownAt: EARLY }).rows, []);
  assert.deepEqual(driftReport(early, { at: T0 + 20 * MIN, knownAt: EARLY }).rows.map((x) => x.site), ['shop-backlog', 'shop-dark', 'shop-late', 'shop-ok-2', 'shop-slow']);
  assert.deepEqual(driftReport(later, { at: T0 + 3 * HOUR, knownAt: LATER }).rows.map((x) => x.site), ['shop-backlog', 'shop-crash', 'shop-dark']);
  // Pagination: the fleet line covers everything, rows only the page.
  const p2 = driftReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY, offset: 1, limit: 2 });
  assert.deepEqual(p2.rows.map((x) => x.site), ['shop-crash', 'shop-dark']);
  assert.equal(p2.total, 4);
  assert.deepEqual(p2.fleet, page.fleet);
});

test('stale: dark vs backlogged, with last contact, last data and backlog', () => {
  const page = staleReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.deepEqual(page.rows.map((r) => [r.site, r.state, r.staleAfterMs / HOUR, r.backlogBlocks]), [
    ['shop-backlog', 'backlogged', 2, 5],
    ['shop-dark', 'dark', 2, 0],
    ['shop-late', 'dark', 2, 0],
  ]);
  const b = page.rows[0]!;
  assert.equal(b.lastDataT, T0 - HOUR - STEP);
  assert.equal(b.lastContactAt, T0 + 3 * HOUR, 'the last heartbeat at or before `at`');
  assert.equal(b.backlogBytes, 100_000);
  assert.equal(b.completeThrough, T0 - HOUR);
  // lab-1 has no policy: the default threshold (1h), and it is fresh.
  assert.deepEqual(staleReport(later, { at: T0 + 3 * HOUR, knownAt: LATER }).rows.map((r) => r.site), ['shop-backlog', 'shop-dark']);
});

test('sites: labels, last contact, completeThrough, drift count; a selector picks sites by label', () => {
  const page = sitesReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.equal(page.total, 10);
  const row = Object.fromEntries(page.rows.map((r) => [r.site, r]));
  assert.equal(row['shop-crash']!.driftCount, 1);
  assert.equal(row['shop-ok-1']!.driftCount, 0);
  assert.deepEqual(row['lab-1']!.labels, { tier: 'lab', region: 'eu-west' });
  assert.equal(row['shop-ok-1']!.lastContactAt, T0 + 3 * HOUR);
  const shops = sitesReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY, selector: 'tier=shop, region notin (eu-north)' });
  assert.deepEqual(shops.rows.map((r) => r.site), ['shop-backlog', 'shop-crash', 'shop-dark', 'shop-disk', 'shop-late', 'shop-ok-1', 'shop-slow']);
  assert.equal(shops.fleet.sites, 7);
  assert.deepEqual(sitesReport(early, { at: T0 + 3 * HOUR, knownAt: EARLY, selector: '!tier' }).rows, []);
  const detail = siteDetail(early, 'shop-ok-1', { at: T0 + 3 * HOUR, knownAt: EARLY });
  assert.deepEqual(detail.coverage, [[T0 - 2 * HOUR, T0 + 3 * HOUR - STEP]]);
  assert.equal(detail.blocks, 5);
  assert.equal(detail.supersededBlocks, 0);
  assert.equal(detail.series, 8);
  assert.deepEqual(detail.seal[0]!.held, [1, 5]);
});

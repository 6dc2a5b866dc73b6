// Any arrival order of the same blocks gives byte-identical reports: random site histories
// (value changes, absences, events, compactions that replace some of the blocks, a block dropped
// at the edge with its data_dropped event), indexed in a random arrival order, against the same
// blocks in the order they were sealed. Seeded (DW_SEED replays a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ContactIndex, driftReport, siteDetail, sitesReport, staleReport, upgradesReport, type FleetInputs } from '../../../aggregator/fleet/index.js';
import { SiteView } from '../../../aggregator/fleet/site-view.js';
import { PolicyHistory } from '../../../aggregator/policy/index.js';
import { seededRandom, seedFromEnv, type Random } from '../../../common/random.js';
import { ulidToString } from '../../../common/ulid.js';
import { addRevision, EdgeSite, heartbeat, HOUR, indexOf, MIN, posDeployment, posPolicy, shopLabels, T0, type Arrival, type EdgeBlock } from './helpers.js';

const SEED = seedFromEnv(0x5eed_f1ee);
const params = { seed: SEED, numRuns: Number(process.env.DW_PROPERTY_RUNS ?? 40) };

const IMAGES = ['2.4.1', '2.5.0', '2.5.1', '2.3.9'];

function pick<T>(random: Random, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)]!;
}

/** A random site history: its blocks in seal order (with compactions appended). */
function history(site: string, random: Random): EdgeBlock[] {
  const s = posDeployment(new EdgeSite(site, Math.floor(random() * 1e9)), '2.4.1');
  s.set('argocd_app_sync_status', { application: 'pos' }, 'Synced');
  const sealed: EdgeBlock[] = [];
  const n = 2 + Math.floor(random() * 5);
  let from = T0 - HOUR;
  for (let b = 0; b < n; b++) {
    const to = from + (20 + Math.floor(random() * 3) * 10) * MIN;
    if (random() < 0.15) {
      // Sealed at the edge, then dropped there for lack of disk: the center never gets it.
      const lost = s.skipSeal();
      s.event(from + MIN, 'data_dropped', 'disk_budget', 'dropped 1 unshipped block(s)', { seal_ranges: `${lost}-${lost}`, store_id: ulidToString(s.storeId) },
        { rangeMinT: from, rangeMaxT: to - MIN, count: 10 });
      from = to;
      continue;
    }
    if (random() < 0.5) s.warning(from + 3 * MIN, pick(random, ['BackOff', 'Failed', 'Evicted']), `event ${b}`);
    sealed.push(s.seal(from, to, (t, site) => {
      const r = random();
      if (r < 0.03) posDeployment(site, pick(random, IMAGES), Math.floor(random() * 3), Math.floor(random() * 2));
      else if (r < 0.04) site.remove('argocd_app_sync_status', { application: 'pos' });
      else if (r < 0.06) site.set('argocd_app_sync_status', { application: 'pos' }, pick(random, ['Synced', 'OutOfSync']));
    }));
    from = to + (random() < 0.2 ? 5 * MIN : 0);
  }
  const out = [...sealed];
  // Compactions of consecutive blocks; sometimes a compaction of a compaction.
  if (sealed.length >= 2 && random() < 0.7) {
    const a = Math.floor(random() * (sealed.length - 1));
    const c = s.compact(sealed.slice(a, a + 2));
    out.push(c);
    if (a + 2 < sealed.length && random() < 0.5) out.push(s.compact([c, sealed[a + 2]!]));
  }
  return out;
}

function fleet(seed: number): { blocks: EdgeBlock[]; inputs: (arrivals: Arrival[]) => FleetInputs } {
  const random = seededRandom(seed);
  const sites = ['shop-a', 'shop-b', 'shop-c'];
  const blocks = sites.flatMap((site) => history(site, random));
  const policies = new PolicyHistory();
  addRevision(policies, T0 - 7 * 24 * HOUR, { 'pos.yaml': posPolicy('>=2.4.0 <2.5.0') });
  addRevision(policies, T0, { 'pos.yaml': posPolicy('>=2.5.0 <2.6.0', { deadline: '1h' }) });
  const contacts = new ContactIndex();
  for (const site of sites) for (let t = T0 - HOUR; t < T0 + 5 * HOUR; t += 10 * MIN) if (random() < 0.8) contacts.add(heartbeat(site, t, Math.floor(random() * 3)));
  return { blocks, inputs: (arrivals) => ({ index: indexOf(arrivals, 10_000), policies, contacts, labels: shopLabels(sites) }) };
}

/** What the index answers about a site: its events, and every series' values over time. */
function indexAnswers(inputs: FleetInputs, site: string): unknown {
  const view = new SiteView(inputs.index, inputs.index.site(site)!, 10_000);
  const series = view.data.series;
  const values = Array.from(series.ids, (gid, i) => [inputs.index.series.keys[gid], view.changes(i, 0, Infinity).map((c) => [c.t, view.text(c) ?? null])])
    .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
  return { events: view.events.map((e) => [e.t, e.kind, e.reason, e.message, e.count]), values, complete: view.completeness };
}

function allReports(inputs: FleetInputs): string {
  const out: unknown[] = [];
  for (const at of [T0 - 10 * MIN, T0 + 30 * MIN, T0 + 3 * HOUR]) {
    const q = { at, knownAt: 10_000 };
    out.push(driftReport(inputs, q), upgradesReport(inputs, q), staleReport(inputs, q), sitesReport(inputs, q));
    for (const site of inputs.index.sites()) out.push(siteDetail(inputs, site, q));
  }
  for (const site of inputs.index.sites()) out.push(indexAnswers(inputs, site));
  return JSON.stringify(out);
}

test('the same blocks in random arrival orders give byte-identical reports', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (fleetSeed, orderSeed) => {
      const { blocks, inputs } = fleet(fleetSeed);
      const inOrder = blocks.map((block, i) => ({ block, at: 1 + i }));
      const random = seededRandom(orderSeed);
      const shuffled = [...blocks];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      // Ties in arrival time too: pairs of blocks arriving at the same millisecond.
      const permuted = shuffled.map((block, i) => ({ block, at: 1 + Math.floor(i / 2) }));
      const expected = allReports(inputs(inOrder));
      assert.equal(allReports(inputs(permuted)), expected);
      assert.match(expected, /"rows":\[\{/, 'the reports have rows to compare');
    }),
    params,
  );
});

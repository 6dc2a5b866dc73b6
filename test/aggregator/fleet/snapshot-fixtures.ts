// Shared pieces of the index snapshot tests: a fleet whose blocks exercise everything the index
// holds (the upgrade scenario, plus sites with compactions that replace blocks held, a block
// dropped at the edge with its data_dropped event, a block sent twice, one that does not decode),
// every report over an index as one JSON text, and the index's whole state as a comparable value.
import { createHash } from 'node:crypto';
import {
  ContactIndex, driftReport, siteDetail, sitesReport, staleReport, upgradesReport, type FleetIndex, type FleetInputs,
} from '../../../aggregator/fleet/index.js';
import type { AggregatorStorage, BlockSummary } from '../../../aggregator/storage/index.js';
import { seededRandom, type Random } from '../../../common/random.js';
import { ulidToString } from '../../../common/ulid.js';
import { EdgeSite, HOUR, MIN, posDeployment, T0, type Arrival, type EdgeBlock } from './helpers.js';
import { LATE_ARRIVAL, scenario } from './scenario.js';

export const S = scenario();

/** A site history with value changes, events, a block lost at the edge, and compactions (one of a compaction). */
function compactingSite(site: string, random: Random): EdgeBlock[] {
  const s = posDeployment(new EdgeSite(site, Math.floor(random() * 1e9)), '2.4.1');
  s.set('argocd_app_sync_status', { application: 'pos' }, 'Synced');
  const sealed: EdgeBlock[] = [];
  let from = T0 - HOUR;
  for (let b = 0; b < 5; b++) {
    const to = from + 30 * MIN;
    if (b === 2) {
      const lost = s.skipSeal();
      s.event(from + MIN, 'data_dropped', 'disk_budget', 'dropped 1 unshipped block(s)', { seal_ranges: `${lost}-${lost}`, store_id: ulidToString(s.storeId) },
        { rangeMinT: from, rangeMaxT: to - MIN, count: 10 });
      from = to;
      continue;
    }
    s.warning(from + 3 * MIN, ['BackOff', 'Failed', 'Evicted'][b % 3]!, `event ${b} of ${site}`);
    sealed.push(s.seal(from, to, (t, x) => {
      const r = random();
      if (r < 0.03) posDeployment(x, ['2.4.1', '2.5.0', '2.5.1'][Math.floor(random() * 3)]!, Math.floor(random() * 3), Math.floor(random() * 2));
      else if (r < 0.05) x.set('argocd_app_sync_status', { application: 'pos' }, random() < 0.5 ? 'Synced' : 'OutOfSync');
    }));
    from = to;
  }
  const c1 = s.compact(sealed.slice(0, 2));
  return [...sealed, c1, s.compact([c1, sealed[2]!])];
}

/**
 * The fleet's arrivals: the scenario's, then three compacting sites (their compactions arriving
 * after what they replace), one block sent twice, and one that does not decode.
 */
export function fleetArrivals(seed = 7): Arrival[] {
  const random = seededRandom(seed);
  const out: Arrival[] = [...S.arrivals];
  let at = T0 + 4 * HOUR;
  for (const site of ['shop-x', 'shop-y', 'shop-z']) for (const block of compactingSite(site, random)) out.push({ block, at: at += MIN });
  const twice = out.find((a) => a.block.site === 'shop-x')!;
  out.push({ block: twice.block, at: at += MIN });
  const broken = compactingSite('shop-broken', random)[0]!;
  const bytes = broken.bytes.slice();
  bytes[bytes.length - 10]! ^= 0xff;
  out.push({ block: { ...broken, bytes }, at: at + MIN });
  return out;
}

/** The contacts of the scenario known by `through`. */
export function contactsThrough(through: number): ContactIndex {
  const c = new ContactIndex({ resolutionMs: 0 });
  for (const r of S.contacts) if (r.at <= through) c.add(r);
  return c;
}

export function inputsOf(index: FleetIndex, through: number): FleetInputs {
  return { index, policies: S.history, contacts: contactsThrough(through), labels: S.labels };
}

/** Query times: before the change, inside the data, after it; knownAt: the past and `latest`. */
export const ATS = [T0 - 10 * MIN, T0 + 30 * MIN, T0 + 3 * HOUR, T0 + 8 * HOUR, LATE_ARRIVAL + HOUR];

/** Every report (drift, upgrades, stale, sites, and each site's detail) at every `at` as known at each of `knownAts`, as one JSON text. */
export function everyReport(inputs: FleetInputs, knownAts: readonly number[]): string {
  const out: unknown[] = [];
  for (const knownAt of knownAts) {
    for (const at of ATS) {
      const q = { at, knownAt };
      out.push(driftReport(inputs, q), upgradesReport(inputs, q), staleReport(inputs, q), sitesReport(inputs, q), sitesReport(inputs, { ...q, selector: 'region=eu-west', limit: 3, offset: 1 }));
      for (const site of inputs.index.sites()) {
        try {
          out.push(siteDetail(inputs, site, q));
        } catch (err) {
          out.push((err as { code?: string }).code ?? String(err));
        }
      }
    }
  }
  return JSON.stringify(out);
}

/** Everything an index holds (not its memos), as a value deepStrictEqual can compare. */
export function indexState(index: FleetIndex): unknown {
  const sites = index.sites().map((name) => {
    const d = index.site(name)!;
    const r = d.runs;
    return {
      name, first: r.first, step: r.step, count: r.count, arrived: r.arrived, n: r.n,
      series: { ids: d.series.ids, start: d.series.start, t: d.series.t, kind: d.series.kind, value: d.series.value },
      events: d.events, blocks: d.blocks, replacedBy: [...d.replacedBy], firstArrived: d.firstArrived, lastArrived: d.lastArrived, latestT: d.latestT,
      shadowedRounds: d.shadowedRounds, held: d.blocks.map((b) => d.has(b.id)),
    };
  });
  return {
    sites, stats: index.stats(), indexedThrough: index.indexedThrough, lastArrival: index.lastArrival, lastBlock: index.lastBlock,
    series: { keys: index.series.keys, names: index.series.names, labels: index.series.labels.map((l) => Object.entries(l)) },
    values: Array.from({ length: index.values.size }, (_, i) => index.values.get(i)),
    byName: index.series.names.map((n) => index.series.withName(n)),
  };
}

export function summaryOf(b: EdgeBlock): BlockSummary {
  const h = b.header;
  return {
    sha256: createHash('sha256').update(b.bytes).digest('hex'), minT: h.minT, maxT: h.maxT, sequence: h.sequence, level: h.level,
    replaces: [], createdAt: h.createdAt, numRounds: h.numRounds, numSeries: h.numSeries, numSamples: h.numSamples, numEvents: h.numEvents,
    numStringSeries: h.numStringSeries, numStringSamples: h.numStringSamples,
  };
}

/** Stores the arrivals with `from < at <= to` (a block already held is a no-op). */
export async function storeArrivals(storage: AggregatorStorage, arrivals: readonly Arrival[], from: number, to: number): Promise<number> {
  let n = 0;
  for (const { block, at } of [...arrivals].sort((a, b) => a.at - b.at)) {
    if (at <= from || at > to) continue;
    const r = await storage.putBlock(block.site, block.id, block.bytes, summaryOf(block), at);
    if (r.status === 'stored') n++;
  }
  return n;
}

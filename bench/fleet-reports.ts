// fleet-reports: the merge index and the reports at fleet scale. A fleet of N sites × 2,000 string
// series (state that rarely changes: images, hashes, statuses) is indexed in memory, directly
// from block data (no encoding, no gRPC): a block before a policy change at T0 and a block after,
// 6 h each at 15 s, in which most sites upgrade the point-of-sale image and a few change a couple
// of other series. Figures: the drift and upgrades reports' latency (p50/p99 over the iterations,
// the first call apart: it fills the per-index caches), the index's memory per (site, series),
// reindex time through the level storage for a smaller fleet of the synthetic site (24 one-hour
// blocks per site, 2,000 string and 200 float series), extrapolated linearly, and the index
// snapshot — write time, size, load time and the longest event-loop stall of each — of both
// indexes, beside the reindex of the same index (measured for the smaller fleet, extrapolated for
// the large one).
//
// The peer, measured in the same run: a naive index — per site a Map from series key to its
// change points in JS arrays — and a drift report that scans every series of every site with the
// policy's series matcher. It is built for at most `peerSites` sites (its memory would not fit at
// full scale) and its figures are scaled to the full fleet, said so in the notes.
import { mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ContactIndex, driftReport, FLEET_INDEX_SNAPSHOT_FILE, FleetIndex, loadSnapshotFile, reindex, staticSiteLabels, upgradesReport, writeSnapshotFile, type FleetInputs,
} from '../aggregator/fleet/index.js';
import { check, loadPolicySet, matchesSeries, PolicyHistory, policySetHash, type Policy } from '../aggregator/policy/index.js';
import { openLevelStorage, type AggregatorStorage, type BlockMeta } from '../aggregator/storage/index.js';
import { ManualClock } from '../common/clock.js';
import { seededRandom, type Random } from '../common/random.js';
import { newUlid, ulidToString } from '../common/ulid.js';
import {
  BlockBuilder, DEFAULT_DECODE_LIMITS, encodeBlock, seriesKey, type Block, type BlockData, type BlockHeader, type Labels, type StringSeriesData,
} from '../proto/index.js';
import { readFrameHeader, writeFrame } from '../proto/block/frame.js';
import { median, quantile, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { syntheticSite } from './synthetic-site.js';

const SEED = 5;
const STEP = 15_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 10, 17, 10);
const ROUNDS = (6 * HOUR) / STEP;

/** Goals of issue 5. */
export const REPORT_P99_GOAL_MS = 100;
export const BYTES_PER_SERIES_GOAL = 200;

// ---- The fleet's series ----------------------------------------------------------------------

interface Template {
  readonly series: StringSeriesData[];
  /** Index of the point-of-sale image series in `series`. */
  readonly pos: number;
}

/** 2,000 string series with kube-state-metrics names, sorted by key as a block holds them. */
function template(count: number): Template {
  const out: { key: string; s: StringSeriesData }[] = [];
  const presence = Uint32Array.of(0, ROUNDS);
  const at0 = Uint32Array.of(0);
  const add = (name: string, labels: Labels, value: string): void => {
    out.push({ key: seriesKey(name, labels), s: { name, labels, type: 'string', presence, changeAt: at0, changeValues: [value] } });
  };
  add('kube_deployment_container_image', { namespace: 'shop', deployment: 'pos', container: 'pos' }, 'registry.example.com/shop/pos:2.4.1');
  for (let n = 0; n < 4; n++) {
    add('kube_node_os_image', { node: `n${n}` }, 'Ubuntu 22.04.4 LTS');
    add('kube_node_kubelet_version', { node: `n${n}` }, 'v1.29.3+k3s1');
    add('kube_node_status_condition', { node: `n${n}`, condition: 'Ready' }, 'True');
    add('kube_node_status_condition', { node: `n${n}`, condition: 'DiskPressure' }, 'False');
  }
  for (let a = 0; a < 20; a++) {
    add('argocd_app_sync_status', { namespace: 'argocd', application: `app-${a}` }, 'Synced');
    add('argocd_app_health_status', { namespace: 'argocd', application: `app-${a}` }, 'Healthy');
  }
  const kinds = ['kube_deployment_container_image', 'kube_deployment_config_hash', 'kube_deployment_status_condition', 'kube_pod_status_phase', 'kube_pod_container_image'];
  for (let i = 0; out.length < count; i++) {
    const name = kinds[i % kinds.length]!;
    const app = `svc-${Math.floor(i / kinds.length)}`;
    add(name, name.startsWith('kube_pod') ? { namespace: 'apps', pod: `${app}-0` } : { namespace: 'apps', deployment: app, container: app },
      name.endsWith('image') ? `registry.example.com/apps/${app}:1.${i % 7}.0` : name.endsWith('hash') ? `sha256:${(i * 2654435761 >>> 0).toString(16)}` : 'Running');
  }
  out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { series: out.map((x) => x.s), pos: out.findIndex((x) => x.key.startsWith('kube_deployment_container_image{container="pos"')) };
}

function header(site: string, minT: number, maxT: number, seal: number): BlockHeader {
  return {
    siteId: site, blockId: new Uint8Array(16), minT, maxT, sequence: seal, encoderVersion: 1, replaces: [], compression: 'none', payloadLength: 0, rawPayloadLength: 0,
    numRounds: ROUNDS, numSeries: 0, numSamples: 0, numEvents: 0, numStringSeries: 0, numStringSamples: 0, level: 0, createdAt: maxT, sealRanges: [seal, seal],
  };
}

function changed(s: StringSeriesData, at: number, value: string): StringSeriesData {
  return { ...s, changeAt: Uint32Array.of(0, at), changeValues: [s.changeValues[0]!, value] };
}

interface FleetPlan {
  readonly sites: string[];
  /** Per site: the block after T0 (the one before is the template for every site). */
  readonly after: (site: number) => BlockData;
  readonly before: BlockData;
}

/** The fleet: 92 % of sites upgrade pos at a random round after T0, 8 % do not; each changes two other series. */
function plan(sites: number, seriesCount: number, random: Random): FleetPlan {
  const t = template(seriesCount);
  const roundsBefore = Float64Array.from({ length: ROUNDS }, (_, i) => T0 - 6 * HOUR + i * STEP);
  const roundsAfter = Float64Array.from({ length: ROUNDS }, (_, i) => T0 + i * STEP);
  const names = Array.from({ length: sites }, (_, i) => `shop-${String(i).padStart(5, '0')}`);
  const upgradeAt = names.map(() => (random() < 0.92 ? 1 + Math.floor(random() * 120) : -1));
  const others = names.map(() => [Math.floor(random() * seriesCount), Math.floor(random() * seriesCount)]);
  return {
    sites: names,
    before: { rounds: roundsBefore, series: t.series, events: [] },
    after: (i) => {
      const series = t.series.slice();
      if (upgradeAt[i]! >= 0) series[t.pos] = changed(series[t.pos]!, upgradeAt[i]!, 'registry.example.com/shop/pos:2.5.0');
      for (const k of others[i]!) if (k !== t.pos) series[k] = changed(series[k]!, 200 + (k % 100), `${series[k]!.changeValues[0]!}-b`);
      return { rounds: roundsAfter, series, events: [] };
    },
  };
}

// ---- Policies ------------------------------------------------------------------------------

function policyYaml(range: string): string {
  const lines = [
    'apiVersion: driftwatch.io/v1', 'kind: Policy', 'metadata:', '  name: shop-pos', 'spec:', '  selector: { matchLabels: { tier: shop } }',
    '  upgradeDeadline: 2h', '  staleAfter: 2h', '  expectations:',
    '    - series: kube_deployment_container_image{namespace="shop", deployment="pos", container="pos"}',
    '      image: registry.example.com/shop/pos', `      semver: "${range}"`,
    '---', 'apiVersion: driftwatch.io/v1', 'kind: Policy', 'metadata:', '  name: baseline', 'spec:', '  selector: {}', '  expectations:',
    '    - series: kube_node_os_image', '      pattern: \'Ubuntu 22\\.04(\\.\\d+)? LTS\'',
    '    - series: kube_node_kubelet_version', '      semver: "~1.29.3"',
    '    - series: kube_node_status_condition{condition="Ready"}', '      exact: "True"',
    '    - series: kube_node_status_condition{condition="DiskPressure"}', '      exact: "False"',
    '    - series: argocd_app_sync_status', '      exact: Synced',
    '    - series: argocd_app_health_status', '      oneOf: [Healthy, Progressing]',
    '    - series: kube_deployment_config_hash{namespace="apps"}', '      pattern: "sha256:[0-9a-f]+"',
  ];
  return lines.join('\n') + '\n';
}

function policies(): PolicyHistory {
  const h = new PolicyHistory();
  for (const [at, range] of [[T0 - 7 * 24 * HOUR, '>=2.4.0 <2.5.0'], [T0, '>=2.5.0 <2.6.0']] as const) {
    const set = loadPolicySet([{ path: 'policies.yaml', text: policyYaml(range) }]);
    h.add({ id: policySetHash(set.files), source: { kind: 'directory', path: '/bench' }, effectiveAt: at, loadedAt: at, files: set.files, policies: set.policies });
  }
  return h;
}

// ---- Memory ----------------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// ---- The peer: a naive Map per site ----------------------------------------------------------

interface NaiveSeries {
  readonly name: string;
  readonly labels: Labels;
  readonly t: number[];
  readonly v: string[];
}

function naiveAdd(site: Map<string, NaiveSeries>, data: BlockData): void {
  for (const s of data.series) {
    if (s.type !== 'string') continue;
    const key = seriesKey(s.name, s.labels);
    let e = site.get(key);
    if (e === undefined) site.set(key, (e = { name: s.name, labels: s.labels, t: [], v: [] }));
    for (let c = 0; c < s.changeAt.length; c++) {
      const value = s.changeValues[c]!;
      if (e.v[e.v.length - 1] === value) continue;
      e.t.push(data.rounds[s.changeAt[c]!]!);
      e.v.push(value);
    }
  }
}

function naiveDrift(index: Map<string, Map<string, NaiveSeries>>, policy: readonly Policy[], at: number): number {
  let rows = 0;
  for (const site of index.values()) {
    for (const s of site.values()) {
      for (const p of policy) {
        for (const e of p.expectations) {
          if (!matchesSeries(e.series, s.name, s.labels)) continue;
          let k = s.t.length - 1;
          while (k >= 0 && s.t[k]! > at) k--;
          if (k >= 0 && !check(e, s.v[k]!).ok) rows++;
        }
      }
    }
  }
  return rows;
}

// ---- Index snapshots ------------------------------------------------------------------------

interface SnapshotFigures {
  readonly writeMs: number;
  readonly bytes: number;
  readonly loadMs: number;
  /** The longest event-loop delay while writing / loading (ms). */
  readonly writeStallMs: number;
  readonly loadStallMs: number;
}

/**
 * Writes `index`'s snapshot to a temporary directory and loads it back (through the same calls
 * the aggregator makes), three times, checking that the loaded index answers as the original
 * (`same`). Times are the median of the three (a major GC over the bench's large heap can land in
 * any one); stalls the longest of all.
 */
async function snapshotFigures(index: FleetIndex, storage: Pick<AggregatorStorage, 'getBlockMeta'> | undefined, same: (loaded: FleetIndex) => boolean): Promise<SnapshotFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-bench-snapshot-'));
  const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
  // A histogram per measurement: one enabled again would count the time it was disabled as a stall.
  const during = async <T>(fn: () => Promise<T>): Promise<{ value: T; stallMs: number }> => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    try {
      return { value: await fn(), stallMs: h.max / 1e6 };
    } finally {
      h.disable();
    }
  };
  let writeStallMs = 0;
  let loadStallMs = 0;
  // The in-memory fleet has no store: its last block is "held" as the snapshot says.
  const held = storage ?? { getBlockMeta: async () => ({ arrivedAt: index.lastBlock!.arrivedAt }) as BlockMeta };
  const writes: number[] = [];
  const loads: number[] = [];
  let bytes = 0;
  try {
    for (let k = 0; k < 3; k++) {
      const { value: w, stallMs: ws } = await during(() => writeSnapshotFile(file, index, index.indexedThrough));
      writeStallMs = Math.max(writeStallMs, ws);
      writes.push(w.elapsedMs);
      bytes = w.bytes;
      const { value: loaded, stallMs: ls } = await during(() => loadSnapshotFile(file, { cut: index.indexedThrough, storage: held, now: 0 }));
      loadStallMs = Math.max(loadStallMs, ls);
      if (loaded.status !== 'loaded') throw new Error(`bench: expected the snapshot to load, found ${loaded.status}: ${loaded.status === 'rejected' ? loaded.error.message : ''}`);
      loads.push(loaded.elapsedMs);
      if (k === 0 && !same(loaded.index)) throw new Error('bench: expected the loaded index to answer as the original, found a difference');
    }
    return { writeMs: median(writes), bytes, loadMs: median(loads), writeStallMs, loadStallMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- Reindex through the level storage -------------------------------------------------------

async function reindexFigures(sites: number, log: (l: string) => void): Promise<{ ms: number; blocks: number; perBlockMs: number; snapshot: SnapshotFigures }> {
  const rounds = [...syntheticSite({ seed: SEED, durationMs: 24 * HOUR })];
  const encoded: Uint8Array[] = [];
  const perBlock = HOUR / STEP;
  for (let at = 0; at + perBlock <= rounds.length; at += perBlock) {
    const b = new BlockBuilder();
    for (const r of rounds.slice(at, at + perBlock)) b.append(r);
    const seal = at / perBlock + 1;
    encoded.push(encodeBlock(b.build(), { siteId: 'site', blockId: newUlid(new ManualClock(rounds[at]!.t), seededRandom(at)), sequence: seal, createdAt: rounds[at]!.t, sealRanges: [seal, seal] }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'dw-bench-reindex-'));
  const storage = await openLevelStorage({ dir });
  try {
    const random = seededRandom(SEED);
    let arrival = T0;
    for (let s = 0; s < sites; s++) {
      const site = `shop-${String(s).padStart(5, '0')}`;
      await Promise.all(encoded.map((bytes, j) => {
        const frame = readFrameHeader(bytes, DEFAULT_DECODE_LIMITS);
        const id = newUlid(new ManualClock(frame.header.minT + j), random);
        const framed = writeFrame({ ...frame.header, siteId: site, blockId: id }, bytes.subarray(frame.payloadOffset, frame.totalLength - 4));
        const h = frame.header;
        return storage.putBlock(site, ulidToString(id), framed, {
          sha256: createHash('sha256').update(framed).digest('hex'), minT: h.minT, maxT: h.maxT, sequence: h.sequence, level: h.level, replaces: [], createdAt: h.createdAt,
          numRounds: h.numRounds, numSeries: h.numSeries, numSamples: h.numSamples, numEvents: h.numEvents, numStringSeries: h.numStringSeries, numStringSamples: h.numStringSamples,
        }, arrival++);
      }));
    }
    log(`reindex: ${sites} sites × ${encoded.length} blocks stored`);
    const { index, result } = await reindex(storage, { now: arrival + 1 });
    log(`reindex: ${result.blocks} blocks in ${result.elapsedMs.toFixed(0)} ms; its snapshot`);
    const stats = JSON.stringify(index.stats());
    const snapshot = await snapshotFigures(index, storage, (loaded) => JSON.stringify(loaded.stats()) === stats);
    return { ms: result.elapsedMs, blocks: result.blocks, perBlockMs: result.elapsedMs / result.blocks, snapshot };
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- The case --------------------------------------------------------------------------------

function timeIt(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export interface FleetReportsOptions {
  readonly sites: number;
  readonly series: number;
  readonly peerSites: number;
  readonly reindexSites: number;
}

export function fleetReportsCase(o: FleetReportsOptions): BenchCase {
  const name = `fleet-reports/sites=${o.sites}/series=${o.series}`;
  return {
    name,
    async run({ iterations, log }: RunOptions): Promise<CaseResult> {
      const random = seededRandom(SEED);
      const fleet = plan(o.sites, o.series, random);
      const history = policies();
      const base = heapBytes();
      const index = new FleetIndex();
      const started = performance.now();
      fleet.sites.forEach((site, i) => index.addBlock({ site, id: `A${i}`, arrivedAt: T0 }, { header: header(site, T0 - 6 * HOUR, T0 - STEP, 1), data: fleet.before } as Block));
      log(`indexed the blocks before T0 (${o.sites} sites)`);
      fleet.sites.forEach((site, i) => index.addBlock({ site, id: `B${i}`, arrivedAt: T0 + 6 * HOUR }, { header: header(site, T0, T0 + 6 * HOUR - STEP, 2), data: fleet.after(i) } as Block));
      index.markIndexedThrough(T0 + 6 * HOUR);
      const buildMs = performance.now() - started;
      const indexBytes = heapBytes() - base;
      const stats = index.stats();
      log(`indexed ${stats.blocks} blocks in ${buildMs.toFixed(0)} ms; ${(indexBytes / 2 ** 20).toFixed(0)} MiB`);

      const contacts = new ContactIndex();
      const labels: Record<string, Labels> = {};
      fleet.sites.forEach((site, i) => {
        labels[site] = { tier: 'shop', region: ['eu-west', 'eu-north', 'us-east', 'ap-south'][i % 4]! };
        contacts.add({ site, kind: 'heartbeat', at: T0 + 6 * HOUR - i, agentTime: 0, backlogBlocks: 0, backlogBytes: 0, oldestUnshippedTime: undefined, lastRoundTime: undefined, lastErrorCode: '', lastErrorMessage: '', agentStartTime: undefined, clockOffsetMs: 0 });
      });
      const inputs: FleetInputs = { index, policies: history, contacts, labels: staticSiteLabels(labels) };
      // Now (at past every site's data): per-site results are remembered until the site's next block.
      const query = { at: T0 + 6 * HOUR, knownAt: T0 + 6 * HOUR };
      let driftRows = 0;
      let upgradeSummary = '';
      const firstDrift = timeIt(() => { driftRows = driftReport(inputs, query).total; });
      const firstUpgrades = timeIt(() => { upgradeSummary = JSON.stringify(upgradesReport(inputs, query).summary); });
      const runs = Math.max(20, iterations * 10);
      const drift: number[] = [];
      const upgrades: number[] = [];
      for (let k = 0; k < runs; k++) {
        drift.push(timeIt(() => driftReport(inputs, { ...query, limit: 100 })));
        upgrades.push(timeIt(() => upgradesReport(inputs, { ...query, limit: 100 })));
      }
      // The past (at inside the data): computed every time, nothing remembered.
      const past = { at: T0 + 3 * HOUR, knownAt: T0 + 6 * HOUR };
      const pastRuns = Math.max(10, iterations * 2);
      const pastDrift: number[] = [];
      const pastUpgrades: number[] = [];
      for (let k = 0; k < pastRuns; k++) {
        pastDrift.push(timeIt(() => driftReport(inputs, { ...past, limit: 100 })));
        pastUpgrades.push(timeIt(() => upgradesReport(inputs, { ...past, limit: 100 })));
      }
      log(`drift ${driftRows} rows; upgrades ${upgradeSummary}`);

      // The peer, on a part of the fleet.
      const peerSites = Math.min(o.sites, o.peerSites);
      const peerBase = heapBytes();
      const naive = new Map<string, Map<string, NaiveSeries>>();
      for (let i = 0; i < peerSites; i++) {
        const m = new Map<string, NaiveSeries>();
        naiveAdd(m, fleet.before);
        naiveAdd(m, fleet.after(i));
        naive.set(fleet.sites[i]!, m);
      }
      const peerBytes = heapBytes() - peerBase;
      const revision = history.inForceAt(query.at)!;
      const peerScale = o.sites / peerSites;
      const peer: number[] = [];
      for (let k = 0; k < Math.max(3, iterations); k++) peer.push(timeIt(() => naiveDrift(naive, revision.policies, query.at)) * peerScale);
      naive.clear();

      log(`snapshot of the fleet index (${o.sites} sites)`);
      const answer = (i: FleetIndex): string => JSON.stringify([driftReport({ ...inputs, index: i }, { ...past, limit: 100 }), upgradesReport({ ...inputs, index: i }, { ...query, limit: 100 })]);
      const expected = answer(index);
      const snap = await snapshotFigures(index, undefined, (loaded) => answer(loaded) === expected);
      log(`snapshot: ${(snap.bytes / 2 ** 20).toFixed(0)} MiB, written in ${snap.writeMs.toFixed(0)} ms, loaded in ${snap.loadMs.toFixed(0)} ms`);

      log(`reindex through the level storage: ${o.reindexSites} sites`);
      const re = await reindexFigures(o.reindexSites, log);
      const reindexFleetS = (re.perBlockMs * o.sites * 24) / 1000;

      const seriesTotal = o.sites * o.series;
      const driftP99 = quantile(drift, 0.99);
      const peerP50 = median(peer);
      const figures: Figure[] = [
        { key: 'driftP50Ms', label: 'drift report now, p50', value: median(drift), unit: 'ms' },
        { key: 'driftP99Ms', label: 'drift report now, p99', value: driftP99, unit: 'ms', goal: { op: '<=', value: REPORT_P99_GOAL_MS } },
        { key: 'driftFirstMs', label: 'drift report now, first call (cold)', value: firstDrift, unit: 'ms' },
        { key: 'driftPastP50Ms', label: 'drift report in the past (computed), p50', value: median(pastDrift), unit: 'ms' },
        { key: 'driftPastP99Ms', label: 'drift report in the past (computed), p99', value: quantile(pastDrift, 0.99), unit: 'ms', goal: { op: '<=', value: REPORT_P99_GOAL_MS } },
        { key: 'upgradesP50Ms', label: 'upgrades report now, p50', value: median(upgrades), unit: 'ms' },
        { key: 'upgradesP99Ms', label: 'upgrades report now, p99', value: quantile(upgrades, 0.99), unit: 'ms', goal: { op: '<=', value: REPORT_P99_GOAL_MS } },
        { key: 'upgradesFirstMs', label: 'upgrades report now, first call (cold)', value: firstUpgrades, unit: 'ms' },
        { key: 'upgradesPastP50Ms', label: 'upgrades report in the past (computed), p50', value: median(pastUpgrades), unit: 'ms' },
        { key: 'upgradesPastP99Ms', label: 'upgrades report in the past (computed), p99', value: quantile(pastUpgrades, 0.99), unit: 'ms', goal: { op: '<=', value: REPORT_P99_GOAL_MS } },
        { key: 'indexBytesPerSeries', label: 'index memory per (site, series)', value: indexBytes / seriesTotal, unit: 'B', goal: { op: '<=', value: BYTES_PER_SERIES_GOAL } },
        { key: 'indexMiB', label: 'index memory', value: indexBytes / 2 ** 20, unit: 'MiB' },
        { key: 'indexBuildMs', label: 'index build from block data (in memory)', value: buildMs, unit: 'ms' },
        { key: 'peerDriftP50Ms', label: `peer: naive Map scan, drift (scaled from ${peerSites} sites)`, value: peerP50, unit: 'ms' },
        { key: 'peerBytesPerSeries', label: 'peer: memory per (site, series)', value: peerBytes / (peerSites * o.series), unit: 'B' },
        { key: 'driftSpeedupVsPeer', label: 'drift p50, computed in full: peer / index', value: peerP50 / median(pastDrift), unit: '×' },
        { key: 'memoryRatioVsPeer', label: 'memory per series: peer / index', value: (peerBytes / (peerSites * o.series)) / (indexBytes / seriesTotal), unit: '×' },
        { key: 'reindexMs', label: `reindex, level storage, ${o.reindexSites} sites × 24 h`, value: re.ms, unit: 'ms' },
        { key: 'reindexPerBlockMs', label: 'reindex per 1-hour block (2,200 series)', value: re.perBlockMs, unit: 'ms' },
        { key: 'reindexFleetDayS', label: `reindex, ${o.sites} sites × 24 h (extrapolated)`, value: reindexFleetS, unit: 's' },
        { key: 'reindexSnapshotWriteMs', label: `snapshot of that reindexed index (${o.reindexSites} sites × 24 h): write`, value: re.snapshot.writeMs, unit: 'ms' },
        { key: 'reindexSnapshotMiB', label: 'snapshot of that reindexed index: size', value: re.snapshot.bytes / 2 ** 20, unit: 'MiB' },
        { key: 'reindexSnapshotLoadMs', label: 'snapshot of that reindexed index: load (read, verify, decode)', value: re.snapshot.loadMs, unit: 'ms' },
        { key: 'reindexVsSnapshotLoad', label: 'same index: reindex / snapshot load', value: re.ms / re.snapshot.loadMs, unit: '×' },
        { key: 'snapshotFleetDayGiB', label: `snapshot, ${o.sites} sites × 24 h (extrapolated): size`, value: (re.snapshot.bytes * o.sites) / o.reindexSites / 2 ** 30, unit: 'GiB' },
        { key: 'snapshotFleetDayLoadS', label: `snapshot, ${o.sites} sites × 24 h (extrapolated): load`, value: (re.snapshot.loadMs * o.sites) / o.reindexSites / 1000, unit: 's' },
        { key: 'snapshotWriteMs', label: `snapshot of the fleet index (${o.sites} sites × ${o.series} series): write`, value: snap.writeMs, unit: 'ms' },
        { key: 'snapshotMiB', label: 'snapshot of the fleet index: size', value: snap.bytes / 2 ** 20, unit: 'MiB' },
        { key: 'snapshotBytesPerSeries', label: 'snapshot of the fleet index: bytes per (site, series)', value: snap.bytes / seriesTotal, unit: 'B' },
        { key: 'snapshotLoadMs', label: 'snapshot of the fleet index: load (read, verify, decode)', value: snap.loadMs, unit: 'ms' },
        { key: 'snapshotWriteStallMs', label: 'snapshot of the fleet index: longest event-loop stall while writing', value: snap.writeStallMs, unit: 'ms' },
        { key: 'snapshotLoadStallMs', label: 'snapshot of the fleet index: longest event-loop stall while loading', value: snap.loadStallMs, unit: 'ms' },
        { key: 'indexBuildVsSnapshotLoad', label: 'fleet index: build from block data (no decode) / snapshot load', value: buildMs / snap.loadMs, unit: '×' },
      ];
      return {
        name,
        figures,
        notes: [
          `${o.sites} sites × ${o.series} string series; 2 blocks of 6 h at 15 s per site; ${stats.changePoints} change points, ${stats.distinctValues} distinct values`,
          `reports over every site, limit=100. now: at=T0+6h, past every site's data, p50/p99 over ${runs} calls after the first (cold: fills the policy caches and each site's memo, kept until the site's next block); past: at=T0+3h, inside the data, computed in full each call (${pastRuns} calls)`,
          `drift rows ${driftRows}; upgrades ${upgradeSummary}`,
          `memory: heap + array buffers after GC, index built minus before (the shared block data excluded)`,
          `peer: measured on ${peerSites} sites and scaled ×${peerScale} to the fleet (its Maps at full scale would need ~${((peerBytes / peerSites) * o.sites / 2 ** 30).toFixed(1)} GiB)`,
          `reindex: ${re.blocks} blocks of the synthetic site (2,000 string + 200 float series, 240 rounds each) decoded and indexed from the level storage; the fleet figure assumes time linear in blocks`,
          `snapshots: the ${o.sites}-site day is extrapolated from the ${o.reindexSites}-site one linearly in sites, as the reindex is; `
            + `written with writeSnapshotFile (chunks, fsync, rename) to the temporary directory and loaded with loadSnapshotFile (read, SHA-256, decode, the store check), as the aggregator does; the loaded index checked to answer as the original; the reindexed index's snapshot is the same index its reindex built`,
        ],
        context: { seed: SEED, sites: o.sites, series: o.series, peerSites, reindexSites: o.reindexSites, runs },
      };
    },
  };
}

/** The cases run.ts lists. */
export function fleetReportsCases(): BenchCase[] {
  return [
    fleetReportsCase({ sites: 1_000, series: 2_000, peerSites: 1_000, reindexSites: 10 }),
    fleetReportsCase({ sites: 10_000, series: 2_000, peerSites: 1_000, reindexSites: 50 }),
  ];
}

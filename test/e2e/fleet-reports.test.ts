// The fleet reports end to end: five sites whose real edge stores seal real blocks (the
// point-of-sale Deployment's image and rollout, node conditions, Kubernetes events) and ship them
// through the real shipper over gRPC with TLS and per-site tokens, each with its site labels, to a
// real aggregator on a ManualClock that reads its policies from a directory. A policy revision at
// T0 moves the image from 2.4.x to 2.5.x:
//
//   shop-ok    converges at T0+12m (image at +10m, rollout done at +12m)
//   shop-pull  asks for 2.5.0 at T0+5m; ImagePullBackOff from +6m
//   shop-dark  its network goes at T0-30m: no data, no heartbeats
//   shop-late  its uploads stop at T0 (heartbeats go on); it converges at T0+15m, and its
//              backlog reaches the center only at T0+90m
//   lab-1      tier lab: no policy selects it
//
// The reports are asked over HTTP (/fleet/v1/*) and with `driftwatch report`; an answer pinned to
// a known_at is byte for byte the same after the late blocks arrived, and after a restart of the
// aggregator, which loads its index snapshot instead of reindexing the stored blocks.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { credentialsFromHashes, hashToken, startAggregator, type Aggregator, type AggregatorOptions, type WireDriftRow, type WirePage, type WireSiteRow, type WireStaleRow, type WireUpgradesPage } from '../../aggregator/index.js';
import { openEdgeStore, type EdgeStore } from '../../collector/store/index.js';
import { ManualClock } from '../../common/clock.js';
import { seededRandom, seedFromEnv } from '../../common/random.js';
import { formatRfc3339 } from '../../common/rfc3339.js';
import type { BlockEvent, Sample } from '../../proto/index.js';
import { createGrpcTransport, createShipper, type IngestTransport, type Shipper } from '../../shipper/index.js';
import { runReport } from '../../cmd/report.js';
import { testPki, type TestPki } from '../helpers/tls.js';

const SEED = seedFromEnv(20261117);
const MIN = 60_000;
/** The policy change: Monday 2025-11-17 10:00 UTC. */
const T0 = Date.UTC(2025, 10, 17, 10);
const START = T0 - 60 * MIN;
const END = T0 + 60 * MIN;
/** The cut every pinned query uses: everything that arrived by the end of the hour after the change. */
const Q = END;
const LATE = T0 + 90 * MIN;

function policy(range: string): string {
  return [
    'apiVersion: driftwatch.io/v1',
    'kind: Policy',
    'metadata:',
    '  name: shop-pos',
    'spec:',
    '  selector: { matchLabels: { tier: shop } }',
    '  staleAfter: 30m',
    '  upgradeDeadline: 6h',
    '  expectations:',
    '    - series: kube_deployment_container_image{namespace="shop", deployment="pos", container="pos"}',
    '      image: registry.example.com/shop/pos',
    `      semver: "${range}"`,
    '',
  ].join('\n');
}

const POS = { namespace: 'shop', deployment: 'pos' };
const WAITING = { namespace: 'shop', workload_kind: 'Deployment', workload: 'pos', reason: 'ImagePullBackOff' };

/** One site: its state, its edge store, its shipper; `ships` and `calls` say whether its uploads and heartbeats get through. */
class Site {
  readonly state = new Map<string, Sample>();
  events: BlockEvent[] = [];
  store!: EdgeStore;
  shipper!: Shipper;
  transport!: IngestTransport;
  ships = true;
  calls = true;
  readonly token: string;

  constructor(readonly name: string, readonly labels: Record<string, string>, readonly story: (t: number, s: Site) => void = () => {}) {
    this.token = `dwt_e2e_${name}_00112233445566778899aabbccddeeff`;
    this.deployment('2.4.1', 2, 0);
    this.set('kube_node_status_condition', { node: 'n1', condition: 'Ready' }, 'True');
    this.set('kube_node_status_condition', { node: 'n1', condition: 'DiskPressure' }, 'False');
    this.set('node_filesystem_avail_bytes', { mountpoint: '/' }, 40e9);
    this.set('node_filesystem_size_bytes', { mountpoint: '/' }, 64e9);
  }

  set(name: string, labels: Record<string, string>, value: string | number): this {
    this.state.set(`${name}${JSON.stringify(Object.entries(labels).sort())}`, { name, labels, type: typeof value === 'number' ? 'float' : 'string', value });
    return this;
  }

  deployment(image: string, updated: number, unavailable: number): this {
    return this.set('kube_deployment_container_image', { ...POS, container: 'pos' }, `registry.example.com/shop/pos:${image}`)
      .set('kube_deployment_spec_replicas', POS, 2)
      .set('kube_deployment_status_replicas_updated', POS, updated)
      .set('kube_deployment_status_replicas_unavailable', POS, unavailable);
  }

  /** One round at `t`; ships when it sealed a block and the uploads get through. */
  async round(t: number): Promise<void> {
    this.story(t, this);
    const events = this.events;
    this.events = [];
    const sealed = await this.store.appendRound({ t, samples: [...this.state.values()], ...(events.length === 0 ? {} : { events }) });
    if (sealed !== undefined && this.ships) await this.sync();
  }

  async sync(): Promise<void> {
    const sum = await this.shipper.sync();
    assert.equal(sum.outcome, 'done', `${this.name}: ${sum.error?.message ?? ''}`);
  }

  async heartbeat(t: number): Promise<void> {
    if (!this.calls) return;
    const r = await this.shipper.heartbeat({ lastRoundTime: t });
    assert.equal(r.status, 'success', `${this.name}: heartbeat ${r.status === 'success' ? '' : r.error.message}`);
  }
}

const SITES = (): Site[] => [
  new Site('shop-ok', { tier: 'shop', region: 'eu-west' }, (t, s) => {
    if (t === T0 + 10 * MIN) s.deployment('2.5.0', 1, 1);
    if (t === T0 + 12 * MIN) s.deployment('2.5.0', 2, 0);
  }),
  new Site('shop-pull', { tier: 'shop', region: 'eu-north' }, (t, s) => {
    if (t === T0 + 5 * MIN) s.deployment('2.5.0', 1, 1);
    if (t === T0 + 6 * MIN) {
      s.set('kube_workload_containers_waiting', WAITING, 1);
      s.events.push({
        t, kind: 'kubernetes', reason: 'Failed', message: 'Failed to pull image "registry.example.com/shop/pos:2.5.0": manifest unknown',
        labels: { namespace: 'shop', object_kind: 'Pod', object_name: 'pos-7d9f8-x2x4k' }, rangeMinT: 0, rangeMaxT: 0, count: 1,
      });
    }
  }),
  new Site('shop-dark', { tier: 'shop', region: 'eu-west' }, (t, s) => {
    if (t > T0 - 30 * MIN) s.ships = s.calls = false;
  }),
  new Site('shop-late', { tier: 'shop', region: 'eu-west' }, (t, s) => {
    if (t > T0) s.ships = false;
    if (t === T0 + 15 * MIN) s.deployment('2.5.0', 2, 0);
  }),
  new Site('lab-1', { tier: 'lab', region: 'eu-west' }),
];

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), text: () => chunks.join('') };
}

describe(`fleet reports end to end: real stores, shippers, TLS ingest, policies from a directory (seed ${SEED})`, () => {
  let dir: string;
  let pki: TestPki;
  let clock: ManualClock;
  let agg: Aggregator;
  let sites: Site[];
  let policyDir: string;
  let options: AggregatorOptions;
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${agg.httpAddress}${path}`);
    return { status: res.status, text: await res.text() };
  };
  const json = async <T>(path: string): Promise<T> => {
    const r = await get(path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return JSON.parse(r.text) as T;
  };
  const pinned = (route: string, extra = ''): string => `/fleet/v1/${route}?known_at=${encodeURIComponent(formatRfc3339(Q))}${extra}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-e2e-fleet-'));
    pki = await testPki();
    clock = new ManualClock(START - MIN);
    policyDir = join(dir, 'policies');
    await mkdir(policyDir);
    await writeFile(join(policyDir, 'pos.yaml'), policy('>=2.4.0 <2.5.0'));
    sites = SITES();
    options = {
      dataDir: join(dir, 'data'), tls: { cert: pki.serverCert, key: pki.serverKey }, clock, shutdownGraceMs: 1_000,
      credentials: { credentials: credentialsFromHashes(Object.fromEntries(sites.map((s) => [s.name, [hashToken(s.token)]]))) },
      fleet: { policies: { dir: policyDir, watch: false, pollIntervalMs: 0 } },
    };
    agg = await startAggregator(options);
    await agg.fleet!.whenReady();
    const random = seededRandom(SEED);
    for (const s of sites) {
      s.store = await openEdgeStore({ dir: join(dir, 'edge', s.name), siteId: s.name, clock, random, blockDuration: 10 * MIN, compression: 'none' });
      s.transport = createGrpcTransport({
        address: agg.grpcAddress, tls: { ca: pki.caCert, serverName: 'localhost' }, token: s.token, clock,
        channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 },
      });
      s.shipper = createShipper({ store: s.store, transport: s.transport, siteId: s.name, clock, siteLabels: s.labels });
    }

    // Two hours of rounds every minute, 10-minute blocks shipped as they seal, heartbeats every 5 minutes.
    for (let t = START; t <= END; t += MIN) {
      clock.set(t);
      if (t === T0) {
        // The policy change, written atomically, loaded at T0 (the directory's revision takes effect when loaded).
        await writeFile(join(policyDir, '.pos.yaml.tmp'), policy('>=2.5.0 <2.6.0'));
        await rename(join(policyDir, '.pos.yaml.tmp'), join(policyDir, 'pos.yaml'));
        const r = await agg.fleet!.reloadPolicies();
        assert.equal(r?.outcome, 'changed', JSON.stringify(r?.error?.message));
      }
      for (const s of sites) await s.round(t);
      if ((t - START) % (5 * MIN) === 0) for (const s of sites) await s.heartbeat(t);
    }
    clock.set(END + MIN);
  });

  after(async () => {
    for (const s of sites ?? []) {
      s.transport?.close();
      await s.store?.close();
    }
    await agg?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is ready, and counts what it indexed on /metrics', async () => {
    const ready = await get('/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.match(ready.text, /fleet index caught up \(reports final through .*; policy revision sha256:[0-9a-f]+ \(directory\)\)/);
    await agg.fleet!.catchUp();
    const metrics = (await get('/metrics')).text;
    assert.match(metrics, /^driftwatch_aggregator_fleet_index_sites 5$/m);
    assert.match(metrics, /^driftwatch_aggregator_fleet_catchup_lag_seconds 0\.001$/m, 'caught up to the millisecond before the clock');
    assert.match(metrics, /^driftwatch_aggregator_policy_revisions_total\{source="directory"\} 2$/m);
  });

  it('upgrades: converged, image pull error, dark and backlogged — with the evidence', async () => {
    const page = await json<WireUpgradesPage>(pinned('upgrades'));
    assert.equal(page.knownAt, formatRfc3339(Q));
    assert.equal(page.at, formatRfc3339(Q), 'at defaults to known_at');
    assert.equal(page.revisionEffectiveAt, formatRfc3339(T0));
    assert.deepEqual(page.fleet, { sites: 5, sitesWithData: 5, sitesCompleteThroughAt: 3 });
    assert.deepEqual(page.summary, { converged: 1, in_progress: 1, failed: 0, unknown: 2 });
    const by = Object.fromEntries(page.rows.map((r) => [r.site, r]));
    assert.deepEqual(Object.keys(by), ['shop-dark', 'shop-late', 'shop-ok', 'shop-pull'], 'lab-1 is not selected');
    assert.deepEqual([by['shop-ok']!.status, by['shop-ok']!.reason, by['shop-ok']!.convergedAt], ['converged', 'converged', formatRfc3339(T0 + 12 * MIN)]);
    assert.deepEqual([by['shop-pull']!.status, by['shop-pull']!.reason], ['in_progress', 'image_pull_error']);
    assert.ok(by['shop-pull']!.evidence.some((e) => e.kind === 'event' && /Failed to pull image .*manifest unknown/.test(e.text)), JSON.stringify(by['shop-pull']!.evidence));
    assert.ok(by['shop-pull']!.evidence.some((e) => e.kind === 'state' && /reason="ImagePullBackOff".* is 1/.test(e.text)), JSON.stringify(by['shop-pull']!.evidence));
    assert.deepEqual([by['shop-dark']!.status, by['shop-dark']!.reason], ['unknown', 'no_data_dark']);
    assert.deepEqual([by['shop-late']!.status, by['shop-late']!.reason], ['unknown', 'no_data_backlogged']);
    assert.equal(by['shop-dark']!.lastContactAt, formatRfc3339(T0 - 30 * MIN));
    assert.equal(by['shop-late']!.lastContactAt, formatRfc3339(END));
  });

  it('drift: the sites still on 2.4.1, since the change; stale: the dark site and the backlogged one; sites: labels and drift counts', async () => {
    const drift = await json<WirePage<WireDriftRow>>(pinned('drift'));
    assert.deepEqual(drift.rows.map((r) => [r.site, r.actual, r.since, r.policy]), [
      ['shop-dark', 'registry.example.com/shop/pos:2.4.1', formatRfc3339(T0), 'shop-pos'],
      ['shop-late', 'registry.example.com/shop/pos:2.4.1', formatRfc3339(T0), 'shop-pos'],
    ]);
    assert.match(drift.rows[0]!.expected, /semver >=2\.5\.0 <2\.6\.0/);

    const stale = await json<WirePage<WireStaleRow>>(pinned('stale'));
    assert.deepEqual(stale.rows.map((r) => [r.site, r.state, r.staleAfterMs]), [['shop-dark', 'dark', 30 * MIN], ['shop-late', 'backlogged', 30 * MIN]]);
    assert.equal(stale.rows[0]!.lastDataT, formatRfc3339(T0 - 31 * MIN));
    assert.ok((stale.rows[1]!.backlogBlocks ?? 0) >= 5, `shop-late's heartbeat reports its backlog: ${JSON.stringify(stale.rows[1])}`);

    const list = await json<WirePage<WireSiteRow>>(pinned('sites', '&selector=region%3Deu-west'));
    assert.deepEqual(list.rows.map((r) => [r.site, r.labels, r.driftCount]), [
      ['lab-1', { region: 'eu-west', tier: 'lab' }, 0], ['shop-dark', { region: 'eu-west', tier: 'shop' }, 1],
      ['shop-late', { region: 'eu-west', tier: 'shop' }, 1], ['shop-ok', { region: 'eu-west', tier: 'shop' }, 0],
    ]);
    assert.equal(list.fleet.sites, 4);
    const one = await json<{ site: { site: string; blocks: number; seal: { missing: number[] }[] } }>(`/fleet/v1/sites/shop-pull?known_at=${encodeURIComponent(formatRfc3339(Q))}`);
    assert.equal(one.site.blocks, 12, 'twelve 10-minute blocks shipped');
    assert.deepEqual(one.site.seal.map((s) => s.missing), [[]]);
    const unknown = await get(pinned('sites').replace('/sites?', '/sites/shop-nowhere?'));
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /DW_API_UNKNOWN_SITE/);
  });

  it('late blocks change the answer about the past, while the same query pinned to the earlier known_at answers byte for byte the same', async () => {
    const routes = ['drift', 'upgrades', 'stale', 'sites'];
    const beforeLate = await Promise.all(routes.map((r) => get(pinned(r))));
    const late = sites.find((s) => s.name === 'shop-late')!;
    clock.set(LATE);
    late.ships = true;
    await late.sync();
    clock.set(LATE + MIN);
    await agg.fleet!.catchUp();
    const afterLate = await Promise.all(routes.map((r) => get(pinned(r))));
    for (let i = 0; i < routes.length; i++) {
      assert.equal(afterLate[i]!.status, 200);
      assert.equal(afterLate[i]!.text, beforeLate[i]!.text, `${routes[i]} pinned to known_at ${formatRfc3339(Q)} changed after the late blocks arrived`);
    }
    // Without known_at: the latest final cut (the watermark), which now holds the late blocks.
    const now = await json<WireUpgradesPage>(`/fleet/v1/upgrades?at=${encodeURIComponent(formatRfc3339(Q))}`);
    assert.equal(now.knownAt, formatRfc3339(LATE + MIN - 1), 'the default known_at is the millisecond before the clock');
    const row = now.rows.find((r) => r.site === 'shop-late')!;
    assert.deepEqual([row.status, row.convergedAt], ['converged', formatRfc3339(T0 + 15 * MIN)]);
    assert.deepEqual(now.summary, { converged: 2, in_progress: 1, failed: 0, unknown: 1 });
    // An explicit known_at past the last catch-up is answered after catching up on demand, never DW_FLEET_NOT_INDEXED.
    clock.set(LATE + 2 * MIN);
    const explicit = await get(`/fleet/v1/drift?known_at=${encodeURIComponent(formatRfc3339(LATE + 2 * MIN - 1))}`);
    assert.equal(explicit.status, 200, explicit.text);
    assert.equal((JSON.parse(explicit.text) as WirePage<WireDriftRow>).knownAt, formatRfc3339(LATE + 2 * MIN - 1));
  });

  it('driftwatch report drift prints the table from the running aggregator', async () => {
    const out = sink();
    const err = sink();
    const code = await runReport(['drift', '--aggregator', agg.httpAddress, '--at', formatRfc3339(Q), '--known-at', formatRfc3339(Q)], { stdout: out.stream, stderr: err.stream }, { env: {}, now: () => clock.now() });
    assert.equal(code, 0, err.text());
    const text = out.text();
    assert.match(text, /^SITE\s+SERIES\s+EXPECTED\s+ACTUAL\s+SINCE/m);
    assert.match(text, /^shop-dark\s+kube_deployment_container_image\{.*\}\s+.*registry\.example\.com\/shop\/pos:2\.4\.1/m);
    assert.match(text, /^shop-late\s/m);
    assert.doesNotMatch(text, /^shop-(ok|pull)\s/m);
  });
  it('a restart loads the index snapshot written on close: ready without reading a stored block, the same answers byte for byte', async () => {
    const routes = ['drift', 'upgrades', 'stale', 'sites'];
    await agg.fleet!.catchUp();
    const known = agg.fleet!.indexedThrough();
    const pinnedNow = (r: string): string => `/fleet/v1/${r}?known_at=${encodeURIComponent(formatRfc3339(known))}`;
    const beforeRestart = await Promise.all([...routes.map((r) => get(pinned(r))), ...routes.map((r) => get(pinnedNow(r)))]);
    const blocks = Number(/^driftwatch_aggregator_fleet_index_blocks (\d+)$/m.exec((await get('/metrics')).text)?.[1]);
    assert.ok(blocks > 50, `blocks indexed: ${blocks}`);
    await agg.close();
    agg = await startAggregator(options);
    await agg.fleet!.whenReady();
    const metrics = (await get('/metrics')).text;
    assert.match(metrics, /^driftwatch_aggregator_fleet_snapshot_loads_total\{outcome="loaded"\} 1$/m);
    assert.match(metrics, new RegExp(`^driftwatch_aggregator_fleet_startup_blocks\\{source="snapshot"\\} ${blocks}$`, 'm'));
    assert.match(metrics, /^driftwatch_aggregator_fleet_startup_blocks\{source="store"\} 0$/m, 'no stored block read: no reindex');
    const afterRestart = await Promise.all([...routes.map((r) => get(pinned(r))), ...routes.map((r) => get(pinnedNow(r)))]);
    assert.deepEqual(afterRestart.map((r) => r.status), beforeRestart.map(() => 200));
    assert.deepEqual(afterRestart.map((r) => r.text), beforeRestart.map((r) => r.text));
  });
});

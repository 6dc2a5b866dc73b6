// shipping-outage: a site cut off for 24 h reconnects through a 1 Mbit/s link (issue 4).
//
// The synthetic site (2,000 string and 200 float series at 15 s) runs for 24 h on a ManualClock
// into a real edge store (LevelDB in a temporary directory, 5-minute blocks), which compacts
// after every seal as the agent does. The outage starts at 07:10 UTC, not at midnight, so that
// the backlog is what a typical outage leaves: a day block, 6 h and 1 h blocks, and the newest
// 5-minute blocks (an outage that ends exactly on a day boundary compacts into one day block). The
// round at the end of the 24 h seals the last block and stays in the head, not in the backlog.
// Then the link comes back: the TCP fault proxy (test/helpers/fault-proxy.ts) in throttle mode
// at 125,000 B/s each way, in real time, between the real shipper (grpc-js, TLS with a test CA,
// production defaults: 64 KiB chunks, the default retry policy) and the real aggregator
// (startAggregator: TLS, a per-site token, a full decode of every block, the level store with
// fsync). The link is the proxy, not the shipper's own bandwidth cap (`bandwidth: 1Mbit`), so
// TLS, HTTP/2 and gRPC framing pay the toll too, and both directions are counted.
//
// Measured: the time from the reconnect to the newest block's Stored; the time until the whole
// backlog is stored; the proxy's byte counters both ways per backlog sample; and loss, by the
// end-to-end oracle (test/e2e/oracle.ts compareSides) over every edge block against every center
// block, run per 1/64 of the series to bound its memory (a sample is identified by its series and
// time, so each part is checked exactly; the whole day at once would hold 2 × 12.6 M map entries).
//
// The peer, in the same run, on the same rounds: Prometheus remote write 1.0
// (bench/remote-write-peer.ts), its bytes counted and put through a link model (every byte in
// order over 125,000 B/s: a backlog replayed oldest first shows the newest sample last).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentialsFromHashes, hashToken, startAggregator } from '../aggregator/index.js';
import { openEdgeStore, type EdgeStore } from '../collector/store/index.js';
import { ManualClock } from '../common/clock.js';
import { seededRandom } from '../common/random.js';
import { systemTimers } from '../common/timers.js';
import { decodeBlock, encodeBlock, seriesKey, type Block } from '../proto/index.js';
import { createGrpcTransport, createShipper, DEFAULT_RETRY_POLICY, withRetry, type IngestTransport } from '../shipper/index.js';
import { centerBlocks, edgeBlocks } from '../test/e2e/helpers.js';
import { compareSides } from '../test/e2e/oracle.js';
import { startFaultProxy, type FaultProxy, type FaultProxyStats } from '../test/helpers/fault-proxy.js';
import { makeTestPki } from '../test/helpers/tls.js';
import { REMOTE_WRITE_DEFAULTS, RemoteWritePeer, type RemoteWriteTotals } from './remote-write-peer.js';
import type { BenchCase, CaseResult, Figure, RunOptions } from './report.js';
import { SYNTHETIC_SITE_DEFAULTS, syntheticSite, syntheticSiteShape } from './synthetic-site.js';

/** The goals of issue 4. */
export const SHIPPING_OUTAGE_GOALS = { newestSeconds: 30, drainSeconds: 15 * 60 } as const;

const SEED = 4;
const MIN = 60_000;
const HOUR = 60 * MIN;
const OUTAGE_MS = 24 * HOUR;
const OUTAGE_START = SYNTHETIC_SITE_DEFAULTS.start + 7 * HOUR + 10 * MIN;
/** 1 Mbit/s, each way. */
const LINK_BYTES_PER_SECOND = 125_000;
const SITE = 'site-outage-1';
const TOKEN = 'dwt_bench_site-outage-1_00112233445566778899aabbccddeeff';
/** The oracle runs over this many disjoint parts of the series. */
const ORACLE_PARTS = 64;
/** Prometheus' min_shards and max_shards defaults: a catch-up reshards up towards the latter. */
const PEER_SHARDS = [REMOTE_WRITE_DEFAULTS.minShards, REMOTE_WRITE_DEFAULTS.maxShards];
const NAME = 'shipping-outage/strings=2000/floats=200/outage=24h/link=1Mbit';

/** The case. */
export function shippingOutageCase(): BenchCase {
  return { name: NAME, run: runShippingOutage };
}

interface Backlog {
  readonly blocks: number;
  readonly bytes: number;
  readonly samples: number;
  readonly rounds: number;
  readonly levels: string;
  readonly newestId: string;
  readonly newestBytes: number;
  readonly sealed: number;
  readonly generateSeconds: number;
}

/** 24 h of the synthetic site into the store, compacting after each seal; the peers see the same backlog rounds. */
async function fillStore(store: EdgeStore, clock: ManualClock, peers: RemoteWritePeer[], opts: RunOptions): Promise<Backlog> {
  const site = { seed: SEED, start: OUTAGE_START, durationMs: OUTAGE_MS + SYNTHETIC_SITE_DEFAULTS.intervalMs };
  const shape = syntheticSiteShape(site);
  const t0 = performance.now();
  let i = 0;
  let sealed = 0;
  let compactions = 0;
  for (const round of syntheticSite(site)) {
    clock.set(round.t);
    const info = await store.appendRound(round);
    if (info !== undefined) {
      sealed++;
      compactions += (await store.compact()).created.length;
    }
    // The last round seals the outage's last block and stays in the head: not part of the backlog.
    if (i < shape.rounds - 1) for (const p of peers) p.appendRound(round);
    i++;
    if (i % 240 === 0) {
      opts.log(`${NAME}: ${i / 240} h of ${OUTAGE_MS / HOUR} simulated, ${sealed} blocks sealed, ${compactions} compacted, ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s, ${memory()}`);
    }
  }
  const pending = await store.listUnshipped({ order: 'newest-first' });
  const newest = pending[0];
  if (newest === undefined) throw new Error('shipping-outage: expected a backlog, found no unshipped block');
  const byLevel = new Map<number, number>();
  for (const b of pending) byLevel.set(b.level, (byLevel.get(b.level) ?? 0) + 1);
  return {
    blocks: pending.length,
    bytes: pending.reduce((n, b) => n + b.bytes, 0),
    samples: pending.reduce((n, b) => n + b.numSamples, 0),
    rounds: pending.reduce((n, b) => n + b.numRounds, 0),
    levels: [...byLevel].sort((a, b) => b[0] - a[0]).map(([level, n]) => `${n}×L${level}`).join(' '),
    newestId: newest.id,
    newestBytes: newest.bytes,
    sealed,
    generateSeconds: (performance.now() - t0) / 1000,
  };
}

/** A transport that notes when each upload's Stored arrives (the outermost wrapper: after retries). */
function timedTransport(inner: IngestTransport, onStored: (id: string) => void): IngestTransport {
  return {
    hello: (info, o) => inner.hello(info, o),
    async upload(block, from, o) {
      const r = await inner.upload(block, from, o);
      if (r.status === 'success') onStored(block.id);
      return r;
    },
    heartbeat: (info, o) => inner.heartbeat(info, o),
    close: () => inner.close(),
  };
}

interface Drain {
  readonly newestSeconds: number;
  readonly drainSeconds: number;
  readonly atNewest: FaultProxyStats;
  readonly atEnd: FaultProxyStats;
  readonly firstShipped: string;
  readonly stored: number;
  readonly blockBytesSent: number;
}

async function reconnect(store: EdgeStore, clock: ManualClock, proxy: FaultProxy, transport: IngestTransport, backlog: Backlog, stored: Map<string, { at: number; stats: FaultProxyStats }>): Promise<Drain> {
  const shipper = createShipper({ store, transport, siteId: SITE, clock });
  proxy.setMode({ kind: 'throttle', bytesPerSecond: LINK_BYTES_PER_SECOND });
  const t0 = performance.now();
  const summary = await shipper.sync();
  const t1 = performance.now();
  if (summary.outcome !== 'done') throw new Error(`shipping-outage: expected the sync to finish, found ${summary.outcome}: ${summary.error?.message ?? ''}`);
  const left = await store.listUnshipped();
  if (left.length > 0) throw new Error(`shipping-outage: expected an empty backlog after the sync, found ${left.length} blocks`);
  const newest = stored.get(backlog.newestId);
  if (newest === undefined) throw new Error(`shipping-outage: expected a Stored for the newest block ${backlog.newestId}, found none`);
  return {
    newestSeconds: (newest.at - t0) / 1000,
    drainSeconds: (t1 - t0) / 1000,
    atNewest: newest.stats,
    atEnd: proxy.stats,
    firstShipped: summary.shipped[0] ?? '',
    stored: summary.stored,
    blockBytesSent: summary.bytesSent,
  };
}

/** compareSides over `parts` disjoint sets of series, the counts added up. */
function oracleByParts(edge: readonly Uint8Array[], center: readonly Uint8Array[], parts: number, log: (line: string) => void): { edgeSamples: number; centerSamples: number; lost: number; duplicated: number; unexpected: number; droppedRanges: number } {
  const e = edge.map((b) => decodeBlock(b));
  const c = center.map((b) => decodeBlock(b));
  const partOf = new Map<string, number>();
  const part = (name: string, labels: Block['data']['series'][number]['labels']): number => {
    const key = seriesKey(name, labels);
    let p = partOf.get(key);
    if (p === undefined) {
      let h = 2166136261;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
      p = (h >>> 0) % parts;
      partOf.set(key, p);
    }
    return p;
  };
  // The block's identity is kept (its id and the ids it replaces), so superseded blocks are told apart as in the full oracle.
  const slice = (b: Block, p: number): Uint8Array => encodeBlock(
    { rounds: b.data.rounds, series: b.data.series.filter((s) => part(s.name, s.labels) === p), events: b.data.events },
    { siteId: b.header.siteId, blockId: b.header.blockId, sequence: b.header.sequence, replaces: b.header.replaces, level: b.header.level, createdAt: b.header.createdAt },
    { compression: 'none' },
  );
  const sum = { edgeSamples: 0, centerSamples: 0, lost: 0, duplicated: 0, unexpected: 0, droppedRanges: 0 };
  for (let p = 0; p < parts; p++) {
    const r = compareSides(e.map((b) => slice(b, p)), c.map((b) => slice(b, p)));
    log(`oracle part ${p + 1}/${parts}: ${memory()}`);
    sum.edgeSamples += r.edgeSamples;
    sum.centerSamples += r.centerSamples;
    sum.lost += r.lost.length;
    sum.duplicated += r.duplicated.length;
    sum.unexpected += r.unexpected.length;
    sum.droppedRanges = Math.max(sum.droppedRanges, r.droppedRanges.length);
  }
  return sum;
}

async function runShippingOutage(opts: RunOptions): Promise<CaseResult> {
  const pki = await makeTestPki();
  const storeDir = await mkdtemp(join(tmpdir(), 'dw-bench-outage-edge-'));
  const aggDir = await mkdtemp(join(tmpdir(), 'dw-bench-outage-center-'));
  const clock = new ManualClock(OUTAGE_START);
  const cleanups: (() => Promise<unknown>)[] = [() => pki.cleanup(), () => rm(storeDir, { recursive: true, force: true }), () => rm(aggDir, { recursive: true, force: true })];
  try {
    const store = await openEdgeStore({
      dir: storeDir, siteId: SITE, clock, random: seededRandom(SEED), onWarning: (fields, message) => opts.log(`store: ${message} ${JSON.stringify(fields)}`),
    });
    cleanups.push(() => store.close());

    opts.log(`${NAME}: the site is cut off: 24 h of rounds into the edge store (compaction after each seal) and into the remote-write peers`);
    const peers = PEER_SHARDS.map((shards) => new RemoteWritePeer({ shards, token: TOKEN }));
    const backlog = await fillStore(store, clock, peers, opts);
    const peerTotals = peers.map((p) => p.finish());
    opts.log(`${NAME}: backlog ${backlog.blocks} blocks (${backlog.levels}), ${backlog.bytes} B, ${backlog.samples} samples; generated in ${backlog.generateSeconds.toFixed(0)} s`);

    const agg = await startAggregator({
      dataDir: aggDir, tls: { cert: pki.serverCert, key: pki.serverKey }, clock,
      credentials: { credentials: credentialsFromHashes({ [SITE]: [hashToken(TOKEN)] }) },
    });
    cleanups.push(() => agg.close());
    const [host, port] = splitAddress(agg.grpcAddress);
    const proxy = await startFaultProxy({ target: { host, port }, random: seededRandom(SEED), mode: 'refuse' });
    cleanups.push(() => proxy.close());
    const stored = new Map<string, { at: number; stats: FaultProxyStats }>();
    const retrying = withRetry(
      createGrpcTransport({ address: proxy.address, tls: { ca: pki.caCert, serverName: 'localhost' }, token: TOKEN, clock }),
      DEFAULT_RETRY_POLICY, { clock, timers: systemTimers(clock), random: seededRandom(SEED + 1) },
    );
    const transport = timedTransport(retrying, (id) => stored.set(id, { at: performance.now(), stats: proxy.stats }));
    cleanups.push(async () => transport.close());

    opts.log(`${NAME}: the link is back at ${LINK_BYTES_PER_SECOND} B/s each way; shipping in real time`);
    const drain = await reconnect(store, clock, proxy, transport, backlog, stored);
    opts.log(`${NAME}: ${memory()}`);
    opts.log(`${NAME}: newest block stored after ${drain.newestSeconds.toFixed(2)} s, backlog drained after ${drain.drainSeconds.toFixed(2)} s`);

    opts.log(`${NAME}: oracle: every edge block against every center block, in ${ORACLE_PARTS} parts of the series`);
    const oracle = oracleByParts(await edgeBlocks(store), await centerBlocks(agg, SITE), ORACLE_PARTS, (line) => opts.log(`${NAME}: ${line}`));
    return result(backlog, drain, oracle, peerTotals);
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => opts.log(`${NAME}: cleanup: ${(err as Error).message}`));
  }
}

/** RSS now and its peak so far. */
function memory(): string {
  return `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`;
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

function result(backlog: Backlog, drain: Drain, oracle: ReturnType<typeof oracleByParts>, peers: RemoteWriteTotals[]): CaseResult {
  const wire = drain.atEnd.bytesToTarget + drain.atEnd.bytesToClient;
  const perSample = (bytes: number): number => bytes / backlog.samples;
  const model = (bytesUp: number): number => bytesUp / LINK_BYTES_PER_SECOND;
  // The peer's headline is its configuration with the fewest bytes: the comparison is made against its best case.
  const peer = peers.reduce((a, b) => (b.upstreamBytes + b.downstreamBytes < a.upstreamBytes + a.downstreamBytes ? b : a));
  const peerWire = peer.upstreamBytes + peer.downstreamBytes;
  const figures: Figure[] = [
    { key: 'newestStoredSeconds', label: 'driftwatch: reconnect → newest block Stored (measured)', value: drain.newestSeconds, unit: 's', goal: { op: '<=', value: SHIPPING_OUTAGE_GOALS.newestSeconds } },
    { key: 'drainSeconds', label: 'driftwatch: reconnect → whole backlog Stored (measured)', value: drain.drainSeconds, unit: 's', goal: { op: '<=', value: SHIPPING_OUTAGE_GOALS.drainSeconds } },
    { key: 'wireBytesPerSample', label: 'driftwatch: bytes on the wire per sample (proxy, both ways)', value: perSample(wire), unit: 'B/sample', digits: 4 },
    { key: 'lost', label: 'driftwatch: samples lost (oracle)', value: oracle.lost, unit: 'samples', goal: { op: '<=', value: 0 }, digits: 0 },
    { key: 'duplicated', label: 'driftwatch: samples duplicated (oracle)', value: oracle.duplicated, unit: 'samples', goal: { op: '<=', value: 0 }, digits: 0 },
    { key: 'unexpected', label: 'driftwatch: samples unexpected (oracle)', value: oracle.unexpected, unit: 'samples', goal: { op: '<=', value: 0 }, digits: 0 },
    { key: 'newestModelSeconds', label: 'driftwatch: link model, bytes up to newest Stored / 125,000 B/s', value: model(drain.atNewest.bytesToTarget), unit: 's' },
    { key: 'drainModelSeconds', label: 'driftwatch: link model, all bytes up / 125,000 B/s', value: model(drain.atEnd.bytesToTarget), unit: 's' },
    { key: 'wireBytesUp', label: 'driftwatch: bytes on the wire, up (shipper → aggregator)', value: drain.atEnd.bytesToTarget, unit: 'B' },
    { key: 'wireBytesDown', label: 'driftwatch: bytes on the wire, down', value: drain.atEnd.bytesToClient, unit: 'B' },
    { key: 'blockBytes', label: 'driftwatch: backlog block bytes', value: backlog.bytes, unit: 'B' },
    { key: 'wireOverhead', label: 'driftwatch: wire bytes / block bytes', value: wire / backlog.bytes, unit: 'ratio', digits: 3 },
    { key: 'peerWireBytesPerSample', label: `peer remote write (shards=${peer.shards}): bytes per sample (model: bodies + HTTP + TLS records)`, value: perSample(peerWire), unit: 'B/sample', digits: 3 },
    { key: 'peerBodyBytesPerSample', label: `peer remote write (shards=${peer.shards}): snappy bodies only, per sample`, value: perSample(peer.bodyBytes), unit: 'B/sample', digits: 3 },
    { key: 'peerNewestModelSeconds', label: 'peer remote write: newest sample stored (link model, oldest first)', value: model(peer.upstreamBytes), unit: 's' },
    { key: 'peerDrainModelSeconds', label: 'peer remote write: backlog drained (link model)', value: model(peer.upstreamBytes), unit: 's' },
    { key: 'bytesRatio', label: 'peer bytes / driftwatch bytes (wire, both ways)', value: peerWire / wire, unit: 'ratio', digits: 1 },
    { key: 'drainRatio', label: 'peer drain (model) / driftwatch drain (measured)', value: model(peer.upstreamBytes) / drain.drainSeconds, unit: 'ratio', digits: 1 },
    { key: 'newestRatio', label: 'peer newest (model) / driftwatch newest (measured)', value: model(peer.upstreamBytes) / drain.newestSeconds, unit: 'ratio', digits: 0 },
  ];
  for (const p of peers) {
    figures.push({ key: `peerShards${p.shards}BytesPerSample`, label: `peer remote write, shards=${p.shards}: bytes per sample (model)`, value: perSample(p.upstreamBytes + p.downstreamBytes), unit: 'B/sample', digits: 3 });
    figures.push({ key: `peerShards${p.shards}DrainModelSeconds`, label: `peer remote write, shards=${p.shards}: drain (link model)`, value: model(p.upstreamBytes), unit: 's' });
  }
  return {
    name: NAME,
    figures,
    notes: [
      `backlog: ${backlog.rounds} rounds (24 h from ${new Date(OUTAGE_START).toISOString()}), ${backlog.samples} samples in ${backlog.blocks} blocks (${backlog.levels}; ${backlog.sealed} sealed, compacted after each seal as the agent does), ${backlog.bytes} B; newest block ${backlog.newestBytes} B, shipped ${drain.firstShipped === backlog.newestId ? 'first' : 'NOT first'}`,
      `link: the TCP fault proxy throttling to ${LINK_BYTES_PER_SECOND} B/s each way (1 Mbit/s), real time; shipper → proxy → aggregator over TLS (test CA), gRPC, 64 KiB chunks; the shipper's own bandwidth cap is off (the link is the limit)`,
      `measured from the proxy's switch to throttle (before the TLS handshake and Hello) to the newest block's Stored and to the end of the sync (${drain.stored} blocks stored, ${drain.blockBytesSent} block bytes sent)`,
      `oracle: compareSides (test/e2e/oracle.ts) over every live edge block vs every center block, in ${ORACLE_PARTS} disjoint parts of the series; edge ${oracle.edgeSamples} samples, center ${oracle.centerSamples}; dropped ranges ${oracle.droppedRanges}`,
      `peer: Prometheus remote write 1.0 as its queue manager sends it — one TimeSeries per sample with all its labels, max_samples_per_send ${REMOTE_WRITE_DEFAULTS.maxSamplesPerSend}, per-shard batches oldest first, snappy (snappyjs); string series info-style (value in a label, sample 1) with staleness markers (${peer.staleMarkers}); ${peer.requests} requests; no external labels, no scrape-health series, no metadata: its best case`,
      'peer times are a LINK MODEL, not a measurement: upstream bytes (bodies + HTTP/1.1 request heads + TLS record framing; no handshake, no TCP/IP) / 125,000 B/s; replayed oldest first, the newest sample arrives with the last byte. driftwatch\'s own model figures (its bytes / 125,000 B/s) stand beside its measured times to check the model',
      'peer, not a figure: Prometheus\' remote write reads from the WAL, which keeps about 2 h of raw data; after a 24 h outage it would have had only the last ~2 h to send, the rest lost (vmagent buffers on disk and drops the oldest data once the buffer reaches -remoteWrite.maxDiskUsagePerURL)',
    ],
    context: {
      seed: SEED, outageStart: OUTAGE_START, outageHours: OUTAGE_MS / HOUR, linkBytesPerSecond: LINK_BYTES_PER_SECOND,
      backlogSamples: backlog.samples, backlogBlocks: backlog.blocks, backlogBytes: backlog.bytes, blocksSealed: backlog.sealed,
      generateSeconds: Math.round(backlog.generateSeconds), oracleParts: ORACLE_PARTS, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      ...Object.fromEntries(peers.flatMap((p) => [
        [`peerShards${p.shards}Requests`, p.requests], [`peerShards${p.shards}Samples`, p.samples], [`peerShards${p.shards}ProtobufBytes`, p.protobufBytes],
        [`peerShards${p.shards}BodyBytes`, p.bodyBytes], [`peerShards${p.shards}UpstreamBytes`, p.upstreamBytes], [`peerShards${p.shards}DownstreamBytes`, p.downstreamBytes],
      ])),
    },
  };
}

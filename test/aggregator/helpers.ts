// Helpers for the aggregator tests: an aggregator on loopback with TLS and per-site tokens in a
// temporary directory on a ManualClock, seeded blocks of any site, a decompression bomb, and
// reading /metrics counters.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { credentialsFromHashes, hashToken, startAggregator, type Aggregator, type AggregatorOptions } from '../../aggregator/index.js';
import { ManualClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { newUlid, ulidToString } from '../../common/ulid.js';
import { BlockBuilder, DEFAULT_DECODE_LIMITS, encodeBlock, type Round } from '../../proto/index.js';
import { readFrameHeader, writeFrame } from '../../proto/block/frame.js';
import { IngestClient } from '../helpers/ingest-client.js';
import { testPki, type TestPki } from '../helpers/tls.js';

export const T0 = Date.UTC(2025, 10, 20, 12);

/** A deterministic token per site (tests only; real tokens come from `credentials add`). */
export function tokenOf(site: string): string {
  return `dwt_test_${site}_0123456789abcdef0123456789abcdef`;
}

export interface TestAggregator {
  agg: Aggregator;
  readonly dataDir: string;
  readonly clock: ManualClock;
  readonly pki: TestPki;
  readonly sites: readonly string[];
  /** A TLS client holding `site`'s token (closed by cleanup). */
  client(site: string, token?: string): IngestClient;
  /** Closes the aggregator and starts it again on the same data directory (new ports). */
  restart(): Promise<Aggregator>;
  cleanup(): Promise<void>;
}

/** Starts an aggregator over TLS with a token for each of `sites`. */
export async function startTestAggregator(sites: readonly string[], options: Partial<AggregatorOptions> = {}): Promise<TestAggregator> {
  const pki = await testPki();
  const dataDir = await mkdtemp(join(tmpdir(), 'dw-agg-'));
  const clock = new ManualClock(T0);
  const credentials = credentialsFromHashes(Object.fromEntries(sites.map((s) => [s, [hashToken(tokenOf(s))]])));
  const start = (): Promise<Aggregator> => startAggregator({
    dataDir, tls: { cert: pki.serverCert, key: pki.serverKey }, credentials: { credentials }, clock, shutdownGraceMs: 1_000, ...options,
  });
  const clients: IngestClient[] = [];
  const t: TestAggregator = {
    agg: await start(),
    dataDir, clock, pki, sites,
    client(site, token) {
      const c = new IngestClient(t.agg.grpcAddress, { ca: pki.caCert, token: token ?? tokenOf(site) });
      clients.push(c);
      return c;
    },
    async restart() {
      await t.agg.close();
      t.agg = await start();
      return t.agg;
    },
    async cleanup() {
      for (const c of clients) c.close();
      await t.agg.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Seeded rounds: `strings` string series and `floats` float series over `rounds` rounds at 15 s. */
export function testRounds(seed: number, rounds = 20, strings = 40, floats = 20, start = T0): Round[] {
  const random = seededRandom(seed);
  const out: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const samples: Round['samples'][number][] = [];
    for (let i = 0; i < strings; i++) {
      samples.push({ name: 'kube_deployment_container_image', labels: { deployment: `app-${i}` }, type: 'string', value: `registry.example/app-${i}:1.${Math.floor(random() * 3)}` });
    }
    for (let i = 0; i < floats; i++) {
      samples.push({ name: 'node_filesystem_avail_bytes', labels: { device: `sd${i}` }, type: 'float', value: Math.round(random() * 1e9) });
    }
    out.push({ t: start + r * 15_000, samples });
  }
  return out;
}

/** A block of `site`: its 16-byte id (seeded), ULID text and encoded bytes. */
export function makeBlock(site: string, seed: number, options: { rounds?: number; strings?: number; floats?: number; compression?: 'none' | 'brotli' } = {}): { id: Uint8Array; idText: string; bytes: Uint8Array; samples: number } {
  const builder = new BlockBuilder();
  const rounds = testRounds(seed, options.rounds, options.strings, options.floats);
  for (const round of rounds) builder.append(round);
  const id = newUlid(new ManualClock(T0 + seed), seededRandom(seed));
  const bytes = encodeBlock(builder.build(), { siteId: site, blockId: id, sequence: seed, createdAt: T0 + 600_000 }, { compression: options.compression ?? 'brotli' });
  return { id, idText: ulidToString(id), bytes, samples: rounds.reduce((n, r) => n + r.samples.length, 0) };
}

/**
 * A decompression bomb with a valid frame and checksums: a real block of `site` whose payload is
 * replaced by 16 MiB of zeros compressed to a few hundred bytes, declaring its true raw length
 * (far past the 1000:1 ratio cap).
 */
export function makeBomb(site: string, seed: number): { id: Uint8Array; idText: string; bytes: Uint8Array } {
  const base = makeBlock(site, seed, { rounds: 2, strings: 1, floats: 1 });
  const header = readFrameHeader(base.bytes, DEFAULT_DECODE_LIMITS).header;
  const bomb = brotliCompressSync(new Uint8Array(16 << 20));
  const bytes = writeFrame({ ...header, compression: 'brotli', payloadLength: bomb.length, rawPayloadLength: 16 << 20 }, bomb);
  return { id: base.id, idText: base.idText, bytes };
}

/** The value of a counter in a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf('}')) : '';
    if (want.every((w) => labelText.split(',').includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** GET a path of the aggregator's HTTP listener through fastify's inject (no socket). */
export async function scrape(agg: Aggregator, path = '/metrics'): Promise<{ status: number; body: string }> {
  const res = await agg.http.inject({ method: 'GET', url: path });
  return { status: res.statusCode, body: res.body };
}

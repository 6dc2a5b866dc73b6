// ingest-throughput: many sites upload realistic blocks at once to the real aggregator (TLS,
// per-site tokens, SHA-256 and a full decode of every block, level store with group commit and
// fsync) on loopback; the server runs in a child process of its own (bench/ingest-server.ts) so
// that its CPU time is measured alone: samples stored per second of server CPU is the figure
// per core. Side by side in the same run, on the same bytes, with the same connections and
// concurrency: the peer `echo` (a plain grpc-js unary method over the same TLS that takes the
// bytes and answers empty: the transport's ceiling), and `fsync` (each block written to a file
// and fsynced, no network: the disk's). Blocks are the synthetic site's (2,000 string and 200
// float series at 15 s): 5-minute blocks as sealed while the link is up, or 1-hour blocks as
// compacted while it was down. Each block is encoded once and re-framed per site with the
// site's id and a fresh block id (the header changes, the payload does not).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, credentials as grpcCredentials, Metadata, status as Status } from '@grpc/grpc-js';
import { hashToken } from '../aggregator/ingest/credentials.js';
import { ManualClock } from '../common/clock.js';
import { seededRandom } from '../common/random.js';
import { newUlid } from '../common/ulid.js';
import {
  AUTHORIZATION_METADATA, BlockBuilder, DEFAULT_DECODE_LIMITS, decodeBlock, encodeBlock, ingestService, type UploadResponseInit,
} from '../proto/index.js';
import { readFrameHeader, writeFrame } from '../proto/block/frame.js';
import { makeTestPki } from '../test/helpers/tls.js';
import { ECHO_PATH, type IngestServerConfig } from './ingest-server.js';
import { median, quantile, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { syntheticSite } from './synthetic-site.js';

/** The goal of issue 4. */
export const INGEST_GOAL_SAMPLES_PER_CORE_SECOND = 1_000_000;

const SEED = 4;

interface SiteBlocks {
  readonly site: string;
  readonly token: string;
  readonly blocks: { readonly id: Uint8Array; readonly bytes: Uint8Array; readonly sha256: Uint8Array; readonly samples: number }[];
}

interface Prepared {
  readonly sites: SiteBlocks[];
  readonly samples: number;
  readonly bytes: number;
  readonly blocks: number;
  readonly distinct: Uint8Array[];
}

function prepare(sites: number, roundsPerBlock: number, hours: number): Prepared {
  const rounds = [...syntheticSite({ seed: SEED, durationMs: hours * 3_600_000 })];
  const encoded: { bytes: Uint8Array; samples: number }[] = [];
  for (let at = 0; at + roundsPerBlock <= rounds.length; at += roundsPerBlock) {
    const builder = new BlockBuilder();
    for (const r of rounds.slice(at, at + roundsPerBlock)) builder.append(r);
    const data = builder.build();
    const blockId = newUlid(new ManualClock(rounds[at]!.t), seededRandom(at));
    const bytes = encodeBlock(data, { siteId: 'site-00000', blockId, sequence: at / roundsPerBlock + 1, level: roundsPerBlock > 20 ? 1 : 0, createdAt: rounds[at + roundsPerBlock - 1]!.t });
    encoded.push({ bytes, samples: readFrameHeader(bytes, DEFAULT_DECODE_LIMITS).header.numSamples });
  }
  const random = seededRandom(SEED);
  let samples = 0;
  let bytes = 0;
  const out: SiteBlocks[] = [];
  for (let s = 0; s < sites; s++) {
    const site = `site-${String(s).padStart(5, '0')}`;
    const blocks = encoded.map((e, j) => {
      const frame = readFrameHeader(e.bytes, DEFAULT_DECODE_LIMITS);
      const id = newUlid(new ManualClock(frame.header.minT + j), random);
      const framed = writeFrame({ ...frame.header, siteId: site, blockId: id }, e.bytes.subarray(frame.payloadOffset, frame.totalLength - 4));
      samples += e.samples;
      bytes += framed.length;
      return { id, bytes: framed, sha256: createHash('sha256').update(framed).digest(), samples: e.samples };
    });
    out.push({ site, token: `dwt_bench_${site}`, blocks });
  }
  return { sites: out, samples, bytes, blocks: sites * encoded.length, distinct: encoded.map((e) => e.bytes) };
}

/** The server child: started, its address, its CPU time, stopped. */
class ServerChild {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #lines: AsyncIterator<string>;

  private constructor(child: ChildProcessByStdio<Writable, Readable, null>) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(mode: 'aggregator' | 'echo', config: IngestServerConfig): Promise<{ server: ServerChild; address: string }> {
    const script = fileURLToPath(new URL('./ingest-server.js', import.meta.url));
    const child = spawn(process.execPath, [script, mode, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const server = new ServerChild(child);
    const ready = JSON.parse(await server.#next()) as { address: string };
    return { server, address: ready.address };
  }

  async #next(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error('ingest-server child ended early');
    return r.value;
  }

  async cpuSeconds(): Promise<number> {
    this.#child.stdin.write('cpu\n');
    const { cpu } = JSON.parse(await this.#next()) as { cpu: { user: number; system: number } };
    return (cpu.user + cpu.system) / 1e6;
  }

  async stats(): Promise<{ commitBatches: number; commits: number } | null> {
    this.#child.stdin.write('stats\n');
    return (JSON.parse(await this.#next()) as { stats: { commitBatches: number; commits: number } | null }).stats;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin.write('stop\n');
    await exited;
  }
}

function clientFor(address: string, ca: Buffer): Client {
  // One connection per site, as in the field: no subchannel sharing between the clients.
  // The test certificate names localhost and 127.0.0.1; SNI takes the name (an IP there is deprecated).
  return new Client(address, grpcCredentials.createSsl(ca), {
    'grpc.use_local_subchannel_pool': 1, 'grpc.max_send_message_length': 64 << 20, 'grpc.ssl_target_name_override': 'localhost',
  });
}

function auth(token: string): Metadata {
  const m = new Metadata();
  m.set(AUTHORIZATION_METADATA, `Bearer ${token}`);
  return m;
}

function uploadOne(client: Client, site: SiteBlocks, block: SiteBlocks['blocks'][number]): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(ingestService.upload.path, ingestService.upload.requestSerialize, ingestService.upload.responseDeserialize, auth(site.token));
    let stored: UploadResponseInit['stored'];
    call.on('data', (r: UploadResponseInit) => {
      if (r.stored != null) stored = r.stored;
    });
    call.on('error', () => undefined);
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code !== Status.OK || stored == null || stored.duplicate === true) reject(new Error(`upload of ${site.site} failed: ${Status[s.code]} ${s.details}`));
      else resolve();
    });
    call.write({ begin: { siteId: site.site, blockId: block.id, size: block.bytes.length, sha256: block.sha256, offset: 0 } });
    call.write({ chunk: { offset: 0, data: block.bytes } });
    call.end();
  });
}

function echoOne(client: Client, site: SiteBlocks, block: SiteBlocks['blocks'][number]): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(ECHO_PATH, (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength), (b: Buffer) => b, block.bytes, auth(site.token), (err) => (err === null ? resolve() : reject(err)));
  });
}

function hello(client: Client, site: SiteBlocks): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(ingestService.hello.path, ingestService.hello.requestSerialize, ingestService.hello.responseDeserialize,
      { siteId: site.site, agentTime: Date.now(), pendingBlockIds: site.blocks.map((b) => b.id) }, auth(site.token), (err) => (err === null ? resolve() : reject(err)));
  });
}

interface RunResult {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly latenciesMs: number[];
  readonly batches: number;
  readonly commits: number;
}

async function runServer(mode: 'aggregator' | 'echo', prepared: Prepared, ca: { caCert: Buffer; serverCertPath: string; serverKeyPath: string }): Promise<RunResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dw-bench-ingest-'));
  try {
    const { server, address } = await ServerChild.start(mode, {
      dataDir, certPath: ca.serverCertPath, keyPath: ca.serverKeyPath, maxConcurrentUploads: prepared.sites.length * 2,
      sites: Object.fromEntries(prepared.sites.map((s) => [s.site, hashToken(s.token)])),
    });
    const clients = prepared.sites.map(() => clientFor(address, ca.caCert));
    try {
      // Connections and TLS handshakes before the clock starts: a Hello (or one small echo) each.
      await Promise.all(prepared.sites.map((s, i) => (mode === 'aggregator' ? hello(clients[i]!, s) : echoOne(clients[i]!, s, { ...s.blocks[0]!, bytes: new Uint8Array(1) }))));
      const cpu0 = await server.cpuSeconds();
      const latenciesMs: number[] = [];
      const t0 = performance.now();
      await Promise.all(prepared.sites.map(async (s, i) => {
        for (const block of s.blocks) {
          const a = performance.now();
          await (mode === 'aggregator' ? uploadOne(clients[i]!, s, block) : echoOne(clients[i]!, s, block));
          latenciesMs.push(performance.now() - a);
        }
      }));
      const wallSeconds = (performance.now() - t0) / 1000;
      const cpuSeconds = (await server.cpuSeconds()) - cpu0;
      const stats = await server.stats();
      return { wallSeconds, cpuSeconds, latenciesMs, batches: stats?.commitBatches ?? 0, commits: stats?.commits ?? 0 };
    } finally {
      for (const c of clients) c.close();
      await server.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The peer without network: every block written to its own file and fsynced, as many at once as there are sites. */
async function runFsync(prepared: Prepared): Promise<{ wallSeconds: number; cpuSeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-bench-fsync-'));
  try {
    for (const s of prepared.sites) await mkdir(join(dir, s.site));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(prepared.sites.map(async (s) => {
      for (let j = 0; j < s.blocks.length; j++) {
        const f = await open(join(dir, s.site, `${j}.dwb`), 'w');
        try {
          await f.writeFile(s.blocks[j]!.bytes);
          await f.sync();
        } finally {
          await f.close();
        }
      }
    }));
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Full decodes of the distinct blocks on one core: the verification's share of the work. */
function decodeRate(prepared: Prepared): number {
  let samples = 0;
  const t0 = performance.now();
  for (let k = 0; k < 5; k++) for (const b of prepared.distinct) samples += decodeBlock(b).header.numSamples;
  return samples / ((performance.now() - t0) / 1000);
}

/** The cases: 100 sites with 2 h in 5-minute blocks (fresh data), and with 12 h in 1-hour blocks (a compacted backlog). */
export function ingestThroughputCases(): BenchCase[] {
  return [
    { name: 'ingest-throughput/sites=100/block=5m', run: (o) => runIngest('ingest-throughput/sites=100/block=5m', 100, 20, 2, o) },
    { name: 'ingest-throughput/sites=100/block=1h', run: (o) => runIngest('ingest-throughput/sites=100/block=1h', 100, 240, 12, o) },
  ];
}

async function runIngest(name: string, sites: number, roundsPerBlock: number, hours: number, opts: RunOptions): Promise<CaseResult> {
  opts.log(`${name}: preparing ${sites} sites × ${hours} h of the synthetic site in blocks of ${roundsPerBlock} rounds`);
  const prepared = prepare(sites, roundsPerBlock, hours);
  const pki = await makeTestPki();
  try {
    const runs = Math.max(1, Math.min(3, opts.iterations));
    const agg: RunResult[] = [];
    const echo: RunResult[] = [];
    const fsync: { wallSeconds: number; cpuSeconds: number }[] = [];
    for (let i = 0; i < runs; i++) {
      opts.log(`${name}: run ${i + 1}/${runs}: aggregator (${prepared.blocks} uploads, ${(prepared.samples / 1e6).toFixed(1)} M samples, ${(prepared.bytes / 1e6).toFixed(1)} MB)`);
      agg.push(await runServer('aggregator', prepared, pki));
      opts.log(`${name}: run ${i + 1}/${runs}: echo peer`);
      echo.push(await runServer('echo', prepared, pki));
      opts.log(`${name}: run ${i + 1}/${runs}: fsync peer`);
      fsync.push(await runFsync(prepared));
    }
    const perCore = median(agg.map((r) => prepared.samples / r.cpuSeconds));
    const wall = median(agg.map((r) => prepared.samples / r.wallSeconds));
    const echoPerCore = median(echo.map((r) => prepared.samples / r.cpuSeconds));
    const echoWall = median(echo.map((r) => prepared.samples / r.wallSeconds));
    const fsyncWall = median(fsync.map((r) => prepared.samples / r.wallSeconds));
    const latencies = agg.flatMap((r) => r.latenciesMs);
    const batches = agg.reduce((n, r) => n + r.batches, 0);
    const commits = agg.reduce((n, r) => n + r.commits, 0);
    const decode = decodeRate(prepared);
    const figures: Figure[] = [
      { key: 'samplesPerCoreSecond', label: 'aggregator: samples stored per second of server CPU', value: perCore, unit: 'samples/s/core', goal: { op: '>=', value: INGEST_GOAL_SAMPLES_PER_CORE_SECOND } },
      { key: 'samplesPerSecond', label: 'aggregator: samples stored per second (wall)', value: wall, unit: 'samples/s' },
      { key: 'blocksPerSecond', label: 'aggregator: blocks stored per second (wall)', value: median(agg.map((r) => prepared.blocks / r.wallSeconds)), unit: 'blocks/s' },
      { key: 'serverCpuPerBlockMs', label: 'aggregator: server CPU per block', value: median(agg.map((r) => (r.cpuSeconds * 1000) / prepared.blocks)), unit: 'ms' },
      { key: 'uploadP50Ms', label: 'aggregator: upload latency p50', value: quantile(latencies, 0.5), unit: 'ms' },
      { key: 'uploadP99Ms', label: 'aggregator: upload latency p99', value: quantile(latencies, 0.99), unit: 'ms' },
      { key: 'commitsPerBatch', label: 'aggregator: commits per synced batch (group commit)', value: batches === 0 ? 0 : commits / batches, unit: 'commits' },
      { key: 'echoSamplesPerCoreSecond', label: 'peer echo (grpc-js unary, same TLS): per second of server CPU', value: echoPerCore, unit: 'samples/s/core' },
      { key: 'echoSamplesPerSecond', label: 'peer echo: per second (wall)', value: echoWall, unit: 'samples/s' },
      { key: 'fsyncSamplesPerSecond', label: 'peer fsync (a file + fsync per block): per second (wall)', value: fsyncWall, unit: 'samples/s' },
      { key: 'decodeSamplesPerSecond', label: 'full decode of these blocks on one core', value: decode, unit: 'samples/s' },
      { key: 'cpuRatioVsEcho', label: 'aggregator / echo, samples per CPU second', value: perCore / echoPerCore, unit: 'ratio', digits: 2 },
      { key: 'wallRatioVsEcho', label: 'aggregator / echo, samples per second (wall)', value: wall / echoWall, unit: 'ratio', digits: 2 },
      { key: 'wallRatioVsFsync', label: 'aggregator / fsync, samples per second (wall)', value: wall / fsyncWall, unit: 'ratio', digits: 2 },
    ];
    return {
      name,
      figures,
      notes: [
        `${sites} sites upload at once, each over its own TLS connection, each block in one chunk; ${prepared.blocks} blocks, ${(prepared.samples / 1e6).toFixed(1)} M samples, ${(prepared.bytes / 1e6).toFixed(1)} MB per run; median of ${runs} run(s)`,
        'server CPU: user + system time of the server child process (every thread: TLS, gRPC, SHA-256, full decode, LevelDB, fsync); the clients run in the parent process on the same cores',
        'peers on the same bytes and connections: echo = grpc-js unary over the same TLS, no verification, no storage; fsync = write + fsync of each block to its own file, no network',
      ],
      context: { seed: SEED, sites, roundsPerBlock, hours, blocks: prepared.blocks, samples: prepared.samples, bytes: prepared.bytes, runs },
    };
  } finally {
    await pki.cleanup();
  }
}

// The server side of the ingest-throughput benchmark, run in a child process of its own so that
// its CPU time is the server's alone:
//   node dist/bench/ingest-server.js aggregator|echo <config JSON>
// `aggregator` is the real aggregator (startAggregator: TLS, tokens, verification, level store
// with group commit). `echo` is the peer: a plain grpc-js server with the same TLS, one unary
// method that takes the block's bytes and answers an empty message — the transport alone.
// It prints `{"ready":true,"address":…}` once listening, then answers lines on stdin:
// `cpu` → `{"cpu":{"user":µs,"system":µs}}` (cumulative, process.cpuUsage), `stats` → the
// aggregator's counters, `stop` → closes and exits 0.
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { credentialsFromHashes, startAggregator, type Aggregator } from '../aggregator/index.js';

/** What the parent passes. */
export interface IngestServerConfig {
  readonly dataDir: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Site id → SHA-256 of its token. */
  readonly sites: Record<string, string>;
  readonly maxConcurrentUploads: number;
}

/** The echo peer's method path. */
export const ECHO_PATH = '/driftwatch.bench.Echo/Put';

async function startEcho(config: IngestServerConfig): Promise<{ address: string; close(): Promise<void> }> {
  const server = new Server({ 'grpc.max_receive_message_length': 64 << 20 });
  server.addService({
    put: {
      path: ECHO_PATH, requestStream: false, responseStream: false, originalName: 'put',
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  }, {
    put: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, Buffer.alloc(0)),
  });
  const creds = ServerCredentials.createSsl(null, [{ cert_chain: await readFile(config.certPath), private_key: await readFile(config.keyPath) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err === null ? resolve(p) : reject(err))));
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const config = JSON.parse(process.argv[3] ?? '{}') as IngestServerConfig;
  let aggregator: Aggregator | undefined;
  let close: () => Promise<void>;
  let address: string;
  if (mode === 'aggregator') {
    const registry = new Registry();
    aggregator = await startAggregator({
      dataDir: config.dataDir,
      tls: { cert: await readFile(config.certPath), key: await readFile(config.keyPath) },
      credentials: { credentials: credentialsFromHashes(Object.fromEntries(Object.entries(config.sites).map(([s, h]) => [s, [h]]))) },
      registry,
      limits: { maxConcurrentUploads: config.maxConcurrentUploads },
    });
    address = aggregator.grpcAddress;
    close = () => aggregator!.close();
  } else if (mode === 'echo') {
    const echo = await startEcho(config);
    address = echo.address;
    close = echo.close;
  } else {
    throw new Error(`DW_BENCH_USAGE: expected the mode aggregator or echo, found ${JSON.stringify(mode)}`);
  }
  process.stdout.write(`${JSON.stringify({ ready: true, address })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'cpu') {
      process.stdout.write(`${JSON.stringify({ cpu: process.cpuUsage() })}\n`);
    } else if (line === 'stats') {
      const s = aggregator?.storage.stats();
      process.stdout.write(`${JSON.stringify({ stats: s ?? null })}\n`);
    } else if (line === 'stop') {
      await close();
      process.exit(0);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

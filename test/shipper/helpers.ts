// Shared pieces of the shipper's tests: a real edge store with real sealed blocks, the test
// ingest server, a transport to it, and a logger that records what it was told.
import { ManualClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { fastForwardTimers, type Timers } from '../../common/timers.js';
import type { BlockInfo, EdgeStore } from '../../collector/store/index.js';
import { createGrpcTransport, withRetry, type GrpcTransportOptions, type IngestTransport, type ShipperLogger } from '../../shipper/index.js';
import { openTestStore, syntheticRound, T0, SITE, type TestStore } from '../collector/store/helpers.js';
import { TestIngestServer, type TestIngestOptions } from './ingest-server.js';

export { T0, SITE };
export const TOKEN = 'site-test-1-token';
export const MIN = 60_000;

/** Channel options for tests: reconnect at once after a restarted server. */
export const FAST_RECONNECT = { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 50 } as const;

/**
 * Appends `count` minutes of rounds (every 15 s) from `from` and seals each minute into a block
 * (blockDuration 1 min); returns the sealed blocks, oldest first.
 */
export async function sealBlocks(store: EdgeStore, from: number, count: number, seed = 7, series = 12): Promise<BlockInfo[]> {
  const random = seededRandom(seed);
  for (let i = 0; i < count * 4; i++) await store.appendRound(syntheticRound(from + i * 15_000 + 1000, random, { series, events: true }));
  await store.flush();
  return (await store.listBlocks()).filter((b) => b.minT >= from);
}

export interface Fixture {
  readonly s: TestStore;
  readonly server: TestIngestServer;
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

/** A store (blockDuration 1 min, ManualClock at T0) and a started test server knowing TOKEN. */
export async function fixture(server: Partial<TestIngestOptions> = {}, storeSeed = 1): Promise<Fixture> {
  const s = await openTestStore({ blockDuration: MIN }, storeSeed);
  const srv = new TestIngestServer({ tokens: { [TOKEN]: SITE }, now: () => s.clock.now() + 1234, ...server });
  await srv.start();
  return {
    s, server: srv, clock: s.clock,
    async cleanup() {
      await srv.stop();
      await s.cleanup();
    },
  };
}

/** A gRPC transport to `server` (insecure, TOKEN, small chunks unless told otherwise). */
export function transportTo(server: TestIngestServer, clock: ManualClock, extra: Partial<GrpcTransportOptions> = {}): IngestTransport {
  return createGrpcTransport({
    address: server.address, tls: 'insecure', token: TOKEN, chunkBytes: 512, clock, channelOptions: FAST_RECONNECT, ...extra,
  });
}

/** That transport wrapped in withRetry; waits fast-forward the clock (an outage passes at once). */
export function retryingTransportTo(server: TestIngestServer, clock: ManualClock, opts: {
  extra?: Partial<GrpcTransportOptions>; timers?: Timers; seed?: number;
} = {}): IngestTransport {
  const timers = opts.timers ?? fastForwardTimers(clock);
  return withRetry(transportTo(server, clock, { timers, ...opts.extra }), { baseMs: 1000, capMs: 60_000 }, { clock, timers, random: seededRandom(opts.seed ?? 11) });
}

export interface RecordingLogger extends ShipperLogger {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[];
}

/** A logger that keeps every line. */
export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string): void => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

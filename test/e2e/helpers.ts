// The end-to-end shipping fixture: a real edge store, a real aggregator (TLS, per-site token)
// and the fault proxy between the shipper and it, all on one ManualClock. Retry waits
// fast-forward the clock, so an outage of days passes in no real time; the proxy's faults
// (cuts, blackholes, throttling) are real bytes on real loopback sockets.
import { credentialsFromHashes, hashToken, startAggregator, type Aggregator } from '../../aggregator/index.js';
import type { EdgeStore } from '../../collector/store/index.js';
import { seededRandom } from '../../common/random.js';
import { fastForwardTimers } from '../../common/timers.js';
import { createGrpcTransport, createShipper, withRetry, type GrpcTransportOptions, type IngestTransport, type Shipper } from '../../shipper/index.js';
import { openTestStore, SITE, tempDir, type TestStore } from '../collector/store/helpers.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testPki } from '../helpers/tls.js';
import { compareSides, type OracleResult } from './oracle.js';
import type { EdgeStoreOptions } from '../../collector/store/index.js';

export { SITE };
export const TOKEN = 'dwt_e2e_site-test-1_00112233445566778899aabbccddeeff';

export interface ShippingRig {
  readonly s: TestStore;
  readonly agg: Aggregator;
  readonly proxy: FaultProxy;
  readonly transport: IngestTransport;
  readonly shipper: Shipper;
  /** Every live block at the edge vs every block at the center. */
  oracle(): Promise<OracleResult>;
  cleanup(): Promise<void>;
}

/** Reads every live edge block (verified). */
export async function edgeBlocks(store: EdgeStore): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const info of await store.listBlocks()) {
    const r = await store.readBlock(info.id);
    if (r.status !== 'ok') throw new Error(`edge block ${info.id}: ${r.status}`);
    out.push(r.bytes);
  }
  return out;
}

/** Reads every block the aggregator holds for `site`. */
export async function centerBlocks(agg: Aggregator, site: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const meta of agg.storage.listBlocks(site)) {
    const bytes = await agg.storage.readBlock(site, meta.id);
    if (bytes === undefined) throw new Error(`center block ${meta.id} listed but unreadable`);
    out.push(bytes);
  }
  return out;
}

export async function startShippingRig(opts: {
  seed: number; store?: Partial<EdgeStoreOptions>; transport?: Partial<GrpcTransportOptions>;
}): Promise<ShippingRig> {
  const s = await openTestStore({ blockDuration: 5 * 60_000, ...opts.store }, opts.seed);
  const pki = await testPki();
  const data = await tempDir();
  const agg = await startAggregator({
    dataDir: data.dir, tls: { cert: pki.serverCert, key: pki.serverKey }, clock: s.clock,
    credentials: { credentials: credentialsFromHashes({ [SITE]: [hashToken(TOKEN)] }) }, shutdownGraceMs: 1_000,
  });
  const [host, port] = splitAddress(agg.grpcAddress);
  const proxy = await startFaultProxy({ target: { host, port }, random: seededRandom(opts.seed) });
  const timers = fastForwardTimers(s.clock);
  const inner = createGrpcTransport({
    address: proxy.address, tls: { ca: pki.caCert, serverName: 'localhost' }, token: TOKEN, chunkBytes: 4096, clock: s.clock, timers,
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 },
    ...opts.transport,
  });
  const transport = withRetry(inner, { baseMs: 1_000, capMs: 5 * 60_000 }, { clock: s.clock, timers, random: seededRandom(opts.seed + 1) });
  const shipper = createShipper({ store: s.store, transport, siteId: SITE, clock: s.clock, timers });
  return {
    s, agg, proxy, transport, shipper,
    async oracle() {
      return compareSides(await edgeBlocks(s.store), await centerBlocks(agg, SITE));
    },
    async cleanup() {
      transport.close();
      await proxy.close();
      await agg.close();
      await s.cleanup();
      await data.cleanup();
    },
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

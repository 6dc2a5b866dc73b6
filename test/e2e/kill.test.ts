// SIGKILL of the agent and of the aggregator at random moments during uploads: the real
// `driftwatch agent` (an exec source printing a ledger of 600 changing series every second,
// 2-second blocks, shipping over TLS with a token from `credentials add`) and the real
// `driftwatch aggregator`, with a fault proxy throttling the link so that kills land mid-upload.
// Each kill comes once the link has carried a seeded random number of further bytes. At the end
// the agent's store is drained and the oracle holds: lost = duplicated = unexpected = 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStorage } from '../../aggregator/index.js';
import { openEdgeStore } from '../../collector/store/index.js';
import { systemClock } from '../../common/clock.js';
import { randomInt, seededRandom, seedFromEnv } from '../../common/random.js';
import { createGrpcTransport, createShipper } from '../../shipper/index.js';
import { runDriftwatch } from '../cmd/cli-run.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { startJsonLogChild, type JsonLogChild } from '../helpers/json-log-child.js';
import { fixturePath } from '../helpers/paths.js';
import { testPki } from '../helpers/tls.js';
import { compareSides, describeResult } from './oracle.js';

const SEED = seedFromEnv(7_2026);
const SITE = 'kill-site';
const KILLS = Number(process.env.DW_KILLS ?? '6');

test(`SIGKILL of the agent and the aggregator at random moments during uploads loses nothing and stores nothing twice (seed ${SEED}, ${KILLS} kills)`, async () => {
  const random = seededRandom(SEED);
  const pki = await testPki();
  const dir = await mkdtemp(join(tmpdir(), 'dw-kill-'));
  const creds = join(dir, 'credentials.yaml');
  const add = runDriftwatch(['aggregator', 'credentials', 'add', '--site', SITE, '--credentials', creds]);
  assert.equal(add.status, 0, add.stderr);
  const token = add.stdout.trim();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`);
  await chmod(tokenFile, 0o600);

  const aggPort = await freeTcpPort();
  const aggArgs = ['aggregator', '--data-dir', join(dir, 'center'), '--grpc-listen', `127.0.0.1:${aggPort}`, '--http-listen', '127.0.0.1:0',
    '--tls-cert', pki.serverCertPath, '--tls-key', pki.serverKeyPath, '--credentials', creds];
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: aggPort }, random: seededRandom(SEED + 1), mode: { kind: 'throttle', bytesPerSecond: 10_000 } });
  const storeDir = join(dir, 'edge');
  const config = join(dir, 'agent.yaml');
  await writeFile(config, [
    `site: { id: ${SITE}, labels: { region: test } }`,
    'interval: 1s',
    `store: { dir: ${JSON.stringify(storeDir)}, blockDuration: 2s }`,
    'http: { listen: "" }',
    'log: { level: info }',
    'sources:',
    '  - kind: exec',
    '    name: ledger',
    `    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixturePath('e2e', 'ledger.mjs'))}]`,
    '    env: { LEDGER_SERIES: "600" }',
    'shipping:',
    `  aggregator: ${proxy.address}`,
    `  tls: { caFile: ${JSON.stringify(pki.caCertPath)}, serverName: localhost }`,
    `  tokenFile: ${JSON.stringify(tokenFile)}`,
    '  syncInterval: 1s',
    '  heartbeatInterval: 2s',
    '  chunkSize: 4KiB',
    '  backoff: { base: 100ms, cap: 1s }',
    '',
  ].join('\n'));

  const startAgg = async (): Promise<JsonLogChild> => {
    const c = startJsonLogChild(aggArgs);
    await c.waitFor('aggregator listening');
    return c;
  };
  const startAgent = async (): Promise<JsonLogChild> => {
    const c = startJsonLogChild(['agent', '--config', config]);
    await c.waitFor('agent started');
    return c;
  };
  const kill = async (c: JsonLogChild): Promise<void> => {
    c.child.kill('SIGKILL');
    await c.exited;
  };

  let agg = await startAgg();
  let agent = await startAgent();
  const killed = { agent: 0, aggregator: 0 };
  try {
    for (let i = 0; i < KILLS; i++) {
      // Let a random number of further bytes cross the link toward the aggregator (uploads are in flight), then kill.
      const before = proxy.stats.bytesToTarget;
      const more = randomInt(random, 1_000, 8_000);
      // ...and only while bytes are queued in the throttled link: an upload is in flight.
      await proxy.whenStats((st) => st.bytesToTarget >= before + more && st.queued > 0, 60_000);
      if (random() < 0.5) {
        await kill(agent);
        killed.agent++;
        agent = await startAgent();
      } else {
        await kill(agg);
        killed.aggregator++;
        agg = await startAgg();
      }
    }
    assert.ok(killed.agent > 0 && killed.aggregator > 0, `both sides were killed: ${JSON.stringify(killed)}`);
    // Stop the agent cleanly (it flushes its head and tries a last sync), then drain its store
    // through the same shipper code, straight to the aggregator, until nothing is left.
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
  } finally {
    if (agent.child.exitCode === null) await kill(agent);
  }

  const store = await openEdgeStore({ dir: storeDir, clock: systemClock });
  try {
    const transport = createGrpcTransport({ address: `127.0.0.1:${aggPort}`, tls: { ca: pki.caCert, serverName: 'localhost' }, token, clock: systemClock });
    const shipper = createShipper({ store, transport, siteId: SITE, clock: systemClock });
    const drained = await shipper.sync(AbortSignal.timeout(60_000));
    transport.close();
    assert.equal(drained.outcome, 'done', drained.error?.message);
    assert.deepEqual(await store.listUnshipped(), []);
    agg.child.kill('SIGTERM');
    assert.equal(await agg.exited, 0, agg.stderr());
    await proxy.close();

    const edge: Uint8Array[] = [];
    for (const info of await store.listBlocks()) {
      const r = await store.readBlock(info.id);
      assert.equal(r.status, 'ok');
      if (r.status === 'ok') edge.push(r.bytes);
    }
    const center: Uint8Array[] = [];
    const storage = await openLevelStorage({ dir: join(dir, 'center', 'store') });
    try {
      for await (const meta of storage.listBlocks(SITE)) {
        const bytes = await storage.readBlock(SITE, meta.id);
        assert.ok(bytes !== undefined);
        center.push(bytes);
      }
    } finally {
      await storage.close();
    }
    const r = compareSides(edge, center);
    console.log(`# seed ${SEED}: kills ${JSON.stringify(killed)}; ${describeResult(r)}`);
    assert.ok(r.edgeSamples > 3_000, describeResult(r));
    assert.equal(r.lost.length, 0, describeResult(r));
    assert.equal(r.duplicated.length, 0, describeResult(r));
    assert.equal(r.unexpected.length, 0, describeResult(r));
  } finally {
    await store.close();
    if (agg.child.exitCode === null) await kill(agg);
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
});

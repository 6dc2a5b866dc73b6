// The shipper sends the site's labels (createShipper's siteLabels) in every Hello: to the test
// ingest server, and end to end to a real aggregator, which keeps each change with its arrival
// time. Bad label sets are refused when the shipper is made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createShipper, ShipperErrorCode } from '../../shipper/index.js';
import { isDriftwatchError } from '../../common/errors.js';
import { credentialsFromHashes, hashToken, startAggregator } from '../../aggregator/index.js';
import { createGrpcTransport } from '../../shipper/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, FAST_RECONNECT, sealBlocks, SITE, T0, TOKEN, transportTo } from './helpers.js';

test('every Hello carries siteLabels (names sorted); without the option it carries none', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    await sealBlocks(f.s.store, T0, 2);
    const shipper = createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, siteLabels: { tier: 'shop', region: 'eu-north' } });
    assert.equal((await shipper.sync()).outcome, 'done');
    await sealBlocks(f.s.store, T0 + 2 * 60_000, 1);
    await shipper.sync();
    assert.equal(f.server.log.hellos.length, 2);
    for (const h of f.server.log.hellos) assert.deepEqual({ ...h.siteLabels }, { region: 'eu-north', tier: 'shop' });
    assert.deepEqual(Object.keys(f.server.log.hellos[0]!.siteLabels!), ['region', 'tier']);

    await sealBlocks(f.s.store, T0 + 3 * 60_000, 1);
    await createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock }).sync();
    assert.deepEqual({ ...f.server.log.hellos[2]!.siteLabels }, {});
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('bad siteLabels are DW_SHIP_INVALID_OPTIONS, saying what was expected and found', async () => {
  const f = await fixture();
  const t = transportTo(f.server, f.clock);
  try {
    assert.throws(() => createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, siteLabels: { 'app.kubernetes.io/tier': 'shop' } }),
      (err) => isDriftwatchError(err, ShipperErrorCode.InvalidOptions) && /^siteLabels: expected a site label name .* found "app\.kubernetes\.io\/tier"/.test(err.message));
    assert.throws(() => createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, siteLabels: { tier: 'a\nb' } }),
      (err) => isDriftwatchError(err, ShipperErrorCode.InvalidOptions) && /without control characters, found "a\\nb"/.test(err.message));
    assert.equal(f.server.log.calls.hello, 0);
  } finally {
    t.close();
    await f.cleanup();
  }
});

test('end to end: a real aggregator keeps each change of the labels the shipper sends, with the hello\'s arrival time', async () => {
  const f = await fixture();
  const dataDir = await mkdtemp(join(tmpdir(), 'dw-ship-labels-'));
  const agg = await startAggregator({
    dataDir, tls: 'insecure', credentials: { credentials: credentialsFromHashes({ [SITE]: [hashToken(TOKEN)] }) }, clock: f.clock,
  });
  const t = createGrpcTransport({ address: agg.grpcAddress, tls: 'insecure', token: TOKEN, clock: f.clock, channelOptions: FAST_RECONNECT });
  try {
    const sync = async (at: number, siteLabels: Record<string, string>): Promise<void> => {
      f.clock.set(at);
      await sealBlocks(f.s.store, at, 1);
      const summary = await createShipper({ store: f.s.store, transport: t, siteId: SITE, clock: f.clock, siteLabels }).sync();
      assert.equal(summary.outcome, 'done', JSON.stringify(summary));
    };
    await sync(T0, { region: 'eu-north', tier: 'shop' });
    await sync(T0 + 10 * 60_000, { region: 'eu-north', tier: 'shop' });
    await sync(T0 + 20 * 60_000, { region: 'eu-north', tier: 'flagship' });
    const history = await agg.storage.siteLabelHistory(SITE);
    assert.deepEqual(history.map((h) => [h.arrivedAt - T0, h.labels.tier]), [[0, 'shop'], [20 * 60_000, 'flagship']]);
    assert.equal((await agg.storage.siteLabels(SITE, { knownAt: T0 + 20 * 60_000 - 1 }))?.labels.tier, 'shop');
    assert.deepEqual((await agg.storage.listSiteLabels()).map((l) => [l.site, l.labels]), [[SITE, { region: 'eu-north', tier: 'flagship' }]]);
  } finally {
    t.close();
    await agg.close();
    await rm(dataDir, { recursive: true, force: true });
    await f.cleanup();
  }
});

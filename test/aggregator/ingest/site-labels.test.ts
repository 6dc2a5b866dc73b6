// Hello's site_labels at the aggregator: each change recorded with the hello's arrival time (the
// injected clock), an unchanged hello writing nothing, a hello without labels recorded as none,
// and bad label sets refused with DW_INGEST_BAD_REQUEST before anything is recorded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status as Status } from '@grpc/grpc-js';
import { describeStatus } from '../../helpers/ingest-client.js';
import { startTestAggregator, T0, type TestAggregator } from '../helpers.js';

describe('ingest: site labels from Hello', () => {
  let t: TestAggregator;
  before(async () => {
    t = await startTestAggregator(['shop-1', 'shop-2']);
  });
  after(async () => {
    await t.cleanup();
  });

  it('records each change with its arrival time; the same labels again write nothing; a restart keeps them', async () => {
    const client = t.client('shop-1');
    const hello = async (at: number, siteLabels?: Record<string, string>): Promise<void> => {
      t.clock.set(at);
      const r = await client.hello({ siteId: 'shop-1', agentTime: at, ...(siteLabels === undefined ? {} : { siteLabels }) });
      assert.equal(r.status.code, Status.OK, describeStatus(r.status));
    };
    await hello(T0 + 1_000, { region: 'eu-north', tier: 'shop' });
    await hello(T0 + 61_000, { tier: 'shop', region: 'eu-north' });
    await hello(T0 + 121_000, { region: 'eu-west', tier: 'shop' });
    await hello(T0 + 181_000);
    const history = await t.agg.storage.siteLabelHistory('shop-1');
    assert.deepEqual(history.map((h) => [h.arrivedAt - T0, h.labels]), [
      [1_000, { region: 'eu-north', tier: 'shop' }],
      [121_000, { region: 'eu-west', tier: 'shop' }],
      [181_000, {}],
    ]);
    assert.deepEqual((await t.agg.storage.siteLabels('shop-1', { knownAt: T0 + 120_999 }))?.labels, { region: 'eu-north', tier: 'shop' });
    await t.restart();
    assert.deepEqual((await t.agg.storage.siteLabelHistory('shop-1')).map((h) => h.arrivedAt - T0), [1_000, 121_000, 181_000]);
  });

  it('bad label sets are INVALID_ARGUMENT DW_INGEST_BAD_REQUEST saying what was expected and found; nothing is recorded', async () => {
    const client = t.client('shop-2');
    t.clock.set(T0 + 500_000);
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'kubernetes.io/region': 'eu' }, /expected a site label name of letters, digits and "_".*found "kubernetes\.io\/region"/],
      [{ region: 'x'.repeat(1025) }, /expected the value of site label region to be at most 1024 characters, found 1025/],
      [{ region: 'eu\u0007' }, /without control characters/],
      [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])), /expected at most 64 site labels, found 65/],
    ];
    for (const [siteLabels, message] of cases) {
      const r = await client.hello({ siteId: 'shop-2', agentTime: T0, siteLabels });
      assert.equal(r.status.code, Status.INVALID_ARGUMENT, describeStatus(r.status));
      assert.match(r.status.details, /^DW_INGEST_BAD_REQUEST: site_labels: /);
      assert.match(r.status.details, message);
    }
    assert.deepEqual(await t.agg.storage.siteLabelHistory('shop-2'), []);
    assert.equal(await t.agg.storage.getContact('shop-2'), undefined, 'a refused hello records no contact either');
  });
});

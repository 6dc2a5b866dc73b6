// Drift details: a series that disappears drifts (absent is not unchanged) from the round it went
// missing; a float expectation; a site the policy's selector does not pick has no drift; and the
// memo of "now" answers gives what the full computation gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContactIndex, driftReport, sitesReport, type FleetInputs } from '../../../aggregator/fleet/index.js';
import { PolicyHistory } from '../../../aggregator/policy/index.js';
import { addRevision, EdgeSite, HOUR, indexOf, MIN, posDeployment, posPolicy, shopLabels, STEP, T0 } from './helpers.js';

const REPLICAS = [
  'apiVersion: driftwatch.io/v1', 'kind: Policy', 'metadata:', '  name: pos-replicas', 'spec:', '  selector: { matchLabels: { tier: shop } }', '  expectations:',
  '    - series: kube_deployment_spec_replicas{namespace="shop", deployment="pos"}', '      eq: 2', '',
].join('\n');

function fleet(): FleetInputs {
  const history = new PolicyHistory();
  addRevision(history, T0 - HOUR, { 'pos.yaml': posPolicy('>=2.4.0 <2.5.0'), 'replicas.yaml': REPLICAS });
  const gone = posDeployment(new EdgeSite('shop-gone'), '2.4.1');
  const scaled = posDeployment(new EdgeSite('shop-scaled'), '2.4.1');
  const lab = posDeployment(new EdgeSite('lab-1'), '9.9.9');
  const img = { namespace: 'shop', deployment: 'pos', container: 'pos' };
  const blocks = [
    gone.seal(T0, T0 + HOUR, (t, s) => { if (t === T0 + 20 * MIN) s.remove('kube_deployment_container_image', img); }),
    scaled.seal(T0, T0 + HOUR, (t, s) => { if (t === T0 + 30 * MIN) s.set('kube_deployment_spec_replicas', { namespace: 'shop', deployment: 'pos' }, 3); }),
    lab.seal(T0, T0 + HOUR),
  ];
  return {
    index: indexOf(blocks.map((block) => ({ block, at: T0 + HOUR })), T0 + 2 * HOUR),
    policies: history,
    contacts: new ContactIndex(),
    labels: shopLabels(['shop-gone', 'shop-scaled']),
  };
}

test('a series that disappears drifts from the round it went missing; a float off its expected value drifts', () => {
  const inputs = fleet();
  const rows = driftReport(inputs, { at: T0 + HOUR, knownAt: T0 + 2 * HOUR }).rows;
  assert.deepEqual(rows.map((r) => [r.site, r.series, r.expected, r.actual ?? null, (r.since - T0) / MIN]), [
    ['shop-gone', 'kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}', 'registry.example.com/shop/pos with a tag in semver >=2.4.0 <2.5.0', null, 20],
    ['shop-scaled', 'kube_deployment_spec_replicas{deployment="pos",namespace="shop"}', '== 2', '3', 30],
  ]);
  assert.equal(rows[0]!.lastDataT, T0 + HOUR - STEP);
  // Before it went missing: no drift.
  assert.deepEqual(driftReport(inputs, { at: T0 + 20 * MIN - 1, knownAt: T0 + 2 * HOUR }).rows, []);
  // lab-1 runs 9.9.9 but no policy selects it.
  const sites = sitesReport(inputs, { at: T0 + HOUR, knownAt: T0 + 2 * HOUR }).rows;
  assert.deepEqual(sites.map((s) => [s.site, s.driftCount]), [['lab-1', 0], ['shop-gone', 1], ['shop-scaled', 1]]);
});

test('answers remembered for "now" equal the full computation, and follow new blocks', () => {
  const inputs = fleet();
  const now = { at: T0 + 2 * HOUR, knownAt: T0 + 2 * HOUR };
  const first = JSON.stringify(driftReport(inputs, now));
  assert.equal(JSON.stringify(driftReport(inputs, now)), first, 'read back from the memo');
  // The same question just inside the data is computed in full, and agrees on the rows' substance.
  const inside = driftReport(inputs, { at: T0 + HOUR - STEP, knownAt: T0 + 2 * HOUR });
  assert.deepEqual(inside.rows.map((r) => [r.site, r.series, r.since]), JSON.parse(first).rows.map((r: { site: string; series: string; since: number }) => [r.site, r.series, r.since]));
  // A new block for shop-scaled (back to 2 replicas) clears its memo.
  const s = posDeployment(new EdgeSite('shop-scaled', 7), '2.4.1');
  const block = s.seal(T0 + HOUR, T0 + 90 * MIN);
  inputs.index.addBlockBytes({ site: 'shop-scaled', id: block.id, arrivedAt: T0 + 3 * HOUR }, block.bytes);
  inputs.index.markIndexedThrough(T0 + 3 * HOUR);
  const later = driftReport(inputs, { at: T0 + 2 * HOUR, knownAt: T0 + 3 * HOUR });
  assert.deepEqual(later.rows.map((r) => r.site), ['shop-gone']);
  assert.equal(JSON.stringify(driftReport(inputs, now)), first, 'the earlier knownAt still answers as before');
});

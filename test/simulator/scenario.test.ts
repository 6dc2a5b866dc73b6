import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDriftwatchError } from '../../common/errors.js';
import { planFleet } from '../../simulator/plan.js';
import { fleetSiteIds, loadScenario, parseScenario } from '../../simulator/scenario.js';
import { fixturePath, repoRoot } from '../helpers/paths.js';
import { runDriftwatch } from '../cmd/cli-run.js';

const MINIMAL = `apiVersion: driftwatch.io/v1
kind: Scenario
metadata: { name: tiny }
start: 2026-11-09T00:00:00Z
duration: 1d
fleet:
  - { name: shop, count: 3, cluster: { workloads: [{ namespace: shop, deployment: pos, image: "r/pos:1.0.0" }] } }
`;

test('the bundled scenarios parse, with every default filled in', async () => {
  for (const name of ['demo-week.yaml', 'scale-10k.yaml']) {
    const s = await loadScenario(`${repoRoot}/examples/scenarios/${name}`);
    assert.ok(s.fleet.length > 0, name);
  }
  const s = parseScenario(MINIMAL);
  assert.equal(s.seed, 1);
  assert.equal(s.start, Date.UTC(2026, 10, 9));
  assert.equal(s.duration, 86_400_000);
  assert.deepEqual(s.agent, { interval: 900_000, blockDuration: 3_600_000, heartbeatInterval: 900_000, syncInterval: 3_600_000, diskBudget: 64 * 2 ** 20 });
  assert.deepEqual(fleetSiteIds(s), ['shop-0001', 'shop-0002', 'shop-0003']);
  assert.equal(s.fleet[0]!.cluster.workloads[0]!.replicas, 2);
  assert.deepEqual(s.fleet[0]!.router, { firmware: '17.09.04a', model: 'ISR1100-4G' });
});

test('a bad scenario lists every problem at once, each with its line and column', () => {
  const text = `apiVersion: driftwatch.io/v1
kind: Scenario
metadata: { name: Bad_Name }
start: 2026-11-09
duration: 1 day
fleet:
  - { name: shop, count: 3, cluster: { workloads: [{ namespace: shop, deployment: pos, image: "r/pos:1.0.0" }] } }
rollouts:
  - { at: 1h, workload: shop/till, image: "r/till:2" }
outages:
  - { sites: [shop-0009], at: 2h }
  - { sites: [shop-0001], count: 2, at: 2h }
failures:
  - { kind: meteorStrike, sites: [shop-0001] }
  - { kind: manualChange, sites: [shop-0002], at: 3h, workload: shop/pos }
`;
  let err: unknown;
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    err = e;
  }
  assert.ok(isDriftwatchError(err, 'DW_SIM_SCENARIO_INVALID'), String(err));
  const m = (err as Error).message;
  for (const want of [
    /metadata\.name: expected a lowercase name .* found "Bad_Name" \(line 3, column/,
    /start: expected an RFC 3339 time .* found "2026-11-09" \(line 4/,
    /duration: expected a duration .* found "1 day" \(line 5/,
    /rollouts\.0\.workload: expected a workload of the fleet's clusters \(shop\/pos\), found "shop\/till" \(line 9/,
    /outages\.0\.sites\.0: expected a site of the fleet \(such as shop-0001\), found "shop-0009" \(line 11/,
    /outages\.1: expected exactly one of sites .* or count .*, found both \(line 12/,
    /failures\.0\.kind: .*meteorStrike/,
    /failures\.1: expected image or replicas/,
  ]) assert.match(m, want);
});

test('a missing scenario file is DW_SIM_SCENARIO_UNREADABLE, and the CLI exits 2 with the code', async () => {
  await assert.rejects(loadScenario('/nonexistent/scenario.yaml'), (e: unknown) => isDriftwatchError(e, 'DW_SIM_SCENARIO_UNREADABLE'));
  const r = runDriftwatch(['simulate', '--scenario', '/nonexistent/scenario.yaml']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^driftwatch: DW_SIM_SCENARIO_UNREADABLE: expected a readable scenario file, could not read \/nonexistent\/scenario.yaml/);
  const u = runDriftwatch(['simulate']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /DW_CLI_USAGE: .*found no --scenario/);
});

test('an invalid policy in a scenario is refused before anything runs, naming the revision and file', async () => {
  const text = `${MINIMAL}policies:\n  - at: 0s\n    files:\n      pos.yaml: |\n        apiVersion: driftwatch.io/v1\n        kind: Policy\n        metadata: { name: pos }\n        spec:\n          selector: {}\n          expectations:\n            - series: 'up{'\n              exact: "1"\n`;
  const dir = await mkdtemp(join(tmpdir(), 'dw-scenario-'));
  try {
    const file = join(dir, 'bad-policy.yaml');
    await writeFile(file, text);
    const r = runDriftwatch(['simulate', '--scenario', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /DW_SIM_SCENARIO_INVALID: .*bad-policy\.yaml: policies\[0\]: [\s\S]*policies\[0\]\.files\.pos\.yaml:7:19: DW_POLICY_BAD_SERIES_MATCHER/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a seed decides which sites count-picked failures and outages hit, and the rollout offsets; names stay put', async () => {
  const s = await loadScenario(fixturePath('scenarios', 'small.yaml'));
  const a = planFleet(s, 7);
  const again = planFleet(s, 7);
  const b = planFleet(s, 8);
  const picked = (p: ReturnType<typeof planFleet>): string[] => p.sites.filter((x) => x.failures.some((f) => f.kind === 'routerFirmware')).map((x) => x.id);
  assert.deepEqual(picked(a), picked(again));
  assert.deepEqual(a.sites.map((x) => x.rollouts), again.sites.map((x) => x.rollouts));
  assert.equal(picked(a).length, 2);
  assert.notDeepEqual([picked(a), a.sites.map((x) => x.rollouts[0]?.startAt)], [picked(b), b.sites.map((x) => x.rollouts[0]?.startAt)]);
  // Named sites keep their story whatever the seed, and are never picked by a count.
  for (const p of [a, b]) {
    assert.deepEqual(p.sites.find((x) => x.id === 'shop-0001')!.failures.map((f) => f.kind), ['imagePullBlocked']);
    for (const named of ['shop-0001', 'shop-0002', 'shop-0003', 'shop-0004', 'shop-0005', 'shop-0006']) assert.ok(!picked(p).includes(named));
  }
  // Rollouts start within their spread.
  for (const x of a.sites) for (const r of x.rollouts) assert.ok(r.startAt >= s.start + 34 * 3_600_000 && r.startAt < s.start + 36 * 3_600_000);
});

test('an aggregator that cannot start fails the run with DW_SIM_AGGREGATOR_FAILED, and nothing is left running', () => {
  const r = runDriftwatch(['simulate', '--scenario', fixturePath('scenarios', 'small.yaml'), '--http-listen', '203.0.113.1:80'], 60_000);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^driftwatch: DW_SIM_AGGREGATOR_FAILED: the simulator's aggregator failed: DW_AGGREGATOR_HTTP_LISTEN_FAILED/);
});

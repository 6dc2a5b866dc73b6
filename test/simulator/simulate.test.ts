import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WireUpgradesPage } from '../../aggregator/index.js';
import { loadCheckedScenario, runSimulation, type Simulation } from '../../cmd/simulate.js';
import { fixturePath } from '../helpers/paths.js';
import { expectedAnswer } from './expected.js';

async function reports(sim: Simulation): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const kind of ['upgrades', 'drift', 'stale', 'sites']) {
    const res = await fetch(`${sim.center.httpAddress}/fleet/v1/${kind}?limit=1000`);
    assert.equal(res.status, 200, kind);
    out[kind] = await res.json();
  }
  return out;
}

// Real agents, real edge stores and shippers, a real aggregator in a child process: the whole
// pipeline, twice with one seed.
test('a scenario run is a function of the scenario and the seed: the reports come out byte-identical', { timeout: 300_000 }, async () => {
  const scenario = await loadCheckedScenario(fixturePath('scenarios', 'small.yaml'));
  const runs: Record<string, unknown>[] = [];
  const summaries = [];
  for (let i = 0; i < 2; i++) {
    const sim = await runSimulation({ scenario, version: 'test' });
    try {
      runs.push(await reports(sim));
      summaries.push(sim.summary);
      assert.equal(sim.summary.problems, 0, sim.summary.sampleProblems.join('\n'));
      assert.ok(sim.memory.simulator > 0 && sim.memory.aggregator > 0);
    } finally {
      await sim.close();
    }
  }
  assert.equal(JSON.stringify(runs[1]), JSON.stringify(runs[0]));
  const [a, b] = summaries;
  assert.deepEqual([b!.rounds, b!.blocksSealed, b!.blocksStored, b!.bytesStored, b!.heartbeats, b!.steps], [a!.rounds, a!.blocksSealed, a!.blocksStored, a!.bytesStored, a!.heartbeats, a!.steps]);
  // 20 sites, 2 days, a round every 15 minutes from the start to the end, both included: every round of every site was made.
  assert.equal(a!.rounds, 20 * (2 * 96 + 1));

  // And the answer is the scenario's.
  const want = expectedAnswer(scenario);
  const page = runs[0]!['upgrades'] as WireUpgradesPage;
  assert.equal(page.total, want.sites.length);
  assert.deepEqual(new Map(page.rows.filter((r) => r.status !== 'converged').map((r) => [r.site, r.reason])), want.broken);
  const stale = (runs[0]!['stale'] as { rows: { site: string; state: string }[] }).rows;
  assert.deepEqual(stale.map((r) => [r.site, r.state]), want.dark.map((s) => [s, 'dark']));
  // The late site converged, from blocks that arrived after its outage.
  for (const site of want.late) assert.equal(page.rows.find((r) => r.site === site)?.status, 'converged', site);
});

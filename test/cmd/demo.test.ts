import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WireUpgradesPage } from '../../aggregator/index.js';
import { loadScenario } from '../../simulator/scenario.js';
import { startJsonLogChild } from '../helpers/json-log-child.js';
import { repoRoot } from '../helpers/paths.js';
import { expectedAnswer } from '../simulator/expected.js';
import { runDriftwatch } from './cli-run.js';

// What `npm start` runs (package.json: node bin/driftwatch.js demo), as a new user sees it.
test('the demo names exactly the sites the scenario broke, each with its reason, then serves until Ctrl-C', { timeout: 600_000 }, async () => {
  const scenario = await loadScenario(`${repoRoot}/examples/scenarios/demo-week.yaml`);
  const want = expectedAnswer(scenario);
  assert.equal(want.broken.size, 3, 'the bundled story breaks three shops');

  const demo = startJsonLogChild(['demo']);
  try {
    await demo.waitFor('Press Ctrl-C to stop.');
    const text = demo.lines.map((l) => String(l.msg)).join('\n');
    const section = (start: string, end: string): string => {
      const a = text.indexOf(start);
      assert.ok(a >= 0, `expected "${start}" in:\n${text}`);
      const b = text.indexOf(end, a);
      return text.slice(a, b < 0 ? undefined : b);
    };

    // The API's answer: the sites that did not converge, and why.
    const api = /fleet API\s+(http:\/\/\S+?)\/fleet\/v1\/upgrades/.exec(text)?.[1];
    assert.ok(api !== undefined, text);
    const page = await (await fetch(`${api}/fleet/v1/upgrades?limit=1000`)).json() as WireUpgradesPage;
    assert.equal(page.total, want.sites.length);
    const notUpdated = new Map(page.rows.filter((r) => r.status !== 'converged').map((r) => [r.site, r.reason]));
    assert.deepEqual(notUpdated, want.broken);
    for (const r of page.rows.filter((x) => want.broken.has(x.site))) assert.ok(r.evidence.length > 0, `${r.site} has evidence`);

    // The printed answer says the same, and names no other site.
    const answer = section('THE ANSWER', '\n\n');
    assert.match(answer, new RegExp(`${want.sites.length - want.broken.size} of ${want.sites.length} sites updated`));
    for (const [site, reason] of want.broken) assert.match(answer, new RegExp(`${site}\\s+\\w+\\s+${reason}: `), answer);
    assert.deepEqual(new Set(answer.match(/shop-\d{4}/g)), new Set(want.broken.keys()));
    // The firewall shows in the evidence: the registry could not be reached.
    assert.match(answer, /shop-0042[\s\S]*i\/o timeout/);

    // A shop offline through the rollout: unknown at the deadline, updated once its blocks arrived.
    const late = section('Late arrivals', '\n\n');
    assert.deepEqual(late.match(/shop-\d{4}/g)?.sort(), want.late);

    // Drift names the hand edit, the old firmware, the full disk; stale names the dark shops.
    const drift = section('Drift now', '\n\n');
    for (const f of scenario.failures.filter((x) => x.kind !== 'imagePullBlocked')) for (const site of f.sites ?? []) assert.match(drift, new RegExp(site), `${f.kind} ${site}`);
    const stale = section('Stale now', '\n\n');
    assert.deepEqual(stale.match(/shop-\d{4}/g)?.sort(), want.dark);
    assert.match(stale, /dark/);
  } finally {
    demo.child.kill('SIGINT');
  }
  assert.equal(await demo.exited, 0, demo.stderr());
  assert.ok(demo.lines.some((l) => l.msg === 'Stopped.'), JSON.stringify(demo.lines.slice(-3)));
  assert.match(demo.stderr(), /simulating 100%/);
});

test('driftwatch demo rejects an unknown option', () => {
  const r = runDriftwatch(['demo', '--fleet=500']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^driftwatch: DW_CLI_USAGE: expected .*found "--fleet=500"\n$/);
});

// `driftwatch demo` (what `npm start` runs): the bundled scenario — 500 shops through a week, a
// rollout three of them miss — simulated with real agents shipping to a real aggregator; then
// the answer, read from the aggregator's fleet API like any client would; then the aggregator
// keeps serving until Ctrl-C. See README and docs/simulator.md.
import { fileURLToPath } from 'node:url';
import type { WireDriftRow, WireStaleRow, WireUpgradeRow, WireUpgradesPage } from '../aggregator/index.js';
import { DriftwatchError } from '../common/errors.js';
import type { Scenario } from '../simulator/scenario.js';
import type { CliIo } from './cli.js';
import { driftSummary, lateAnswer, staleSummary, upgradeAnswer, when } from './demo-answer.js';
import { fetchReport } from './report.js';
import type { ReportKind } from './report-render.js';
import { describeRun, interruptible, loadCheckedScenario, parseSeed, progressPrinter, runSimulation, untilSignal } from './simulate.js';
import { packageVersion } from './version.js';

/** The bundled scenario. */
export const DEMO_SCENARIO = fileURLToPath(new URL('../../examples/scenarios/demo-week.yaml', import.meta.url));

const USAGE = 'usage: driftwatch demo [--scenario FILE] [--seed N] [--http-listen HOST:PORT] [--no-serve]';
const HELP = `${USAGE}
  --scenario FILE          another scenario (default: the bundled examples/scenarios/demo-week.yaml)
  --seed N                 another seed (default: the scenario's)
  --http-listen HOST:PORT  the aggregator's HTTP address (default 127.0.0.1:0, a free port)
  --no-serve               stop after printing the answer
`;

interface DemoArgs {
  scenario: string;
  seed?: number;
  httpListen?: string;
  serve: boolean;
}

function parseArgs(args: readonly string[]): DemoArgs | 'help' {
  const out: DemoArgs = { scenario: DEMO_SCENARIO, serve: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new DriftwatchError('DW_CLI_USAGE', `expected a value after ${a}, found none`);
      return v;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--scenario') out.scenario = value();
    else if (a === '--http-listen') out.httpListen = value();
    else if (a === '--no-serve') out.serve = false;
    else if (a === '--seed') out.seed = parseSeed(value());
    else throw new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length)}, found ${JSON.stringify(a)}`);
  }
  return out;
}

/** The `demo` command. */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const a = parseArgs(args);
  if (a === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const out = (line = ''): boolean => io.stdout.write(`${line}\n`);
  const scenario = await loadCheckedScenario(a.scenario);
  const sites = scenario.fleet.reduce((n, g) => n + g.count, 0);
  out(`driftwatch demo: ${scenario.metadata.description || scenario.metadata.name}`);
  out(`  ${sites} simulated sites, each a real agent (collector loop, edge store, shipper) with a simulated k3s`);
  out(`  cluster, host and router, ship their blocks over gRPC to a real aggregator, on a clock that runs`);
  out(`  ${Math.round(scenario.duration / 86_400_000)} days from ${when(new Date(scenario.start).toISOString())} in about a minute. Scenario: ${a.scenario}`);
  out();
  return interruptible(io, (signal) => answer(scenario, a, io, signal));
}

async function answer(scenario: Scenario, a: DemoArgs, io: CliIo, signal: AbortSignal): Promise<number> {
  const out = (line = ''): boolean => io.stdout.write(`${line}\n`);
  const bar = progressPrinter(io, 'simulating');
  const sim = await runSimulation({
    scenario, version: packageVersion(), onProgress: (p) => bar.update(p), signal,
    ...(a.seed === undefined ? {} : { seed: a.seed }), ...(a.httpListen === undefined ? {} : { httpListen: a.httpListen }),
  });
  bar.done();
  try {
    for (const l of describeRun(sim)) out(`  ${l}`);
    out();
    const api = new URL(sim.center.httpAddress);
    const get = async <R>(kind: ReportKind, extra: { knownAt?: string; revision?: string } = {}): Promise<{ body: unknown; rows: R[] }> => {
      const r = await fetchReport({ kind, aggregator: api, output: 'json', timeoutMs: 60_000, ...extra });
      return { body: r.body, rows: r.body.rows as R[] };
    };
    const upgrades = await get<WireUpgradeRow>('upgrades');
    const page = upgrades.body as WireUpgradesPage;
    if (page.revision === null) {
      out('No policy revision changed an expected value: no upgrade to follow.');
    } else {
      const policies = [...new Set(upgrades.rows.map((r) => r.policy))].join(', ');
      const rollout = scenario.rollouts.find((r) => scenario.start + r.at === Date.parse(page.revisionEffectiveAt!));
      out('THE ANSWER');
      for (const l of upgradeAnswer(page, upgrades.rows, `${policies}${rollout === undefined ? '' : `: ${rollout.workload} to ${rollout.image}`}`)) out(l);
      // What was known at the deadline, before the late blocks came in.
      const deadline = upgrades.rows[0]?.deadline;
      if (deadline !== undefined && Date.parse(deadline) < Date.parse(page.knownAt)) {
        const then = await get<WireUpgradeRow>('upgrades', { knownAt: deadline, revision: page.revision });
        const late = lateAnswer(then.rows, upgrades.rows, deadline);
        if (late.length > 0) {
          out();
          for (const l of late) out(l);
        }
      }
    }
    out();
    for (const l of driftSummary((await get<WireDriftRow>('drift')).rows)) out(l);
    out();
    for (const l of staleSummary((await get<WireStaleRow>('stale')).rows, Date.parse(page.knownAt))) out(l);
    out();
    const base = sim.center.httpAddress;
    out('The aggregator is serving (its clock stays at the end of the simulated week):');
    out(`  fleet API     ${base}/fleet/v1/upgrades   (also /drift, /stale, /sites, /sites/shop-0042; docs/api.md)`);
    out(`  reports       driftwatch report upgrades --aggregator ${base}`);
    out(`  metrics       ${base}/metrics`);
    out('  Grafana       not yet: the Prometheus-compatible query endpoint for dashboards comes in a later release');
    if (!a.serve) return 0;
    out('Press Ctrl-C to stop.');
    const how = await Promise.race([untilSignal(), sim.center.exited.then(() => 'exit')]);
    out(how === 'exit' ? 'The aggregator stopped.' : 'Stopping…');
  } finally {
    await sim.close();
  }
  out('Stopped.');
  return 0;
}

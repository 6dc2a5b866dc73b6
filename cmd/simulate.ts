// `driftwatch simulate --scenario FILE`: a fleet of real agents on an accelerated clock shipping
// to a real aggregator (a child process), as the scenario says (docs/simulator.md). Prints the
// run's figures; with --serve keeps the aggregator serving its fleet API until Ctrl-C.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicySet } from '../aggregator/policy/index.js';
import { DriftwatchError, isDriftwatchError } from '../common/errors.js';
import { processMemory } from '../common/process-memory.js';
import { SimError, SimErrorCode } from '../simulator/errors.js';
import { prepareFleet, runFleet, type FleetProgress, type FleetSummary, type PreparedFleet } from '../simulator/fleet.js';
import { loadScenario, type Scenario } from '../simulator/scenario.js';
import type { CliIo } from './cli.js';
import { startSimCenter, type RunningCenter } from './sim-center.js';
import { packageVersion } from './version.js';

const USAGE = 'usage: driftwatch simulate --scenario FILE [--seed N] [--data-dir DIR] [--serve] [--http-listen HOST:PORT] [--grpc-listen HOST:PORT] [--json]';
const HELP = `${USAGE}
  --scenario FILE          the scenario (docs/simulator.md; examples/scenarios/)
  --seed N                 the seed (default: the scenario's seed)
  --data-dir DIR           keep the aggregator's and the edge stores' data here (default: a
                           temporary directory, removed at the end)
  --serve                  after the run, keep the aggregator serving until Ctrl-C
  --http-listen HOST:PORT  the aggregator's HTTP address (default 127.0.0.1:0, a free port)
  --grpc-listen HOST:PORT  the aggregator's gRPC address, on loopback (default 127.0.0.1:0); a fixed
                           port makes two runs' stored data byte-identical (shipper errors name it)
  --json                   print the figures as JSON
`;

/** What a simulation run gives its caller (the simulate and demo commands). */
export interface Simulation {
  readonly fleet: PreparedFleet;
  readonly summary: FleetSummary;
  readonly center: RunningCenter;
  /** Peak RSS of this process (the fleet) and of the aggregator's, in bytes. */
  readonly memory: { readonly simulator: number; readonly aggregator: number };
  /** Stops the aggregator and removes a temporary data directory. */
  close(): Promise<void>;
}

export interface SimulationOptions {
  readonly scenario: Scenario;
  readonly seed?: number;
  /** Kept when given; otherwise a temporary directory removed by close(). */
  readonly dataDir?: string;
  readonly httpListen?: string;
  readonly grpcListen?: string;
  readonly version: string;
  readonly onProgress?: (p: FleetProgress) => void;
  /** Interrupts the run (DW_SIM_INTERRUPTED) once everything is stopped and cleaned up. */
  readonly signal?: AbortSignal;
}

/** Checks every policy revision of the scenario as the aggregator will load it (DW_POLICY_* with the file). */
function checkPolicies(s: Scenario, file: string): void {
  s.policies.forEach((p, i) => {
    try {
      loadPolicySet(Object.entries(p.files).map(([path, text]) => ({ path: `policies[${i}].files.${path}`, text })));
    } catch (err) {
      if (isDriftwatchError(err)) throw new SimError(SimErrorCode.ScenarioInvalid, `${file}: policies[${i}]: ${err.message}`, { cause: err });
      throw err;
    }
  });
}

/** Loads a scenario file and checks its policies. Throws DW_SIM_SCENARIO_*. */
export async function loadCheckedScenario(file: string): Promise<Scenario> {
  const s = await loadScenario(file);
  checkPolicies(s, file);
  return s;
}

/** Runs a scenario: the aggregator in a child process, the fleet here. The aggregator keeps serving until close(). */
export async function runSimulation(o: SimulationOptions): Promise<Simulation> {
  const temporary = o.dataDir === undefined;
  const dir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'driftwatch-sim-')));
  const fleet = prepareFleet(o.scenario, o.seed ?? o.scenario.seed);
  let center: RunningCenter | undefined;
  try {
    await rm(join(dir, 'aggregator'), { recursive: true, force: true });
    center = await startSimCenter({
      dataDir: join(dir, 'aggregator'), start: fleet.plan.start, tokens: fleet.tokens,
      ...(o.httpListen === undefined ? {} : { httpListen: o.httpListen }),
      ...(o.grpcListen === undefined ? {} : { grpcListen: o.grpcListen }),
    });
    const summary = await runFleet({
      fleet, center, dataDir: join(dir, 'fleet'), version: o.version,
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }), ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    await center.settle();
    const memory = { simulator: processMemory().peakRss, aggregator: (await center.memory()).peakRss };
    const c = center;
    return {
      fleet, summary, center: c, memory,
      async close() {
        await c.close();
        if (temporary) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await center?.close();
    if (temporary) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A progress bar on a terminal, a line per tenth otherwise. */
export function progressPrinter(io: CliIo, label: string): { update(p: FleetProgress): void; done(): void } {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let lastTenth = -1;
  let lastDraw = 0;
  return {
    update(p) {
      const share = Math.min(1, (p.t - p.start) / (p.end - p.start));
      const day = Math.floor((p.t - p.start) / 86_400_000) + 1;
      const text = `day ${Math.min(day, Math.ceil((p.end - p.start) / 86_400_000))} ${new Date(p.t).toISOString().slice(0, 16).replace('T', ' ')}Z  ${p.rounds.toLocaleString('en-US')} rounds, ${p.blocksStored.toLocaleString('en-US')} blocks stored`;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && share < 1) return;
        lastDraw = now;
        const width = 30;
        const full = Math.round(share * width);
        // One terminal line, cut to its width: a wrapped line would not be redrawn in place.
        const line = `${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${text}`;
        io.stderr.write(`\r${line.slice(0, Math.max(20, ((io.stderr as NodeJS.WriteStream).columns ?? 80) - 1))}\x1b[K`);
      } else {
        const tenth = Math.floor(share * 10);
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        io.stderr.write(`${label} ${String(tenth * 10).padStart(3)}%  ${text}\n`);
      }
    },
    done() {
      if (tty) io.stderr.write('\n');
    },
  };
}

const MiB = 1024 * 1024;

/** The run's figures in words. */
export function describeRun(s: Simulation): string[] {
  const r = s.summary;
  const secs = r.wallMs / 1000;
  const days = (r.end - r.start) / 86_400_000;
  return [
    `${r.sites.toLocaleString('en-US')} sites, ${days.toFixed(days % 1 === 0 ? 0 : 1)} simulated days (seed ${r.seed}) in ${secs.toFixed(1)} s of wall time, ${r.steps.toLocaleString('en-US')} clock steps`,
    `${r.rounds.toLocaleString('en-US')} agent rounds (${Math.round(r.rounds / secs).toLocaleString('en-US')} simulated rounds/s), ${r.blocksSealed.toLocaleString('en-US')} blocks sealed, ${r.blocksStored.toLocaleString('en-US')} stored at the aggregator (${Math.round(r.blocksStored / secs).toLocaleString('en-US')} blocks/s ingested, ${(r.bytesStored / MiB).toFixed(1)} MiB), ${r.heartbeats.toLocaleString('en-US')} heartbeats, ${r.callsRefused.toLocaleString('en-US')} calls refused by outages`,
    `peak memory: simulator ${(s.memory.simulator / MiB).toFixed(0)} MiB, aggregator ${(s.memory.aggregator / MiB).toFixed(0)} MiB`,
    ...(r.problems === 0 ? [] : [`${r.problems} errors logged by agents and shippers, such as: ${r.sampleProblems.slice(0, 3).join(' | ')}`]),
  ];
}

/**
 * Runs `work` with an AbortSignal that the first SIGINT or SIGTERM aborts (Ctrl-C during a run:
 * the simulation stops at its next step and cleans up). A DW_SIM_INTERRUPTED error becomes a
 * one-line note and exit code 130.
 */
export async function interruptible(io: CliIo, work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const ac = new AbortController();
  const on = (): void => ac.abort();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  try {
    return await work(ac.signal);
  } catch (err) {
    if (!isDriftwatchError(err, SimErrorCode.Interrupted)) throw err;
    io.stderr.write(`\ndriftwatch: ${err.code}: ${err.message}; stopped and cleaned up\n`);
    return 130;
  } finally {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** A --seed value: a whole number from 0 to 2^31 − 1 (DW_CLI_USAGE otherwise). */
export function parseSeed(v: string): number {
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2 ** 31 - 1) throw new DriftwatchError('DW_CLI_USAGE', `expected --seed to be a whole number from 0 to 2147483647, found ${JSON.stringify(v)}`);
  return Number(v);
}

interface SimulateArgs {
  scenario: string;
  seed?: number;
  dataDir?: string;
  serve: boolean;
  httpListen?: string;
  grpcListen?: string;
  json: boolean;
}

function parseArgs(args: readonly string[]): SimulateArgs | 'help' {
  const out: Partial<SimulateArgs> & { serve: boolean; json: boolean } = { serve: false, json: false };
  const usage = (found: string): DriftwatchError => new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length)}, found ${found}`);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw usage(`${flag} without a value`);
      return v;
    };
    switch (flag) {
      case '--help': case '-h': return 'help';
      case '--scenario': out.scenario = value(); break;
      case '--seed': out.seed = parseSeed(value()); break;
      case '--data-dir': out.dataDir = value(); break;
      case '--http-listen': out.httpListen = value(); break;
      case '--grpc-listen': out.grpcListen = value(); break;
      case '--serve': out.serve = true; break;
      case '--json': out.json = true; break;
      default: throw usage(JSON.stringify(a));
    }
  }
  if (out.scenario === undefined) throw usage('no --scenario');
  return out as SimulateArgs;
}

/** The `simulate` command. */
export async function simulateCommand(args: string[], io: CliIo): Promise<number> {
  const a = parseArgs(args);
  if (a === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const scenario = await loadCheckedScenario(a.scenario);
  return interruptible(io, (signal) => simulate(scenario, a, io, signal));
}

async function simulate(scenario: Scenario, a: SimulateArgs, io: CliIo, signal: AbortSignal): Promise<number> {
  const bar = progressPrinter(io, 'simulating');
  const sim = await runSimulation({
    scenario, version: packageVersion(), onProgress: (p) => bar.update(p), signal,
    ...(a.seed === undefined ? {} : { seed: a.seed }), ...(a.dataDir === undefined ? {} : { dataDir: a.dataDir }),
    ...(a.httpListen === undefined ? {} : { httpListen: a.httpListen }),
    ...(a.grpcListen === undefined ? {} : { grpcListen: a.grpcListen }),
  });
  bar.done();
  try {
    if (a.json) {
      const r = sim.summary;
      io.stdout.write(`${JSON.stringify({
        scenario: scenario.metadata.name, ...r, sampleProblems: r.sampleProblems,
        roundsPerSecond: r.rounds / (r.wallMs / 1000), blocksPerSecond: r.blocksStored / (r.wallMs / 1000),
        peakRssSimulator: sim.memory.simulator, peakRssAggregator: sim.memory.aggregator, httpAddress: sim.center.httpAddress,
      })}\n`);
    } else {
      io.stdout.write(`driftwatch simulate: ${scenario.metadata.name}\n${describeRun(sim).map((l) => `  ${l}\n`).join('')}`);
    }
    if (a.serve) {
      io.stdout.write(`\nThe aggregator keeps serving (its clock stays at the end of the simulation):\n  fleet API  ${sim.center.httpAddress}/fleet/v1/sites\n  reports    driftwatch report upgrades --aggregator ${sim.center.httpAddress}\nPress Ctrl-C to stop.\n`);
      await Promise.race([untilSignal(), sim.center.exited]);
    }
  } finally {
    await sim.close();
  }
  return 0;
}

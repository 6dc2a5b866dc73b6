// agent-footprint: the edge agent's memory, CPU and event-loop delay with 10,000 series at a
// 15 s interval — the goals: ≤ 96 MiB RSS, ≤ 1% of one core, event-loop delay p99 ≤ 20 ms.
//
// Each measurement runs in a child process of its own (node dist/bench/agent-footprint.js
// --child <mode>), so that RSS and CPU are the agent's alone, not the benchmark runner's:
// - `agent`: the real agent (createAgent) with a real edge store (LevelDB in a temporary
//   directory), the prom-client registry with default process metrics, a pino logger writing to
//   /dev/null, and one in-process source replaying the seeded synthetic site (bench/synthetic-site.ts)
//   at 9,000 string series (images, versions, hashes, statuses: rarely changing) and 1,000 float
//   series (node_exporter-like, moving every round), as fresh objects every round as a source that
//   parses its target's answer makes them. Rounds run back to back on a ManualClock that the
//   loop's timers fast-forward (240 rounds = 1 h of simulated time: 12 seals and a compaction
//   of the first hour), source deadlines on real timers;
// - `source`: the peer, measured the same way: the same source called for the same rounds with
//   nothing else — what producing the samples costs, so that the agent's own share is the
//   difference.
// The agent runs twice: with Node's defaults, and with the deployment settings docs/agent.md
// recommends (MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072, --max-semi-space-size=1), which change the environment, not
// the code. DW_FOOTPRINT_TRACE=1 makes a child print its memory (RSS, V8 spaces) and the longest
// event-loop delay at every round on stderr.
//
// CPU is process.cpuUsage() (getrusage: every thread of the process, LevelDB's included) over the
// whole run divided by the rounds; "% of one core" is that per 15 s. RSS is read at every round
// (peak, and the median of the second half as the steady figure). Event-loop delay is
// perf_hooks.monitorEventLoopDelay at 10 ms resolution over the run: with rounds back to back
// the loop is never idle, so it shows the longest synchronous stretches a round holds the loop.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createAgent, createAgentMetrics, nextSlot, parseAgentConfig } from '../collector/agent/index.js';
import { fastForwardTimers, sleepUntil, systemTimers } from '../collector/round/index.js';
import type { Source, SourceResult } from '../collector/sources/source.js';
import { ManualClock, systemClock } from '../common/clock.js';
import { randomInt, seededRandom } from '../common/random.js';
import type { Labels, Sample } from '../proto/index.js';
import { quantile, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { diskUsage } from './store-append.js';

const MiB = 1024 * 1024;
const INTERVAL_MS = 15_000;
const STRING_SERIES = 9_000;
const FLOAT_SERIES = 1_000;
const SEED = 4242;

/** Rounds per run: 240 (one hour at 15 s), or DW_FOOTPRINT_ROUNDS. */
function roundsToRun(): number {
  const raw = process.env.DW_FOOTPRINT_ROUNDS;
  const n = raw === undefined || raw === '' ? 240 : Number(raw);
  if (!Number.isSafeInteger(n) || n < 20) throw new Error(`DW_BENCH_USAGE: expected DW_FOOTPRINT_ROUNDS >= 20, found ${JSON.stringify(raw)}`);
  return n;
}

const STRING_FAMILIES = [
  'kube_pod_container_image', 'kube_pod_status_phase', 'kube_pod_status_ready', 'kube_pod_container_status_waiting_reason',
  'kube_deployment_container_image', 'kube_deployment_config_hash',
] as const;
const NAMESPACES = ['pos', 'kitchen', 'inventory', 'payments', 'loyalty', 'edge-gateway', 'sensors', 'printing', 'media', 'monitoring', 'kube-system', 'argocd'];
const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];

/**
 * The synthetic source: 9,000 string series with kube-state-metrics names whose values change a
 * few times an hour, and 1,000 float series with node_exporter names (CPU seconds counters at
 * 1/100 s, temperatures at 0.1 °C, filesystem bytes in 4 KiB steps) that move every round. Every
 * collect returns fresh sample and label objects, as a source that parses its target's answer does.
 */
function syntheticSource(seed: number, onCollect: () => void): Source {
  const random = seededRandom(seed);
  const strings = Array.from({ length: STRING_SERIES }, (_, i) => {
    const family = STRING_FAMILIES[i % STRING_FAMILIES.length]!;
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    const app = `app-${Math.floor(i / STRING_FAMILIES.length)}`;
    const value = family.endsWith('image') ? `registry.example.com/${namespace}/${app}:1.${randomInt(random, 0, 9)}.${randomInt(random, 0, 20)}`
      : family.endsWith('hash') ? `sha256:${Math.floor(random() * 2 ** 48).toString(16)}` : family.endsWith('reason') ? '' : 'True';
    return { family, namespace, app, value };
  });
  const floats = Array.from({ length: FLOAT_SERIES }, (_, i) => {
    const node = `edge-node-${(i % 3) + 1}`;
    const kind = i % 4;
    return { node, kind, index: Math.floor(i / 12), mode: CPU_MODES[i % CPU_MODES.length]!, value: kind === 0 ? randomInt(random, 1e5, 1e7) / 100 : kind === 1 ? randomInt(random, 300, 700) / 10 : randomInt(random, 1e5, 1e6) * 4096 };
  });
  return {
    name: 'synthetic',
    kind: 'exec',
    async collect(): Promise<SourceResult> {
      onCollect();
      if (random() < 0.1) {
        const s = strings[randomInt(random, 0, strings.length - 1)]!;
        s.value = s.family.endsWith('image') ? `${s.value.slice(0, s.value.lastIndexOf(':'))}:2.${randomInt(random, 0, 99)}.0` : s.family.endsWith('reason') ? (s.value === '' ? 'CrashLoopBackOff' : '') : s.value === 'True' ? 'False' : 'True';
      }
      const samples: Sample[] = [];
      for (const s of strings) {
        const labels: Labels = s.family.startsWith('kube_pod') ? { namespace: s.namespace, pod: `${s.app}-0`, container: 'main' } : { namespace: s.namespace, deployment: s.app };
        samples.push({ name: s.family, labels, type: 'string', value: s.value });
      }
      for (const f of floats) {
        if (f.kind === 0) {
          f.value = Math.round(f.value * 100 + randomInt(random, 0, 1500)) / 100;
          samples.push({ name: 'node_cpu_seconds_total', labels: { node: f.node, cpu: String(f.index), mode: f.mode }, type: 'float', value: f.value });
        } else if (f.kind === 1) {
          f.value = Math.round(f.value * 10 + randomInt(random, -3, 3)) / 10;
          samples.push({ name: 'node_hwmon_temp_celsius', labels: { node: f.node, chip: `chip${f.index}`, sensor: 'temp1' }, type: 'float', value: f.value });
        } else {
          if (random() < 0.05) f.value += randomInt(random, -64, 64) * 4096;
          samples.push({ name: f.kind === 2 ? 'node_filesystem_avail_bytes' : 'node_filesystem_free_bytes', labels: { node: f.node, mountpoint: `/mnt/disk${f.index}` }, type: 'float', value: f.value });
        }
      }
      return { samples, events: [] };
    },
  };
}

type Mode = 'agent' | 'agent-realtime' | 'source' | 'source-realtime';

/** What a child reports. */
interface ChildResult {
  readonly mode: Mode;
  readonly rounds: number;
  readonly samples: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** CPU per round over the second half of the rounds (start-up and JIT warm-up left out). */
  readonly cpuSteadyMsPerRound: number;
  readonly wallMs: number;
  /** RSS at the first collect: modules loaded, store open, nothing sampled yet. */
  readonly rssStart: number;
  /** The highest RSS read at a round. */
  readonly rssPeak: number;
  /** The kernel's high-water mark of RSS over the whole run (VmHWM), synchronous stretches included. */
  readonly rssHighWater: number;
  readonly rssSteady: number;
  readonly heapUsedPeak: number;
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly blocksSealed: number;
  /** Bytes of the store's directory after the run (LevelDB files). */
  readonly diskBytes: number;
}

/** VmHWM from /proc/self/status: the peak RSS the kernel saw, in bytes (0 where there is no /proc). */
async function highWaterRss(): Promise<number> {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile('/proc/self/status', 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

async function measure(mode: Mode): Promise<ChildResult> {
  const rounds = mode.endsWith('-realtime') ? realtimeRounds() : roundsToRun();
  const start = Date.UTC(2025, 10, 20);
  const rss: number[] = [];
  const cpuAt: number[] = [];
  let heapUsedPeak = 0;
  let samples = 0;
  const sampleMemory = (): void => {
    const c = process.cpuUsage();
    cpuAt.push((c.user + c.system) / 1000);
    const m = process.memoryUsage();
    if (process.env.DW_FOOTPRINT_TRACE === '1') {
      process.stderr.write(`${rss.length} loopMax=${(traceLoop.max / 1e6).toFixed(0)}ms `);
      traceLoop.reset();
      const spaces = getHeapSpaceStatistics().map((x) => `${x.space_name.replace('_space', '')}=${(x.space_size / MiB).toFixed(1)}/${(x.space_used_size / MiB).toFixed(1)}`).join(' ');
      process.stderr.write(`${rss.length} rss=${(m.rss / MiB).toFixed(1)} heapTotal=${(m.heapTotal / MiB).toFixed(1)} heapUsed=${(m.heapUsed / MiB).toFixed(1)} external=${(m.external / MiB).toFixed(1)} ${spaces}\n`);
    }
    rss.push(m.rss);
    heapUsedPeak = Math.max(heapUsedPeak, m.heapUsed);
  };
  const source = syntheticSource(SEED, sampleMemory);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const traceLoop = monitorEventLoopDelay({ resolution: 10 });
  if (process.env.DW_FOOTPRINT_TRACE === '1') traceLoop.enable();
  let blocksSealed = 0;
  const dir = await mkdtemp(join(tmpdir(), 'dw-footprint-'));
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (process.env.DW_FOOTPRINT_NO_MONITOR !== '1') loop.enable();
    if (mode === 'source' || mode === 'source-realtime') {
      // The peer: the same source, the same rounds, nothing else; back to back (yielding like the
      // agent's loop does), or at the aligned 15 s slots of the system clock.
      const timers = systemTimers(systemClock);
      for (let i = 0; i < rounds; i++) {
        if (mode === 'source-realtime') await sleepUntil(timers, nextSlot(systemClock.now() + 1, INTERVAL_MS));
        samples += (await source.collect({ signal: new AbortController().signal, roundTime: 0, deadline: 0, now: () => 0 })).samples.length;
        await new Promise((resolve) => setImmediate(resolve));
      }
      sampleMemory();
    } else {
      // Back to back on a fast-forwarded ManualClock, or for real on the system clock.
      const manual = mode === 'agent' ? new ManualClock(start - 1_000) : undefined;
      const clock = manual ?? systemClock;
      const config = parseAgentConfig(`site:\n  id: footprint\ninterval: 15s\nstore:\n  dir: ${dir}\nhttp:\n  listen: ""\nsources:\n  - kind: exec\n    name: synthetic\n    command: [unused]\n`, { file: 'footprint.yaml' });
      const registry = new Registry();
      collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 }); // as cmd/agent.ts
      const metrics = createAgentMetrics(registry);
      const logger = pino({ level: 'info', base: { site: 'footprint' } }, pino.destination({ dest: '/dev/null', sync: false }));
      const counting: Source = {
        name: source.name, kind: source.kind,
        async collect(ctx) {
          const r = await source.collect(ctx);
          samples += r.samples.length;
          return r;
        },
      };
      const agent = createAgent({
        config, sources: [{ source: counting, interval: INTERVAL_MS, timeout: 10_000 }], clock,
        timers: manual === undefined ? systemTimers(clock) : fastForwardTimers(manual), deadlineTimers: systemTimers(clock),
        logger, metrics, version: 'bench', random: seededRandom(SEED),
      });
      const summary = await agent.run({ rounds });
      sampleMemory();
      blocksSealed = summary.blocksSealed;
    }
    loop.disable();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const steady = rss.slice(Math.floor(rss.length / 2));
    // CPU of the second half of the rounds: from the collect of round rounds/2 to the end.
    const half = Math.floor(rounds / 2);
    const cpuEnd = cpuAt[cpuAt.length - 1]!;
    return {
      mode, rounds, samples, wallMs,
      cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, cpuSteadyMsPerRound: (cpuEnd - cpuAt[half]!) / (rounds - half),
      rssStart: rss[0]!, rssPeak: Math.max(...rss), rssHighWater: await highWaterRss(), rssSteady: quantile(steady, 0.5), heapUsedPeak,
      loopP50Ms: loop.percentile(50) / 1e6, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
      blocksSealed, diskBytes: await diskUsage(dir),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How a child process is started: node flags and environment variables. */
interface ChildSetup {
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Node as it comes. */
const DEFAULTS: ChildSetup = { flags: [], env: {} };

/**
 * The deployment settings docs/agent.md recommends for a small box: glibc limited to two malloc
 * arenas (LevelDB's, libuv's and V8's threads otherwise each keep an arena of their own) and
 * allocations of 128 KiB and more always mmap'd (given back when freed, where glibc would
 * otherwise raise that threshold after Brotli's buffers and keep them in its heap), and V8's
 * young generation kept at 1 MiB semi-spaces. Environment, not code: the same agent.
 */
const DEPLOYMENT: ChildSetup = { flags: ['--max-semi-space-size=1'], env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } };

function describeSetup(setup: ChildSetup): string {
  return [...Object.entries(setup.env).map(([k, v]) => `${k}=${v}`), 'node', ...setup.flags].join(' ');
}

function runChild(mode: Mode, setup: ChildSetup = DEFAULTS): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...setup.flags, fileURLToPath(import.meta.url), '--child', mode], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...setup.env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`agent-footprint child (${mode}) exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

const cpuPerRound = (r: ChildResult): number => (r.cpuUserMs + r.cpuSystemMs) / r.rounds;
const percentOfCore = (r: ChildResult): number => (r.cpuSteadyMsPerRound / INTERVAL_MS) * 100;

function agentFigures(r: ChildResult, prefix: string, label: string, loopLabel: string): Figure[] {
  return [
    { key: `${prefix}RssStartMiB`, label: `${label}: RSS at start (modules loaded, store open)`, value: r.rssStart / MiB, unit: 'MiB', digits: 1 },
    { key: `${prefix}RssPeakMiB`, label: `${label}: RSS, peak at a round`, value: r.rssPeak / MiB, unit: 'MiB', goal: { op: '<=', value: 96 }, digits: 1 },
    { key: `${prefix}RssHighWaterMiB`, label: `${label}: RSS, high-water mark (VmHWM)`, value: r.rssHighWater / MiB, unit: 'MiB', digits: 1 },
    { key: `${prefix}RssSteadyMiB`, label: `${label}: RSS, steady (median, second half)`, value: r.rssSteady / MiB, unit: 'MiB', goal: { op: '<=', value: 96 }, digits: 1 },
    { key: `${prefix}HeapUsedPeakMiB`, label: `${label}: V8 heap used, peak`, value: r.heapUsedPeak / MiB, unit: 'MiB', digits: 1 },
    { key: `${prefix}CpuMsPerRound`, label: `${label}: CPU per round, whole run with start-up`, value: cpuPerRound(r), unit: 'ms', digits: 1 },
    { key: `${prefix}CpuSteadyMsPerRound`, label: `${label}: CPU per round, steady (second half)`, value: r.cpuSteadyMsPerRound, unit: 'ms', digits: 1 },
    { key: `${prefix}CpuPercentOfCore`, label: `${label}: CPU at a 15 s interval, steady`, value: percentOfCore(r), unit: '% of a core', goal: { op: '<=', value: 1 }, digits: 3 },
    { key: `${prefix}EventLoopDelayP50Ms`, label: `${label}: event-loop delay p50, ${loopLabel}`, value: r.loopP50Ms, unit: 'ms', digits: 1 },
    { key: `${prefix}EventLoopDelayP99Ms`, label: `${label}: event-loop delay p99, ${loopLabel}`, value: r.loopP99Ms, unit: 'ms', goal: { op: '<=', value: 20 }, digits: 1 },
    { key: `${prefix}EventLoopDelayMaxMs`, label: `${label}: event-loop delay max, ${loopLabel}`, value: r.loopMaxMs, unit: 'ms', digits: 1 },
  ];
}

/** Rounds of the real-time run (DW_FOOTPRINT_REALTIME), 0 for none. */
function realtimeRounds(): number {
  const raw = process.env.DW_FOOTPRINT_REALTIME;
  if (raw === undefined || raw === '' || raw === '0') return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 4) throw new Error(`DW_BENCH_USAGE: expected DW_FOOTPRINT_REALTIME >= 4 rounds, found ${JSON.stringify(raw)}`);
  return n;
}

/** The case: the agent (Node's defaults, and the recommended deployment settings), its peer and, when asked, a real-time run; each in a child process. */
export function agentFootprintCase(): BenchCase {
  return {
    name: 'agent-footprint/series=10000/interval=15s',
    async run(options: RunOptions): Promise<CaseResult> {
      options.log(`agent-footprint: ${roundsToRun()} rounds of ${STRING_SERIES + FLOAT_SERIES} series back to back, agent in a child process (default V8 heap)`);
      const agent = await runChild('agent');
      options.log(`agent-footprint: the same with the deployment settings: ${describeSetup(DEPLOYMENT)}`);
      const deploy = await runChild('agent', DEPLOYMENT);
      options.log('agent-footprint: the peer (the source alone) in a child process');
      const peer = await runChild('source');
      const realtime = realtimeRounds();
      let real: { agent: ChildResult; deploy: ChildResult; peer: ChildResult } | undefined;
      if (realtime > 0) {
        options.log(`agent-footprint: ${realtime} rounds in real time at 15 s (${((realtime * INTERVAL_MS) / 60_000).toFixed(1)} min): the agent with Node's defaults, with the deployment settings, and the peer, side by side`);
        const [a, b, c] = await Promise.all([runChild('agent-realtime'), runChild('agent-realtime', DEPLOYMENT), runChild('source-realtime')]);
        real = { agent: a, deploy: b, peer: c };
      }
      const figures: Figure[] = [
        ...agentFigures(agent, 'agent', 'agent', 'back to back'),
        ...agentFigures(deploy, 'deployment', 'agent, deployment settings', 'back to back'),
        ...(real === undefined ? [] : <Figure[]>[
          ...agentFigures(real.agent, 'realtime', 'real time', 'at the 15 s cadence'),
          ...agentFigures(real.deploy, 'realtimeDeployment', 'real time, deployment settings', 'at the 15 s cadence'),
          { key: 'realtimePeerRssSteadyMiB', label: 'real time, peer (the source alone): RSS, steady', value: real.peer.rssSteady / MiB, unit: 'MiB', digits: 1 },
          { key: 'realtimeAgentOwnRssMiB', label: 'real time: the agent\'s own RSS, steady (agent − peer)', value: (real.agent.rssSteady - real.peer.rssSteady) / MiB, unit: 'MiB', digits: 1 },
          { key: 'realtimePeerCpuMsPerRound', label: 'real time, peer (the source alone): CPU per round, steady', value: real.peer.cpuSteadyMsPerRound, unit: 'ms', digits: 1 },
          { key: 'realtimeAgentOwnCpuPercentOfCore', label: 'real time: the agent\'s own CPU (agent − peer)', value: percentOfCore(real.agent) - percentOfCore(real.peer), unit: '% of a core', goal: { op: '<=', value: 1 }, digits: 3 },
          { key: 'realtimeDeploymentOwnCpuPercentOfCore', label: 'real time, deployment settings: the agent\'s own CPU (agent − peer)', value: percentOfCore(real.deploy) - percentOfCore(real.peer), unit: '% of a core', goal: { op: '<=', value: 1 }, digits: 3 },
        ]),
        { key: 'wallMsPerRound', label: 'agent: wall time per round, back to back', value: agent.wallMs / agent.rounds, unit: 'ms', digits: 1 },
        { key: 'peerCpuMsPerRound', label: 'peer (the source alone): CPU per round, steady', value: peer.cpuSteadyMsPerRound, unit: 'ms', digits: 1 },
        { key: 'peerRssPeakMiB', label: 'peer (the source alone): RSS, peak', value: peer.rssPeak / MiB, unit: 'MiB', digits: 1 },
        { key: 'agentOwnCpuMsPerRound', label: 'the agent\'s own CPU per round, steady (agent − peer)', value: agent.cpuSteadyMsPerRound - peer.cpuSteadyMsPerRound, unit: 'ms', digits: 1 },
      ];
      return {
        name: 'agent-footprint/series=10000/interval=15s',
        figures,
        notes: [
          `${agent.rounds} rounds back to back on a fast-forwarded clock (${(agent.rounds * INTERVAL_MS) / 3_600_000} h simulated), ${agent.samples.toLocaleString('en-US')} samples, ${agent.blocksSealed} blocks sealed, ${agent.diskBytes.toLocaleString('en-US')} bytes of store on disk at the end`,
          `CPU split (default heap): user ${(agent.cpuUserMs / agent.rounds).toFixed(1)} ms, system ${(agent.cpuSystemMs / agent.rounds).toFixed(1)} ms per round; deployment settings (${describeSetup(DEPLOYMENT)}): ${cpuPerRound(deploy).toFixed(1)} ms`,
          'back to back, the event loop is never idle: its delay is the longest synchronous stretches of a round (append, seal, compaction, GC), a worst case;',
          real === undefined
            ? 'at the real cadence it is idle 99% of the time; DW_FOOTPRINT_REALTIME=<rounds> adds a run at the real 15 s cadence on the system clock'
            : `the real-time runs: ${real.agent.rounds} rounds each on the system clock and real timers, ${(real.agent.wallMs / 60_000).toFixed(1)} min, the three processes side by side; their CPU includes the benchmark's own 10 ms event-loop monitor, as the peer's does`,
          'each measurement in its own child process; the peer runs the same source for the same rounds with nothing else; the synthetic source does not load @kubernetes/client-node',
        ],
        context: {
          seed: SEED, rounds: agent.rounds, stringSeries: STRING_SERIES, floatSeries: FLOAT_SERIES, intervalMs: INTERVAL_MS,
          blocksSealed: agent.blocksSealed, samples: agent.samples, deploymentSettings: describeSetup(DEPLOYMENT), realtimeRounds: real?.agent.rounds ?? 0,
        },
      };
    },
  };
}

if (process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = process.argv[3];
  const mode: Mode = arg === 'source' || arg === 'agent-realtime' || arg === 'source-realtime' ? arg : 'agent';
  const result = await measure(mode);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

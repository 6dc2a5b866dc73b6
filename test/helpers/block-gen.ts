// Seeded random blocks for tests and the fuzzer: varied shapes, edge-case values, unicode.
import { randomInt, type Random } from '../../common/random.js';
import { BlockBuilder } from '../../proto/block/builder.js';
import type { BlockData, BlockEvent, Round, Sample, ValueType } from '../../proto/block/types.js';

const NAMES = ['kube_deployment_container_image', 'node_filesystem_avail_bytes', 'node_hwmon_temp_celsius', 'kube_pod_container_status_restarts_total', 'driftwatch_source_up', 'x', 'a:b_c'];
const LABEL_NAMES = ['namespace', 'deployment', 'container', 'device', 'source', 'le', '_x'];
const STRINGS = ['', 'nginx:1.25.3', 'nginx:1.25.4', 'Running', 'CrashLoopBackOff', 'v1.29.3+k3s1', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'ünïcødé ✓', '𝔘𝔫𝔦', 'line\nbreak "quoted" \\'];

function pick<T>(random: Random, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)]!;
}

function randomFloat(random: Random, style: number, prev: number): number {
  switch (style) {
    case 0: // constant-ish
      return random() < 0.95 ? prev : prev + 4096 * randomInt(random, -3, 3);
    case 1: // 0.1 resolution random walk
      return Math.round((prev + (random() - 0.5)) * 10) / 10;
    case 2: // counter
      return prev + Math.round(random() * 1000) / 100;
    case 3: { // anything, special values included
      const r = random();
      if (r < 0.05) return NaN;
      if (r < 0.1) return -0;
      if (r < 0.15) return Infinity;
      if (r < 0.2) return -Infinity;
      if (r < 0.25) return Number.MAX_VALUE;
      if (r < 0.3) return Number.MIN_VALUE;
      if (r < 0.35) return 2 ** 49;
      if (r < 0.4) return -(2 ** 49) - 1;
      return (random() - 0.5) * 10 ** randomInt(random, -10, 20);
    }
    default: // integers with big jumps
      return random() < 0.5 ? prev : randomInt(random, -1e9, 1e9);
  }
}

export interface RandomBlockOptions {
  maxRounds?: number;
  maxSeries?: number;
  maxEvents?: number;
}

/** Random rounds in row form (strictly increasing times), canonical when built. */
export function randomRounds(random: Random, opts: RandomBlockOptions = {}): Round[] {
  const nRounds = randomInt(random, 0, opts.maxRounds ?? 40);
  const nSeries = randomInt(random, 0, opts.maxSeries ?? 12);
  const series: { name: string; labels: Record<string, string>; type: ValueType; style: number; presence: number; prev: number; prevS: string }[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < nSeries; i++) {
    const labels: Record<string, string> = {};
    for (let k = randomInt(random, 0, 3); k > 0; k--) labels[pick(random, LABEL_NAMES)] = pick(random, STRINGS);
    const name = pick(random, NAMES);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (keys.has(key)) continue;
    keys.add(key);
    series.push({ name, labels, type: random() < 0.5 ? 'float' : 'string', style: randomInt(random, 0, 4), presence: [1, 0.9, 0.5, 0.1][randomInt(random, 0, 3)]!, prev: randomInt(random, 0, 1e6), prevS: pick(random, STRINGS) });
  }
  let t = randomInt(random, 0, 2 ** 42);
  const rounds: Round[] = [];
  for (let r = 0; r < nRounds; r++) {
    t += random() < 0.8 ? 15000 : randomInt(random, 1, 10 ** randomInt(random, 1, 9));
    const samples: Sample[] = [];
    for (const s of series) {
      if (random() >= s.presence) continue;
      if (s.type === 'float') {
        s.prev = randomFloat(random, s.style, Number.isFinite(s.prev) ? s.prev : 0);
        samples.push({ name: s.name, labels: s.labels, type: 'float', value: s.prev });
      } else {
        if (random() < 0.1) s.prevS = random() < 0.8 ? pick(random, STRINGS) : String.fromCodePoint(...Array.from({ length: randomInt(random, 0, 8) }, () => randomInt(random, 0x20, 0x2fff)));
        samples.push({ name: s.name, labels: s.labels, type: 'string', value: s.prevS });
      }
    }
    const events: BlockEvent[] = [];
    if (random() < 0.1) events.push(randomEvent(random, t));
    rounds.push({ t, samples, events });
  }
  return rounds;
}

export function randomEvent(random: Random, t: number): BlockEvent {
  const min = randomInt(random, 0, t);
  return {
    t: Math.max(0, t - randomInt(random, 0, 60000)),
    kind: pick(random, ['kubernetes', 'reboot', 'data_dropped', 'source_error']),
    reason: pick(random, ['BackOff', 'Failed', 'FailedScheduling', '', 'disk_budget']),
    message: pick(random, STRINGS),
    labels: random() < 0.5 ? {} : { namespace: pick(random, STRINGS), object: 'deployment/web' },
    rangeMinT: min,
    rangeMaxT: min + randomInt(random, 0, 1e6),
    count: randomInt(random, 0, 5),
  };
}

/** A random canonical block; never empty (a lone event is added when there are no rounds). */
export function randomBlockData(random: Random, opts: RandomBlockOptions = {}): BlockData {
  const b = new BlockBuilder();
  for (const r of randomRounds(random, opts)) b.append(r);
  if (b.roundCount === 0) b.appendEvent(randomEvent(random, randomInt(random, 0, 2 ** 40)));
  for (let k = randomInt(random, 0, opts.maxEvents ?? 2); k > 0; k--) b.appendEvent(randomEvent(random, randomInt(random, 0, 2 ** 40)));
  return b.build();
}

// A seeded synthetic edge site: what a driftwatch agent would sample from a small k3s cluster
// with a few nodes, for benchmarks, tests and the demo. Names follow kube-state-metrics and
// node_exporter; string series carry their value as the value (DESIGN.md, Data model).
//
// The shapes that matter for the block format:
// - string series (images, versions, config hashes, statuses) almost never change: a handful of
//   changes per day at random times, one rollout wave that changes ~50 at once, and a CronJob pod
//   that comes and goes every few hours (series that appear and disappear);
// - float series as node_exporter reports them: CPU seconds counters with 1/100 s resolution
//   that grow by a noisy amount every round, memory in kB multiples, disk free bytes that move in
//   4096-byte steps now and then, temperatures at 0.1 °C on a slow random walk, load averages
//   with two decimals, network byte counters, rarely incrementing restart counters;
// - a few Kubernetes events (BackOff) around a pod that fails to come up after the wave.
//
// Simplification: a rollout keeps pod names (as StatefulSet pods do), so the wave changes values,
// not the set of series.
import type { BlockEvent, Labels, Round, Sample } from '../proto/block/types.js';
import { randomInt, seededRandom, type Random } from '../common/random.js';

export interface SyntheticSiteOptions {
  /** Everything the site does follows from the seed. */
  readonly seed: number;
  /** Distinct string series over the whole run, including the transient CronJob pods. Default 2000. */
  readonly stringSeries?: number;
  /** Distinct float series. Default 200. */
  readonly floatSeries?: number;
  /** Time between rounds. Default 15 s. */
  readonly intervalMs?: number;
  /** Length of the run: rounds at start, start + interval, ... while < start + duration. Default 24 h. */
  readonly durationMs?: number;
  /** Time of the first round, ms since the epoch. Default 2025-11-20T00:00:00Z. */
  readonly start?: number;
  /** Logical changes per day (an image bump, a config change, a status flap). Default 8. */
  readonly changesPerDay?: number;
  /** String series the rollout wave changes at once (about; 0 for no wave). Default 50. */
  readonly rolloutWave?: number;
}

export const SYNTHETIC_SITE_DEFAULTS = {
  stringSeries: 2000,
  floatSeries: 200,
  intervalMs: 15_000,
  durationMs: 24 * 3_600_000,
  start: Date.UTC(2025, 10, 20),
  changesPerDay: 8,
  rolloutWave: 50,
} as const;

/** What a synthetic site will produce, known before iterating it. */
export interface SyntheticSiteShape {
  readonly rounds: number;
  readonly start: number;
  /** Time of the last round. */
  readonly end: number;
  readonly intervalMs: number;
  readonly stringSeries: number;
  readonly floatSeries: number;
  /** String series that are present only for a while (CronJob pods). */
  readonly transientStringSeries: number;
}

const HOUR = 3_600_000;
const CRON_PERIOD = 4 * HOUR;
const CRON_OFFSET = 30 * 60_000;
const CRON_RUN_MS = 6 * 60_000;

interface Resolved {
  readonly seed: number;
  readonly stringSeries: number;
  readonly floatSeries: number;
  readonly intervalMs: number;
  readonly durationMs: number;
  readonly start: number;
  readonly changesPerDay: number;
  readonly rolloutWave: number;
}

function resolve(opts: SyntheticSiteOptions): Resolved {
  const r = { ...SYNTHETIC_SITE_DEFAULTS, ...stripUndefined(opts) } as Resolved;
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isFinite(v)) throw new RangeError(`syntheticSite expects a finite ${k}, found ${v}`);
  }
  if (!(r.intervalMs > 0)) throw new RangeError(`syntheticSite expects intervalMs > 0, found ${r.intervalMs}`);
  if (!(r.durationMs >= r.intervalMs)) throw new RangeError(`syntheticSite expects durationMs >= intervalMs, found ${r.durationMs}`);
  if (!(r.stringSeries >= 0 && r.floatSeries >= 0)) throw new RangeError('syntheticSite expects non-negative series counts');
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function cronRuns(r: Resolved): number {
  let runs = 0;
  for (let t = CRON_OFFSET; t + CRON_RUN_MS < r.durationMs; t += CRON_PERIOD) runs++;
  // Two series per run; keep most of a small catalog steady.
  return Math.min(runs, Math.floor(r.stringSeries / 20));
}

/** The counts and times a synthetic site with these options produces. Throws RangeError on bad options. */
export function syntheticSiteShape(opts: SyntheticSiteOptions): SyntheticSiteShape {
  const r = resolve(opts);
  const rounds = Math.ceil(r.durationMs / r.intervalMs);
  return {
    rounds,
    start: r.start,
    end: r.start + (rounds - 1) * r.intervalMs,
    intervalMs: r.intervalMs,
    stringSeries: r.stringSeries,
    floatSeries: r.floatSeries,
    transientStringSeries: 2 * cronRuns(r),
  };
}

// --- string series ---------------------------------------------------------------------------

interface StringSlot {
  readonly name: string;
  readonly labels: Labels;
  sample: Sample;
  present: boolean;
}

function stringSlot(name: string, labels: Labels, value: string, present = true): StringSlot {
  return { name, labels, present, sample: { name, labels, type: 'string', value } };
}

function setString(slot: StringSlot, value: string): void {
  if (slot.sample.value !== value) slot.sample = { name: slot.name, labels: slot.labels, type: 'string', value };
}

interface Deployment {
  readonly namespace: string;
  readonly name: string;
  version: string;
  readonly image: StringSlot[]; // deployment-level image of the main container
  readonly podImages: StringSlot[]; // the main container's image in each pod
  readonly appVersion: StringSlot | undefined;
  readonly configHash: StringSlot | undefined;
  readonly available: StringSlot | undefined;
  readonly pods: { name: string; ready: StringSlot | undefined; phase: StringSlot | undefined }[];
}

const NAMESPACES = ['pos', 'kitchen', 'inventory', 'payments', 'loyalty', 'edge-gateway', 'sensors', 'printing',
  'media', 'backup', 'monitoring', 'logging', 'kube-system', 'ingress-nginx', 'cert-manager', 'fleet-agent', 'argocd', 'vpn'];
const ROLES = ['api', 'worker', 'sync', 'ui', 'cache', 'scheduler', 'proxy', 'exporter', 'db', 'queue', 'auth', 'reporter'];
const SIDECARS = ['docker.io/fluent/fluent-bit:3.1.9', 'docker.io/envoyproxy/envoy:v1.31.2', 'quay.io/prometheus/node-exporter:v1.8.2'];
const POD_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function podSuffix(random: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += POD_CHARS[randomInt(random, 0, POD_CHARS.length - 1)];
  return s;
}

function hex(random: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[randomInt(random, 0, 15)];
  return s;
}

function bumpVersion(random: Random, v: string): string {
  const [major = 1, minor = 0, patch = 0] = v.split('.').map(Number);
  return random() < 0.7 ? `${major}.${minor}.${patch + 1}` : `${major}.${minor + 1}.0`;
}

interface StringCatalog {
  readonly slots: StringSlot[]; // steady series, in a fixed order
  readonly nodes: string[];
  readonly deployments: Deployment[];
  readonly hashes: StringSlot[];
}

function buildStringCatalog(random: Random, count: number, nodes: string[]): StringCatalog {
  const slots: StringSlot[] = [];
  const add = (slot: StringSlot): StringSlot | undefined => {
    if (slots.length >= count) return undefined;
    slots.push(slot);
    return slot;
  };
  for (const node of nodes) {
    add(stringSlot('kube_node_kubelet_version', { node }, 'v1.30.6+k3s1'));
    add(stringSlot('kube_node_kernel_version', { node }, '6.1.0-27-amd64'));
    add(stringSlot('kube_node_os_image', { node }, 'Debian GNU/Linux 12 (bookworm)'));
    add(stringSlot('kube_node_container_runtime_version', { node }, 'containerd://1.7.22-k3s1'));
    add(stringSlot('kube_node_status_condition', { node, condition: 'Ready' }, 'True'));
  }
  const deployments: Deployment[] = [];
  const hashes: StringSlot[] = [];
  for (let i = 0; slots.length < count; i++) {
    const namespace = NAMESPACES[i % NAMESPACES.length] as string;
    const role = ROLES[Math.floor(i / NAMESPACES.length) % ROLES.length] as string;
    const round = Math.floor(i / (NAMESPACES.length * ROLES.length));
    const name = round === 0 ? `${namespace}-${role}` : `${namespace}-${role}-${round + 1}`;
    const version = `${randomInt(random, 1, 4)}.${randomInt(random, 0, 20)}.${randomInt(random, 0, 9)}`;
    const image = `registry.example.com/${namespace}/${name}:${version}`;
    const sidecar = random() < 0.4 ? SIDECARS[randomInt(random, 0, SIDECARS.length - 1)] : undefined;
    const replicas = random() < 0.35 ? 2 : 1;
    const d: Deployment = {
      namespace, name, version, image: [], podImages: [], pods: [],
      appVersion: undefined, configHash: undefined, available: undefined,
    };
    const base = { namespace, deployment: name };
    const img = add(stringSlot('kube_deployment_container_image', { ...base, container: role }, image));
    if (img) d.image.push(img);
    if (sidecar !== undefined) add(stringSlot('kube_deployment_container_image', { ...base, container: 'sidecar' }, sidecar));
    const mutable = d as { -readonly [K in keyof Deployment]: Deployment[K] };
    mutable.appVersion = add(stringSlot('kube_deployment_app_version', base, version));
    mutable.configHash = add(stringSlot('kube_deployment_config_hash', base, `sha256:${hex(random, 16)}`));
    if (mutable.configHash) hashes.push(mutable.configHash);
    mutable.available = add(stringSlot('kube_deployment_status_condition', { ...base, condition: 'Available' }, 'True'));
    add(stringSlot('kube_deployment_status_condition', { ...base, condition: 'Progressing' }, 'NewReplicaSetAvailable'));
    const rs = podSuffix(random, 10);
    for (let p = 0; p < replicas; p++) {
      const pod = `${name}-${rs}-${podSuffix(random, 5)}`;
      const podImage = add(stringSlot('kube_pod_container_image', { namespace, pod, container: role }, image));
      if (podImage) d.podImages.push(podImage);
      if (sidecar !== undefined) add(stringSlot('kube_pod_container_image', { namespace, pod, container: 'sidecar' }, sidecar));
      const phase = add(stringSlot('kube_pod_status_phase', { namespace, pod }, 'Running'));
      const ready = add(stringSlot('kube_pod_status_ready', { namespace, pod }, 'True'));
      d.pods.push({ name: pod, ready, phase });
    }
    deployments.push(d);
  }
  return { slots, nodes, deployments, hashes };
}

// --- float series ----------------------------------------------------------------------------

interface FloatSlot {
  readonly name: string;
  readonly labels: Labels;
  value: number;
  /** Moves the value one round on; may read `random`. */
  readonly step: (slot: FloatSlot, random: Random) => void;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const round1 = (x: number): number => Math.round(x * 10) / 10;

function cpuCounter(perRound: number, jitter: number, pChange = 1): FloatSlot['step'] {
  return (s, random) => {
    if (random() < pChange) s.value = round2(s.value + Math.max(0, perRound + (random() * 2 - 1) * jitter));
  };
}

function nodeFloats(random: Random, node: string): FloatSlot[] {
  const out: FloatSlot[] = [];
  const f = (name: string, labels: Labels, value: number, step: FloatSlot['step']): void => {
    out.push({ name, labels: { node, ...labels }, value, step });
  };
  const constant: FloatSlot['step'] = () => undefined;
  const cpus = 4;
  const uptime = randomInt(random, 3, 90) * 86_400;
  // Per 15 s round a 4-core edge box mostly idles: idle ~13 s, user ~1.2 s, system ~0.5 s per CPU.
  const modes: [string, number, number, number][] = [
    ['idle', 13.1, 0.6, 1], ['user', 1.2, 0.5, 1], ['system', 0.5, 0.2, 1], ['iowait', 0.05, 0.05, 0.6],
    ['softirq', 0.03, 0.02, 0.5], ['irq', 0.01, 0.01, 0.1], ['nice', 0.01, 0.01, 0.02], ['steal', 0, 0, 0],
  ];
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (const [mode, per, jitter, p] of modes) {
      f('node_cpu_seconds_total', { cpu: String(cpu), mode }, round2(uptime * (per / 15) * (0.9 + random() * 0.2)), cpuCounter(per, jitter, p));
    }
  }
  const mounts: [string, string, number, number][] = [
    ['/', '/dev/sda2', 60e9, 0.02], ['/var/lib/rancher', '/dev/sda3', 200e9, 0.08], ['/data', '/dev/sdb1', 500e9, 0.01],
  ];
  for (const [mountpoint, device, size, p] of mounts) {
    const labels = { device, fstype: 'ext4', mountpoint };
    const sizeBytes = Math.floor(size / 4096) * 4096;
    f('node_filesystem_avail_bytes', labels, Math.floor(sizeBytes * (0.3 + random() * 0.5) / 4096) * 4096, (s, rnd) => {
      if (rnd() < p) s.value = Math.min(sizeBytes, Math.max(0, s.value + randomInt(rnd, -64, 48) * 4096));
    });
    f('node_filesystem_size_bytes', labels, sizeBytes, constant);
  }
  for (const sensor of ['temp1', 'temp2', 'temp3']) {
    f('node_hwmon_temp_celsius', { chip: 'platform_coretemp_0', sensor }, round1(40 + random() * 15), (s, rnd) => {
      const u = rnd();
      if (u < 0.15) s.value = round1(Math.min(85, s.value + 0.1));
      else if (u < 0.3) s.value = round1(Math.max(25, s.value - 0.1));
    });
  }
  const memTotal = 16 * 1024 ** 3;
  const kb = (x: number): number => Math.round(x / 1024) * 1024;
  f('node_memory_MemTotal_bytes', {}, memTotal, constant);
  f('node_memory_MemAvailable_bytes', {}, kb(memTotal * (0.4 + random() * 0.3)), (s, rnd) => {
    s.value = kb(Math.min(memTotal * 0.9, Math.max(memTotal * 0.1, s.value + (rnd() * 2 - 1) * 8e6)));
  });
  f('node_memory_MemFree_bytes', {}, kb(memTotal * 0.1), (s, rnd) => {
    s.value = kb(Math.min(memTotal * 0.3, Math.max(memTotal * 0.02, s.value + (rnd() * 2 - 1) * 4e6)));
  });
  f('node_memory_Cached_bytes', {}, kb(memTotal * 0.25), (s, rnd) => {
    if (rnd() < 0.5) s.value = kb(Math.min(memTotal * 0.5, Math.max(memTotal * 0.05, s.value + (rnd() * 2 - 1) * 2e6)));
  });
  let load = 0.3 + random();
  for (const [name, alpha] of [['node_load1', 0.22], ['node_load5', 0.05], ['node_load15', 0.017]] as const) {
    f(name, {}, round2(load), (s, rnd) => {
      if (name === 'node_load1') load = Math.max(0, load + (rnd() * 2 - 1) * 0.15);
      s.value = round2(s.value + alpha * (load - s.value));
    });
  }
  for (const device of ['eth0', 'wg0']) {
    const rate = device === 'eth0' ? 40_000 : 6_000; // bytes per second
    f('node_network_receive_bytes_total', { device }, randomInt(random, 1e9, 9e9), (s, rnd) => {
      s.value += Math.round(rate * 15 * (0.5 + rnd()));
    });
    f('node_network_transmit_bytes_total', { device }, randomInt(random, 1e9, 9e9), (s, rnd) => {
      s.value += Math.round(rate * 10 * (0.5 + rnd()));
    });
  }
  f('node_boot_time_seconds', {}, Math.floor(SYNTHETIC_SITE_DEFAULTS.start / 1000) - uptime, constant);
  return out;
}

function restartCounter(namespace: string, pod: string, container: string): FloatSlot {
  return {
    name: 'kube_pod_container_status_restarts_total',
    labels: { namespace, pod, container },
    value: 0,
    // About one restart per container every ten days.
    step: (s, random) => {
      if (random() < 1 / 57_600) s.value += 1;
    },
  };
}

function buildFloatCatalog(random: Random, count: number, nodes: string[], catalog: StringCatalog): FloatSlot[] {
  const out: FloatSlot[] = [];
  for (const node of nodes) out.push(...nodeFloats(random, node));
  for (const d of catalog.deployments) {
    for (const p of d.pods) out.push(restartCounter(d.namespace, p.name, d.name.slice(d.namespace.length + 1) || 'main'));
  }
  // Still short: more nodes (a bigger site).
  for (let n = nodes.length + 1; out.length < count; n++) out.push(...nodeFloats(random, `edge-node-${n}`));
  return out.slice(0, count);
}

// --- the schedule ----------------------------------------------------------------------------

type Action = (t: number, events: BlockEvent[]) => void;

function kubernetesEvent(t: number, reason: string, message: string, labels: Labels, count: number): BlockEvent {
  return { t, kind: 'kubernetes', reason, message, labels, rangeMinT: 0, rangeMaxT: 0, count };
}

/**
 * The synthetic site's rounds, one at a time: memory stays at one round plus the site's state.
 * Deterministic for a given set of options. Sample objects of unchanged string series are shared
 * between rounds (they are immutable). Throws RangeError on bad options.
 */
export function* syntheticSite(opts: SyntheticSiteOptions): Generator<Round, void, undefined> {
  const r = resolve(opts);
  const shape = syntheticSiteShape(opts);
  const setup = seededRandom(r.seed);
  const noise = seededRandom((r.seed ^ 0x5eed5eed) >>> 0);
  const runs = cronRuns(r);
  const nodes = ['edge-node-1', 'edge-node-2', 'edge-node-3'];
  const catalog = buildStringCatalog(setup, r.stringSeries - 2 * runs, nodes);
  const floats = buildFloatCatalog(setup, r.floatSeries, nodes, catalog);

  const schedule = new Map<number, Action[]>();
  const at = (roundIndex: number, action: Action): void => {
    if (roundIndex <= 0 || roundIndex >= shape.rounds) return;
    const list = schedule.get(roundIndex);
    if (list) list.push(action);
    else schedule.set(roundIndex, [action]);
  };
  const roundOf = (offsetMs: number): number => Math.round(offsetMs / r.intervalMs);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[randomInt(setup, 0, xs.length - 1)];

  const rollout = (d: Deployment, version: string): number => {
    d.version = version;
    const image = `registry.example.com/${d.namespace}/${d.name}:${version}`;
    let changed = 0;
    for (const s of [...d.image, ...d.podImages]) {
      setString(s, image);
      changed++;
    }
    if (d.appVersion) {
      setString(d.appVersion, version);
      changed++;
    }
    return changed;
  };

  // A handful of logical changes per day, at random times.
  const changes = Math.round((r.changesPerDay * r.durationMs) / (24 * HOUR));
  for (let i = 0; i < changes && catalog.deployments.length > 0; i++) {
    const when = randomInt(setup, 1, shape.rounds - 1);
    const u = setup();
    const d = pick(catalog.deployments) as Deployment;
    if (u < 0.4) {
      const version = bumpVersion(setup, d.version);
      at(when, () => void rollout(d, version));
    } else if (u < 0.7) {
      const hash = catalog.hashes.length > 0 ? pick(catalog.hashes) : undefined;
      const value = `sha256:${hex(setup, 16)}`;
      if (hash) at(when, () => setString(hash, value));
    } else {
      // A status flap: a pod goes unready for a few minutes, and the deployment with it.
      const pod = pick(d.pods);
      const back = when + randomInt(setup, 4, 40);
      at(when, () => {
        if (pod?.ready) setString(pod.ready, 'False');
        if (d.available) setString(d.available, 'False');
      });
      at(back, () => {
        if (pod?.ready) setString(pod.ready, 'True');
        if (d.available) setString(d.available, 'True');
      });
    }
  }

  // The rollout wave: a rebuilt base image rolls out to many deployments at once, between 20 %
  // and 80 % of the run. One pod of the wave fails to pull its image for a while.
  if (r.rolloutWave > 0 && catalog.deployments.length > 0) {
    const wave = randomInt(setup, Math.floor(shape.rounds * 0.2), Math.max(1, Math.floor(shape.rounds * 0.8)));
    const order = [...catalog.deployments];
    for (let i = order.length - 1; i > 0; i--) {
      const j = randomInt(setup, 0, i);
      [order[i], order[j]] = [order[j] as Deployment, order[i] as Deployment];
    }
    const versions = order.map((d) => bumpVersion(setup, d.version));
    const recover = wave + randomInt(setup, 40, 120);
    at(wave, () => {
      let changed = 0;
      for (let i = 0; i < order.length && changed < r.rolloutWave; i++) changed += rollout(order[i] as Deployment, versions[i] as string);
    });
    const failing = order[0] as Deployment;
    const pod = failing.pods[0];
    if (pod) {
      const image = `registry.example.com/${failing.namespace}/${failing.name}:${versions[0] as string}`;
      const labels = { namespace: failing.namespace, pod: pod.name, object: `Pod/${pod.name}` };
      at(wave + 1, (t, events) => {
        if (pod.phase) setString(pod.phase, 'Pending');
        if (pod.ready) setString(pod.ready, 'False');
        events.push(kubernetesEvent(t, 'Failed', `Failed to pull image "${image}": rpc error: code = Unknown desc = failed to resolve reference`, labels, 1));
      });
      for (let k = 1, w = wave + 4; w < recover; k++, w += 20) {
        at(w, (t, events) => events.push(kubernetesEvent(t, 'BackOff', `Back-off pulling image "${image}"`, labels, k)));
      }
      at(recover, (t, events) => {
        if (pod.phase) setString(pod.phase, 'Running');
        if (pod.ready) setString(pod.ready, 'True');
        events.push(kubernetesEvent(t, 'Pulled', `Successfully pulled image "${image}"`, labels, 1));
      });
    }
  }

  // The CronJob pod that comes and goes: Pending, Running, Succeeded, then gone.
  const transient: StringSlot[] = [];
  for (let k = 0; k < runs; k++) {
    const job = Math.floor((r.start + CRON_OFFSET + k * CRON_PERIOD) / 60_000);
    const pod = `nightly-snapshot-${job}-${podSuffix(setup, 5)}`;
    const phase = stringSlot('kube_pod_status_phase', { namespace: 'backup', pod }, 'Pending', false);
    const image = stringSlot('kube_pod_container_image', { namespace: 'backup', pod, container: 'snapshot' }, 'registry.example.com/backup/snapshot:1.4.0', false);
    transient.push(phase, image);
    const from = roundOf(CRON_OFFSET + k * CRON_PERIOD);
    const running = from + 1;
    const done = roundOf(CRON_OFFSET + k * CRON_PERIOD + CRON_RUN_MS);
    at(from, () => {
      phase.present = true;
      image.present = true;
    });
    at(running, () => setString(phase, 'Running'));
    at(done, () => setString(phase, 'Succeeded'));
    at(done + 2, () => {
      phase.present = false;
      image.present = false;
    });
  }

  // Restarts: when a counter moves, the kubelet reports a BackOff for that container.
  const restartEvent = (t: number, s: FloatSlot, events: BlockEvent[]): void => {
    events.push(kubernetesEvent(t, 'BackOff', 'Back-off restarting failed container', {
      namespace: s.labels.namespace ?? '', pod: s.labels.pod ?? '', object: `Pod/${s.labels.pod ?? ''}`,
    }, s.value));
  };

  for (let i = 0; i < shape.rounds; i++) {
    const t = r.start + i * r.intervalMs;
    const events: BlockEvent[] = [];
    if (i === 0) events.push({ t, kind: 'agent_start', reason: 'Started', message: 'driftwatch agent started', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 });
    for (const action of schedule.get(i) ?? []) action(t, events);
    const samples: Sample[] = new Array<Sample>(catalog.slots.length + floats.length);
    let n = 0;
    for (const s of catalog.slots) if (s.present) samples[n++] = s.sample;
    for (const s of transient) if (s.present) samples[n++] = s.sample;
    for (const f of floats) {
      if (i > 0) {
        const before = f.value;
        f.step(f, noise);
        if (f.name === 'kube_pod_container_status_restarts_total' && f.value !== before) restartEvent(t, f, events);
      }
      samples[n++] = { name: f.name, labels: f.labels, type: 'float', value: f.value };
    }
    samples.length = n;
    yield events.length > 0 ? { t, samples, events } : { t, samples };
  }
}

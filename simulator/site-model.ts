// One simulated site: a k3s node with its Deployments and their pods, the host under it and
// the router beside it, moved through time by the site's plan — rollouts that converge or fail
// (image pull blocked, crash loop then roll back, a full disk), hand edits, old firmware. The
// cluster is kept as Kubernetes objects (V1Deployment, V1Node, V1Pod, core/v1 Event) and turned
// into series and events by the kubernetes source's own builders, so the simulator's sites
// report exactly what a real agent reports for the same cluster.
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { seededRandom, type Random } from '../common/random.js';
import type { BlockEvent, Sample } from '../proto/index.js';
import { toOccurrence } from '../collector/sources/kubernetes/events.js';
import { addNodeSamples } from '../collector/sources/kubernetes/nodes.js';
import { addWorkloadPodSamples } from '../collector/sources/kubernetes/pods.js';
import { SampleSet } from '../collector/sources/kubernetes/samples.js';
import { addDeploymentSamples } from '../collector/sources/kubernetes/workloads.js';
import type { SitePlan, SiteRollout } from './plan.js';
import type { Failure } from './scenario.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Pod {
  name: string;
  hash: string;
  image: string;
  phase: string;
  waiting: string | undefined;
  restarts: number;
  lastTerminated: string | undefined;
}

interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  image: string;
  hash: string;
  replicas: number;
  generation: number;
  updated: number;
  unavailable: number;
  pods: Pod[];
}

/** A Kubernetes Warning event, as the API serves it. */
interface WarningEvent {
  readonly t: number;
  readonly reason: string;
  readonly message: string;
  readonly pod: string;
  readonly namespace: string;
  readonly count: number;
}

interface Change {
  readonly t: number;
  readonly seq: number;
  readonly apply: () => void;
}

/** The site's state and its timeline; `advanceTo(t)` applies every change due by `t`. */
export class SiteModel {
  readonly plan: SitePlan;
  /** Bumped by every change: the sources rebuild their series only when it moved. */
  version = 0;
  readonly #random: Random;
  readonly #workloads = new Map<string, Workload>();
  readonly #node: { name: string; kubelet: string; runtime: string; osImage: string; bootId: string; diskPressure: boolean };
  readonly host: { diskSize: number; diskFree: number; memory: number; memoryFree: number; os: string };
  readonly router: { firmware: string; model: string; wanUp: boolean } | undefined;
  #changes: Change[] = [];
  #next = 0;
  #seq = 0;
  #events: WarningEvent[] = [];
  #eventSeq = 0;

  constructor(plan: SitePlan) {
    this.plan = plan;
    this.#random = seededRandom(plan.seed);
    const g = plan.group;
    this.#node = { name: `${plan.id}-n1`, kubelet: g.cluster.kubelet, runtime: g.cluster.runtime, osImage: g.cluster.osImage, bootId: this.#hex(32), diskPressure: false };
    this.host = { ...g.host };
    this.router = g.router === false ? undefined : { firmware: g.router.firmware, model: g.router.model, wanUp: true };
    for (const w of g.cluster.workloads) {
      const hash = this.#hex(10);
      const wl: Workload = {
        namespace: w.namespace, name: w.deployment, container: w.deployment, image: w.image, hash, replicas: w.replicas,
        generation: 1, updated: w.replicas, unavailable: 0, pods: [],
      };
      for (let i = 0; i < w.replicas; i++) wl.pods.push(this.#pod(wl, w.image, hash));
      this.#workloads.set(`${w.namespace}/${w.deployment}`, wl);
    }
    for (const f of plan.failures) this.#failure(f);
    for (const r of plan.rollouts) this.#rollout(r);
    this.#changes.sort((a, b) => a.t - b.t || a.seq - b.seq);
  }

  /** Applies the changes due by `t`. */
  advanceTo(t: number): void {
    while (this.#next < this.#changes.length && this.#changes[this.#next]!.t <= t) {
      this.#changes[this.#next++]!.apply();
      this.version++;
    }
    if (this.#next === this.#changes.length && this.#changes.length > 0) {
      this.#changes = [];
      this.#next = 0;
    }
  }

  /** The cluster's series, built by the kubernetes source's builders. */
  clusterSamples(): Sample[] {
    const set = new SampleSet();
    addNodeSamples(set, [this.#nodeObject()]);
    addDeploymentSamples(set, [...this.#workloads.values()].map((w) => this.#deploymentObject(w)));
    addWorkloadPodSamples(set, [...this.#workloads.values()].flatMap((w) => w.pods.map((p) => this.#podObject(w, p))), undefined);
    return set.toArray();
  }

  /** Warning events that happened by `t`, as the kubernetes source turns them into block events; taken once. */
  takeEvents(t: number): BlockEvent[] {
    if (this.#events.length === 0 || this.#events[0]!.t > t) return [];
    const due = this.#events.filter((e) => e.t <= t);
    this.#events = this.#events.filter((e) => e.t > t);
    return due.map((e) => toOccurrence(this.#eventObject(e), t)!.event);
  }

  #hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.#random() * 16).toString(16);
    return s;
  }

  #pod(w: Workload, image: string, hash: string): Pod {
    const suffix = Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(this.#random() * 27)]).join('');
    return { name: `${w.name}-${hash}-${suffix}`, hash, image, phase: 'Running', waiting: undefined, restarts: 0, lastTerminated: undefined };
  }

  #at(t: number, apply: () => void): void {
    this.#changes.push({ t, seq: this.#seq++, apply });
  }

  #warn(t: number, w: Workload, pod: Pod, reason: string, message: string, count = 1): void {
    const e: WarningEvent = { t, reason, message, pod: pod.name, namespace: w.namespace, count };
    const i = this.#events.findIndex((x) => x.t > t);
    if (i < 0) this.#events.push(e);
    else this.#events.splice(i, 0, e);
  }

  #failureOf<K extends Failure['kind']>(kind: K, workload?: string): Extract<Failure, { kind: K }> | undefined {
    return this.plan.failures.find((f) => f.kind === kind && (workload === undefined || !('workload' in f) || f.workload === workload)) as Extract<Failure, { kind: K }> | undefined;
  }

  #failure(f: Failure): void {
    switch (f.kind) {
      case 'diskFull':
        this.#at(f.at, () => {
          this.host.diskFree = Math.min(this.host.diskFree, f.free);
          this.#node.diskPressure = true;
        });
        this.#at(f.at + 2 * MIN, () => {
          const w = [...this.#workloads.values()][0];
          if (w !== undefined && w.pods[0] !== undefined) {
            this.#warn(f.at + 2 * MIN, w, w.pods[0], 'Evicted', 'The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: 1%.');
          }
        });
        return;
      case 'routerFirmware':
        if (this.router !== undefined) this.router.firmware = f.firmware;
        return;
      case 'manualChange': {
        const w = this.#workloads.get(f.workload)!;
        this.#at(f.at, () => {
          if (f.image !== undefined) {
            w.image = f.image;
            w.hash = this.#hex(10);
            w.pods = w.pods.map(() => this.#pod(w, f.image!, w.hash));
            w.generation++;
          }
          if (f.replicas !== undefined) {
            w.replicas = f.replicas;
            w.generation++;
            while (w.pods.length > f.replicas) w.pods.pop();
            while (w.pods.length < f.replicas) w.pods.push(this.#pod(w, w.image, w.hash));
          }
          w.updated = w.replicas;
        });
        return;
      }
      default:
        return; // imagePullBlocked and crashLoopRollback act through the rollouts
    }
  }

  #rollout(r: SiteRollout): void {
    const w = this.#workloads.get(r.workload);
    if (w === undefined) return;
    const s = r.startAt;
    let oldImage = '';
    let oldHash = '';
    let fresh: Pod | undefined;
    this.#at(s, () => {
      oldImage = w.image;
      oldHash = w.hash;
      w.image = r.image;
      w.hash = this.#hex(10);
      w.generation++;
      w.updated = 1;
      w.unavailable = 1;
      fresh = this.#pod(w, r.image, w.hash);
      fresh.phase = 'Pending';
      fresh.waiting = 'ContainerCreating';
      w.pods.push(fresh);
    });
    const pull = this.#failureOf('imagePullBlocked', r.workload);
    const crash = this.#failureOf('crashLoopRollback', r.workload);
    const disk = this.#failureOf('diskFull');
    if (disk !== undefined && disk.at <= s) {
      // The disk filled before the rollout reached the site: the new image cannot be unpacked.
      this.#at(s + 30_000, () => {
        fresh!.waiting = 'ErrImagePull';
        this.#warn(s + 30_000, w, fresh!, 'Failed', `Failed to pull image "${r.image}": failed to extract layer: write /var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/91/fs/usr/lib/libcrypto.so.3: no space left on device`);
      });
      return;
    }
    if (pull !== undefined) {
      const ref = r.image.replace(/:[^/:]+$/, '');
      const [host, ...path] = ref.split('/');
      const tag = r.image.slice(ref.length + 1);
      const failed = `Failed to pull image "${r.image}": rpc error: code = Unknown desc = failed to pull and unpack image "${r.image}": failed to resolve reference "${r.image}": failed to do request: Head "https://${host}/v2/${path.join('/')}/manifests/${tag}": dial tcp ${pull.registryAddress}: i/o timeout`;
      this.#at(s + 30_000, () => {
        fresh!.waiting = 'ErrImagePull';
        this.#warn(s + 30_000, w, fresh!, 'Failed', failed);
      });
      this.#at(s + 2 * MIN, () => {
        fresh!.waiting = 'ImagePullBackOff';
        this.#warn(s + 2 * MIN, w, fresh!, 'BackOff', `Back-off pulling image "${r.image}"`, 4);
      });
      // kubelet keeps trying every 5 minutes: the same two events, their counts growing (sampled every 4 h here).
      for (let k = 1; k <= 24; k++) {
        const at = s + k * 4 * HOUR;
        this.#at(at, () => {
          this.#warn(at, w, fresh!, 'Failed', failed, 1 + k * 48);
          this.#warn(at, w, fresh!, 'BackOff', `Back-off pulling image "${r.image}"`, 4 + k * 48);
        });
      }
      return;
    }
    if (crash !== undefined) {
      this.#at(s + 45_000, () => {
        fresh!.phase = 'Running';
        fresh!.waiting = undefined;
      });
      // Restarts with kubelet's back-off: 10 s, 20 s, … capped at 5 min.
      let t = s + MIN;
      let restarts = 0;
      let delay = 10_000;
      while (t < s + crash.rollbackAfter) {
        const at = t;
        const n = ++restarts;
        this.#at(at, () => {
          fresh!.restarts = n;
          fresh!.waiting = 'CrashLoopBackOff';
          fresh!.lastTerminated = 'Error';
          this.#warn(at, w, fresh!, 'BackOff', `Back-off restarting failed container ${w.container} in pod ${fresh!.name}`, n);
        });
        t += 30_000 + delay;
        delay = Math.min(delay * 2, 5 * MIN);
      }
      this.#at(s + crash.rollbackAfter, () => {
        // Someone ran `kubectl rollout undo`: the old ReplicaSet scales back up.
        w.image = oldImage;
        w.hash = oldHash;
        w.generation++;
        w.pods = w.pods.filter((p) => p !== fresh);
        w.updated = w.replicas;
        w.unavailable = 0;
      });
      return;
    }
    this.#at(s + r.takes, () => {
      // The rollout finished: every replica on the new template.
      w.pods = Array.from({ length: w.replicas }, () => this.#pod(w, w.image, w.hash));
      w.updated = w.replicas;
      w.unavailable = 0;
    });
  }

  #nodeObject(): V1Node {
    const n = this.#node;
    const cond = (type: string, status: string, reason: string): { type: string; status: string; reason: string } => ({ type, status, reason });
    return {
      metadata: { name: n.name, labels: { 'node.kubernetes.io/instance-type': 'k3s' } },
      spec: {},
      status: {
        nodeInfo: {
          kubeletVersion: n.kubelet, kubeProxyVersion: n.kubelet, containerRuntimeVersion: n.runtime, osImage: n.osImage, kernelVersion: '5.15.0-119-generic',
          bootID: n.bootId, architecture: 'amd64', operatingSystem: 'linux', machineID: n.bootId, systemUUID: n.bootId,
        },
        conditions: [
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
          n.diskPressure ? cond('DiskPressure', 'True', 'KubeletHasDiskPressure') : cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
          cond('Ready', 'True', 'KubeletReady'),
        ],
      },
    };
  }

  #deploymentObject(w: Workload): V1Deployment {
    const available = w.replicas - w.unavailable;
    return {
      metadata: { name: w.name, namespace: w.namespace, generation: w.generation },
      spec: {
        replicas: w.replicas, selector: { matchLabels: { app: w.name } },
        template: { metadata: { labels: { app: w.name } }, spec: { containers: [{ name: w.container, image: w.image }] } },
      },
      status: {
        observedGeneration: w.generation, replicas: w.pods.length, updatedReplicas: w.updated, readyReplicas: available,
        availableReplicas: available, unavailableReplicas: w.unavailable,
        conditions: [
          { type: 'Available', status: w.unavailable === 0 ? 'True' : 'False', reason: w.unavailable === 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' },
          { type: 'Progressing', status: 'True', reason: w.updated >= w.replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
        ],
      },
    };
  }

  #podObject(w: Workload, p: Pod): V1Pod {
    return {
      metadata: {
        name: p.name, namespace: w.namespace, labels: { app: w.name, 'pod-template-hash': p.hash },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${w.name}-${p.hash}`, uid: p.hash, controller: true }],
      },
      status: {
        phase: p.phase,
        containerStatuses: [{
          name: w.container, image: p.image, imageID: '', ready: p.waiting === undefined && p.phase === 'Running', restartCount: p.restarts,
          state: p.waiting === undefined ? { running: {} } : { waiting: { reason: p.waiting } },
          ...(p.lastTerminated === undefined ? {} : { lastState: { terminated: { reason: p.lastTerminated, exitCode: 1 } } }),
        }],
      },
    };
  }

  #eventObject(e: WarningEvent): unknown {
    const uid = `${this.plan.id}-${++this.#eventSeq}`;
    return {
      type: 'Warning', reason: e.reason, message: e.message, count: e.count,
      lastTimestamp: new Date(e.t).toISOString(),
      involvedObject: { kind: 'Pod', namespace: e.namespace, name: e.pod },
      metadata: { name: `${e.pod}.${uid}`, namespace: e.namespace, uid },
    };
  }
}

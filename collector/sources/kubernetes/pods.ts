// Pod series, aggregated per owning workload so that cardinality follows the number of
// workloads, not pods: waiting reasons, last termination reasons, restarts and phases.
import type { V1ContainerStatus, V1OwnerReference, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { labels, type SampleSet } from './samples.js';

/** The workload a pod belongs to. */
export interface Workload {
  /** Deployment, StatefulSet, DaemonSet, ReplicaSet, CronJob, Job, Pod, or another controller's kind. */
  readonly kind: string;
  readonly name: string;
}

/** A Job created by a CronJob is named `<cronjob>-<scheduled time in minutes since the epoch>`. */
const CRONJOB_JOB = /^(.+)-(\d{8,10})$/;

function controllerOf(refs: readonly V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  if (refs === undefined || refs.length === 0) return undefined;
  return refs.find((r) => r.controller === true) ?? refs[0];
}

/** ReplicaSets by `namespace/name`, for resolving a pod's Deployment. */
export function indexReplicaSets(replicaSets: readonly V1ReplicaSet[]): Map<string, V1ReplicaSet> {
  const byName = new Map<string, V1ReplicaSet>();
  for (const rs of replicaSets) byName.set(`${rs.metadata?.namespace ?? ''}/${rs.metadata?.name ?? ''}`, rs);
  return byName;
}

/**
 * The workload owning `pod`: the pod's controller, followed from a ReplicaSet to its owner
 * (normally a Deployment) and from a Job named like a CronJob's to the CronJob. When the
 * ReplicaSet is unknown (not listed, or listing was forbidden) the Deployment is recovered by
 * name: a Deployment's ReplicaSet is `<deployment>-<pod-template-hash>`. Pods without a
 * controller, and static pods (owned by their Node), are their own workload (kind Pod).
 */
export function workloadOf(pod: V1Pod, replicaSets: ReadonlyMap<string, V1ReplicaSet> | undefined): Workload {
  const podName = pod.metadata?.name ?? '';
  const owner = controllerOf(pod.metadata?.ownerReferences);
  if (owner === undefined || owner.kind === 'Node') return { kind: 'Pod', name: podName };
  if (owner.kind === 'ReplicaSet') {
    const rs = replicaSets?.get(`${pod.metadata?.namespace ?? ''}/${owner.name}`);
    if (rs !== undefined) {
      const rsOwner = controllerOf(rs.metadata?.ownerReferences);
      return rsOwner === undefined ? { kind: 'ReplicaSet', name: owner.name } : { kind: rsOwner.kind, name: rsOwner.name };
    }
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash !== undefined && hash !== '' && owner.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', name: owner.name.slice(0, -(hash.length + 1)) };
    }
    return { kind: 'ReplicaSet', name: owner.name };
  }
  if (owner.kind === 'Job') {
    const m = CRONJOB_JOB.exec(owner.name);
    if (m !== null) return { kind: 'CronJob', name: m[1]! };
  }
  return { kind: owner.kind, name: owner.name };
}

interface Tally {
  readonly namespace: string;
  readonly workload: Workload;
  restarts: number;
  readonly phases: Map<string, number>;
  readonly waiting: Map<string, number>;
  readonly lastTerminated: Map<string, number>;
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

function addContainers(t: Tally, statuses: readonly V1ContainerStatus[] | undefined): void {
  for (const cs of statuses ?? []) {
    t.restarts += typeof cs.restartCount === 'number' ? cs.restartCount : 0;
    const waiting = cs.state?.waiting;
    if (waiting !== undefined) bump(t.waiting, waiting.reason || 'Unknown');
    const terminated = cs.lastState?.terminated;
    if (terminated !== undefined) bump(t.lastTerminated, terminated.reason || 'Unknown');
  }
}

/**
 * Adds, per workload (labels namespace, workload_kind, workload):
 * `kube_workload_pods{phase}` (pods per phase), `kube_workload_container_restarts_total`
 * (restarts summed over the workload's current pods' containers, init containers included),
 * `kube_workload_containers_waiting{reason}` and `kube_workload_containers_last_terminated{reason}`
 * (containers per reason; present only for reasons with at least one container).
 */
export function addWorkloadPodSamples(set: SampleSet, pods: readonly V1Pod[], replicaSets: ReadonlyMap<string, V1ReplicaSet> | undefined): void {
  const tallies = new Map<string, Tally>();
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? '';
    const workload = workloadOf(pod, replicaSets);
    if (workload.name === '') continue;
    const key = `${namespace}\u0000${workload.kind}\u0000${workload.name}`;
    let t = tallies.get(key);
    if (t === undefined) {
      t = { namespace, workload, restarts: 0, phases: new Map(), waiting: new Map(), lastTerminated: new Map() };
      tallies.set(key, t);
    }
    bump(t.phases, pod.status?.phase || 'Unknown');
    addContainers(t, pod.status?.initContainerStatuses);
    addContainers(t, pod.status?.containerStatuses);
  }
  for (const t of tallies.values()) {
    const l = labels({ namespace: t.namespace, workload_kind: t.workload.kind, workload: t.workload.name });
    set.float('kube_workload_container_restarts_total', l, t.restarts);
    for (const [phase, n] of t.phases) set.float('kube_workload_pods', { ...l, phase }, n);
    for (const [reason, n] of t.waiting) set.float('kube_workload_containers_waiting', { ...l, reason }, n);
    for (const [reason, n] of t.lastTerminated) set.float('kube_workload_containers_last_terminated', { ...l, reason }, n);
  }
}

// Every sample the kubernetes source must produce for the fixture site
// (test/fixtures/kubernetes/), written out by hand from the fixtures.
import type { BlockEvent, Labels, Sample } from '../../../../proto/index.js';
import { compareStrings, seriesKey } from '../../../../proto/index.js';

const f = (name: string, labels: Labels, value: number): Sample => ({ name, labels, type: 'float', value });
const s = (name: string, labels: Labels, value: string): Sample => ({ name, labels, type: 'string', value });

function node(name: string, v: { kubelet: string; runtime: string; os: string; kernel: string; boot: string; arch: string }, conditions: [string, string, string][]): Sample[] {
  const l = { node: name };
  return [
    s('kube_node_kubelet_version', l, v.kubelet),
    s('kube_node_container_runtime_version', l, v.runtime),
    s('kube_node_os_image', l, v.os),
    s('kube_node_kernel_version', l, v.kernel),
    s('kube_node_boot_id', l, v.boot),
    s('kube_node_architecture', l, v.arch),
    f('kube_node_spec_unschedulable', l, 0),
    ...conditions.flatMap(([c, status, reason]) => [
      s('kube_node_status_condition', { ...l, condition: c }, status),
      s('kube_node_status_condition_reason', { ...l, condition: c }, reason),
    ]),
  ];
}

function deployment(namespace: string, name: string, images: Record<string, string>, initImages: Record<string, string>,
  n: { spec: number; replicas: number; ready: number; updated: number; available: number; unavailable: number; generation: number; observed: number },
  conditions: [string, string, string][]): Sample[] {
  const l = { namespace, deployment: name };
  return [
    ...Object.entries(images).map(([c, image]) => s('kube_deployment_container_image', { ...l, container: c }, image)),
    ...Object.entries(initImages).map(([c, image]) => s('kube_deployment_init_container_image', { ...l, container: c }, image)),
    f('kube_deployment_spec_replicas', l, n.spec),
    f('kube_deployment_spec_paused', l, 0),
    f('kube_deployment_status_replicas', l, n.replicas),
    f('kube_deployment_status_replicas_ready', l, n.ready),
    f('kube_deployment_status_replicas_updated', l, n.updated),
    f('kube_deployment_status_replicas_available', l, n.available),
    f('kube_deployment_status_replicas_unavailable', l, n.unavailable),
    f('kube_deployment_metadata_generation', l, n.generation),
    f('kube_deployment_status_observed_generation', l, n.observed),
    ...conditions.flatMap(([c, status, reason]) => [
      s('kube_deployment_status_condition', { ...l, condition: c }, status),
      s('kube_deployment_status_condition_reason', { ...l, condition: c }, reason),
    ]),
  ];
}

function workload(namespace: string, kind: string, name: string, restarts: number, phases: Record<string, number>,
  waiting: Record<string, number> = {}, lastTerminated: Record<string, number> = {}): Sample[] {
  const l = { namespace, workload_kind: kind, workload: name };
  return [
    f('kube_workload_container_restarts_total', l, restarts),
    ...Object.entries(phases).map(([phase, n]) => f('kube_workload_pods', { ...l, phase }, n)),
    ...Object.entries(waiting).map(([reason, n]) => f('kube_workload_containers_waiting', { ...l, reason }, n)),
    ...Object.entries(lastTerminated).map(([reason, n]) => f('kube_workload_containers_last_terminated', { ...l, reason }, n)),
  ];
}

const srv1 = { kubelet: 'v1.29.3+k3s1', runtime: 'containerd://1.7.11-k3s2', os: 'Ubuntu 22.04.4 LTS', kernel: '5.15.0-101-generic', boot: '295b3fb4-a371-48db-b38d-c99c8d100818', arch: 'amd64' };
const srv2 = { kubelet: 'v1.29.3+k3s1', runtime: 'containerd://1.7.11-k3s2', os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.6.20+rpt-rpi-v8', boot: '0b9e3f51-6c2a-4d7e-8f13-a5c9e7d2b460', arch: 'arm64' };
const unknown: [string, string, string][] = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((c) => [c, 'Unknown', 'NodeStatusUnknown']);

const API_NEW = 'registry.example.com/pos/api:2.14.1';

/** The nodes, workloads and pods of the fixture site (no GitOps kinds). */
export const CORE_SAMPLES: readonly Sample[] = [
  ...node('shop-0142-srv1', srv1, [
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'], ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID'], ['Ready', 'True', 'KubeletReady'],
  ]),
  ...node('shop-0142-srv2', srv2, unknown),
  ...deployment('pos', 'pos-api', { api: API_NEW }, { migrate: API_NEW },
    { spec: 2, replicas: 3, ready: 2, updated: 1, available: 2, unavailable: 1, generation: 7, observed: 7 },
    [['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'False', 'ProgressDeadlineExceeded']]),
  // receipt-printer's status leaves readyReplicas and availableReplicas out: they are 0.
  ...deployment('pos', 'receipt-printer', { 'receipt-printer': 'registry.example.com/pos/receipt-printer:1.3.0' }, {},
    { spec: 1, replicas: 1, ready: 0, updated: 1, available: 0, unavailable: 1, generation: 3, observed: 3 },
    [['Progressing', 'True', 'NewReplicaSetAvailable'], ['Available', 'False', 'MinimumReplicasUnavailable']]),
  ...deployment('kube-system', 'coredns', { coredns: 'rancher/mirrored-coredns-coredns:1.10.1' }, {},
    { spec: 1, replicas: 1, ready: 1, updated: 1, available: 1, unavailable: 0, generation: 2, observed: 2 },
    [['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable']]),
  ...((l: Labels) => [
    s('kube_statefulset_container_image', { ...l, container: 'postgres' }, 'postgres:16.2-alpine'),
    f('kube_statefulset_replicas', l, 1),
    f('kube_statefulset_status_replicas', l, 1),
    f('kube_statefulset_status_replicas_ready', l, 1),
    f('kube_statefulset_status_replicas_updated', l, 1),
    f('kube_statefulset_status_replicas_available', l, 1),
    f('kube_statefulset_status_replicas_current', l, 1),
    f('kube_statefulset_metadata_generation', l, 2),
    f('kube_statefulset_status_observed_generation', l, 2),
    s('kube_statefulset_status_current_revision', l, 'pos-db-5d7f9c6b8'),
    s('kube_statefulset_status_update_revision', l, 'pos-db-5d7f9c6b8'),
  ])({ namespace: 'pos', statefulset: 'pos-db' }),
  ...((l: Labels) => [
    s('kube_daemonset_container_image', { ...l, container: 'lb-tcp-80' }, 'rancher/klipper-lb:v0.4.7'),
    s('kube_daemonset_container_image', { ...l, container: 'lb-tcp-443' }, 'rancher/klipper-lb:v0.4.7'),
    f('kube_daemonset_status_desired_number_scheduled', l, 2),
    f('kube_daemonset_status_current_number_scheduled', l, 2),
    f('kube_daemonset_status_number_ready', l, 1),
    f('kube_daemonset_status_updated_number_scheduled', l, 2),
    f('kube_daemonset_status_number_available', l, 1),
    f('kube_daemonset_status_number_unavailable', l, 1),
    f('kube_daemonset_status_number_misscheduled', l, 0),
    f('kube_daemonset_metadata_generation', l, 1),
    f('kube_daemonset_status_observed_generation', l, 1),
  ])({ namespace: 'kube-system', daemonset: 'svclb-traefik-9e9846aa' }),
  // Two old pods running (one OOMKilled once), the new pod's init container in
  // ImagePullBackOff and its app container waiting on it (PodInitializing).
  ...workload('pos', 'Deployment', 'pos-api', 1, { Running: 2, Pending: 1 }, { ImagePullBackOff: 1, PodInitializing: 1 }, { OOMKilled: 1 }),
  ...workload('pos', 'Deployment', 'receipt-printer', 7, { Running: 1 }, { CrashLoopBackOff: 1 }, { Error: 1 }),
  ...workload('pos', 'StatefulSet', 'pos-db', 0, { Running: 1 }),
  ...workload('pos', 'CronJob', 'nightly-export', 0, { Succeeded: 1 }),
  ...workload('kube-system', 'Deployment', 'coredns', 1, { Running: 1 }),
  ...workload('kube-system', 'DaemonSet', 'svclb-traefik-9e9846aa', 4, { Running: 1 }),
];

const argo = { namespace: 'argocd', application: 'pos-stack' };
const bd = { namespace: 'cluster-fleet-local-local-1a3d67d0a899', bundledeployment: 'edge-sites-sites-shop-0142' };
const plan = { namespace: 'system-upgrade', plan: 'k3s-server' };
const FLEET_ID = 's-4c8e2a6f1b9d3e7a5c0f8b2d6e4a1c9f7b3d5e8a0c2f4b6d9e1a3c5f7b8d0e2:0f2b4d6e8a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3';

/** The Argo CD Application, Fleet BundleDeployment and SUC Plan of the fixture site. */
export const GITOPS_SAMPLES: readonly Sample[] = [
  s('argocd_app_sync_status', argo, 'Synced'),
  s('argocd_app_health_status', argo, 'Degraded'),
  s('argocd_app_sync_revision', argo, '9f2c1e7b4a3d8e6f5c2b1a0d9e8f7c6b5a4d3e2f'),
  s('argocd_app_target_revision', argo, 'release-2024.16'),
  s('argocd_app_operation_phase', argo, 'Succeeded'),
  f('fleet_bundledeployment_ready', bd, 0),
  f('fleet_bundledeployment_non_modified', bd, 1),
  s('fleet_bundledeployment_state', bd, 'NotReady'),
  s('fleet_bundledeployment_deployment_id', bd, FLEET_ID),
  s('fleet_bundledeployment_applied_deployment_id', bd, FLEET_ID),
  ...[['Installed', 'True'], ['Deployed', 'True'], ['Ready', 'False'], ['Monitored', 'True']]
    .map(([c, v]) => s('fleet_bundledeployment_status_condition', { ...bd, condition: c! }, v!)),
  s('system_upgrade_plan_spec_version', plan, 'v1.29.4+k3s1'),
  s('system_upgrade_plan_latest_version', plan, 'v1.29.4+k3s1'),
  s('system_upgrade_plan_latest_hash', plan, '6f1c3e5a7b9d2f4e8a0c1b3d5f7e9a2c4b6d8f0e1a3c5e7b9d2f4a6c'),
  f('system_upgrade_plan_applying_nodes', plan, 1),
  s('system_upgrade_plan_status_condition', { ...plan, condition: 'LatestResolved' }, 'True'),
  s('system_upgrade_plan_status_condition_reason', { ...plan, condition: 'LatestResolved' }, 'Version'),
  s('system_upgrade_plan_status_condition', { ...plan, condition: 'Validated' }, 'True'),
  s('system_upgrade_plan_status_condition', { ...plan, condition: 'Complete' }, 'False'),
];

/** `samples` in the source's order (by series key), labels in canonical order, for deepEqual. */
export function sorted(samples: readonly Sample[]): Sample[] {
  return samples
    .map((x) => ({ key: seriesKey(x.name, x.labels), x }))
    .sort((a, b) => compareStrings(a.key, b.key))
    .map(({ x }) => ({ name: x.name, labels: Object.fromEntries(Object.entries(x.labels).sort((a, b) => compareStrings(a[0], b[0]))), type: x.type, value: x.value }));
}

const pod = (name: string) => ({ namespace: 'pos', object_kind: 'Pod', object_name: name });
const ev = (t: string, reason: string, message: string, labels: BlockEvent['labels'], count: number): BlockEvent =>
  ({ t: Date.parse(t), kind: 'kubernetes', reason, message, labels, rangeMinT: 0, rangeMaxT: 0, count });

/** The Warning events of test/fixtures/kubernetes/events.json (its Normal ones are not reported). */
export const RECORDED_WARNINGS: readonly BlockEvent[] = [
  ev('2024-04-16T09:06:32Z', 'Failed', 'Failed to pull image "registry.example.com/pos/api:2.14.1": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/pos/api:2.14.1": failed to resolve reference "registry.example.com/pos/api:2.14.1": registry.example.com/pos/api:2.14.1: not found', pod('pos-api-7c9f8d6b5d-q8w2x'), 4),
  ev('2024-04-16T09:06:32Z', 'Failed', 'Error: ErrImagePull', pod('pos-api-7c9f8d6b5d-q8w2x'), 4),
  ev('2024-04-16T09:12:47Z', 'Failed', 'Error: ImagePullBackOff', pod('pos-api-7c9f8d6b5d-q8w2x'), 12),
  ev('2024-04-16T09:36:58Z', 'BackOff', 'Back-off restarting failed container receipt-printer in pod receipt-printer-5b7d9c8f6-2xkqm_pos(5e8b1d3f-7a2c-4f96-b0e4-a9c7d2f1e385)', pod('receipt-printer-5b7d9c8f6-2xkqm'), 31),
];


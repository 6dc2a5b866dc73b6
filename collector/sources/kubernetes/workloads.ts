// Deployment, StatefulSet and DaemonSet series: desired images, replica counts, generation
// against observed generation, rollout conditions. Names after kube-state-metrics.
//
// Kubernetes leaves zero counts out of a status (readyReplicas is absent when none is ready),
// so a missing count is 0, as kube-state-metrics reports it.
import type { V1DaemonSet, V1Deployment, V1PodTemplateSpec, V1StatefulSet } from '@kubernetes/client-node';
import type { Labels } from '../../../proto/index.js';
import { conditionSamples, labels, type SampleSet } from './samples.js';

function addImages(set: SampleSet, prefix: string, base: Labels, template: V1PodTemplateSpec | undefined): void {
  for (const c of template?.spec?.containers ?? []) {
    set.string(`${prefix}_container_image`, { ...base, container: c.name }, c.image);
  }
  for (const c of template?.spec?.initContainers ?? []) {
    set.string(`${prefix}_init_container_image`, { ...base, container: c.name }, c.image);
  }
}

/** Adds `kube_deployment_*` series for every Deployment. */
export function addDeploymentSamples(set: SampleSet, deployments: readonly V1Deployment[]): void {
  for (const d of deployments) {
    const l = labels({ namespace: d.metadata?.namespace, deployment: d.metadata?.name });
    if (l.deployment === undefined) continue;
    const s = d.status;
    addImages(set, 'kube_deployment', l, d.spec?.template);
    set.float('kube_deployment_spec_replicas', l, d.spec?.replicas ?? 1);
    set.float('kube_deployment_spec_paused', l, d.spec?.paused === true ? 1 : 0);
    set.float('kube_deployment_status_replicas', l, s?.replicas ?? 0);
    set.float('kube_deployment_status_replicas_ready', l, s?.readyReplicas ?? 0);
    set.float('kube_deployment_status_replicas_updated', l, s?.updatedReplicas ?? 0);
    set.float('kube_deployment_status_replicas_available', l, s?.availableReplicas ?? 0);
    set.float('kube_deployment_status_replicas_unavailable', l, s?.unavailableReplicas ?? 0);
    set.float('kube_deployment_metadata_generation', l, d.metadata?.generation ?? 0);
    set.float('kube_deployment_status_observed_generation', l, s?.observedGeneration ?? 0);
    conditionSamples(set, 'kube_deployment', l, s?.conditions);
  }
}

/** Adds `kube_statefulset_*` series for every StatefulSet. */
export function addStatefulSetSamples(set: SampleSet, statefulSets: readonly V1StatefulSet[]): void {
  for (const ss of statefulSets) {
    const l = labels({ namespace: ss.metadata?.namespace, statefulset: ss.metadata?.name });
    if (l.statefulset === undefined) continue;
    const s = ss.status;
    addImages(set, 'kube_statefulset', l, ss.spec?.template);
    set.float('kube_statefulset_replicas', l, ss.spec?.replicas ?? 1);
    set.float('kube_statefulset_status_replicas', l, s?.replicas ?? 0);
    set.float('kube_statefulset_status_replicas_ready', l, s?.readyReplicas ?? 0);
    set.float('kube_statefulset_status_replicas_updated', l, s?.updatedReplicas ?? 0);
    set.float('kube_statefulset_status_replicas_available', l, s?.availableReplicas ?? 0);
    set.float('kube_statefulset_status_replicas_current', l, s?.currentReplicas ?? 0);
    set.float('kube_statefulset_metadata_generation', l, ss.metadata?.generation ?? 0);
    set.float('kube_statefulset_status_observed_generation', l, s?.observedGeneration ?? 0);
    set.string('kube_statefulset_status_current_revision', l, s?.currentRevision);
    set.string('kube_statefulset_status_update_revision', l, s?.updateRevision);
    conditionSamples(set, 'kube_statefulset', l, s?.conditions);
  }
}

/** Adds `kube_daemonset_*` series for every DaemonSet. */
export function addDaemonSetSamples(set: SampleSet, daemonSets: readonly V1DaemonSet[]): void {
  for (const ds of daemonSets) {
    const l = labels({ namespace: ds.metadata?.namespace, daemonset: ds.metadata?.name });
    if (l.daemonset === undefined) continue;
    const s = ds.status;
    addImages(set, 'kube_daemonset', l, ds.spec?.template);
    set.float('kube_daemonset_status_desired_number_scheduled', l, s?.desiredNumberScheduled ?? 0);
    set.float('kube_daemonset_status_current_number_scheduled', l, s?.currentNumberScheduled ?? 0);
    set.float('kube_daemonset_status_number_ready', l, s?.numberReady ?? 0);
    set.float('kube_daemonset_status_updated_number_scheduled', l, s?.updatedNumberScheduled ?? 0);
    set.float('kube_daemonset_status_number_available', l, s?.numberAvailable ?? 0);
    set.float('kube_daemonset_status_number_unavailable', l, s?.numberUnavailable ?? 0);
    set.float('kube_daemonset_status_number_misscheduled', l, s?.numberMisscheduled ?? 0);
    set.float('kube_daemonset_metadata_generation', l, ds.metadata?.generation ?? 0);
    set.float('kube_daemonset_status_observed_generation', l, s?.observedGeneration ?? 0);
    conditionSamples(set, 'kube_daemonset', l, s?.conditions);
  }
}

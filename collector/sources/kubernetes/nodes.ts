// Node series: what runs each node (kubelet, container runtime, OS, kernel, boot) and its
// conditions. Names after kube-state-metrics' kube_node_info, one string series per field.
import type { V1Node } from '@kubernetes/client-node';
import { conditionSamples, labels, type SampleSet } from './samples.js';

/** Adds the series of every node to `set`. */
export function addNodeSamples(set: SampleSet, nodes: readonly V1Node[]): void {
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (name === undefined || name === '') continue;
    const l = labels({ node: name });
    const info = node.status?.nodeInfo;
    set.string('kube_node_kubelet_version', l, info?.kubeletVersion);
    set.string('kube_node_container_runtime_version', l, info?.containerRuntimeVersion);
    set.string('kube_node_os_image', l, info?.osImage);
    set.string('kube_node_kernel_version', l, info?.kernelVersion);
    set.string('kube_node_boot_id', l, info?.bootID);
    set.string('kube_node_architecture', l, info?.architecture);
    set.float('kube_node_spec_unschedulable', l, node.spec?.unschedulable === true ? 1 : 0);
    conditionSamples(set, 'kube_node', l, node.status?.conditions);
  }
}

// GitOps and upgrade controllers' custom resources, when installed: Argo CD Applications, Fleet
// BundleDeployments and system-upgrade-controller Plans. Read as untyped JSON.
import { arr, conditionSamples, conditionsAt, flag, labels, str, type SampleSet } from './samples.js';
import { customKind, type KindSpec } from './reads.js';

export const ARGO_APPLICATIONS: KindSpec<unknown> = customKind('argoproj.io', 'v1alpha1', 'applications');
export const FLEET_BUNDLE_DEPLOYMENTS: KindSpec<unknown> = customKind('fleet.cattle.io', 'v1alpha1', 'bundledeployments');
export const SUC_PLANS: KindSpec<unknown> = customKind('upgrade.cattle.io', 'v1', 'plans');

/** The kinds read when `gitops` is on, in a fixed order. */
export const GITOPS_KINDS: readonly KindSpec<unknown>[] = [ARGO_APPLICATIONS, FLEET_BUNDLE_DEPLOYMENTS, SUC_PLANS];

function joined(values: unknown[]): string | undefined {
  const strings = values.filter((v): v is string => typeof v === 'string' && v !== '');
  return strings.length === 0 ? undefined : strings.join(',');
}

/**
 * `argocd_app_*{namespace,application}`: sync status, health status, the synced revision, the
 * target revision and the last operation's phase. Multi-source applications report their
 * revisions comma-joined in source order.
 */
export function addArgoApplicationSamples(set: SampleSet, apps: readonly unknown[]): void {
  for (const app of apps) {
    const l = labels({ namespace: str(app, 'metadata', 'namespace'), application: str(app, 'metadata', 'name') });
    if (l.application === undefined) continue;
    set.string('argocd_app_sync_status', l, str(app, 'status', 'sync', 'status'));
    set.string('argocd_app_health_status', l, str(app, 'status', 'health', 'status'));
    set.string('argocd_app_sync_revision', l, str(app, 'status', 'sync', 'revision') ?? joined(arr(app, 'status', 'sync', 'revisions')));
    const target = str(app, 'spec', 'source', 'targetRevision') ?? joined(arr(app, 'spec', 'sources').map((s) => str(s, 'targetRevision') ?? 'HEAD'));
    set.string('argocd_app_target_revision', l, target);
    set.string('argocd_app_operation_phase', l, str(app, 'status', 'operationState', 'phase'));
  }
}

/**
 * `fleet_bundledeployment_*{namespace,bundledeployment}`: ready and non-modified (1/0), the
 * display state, the deployment ID asked for and the one applied, and the conditions.
 */
export function addFleetBundleDeploymentSamples(set: SampleSet, bds: readonly unknown[]): void {
  for (const bd of bds) {
    const l = labels({ namespace: str(bd, 'metadata', 'namespace'), bundledeployment: str(bd, 'metadata', 'name') });
    if (l.bundledeployment === undefined) continue;
    set.float('fleet_bundledeployment_ready', l, flag(bd, 'status', 'ready'));
    set.float('fleet_bundledeployment_non_modified', l, flag(bd, 'status', 'nonModified'));
    set.string('fleet_bundledeployment_state', l, str(bd, 'status', 'display', 'state'));
    set.string('fleet_bundledeployment_deployment_id', l, str(bd, 'spec', 'deploymentID'));
    set.string('fleet_bundledeployment_applied_deployment_id', l, str(bd, 'status', 'appliedDeploymentID'));
    conditionSamples(set, 'fleet_bundledeployment', l, conditionsAt(bd, 'status', 'conditions'));
  }
}

/**
 * `system_upgrade_plan_*{namespace,plan}`: the version asked for, the latest resolved version
 * and hash, how many nodes are applying it, and the conditions (LatestResolved, Validated,
 * Complete).
 */
export function addUpgradePlanSamples(set: SampleSet, plans: readonly unknown[]): void {
  for (const plan of plans) {
    const l = labels({ namespace: str(plan, 'metadata', 'namespace'), plan: str(plan, 'metadata', 'name') });
    if (l.plan === undefined) continue;
    set.string('system_upgrade_plan_spec_version', l, str(plan, 'spec', 'version'));
    set.string('system_upgrade_plan_latest_version', l, str(plan, 'status', 'latestVersion'));
    set.string('system_upgrade_plan_latest_hash', l, str(plan, 'status', 'latestHash'));
    set.float('system_upgrade_plan_applying_nodes', l, arr(plan, 'status', 'applying').length);
    conditionSamples(set, 'system_upgrade_plan', l, conditionsAt(plan, 'status', 'conditions'));
  }
}

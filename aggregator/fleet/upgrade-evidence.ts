// Why an upgrade did not converge, from the evidence a site's data holds between the change and
// `at`: node conditions and free disk or memory (resource exhaustion), waiting reasons and
// warning events of the workload (image pulls, crash loops), the GitOps agent's state.
import type { Expectation } from '../policy/index.js';
import { seriesKey } from '../../proto/index.js';
import { FLOAT, STRING } from './block-changes.js';
import type { SiteEvent } from './site-data.js';
import type { SiteView, ValueChange } from './site-view.js';
import type { Evidence, UpgradeReason } from './types.js';

/** Which workload an expectation is about (from its `=` matchers), to keep evidence to it. */
export interface Scope {
  readonly namespace: string | undefined;
  readonly workload: string | undefined;
  /** The label that named the workload: `deployment`, `statefulset`, `daemonset` or `workload`. */
  readonly workloadKind: string | undefined;
}

const WORKLOAD_LABELS = ['deployment', 'statefulset', 'daemonset', 'workload'];

/** The scope of an expectation: its `namespace="…"` and `deployment|statefulset|daemonset="…"` matchers. */
export function scopeOf(e: Expectation): Scope {
  let namespace: string | undefined;
  let workload: string | undefined;
  let workloadKind: string | undefined;
  for (const m of e.series.matchers) {
    if (m.op !== '=') continue;
    if (m.label === 'namespace') namespace = m.value;
    if (WORKLOAD_LABELS.includes(m.label)) {
      workload = m.value;
      workloadKind = m.label;
    }
  }
  return { namespace, workload, workloadKind };
}

function inScope(scopes: readonly Scope[], namespace: string | undefined, workload: string | undefined, objectName?: string): boolean {
  if (scopes.length === 0) return true;
  return scopes.some((s) => (s.namespace === undefined || namespace === undefined || s.namespace === namespace)
    && (s.workload === undefined || (workload === undefined && objectName === undefined) || s.workload === workload
      || (objectName !== undefined && (objectName === s.workload || objectName.startsWith(`${s.workload}-`)))));
}

/** One finding: the reason it points to and its evidence. */
export interface Finding {
  readonly reason: UpgradeReason;
  readonly evidence: Evidence;
}

function eventText(e: SiteEvent): string {
  const obj = e.labels['object_name'] === undefined ? '' : ` (${e.labels['object_kind'] ?? 'object'} ${e.labels['namespace'] === undefined ? '' : `${e.labels['namespace']}/`}${e.labels['object_name']})`;
  return `${e.kind}/${e.reason}: ${e.message}${obj}${e.count > 1 ? ` ×${e.count}` : ''}`;
}

const DISK_EVENTS = new Set(['Evicted', 'EvictionThresholdMet', 'FreeDiskSpaceFailed', 'ImageGCFailed']);
const MEMORY_EVENTS = new Set(['OOMKilling', 'SystemOOM']);
const PULL_EVENTS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InspectFailed', 'ErrImageNeverPull']);
const EXHAUSTION_TEXT = /no space left on device|disk ?pressure|memory ?pressure|oomkilled|out of memory/i;
const PULL_TEXT = /pull|ImagePullBackOff|ErrImagePull/i;
const CRASH_TEXT = /restarting failed container|CrashLoopBackOff/i;

/** What an event says about an upgrade, if anything. */
function classifyEvent(e: SiteEvent, scopes: readonly Scope[]): UpgradeReason | undefined {
  const workloadEvent = e.kind === 'kubernetes' && e.labels['object_name'] !== undefined;
  const scoped = !workloadEvent || inScope(scopes, e.labels['namespace'], undefined, e.labels['object_name']);
  if (e.kind !== 'kubernetes') return undefined;
  if (DISK_EVENTS.has(e.reason) || MEMORY_EVENTS.has(e.reason) || EXHAUSTION_TEXT.test(e.message)) return 'resource_exhaustion';
  if (!scoped) return undefined;
  if (PULL_EVENTS.has(e.reason) || ((e.reason === 'Failed' || e.reason === 'BackOff') && PULL_TEXT.test(e.message) && !CRASH_TEXT.test(e.message))) return 'image_pull_error';
  if (e.reason === 'CrashLoopBackOff' || (e.reason === 'BackOff' && CRASH_TEXT.test(e.message))) return 'crash_loop';
  return undefined;
}

const WAITING_PULL = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
const GITOPS_BAD_FLEET = new Set(['ErrApplied', 'OutOfSync', 'Modified']);

/** A state series family the evidence reads: a metric name, which of its series count, and which values are a finding. */
interface StateRule {
  readonly name: string;
  readonly reason: UpgradeReason;
  /** Only series whose labels pass (default all). */
  readonly series?: (labels: Readonly<Record<string, string>>, scopes: readonly Scope[]) => boolean;
  /** Whether a value is a finding. */
  readonly bad: (value: string | number, labels: Readonly<Record<string, string>>, view: SiteView, t: number) => boolean;
  /** Only the value at the last data counts (a state that is normal for a moment during any upgrade). */
  readonly currentOnly?: boolean;
}

const workloadScoped = (l: Readonly<Record<string, string>>, scopes: readonly Scope[]): boolean => inScope(scopes, l['namespace'], l['workload']);

/** The value of the float series `name{labels}` at `t`, if the site has it. */
function floatAt(view: SiteView, name: string, labels: Readonly<Record<string, string>>, t: number): number | undefined {
  const table = view.index.series;
  for (const gid of table.withName(name)) {
    const l = table.labels[gid]!;
    if (Object.keys(l).length !== Object.keys(labels).length || Object.keys(l).some((k) => l[k] !== labels[k])) continue;
    const i = view.seriesIndex(gid);
    if (i < 0) return undefined;
    const v = view.valueAt(i, t);
    return v.kind === FLOAT ? v.value : undefined;
  }
  return undefined;
}

/** Free bytes below this share of the size (or below 1 GiB when the size is unknown) count as a full disk. */
export const LOW_DISK_SHARE = 0.05;
export const LOW_DISK_BYTES = 1 << 30;
/** Available memory below this share of the total counts as exhausted. */
export const LOW_MEMORY_SHARE = 0.05;

const RULES: readonly StateRule[] = [
  { name: 'kube_node_status_condition', reason: 'resource_exhaustion', series: (l) => ['DiskPressure', 'MemoryPressure', 'PIDPressure'].includes(l['condition'] ?? ''), bad: (v) => v === 'True' },
  {
    name: 'node_filesystem_avail_bytes', reason: 'resource_exhaustion',
    bad: (v, l, view, t) => {
      if (typeof v !== 'number') return false;
      const size = floatAt(view, 'node_filesystem_size_bytes', l, t);
      return size !== undefined && size > 0 ? v / size < LOW_DISK_SHARE : v < LOW_DISK_BYTES;
    },
  },
  {
    name: 'node_memory_MemAvailable_bytes', reason: 'resource_exhaustion',
    bad: (v, l, view, t) => {
      if (typeof v !== 'number') return false;
      const total = floatAt(view, 'node_memory_MemTotal_bytes', l, t);
      return total !== undefined && total > 0 && v / total < LOW_MEMORY_SHARE;
    },
  },
  { name: 'kube_workload_containers_last_terminated', reason: 'resource_exhaustion', series: (l, s) => l['reason'] === 'OOMKilled' && workloadScoped(l, s), bad: (v) => typeof v === 'number' && v > 0 },
  { name: 'kube_workload_containers_waiting', reason: 'image_pull_error', series: (l, s) => WAITING_PULL.has(l['reason'] ?? '') && workloadScoped(l, s), bad: (v) => typeof v === 'number' && v > 0 },
  { name: 'kube_workload_containers_waiting', reason: 'crash_loop', series: (l, s) => l['reason'] === 'CrashLoopBackOff' && workloadScoped(l, s), bad: (v) => typeof v === 'number' && v > 0 },
  { name: 'argocd_app_health_status', reason: 'gitops_error', bad: (v) => v === 'Degraded' },
  { name: 'argocd_app_operation_phase', reason: 'gitops_error', bad: (v) => v === 'Failed' || v === 'Error' },
  { name: 'argocd_app_sync_status', reason: 'gitops_error', bad: (v) => v === 'OutOfSync', currentOnly: true },
  { name: 'fleet_bundledeployment_state', reason: 'gitops_error', bad: (v) => typeof v === 'string' && GITOPS_BAD_FLEET.has(v), currentOnly: true },
  { name: 'fleet_bundledeployment_state', reason: 'gitops_error', bad: (v) => v === 'ErrApplied' },
  { name: 'system_upgrade_plan_status_condition_reason', reason: 'gitops_error', bad: (v) => typeof v === 'string' && /error|fail/i.test(v) },
];

/** Restarts that grow by at least this much between the change and `at` are a crash loop. */
export const CRASH_RESTARTS = 3;

function valueOf(view: SiteView, c: ValueChange): string | number | undefined {
  return c.kind === STRING ? view.index.values.get(c.value) : c.kind === FLOAT ? c.value : undefined;
}

/**
 * Findings between `from` (the change) and the site's last data at or before `at`, in time
 * order: state values and events that point to a reason. Scopes keep workload evidence to the
 * workloads the changed expectations name (empty: the whole site).
 */
export function findings(view: SiteView, from: number, at: number, scopes: readonly Scope[]): Finding[] {
  const out: Finding[] = [];
  const table = view.index.series;
  const dataT = view.lastDataAt(at);
  if (dataT === undefined) return out;
  for (const rule of RULES) {
    for (const gid of table.withName(rule.name)) {
      const labels = table.labels[gid]!;
      if (rule.series !== undefined && !rule.series(labels, scopes)) continue;
      const i = view.seriesIndex(gid);
      if (i < 0) continue;
      const changes = rule.currentOnly === true ? view.changes(i, dataT, dataT) : view.changes(i, from, dataT);
      for (const c of changes) {
        const v = valueOf(view, c);
        if (v === undefined || !rule.bad(v, labels, view, Math.max(c.t, from))) continue;
        out.push({ reason: rule.reason, evidence: { t: Math.max(c.t, from), kind: 'state', text: `${table.keys[gid]} is ${typeof v === 'number' ? v : JSON.stringify(v)}` } });
      }
    }
  }
  // Restarts that keep growing.
  for (const gid of table.withName('kube_workload_container_restarts_total')) {
    const labels = table.labels[gid]!;
    if (!workloadScoped(labels, scopes)) continue;
    const i = view.seriesIndex(gid);
    if (i < 0) continue;
    const changes = view.changes(i, from, dataT).filter((c) => c.kind === FLOAT);
    if (changes.length < 2) continue;
    const base = changes[0]!.value;
    const top = changes.find((c) => c.value - base >= CRASH_RESTARTS);
    if (top !== undefined) out.push({ reason: 'crash_loop', evidence: { t: top.t, kind: 'state', text: `${table.keys[gid]} rose from ${base} to ${top.value}` } });
  }
  for (const e of view.eventsIn(from, at)) {
    const reason = classifyEvent(e, scopes);
    if (reason !== undefined) out.push({ reason, evidence: { t: e.t, kind: 'event', text: eventText(e) } });
  }
  return out;
}

/** The reasons in the order a diagnosis prefers them: root causes before their symptoms. */
export const REASON_PRIORITY: readonly UpgradeReason[] = ['rolled_back', 'resource_exhaustion', 'image_pull_error', 'crash_loop', 'gitops_error'];

/** The series a workload's rollout is read from: desired, updated and unavailable replica counts. */
const ROLLOUT_SERIES: Readonly<Record<string, readonly [string, string, string | undefined]>> = {
  deployment: ['kube_deployment_spec_replicas', 'kube_deployment_status_replicas_updated', 'kube_deployment_status_replicas_unavailable'],
  statefulset: ['kube_statefulset_replicas', 'kube_statefulset_status_replicas_updated', undefined],
  daemonset: ['kube_daemonset_status_desired_number_scheduled', 'kube_daemonset_status_updated_number_scheduled', 'kube_daemonset_status_number_unavailable'],
};

const rolloutKeys = new Map<string, string>();

/** The series key of a rollout count of the scope's workload (remembered: a fleet has few workloads). */
function rolloutKey(name: string, scope: Scope): string {
  const k = `${name}\u0000${scope.namespace!}\u0000${scope.workloadKind!}\u0000${scope.workload!}`;
  let key = rolloutKeys.get(k);
  if (key === undefined) {
    key = seriesKey(name, { namespace: scope.namespace!, [scope.workloadKind!]: scope.workload! });
    if (rolloutKeys.size < 100_000) rolloutKeys.set(k, key);
  }
  return key;
}

/** Where a workload's rollout stands at the site's last data: complete (since when) or not, and how far. */
export interface RolloutState {
  readonly complete: boolean;
  /** When the counts last changed to what they are (a round time). */
  readonly since: number;
  readonly text: string;
}

/**
 * The rollout of the workload a scope names (a Deployment, StatefulSet or DaemonSet with its
 * namespace), from its replica counts at `dataT`: complete when every desired replica runs the
 * current template and none is unavailable. Undefined when the scope names no such workload or
 * the site does not report its counts.
 */
export function rolloutState(view: SiteView, scope: Scope, dataT: number): RolloutState | undefined {
  if (scope.namespace === undefined || scope.workload === undefined || scope.workloadKind === undefined) return undefined;
  const names = ROLLOUT_SERIES[scope.workloadKind];
  if (names === undefined) return undefined;
  const read = (name: string | undefined): { value: number; since: number } | undefined => {
    if (name === undefined) return undefined;
    const gid = view.index.series.idOf(rolloutKey(name, scope));
    const i = gid === undefined ? -1 : view.seriesIndex(gid);
    if (i < 0) return undefined;
    const v = view.valueAt(i, dataT);
    return v.kind === FLOAT ? { value: v.value, since: view.valueSince(i, dataT)! } : undefined;
  };
  const desired = read(names[0]);
  const updated = read(names[1]);
  if (desired === undefined || updated === undefined) return undefined;
  const unavailable = read(names[2]);
  const complete = updated.value >= desired.value && (unavailable?.value ?? 0) === 0;
  const what = `${scope.workloadKind} ${scope.namespace}/${scope.workload}`;
  const text = `rollout of ${what} ${complete ? 'complete' : 'incomplete'}: ${updated.value} of ${desired.value} replicas updated${unavailable === undefined ? '' : `, ${unavailable.value} unavailable`}`;
  return { complete, since: Math.max(desired.since, updated.since, unavailable?.since ?? -Infinity), text };
}

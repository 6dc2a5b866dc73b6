// The list requests the kubernetes source makes, one per kind and scope, through the generated
// client. Each returns every item or throws a SourceError naming the request.
import type {
  ConfigurationOptions, CoreV1Event, V1DaemonSet, V1Deployment, V1Node, V1Pod, V1ReplicaSet, V1StatefulSet,
} from '@kubernetes/client-node';
import { describeRequest, toSourceError } from './api-errors.js';
import type { KubeClients } from './client.js';
import { listAll, PAGE_SIZE, type Listed } from './list.js';

/** What every request of one collection shares. */
export interface ReadContext {
  readonly clients: KubeClients;
  readonly signal: AbortSignal;
  readonly options: ConfigurationOptions;
  /** For the timeout message only. */
  readonly timeoutMs: number | undefined;
}

type PageFetcher = (ctx: ReadContext, namespace: string | undefined, cont: string | undefined) => Promise<unknown>;

/** A kind the source lists: its resource name for messages and RBAC, and how to fetch a page. */
export interface KindSpec<T> {
  /** `nodes`, `deployments.apps`, `applications.argoproj.io`. */
  readonly resource: string;
  readonly clusterScoped: boolean;
  readonly fetch: PageFetcher;
  /** Type marker only. */
  readonly _item?: T;
}

const page = { limit: PAGE_SIZE };

export const NODES: KindSpec<V1Node> = {
  resource: 'nodes', clusterScoped: true,
  fetch: (ctx, _ns, cont) => ctx.clients.core.listNode({ ...page, _continue: cont }, ctx.options),
};

export const PODS: KindSpec<V1Pod> = {
  resource: 'pods', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.core.listPodForAllNamespaces({ ...page, _continue: cont }, ctx.options)
    : ctx.clients.core.listNamespacedPod({ namespace: ns, ...page, _continue: cont }, ctx.options),
};

export const DEPLOYMENTS: KindSpec<V1Deployment> = {
  resource: 'deployments.apps', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.apps.listDeploymentForAllNamespaces({ ...page, _continue: cont }, ctx.options)
    : ctx.clients.apps.listNamespacedDeployment({ namespace: ns, ...page, _continue: cont }, ctx.options),
};

export const STATEFULSETS: KindSpec<V1StatefulSet> = {
  resource: 'statefulsets.apps', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.apps.listStatefulSetForAllNamespaces({ ...page, _continue: cont }, ctx.options)
    : ctx.clients.apps.listNamespacedStatefulSet({ namespace: ns, ...page, _continue: cont }, ctx.options),
};

export const DAEMONSETS: KindSpec<V1DaemonSet> = {
  resource: 'daemonsets.apps', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.apps.listDaemonSetForAllNamespaces({ ...page, _continue: cont }, ctx.options)
    : ctx.clients.apps.listNamespacedDaemonSet({ namespace: ns, ...page, _continue: cont }, ctx.options),
};

export const REPLICASETS: KindSpec<V1ReplicaSet> = {
  resource: 'replicasets.apps', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.apps.listReplicaSetForAllNamespaces({ ...page, _continue: cont }, ctx.options)
    : ctx.clients.apps.listNamespacedReplicaSet({ namespace: ns, ...page, _continue: cont }, ctx.options),
};

/** The field selector of the events list and watch: only warnings travel. */
export const WARNING_SELECTOR = 'type=Warning';

export const WARNING_EVENTS: KindSpec<CoreV1Event> = {
  resource: 'events', clusterScoped: false,
  fetch: (ctx, ns, cont) => ns === undefined
    ? ctx.clients.core.listEventForAllNamespaces({ fieldSelector: WARNING_SELECTOR, ...page, _continue: cont }, ctx.options)
    : ctx.clients.core.listNamespacedEvent({ namespace: ns, fieldSelector: WARNING_SELECTOR, ...page, _continue: cont }, ctx.options),
};

/** A namespaced custom resource kind, read as untyped JSON. */
export function customKind(group: string, version: string, plural: string): KindSpec<unknown> {
  return {
    resource: `${plural}.${group}`, clusterScoped: false,
    fetch: (ctx, ns, cont) => ns === undefined
      ? ctx.clients.custom.listClusterCustomObject({ group, version, plural, ...page, _continue: cont }, ctx.options)
      : ctx.clients.custom.listNamespacedCustomObject({ group, version, namespace: ns, plural, ...page, _continue: cont }, ctx.options),
  };
}

/**
 * Lists one kind in one scope (`namespace` undefined: every namespace, or the cluster for a
 * cluster-scoped kind). Throws a SourceError naming the request.
 */
export async function listKind<T>(ctx: ReadContext, spec: KindSpec<T>, namespace: string | undefined): Promise<Listed<T>> {
  const what = describeRequest({ verb: 'list', resource: spec.resource, namespace }, spec.clusterScoped);
  try {
    return await listAll<T>(what, ctx.clients.server, (cont) => spec.fetch(ctx, namespace, cont));
  } catch (err) {
    throw toSourceError(err, what, ctx.clients.server, ctx.signal.aborted, ctx.timeoutMs);
  }
}

/** Lists one kind in every scope (cluster-scoped kinds once) and concatenates the items. */
export async function listScopes<T>(ctx: ReadContext, spec: KindSpec<T>, namespaces: readonly string[] | undefined): Promise<T[]> {
  if (spec.clusterScoped || namespaces === undefined) return (await listKind(ctx, spec, undefined)).items;
  const lists = await Promise.all(namespaces.map((ns) => listKind(ctx, spec, ns)));
  return lists.flatMap((l) => l.items);
}

// One kubernetes source's live state: clients, the event watch, and the collection that lists
// nodes, workloads, pods and (when installed) GitOps and upgrade resources and drains the warning
// events the watch received. Loaded on the first collection (see source.ts): this module pulls in
// @kubernetes/client-node.
import { seededRandom } from '../../../common/random.js';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { CollectContext, SourceDeps, SourceResult } from '../source.js';
import { httpStatus } from './api-errors.js';
import { loadKubeClients, withSignal, type KubeClients } from './client.js';
import type { KubernetesConfig } from './config.js';
import { EventWatcher } from './event-watch.js';
import { EventBuffer } from './events.js';
import {
  addArgoApplicationSamples, addFleetBundleDeploymentSamples, addUpgradePlanSamples,
  ARGO_APPLICATIONS, FLEET_BUNDLE_DEPLOYMENTS, SUC_PLANS,
} from './gitops.js';
import { addNodeSamples } from './nodes.js';
import { addWorkloadPodSamples, indexReplicaSets } from './pods.js';
import { DAEMONSETS, DEPLOYMENTS, listScopes, NODES, PODS, REPLICASETS, STATEFULSETS, type KindSpec, type ReadContext } from './reads.js';
import { SampleSet } from './samples.js';
import { addDaemonSetSamples, addDeploymentSamples, addStatefulSetSamples } from './workloads.js';

/** Warning events held between two collections; older ones are dropped and counted beyond it. */
export const EVENT_BUFFER_CAPACITY = 10_000;
/** Deadline of the background watch's list requests when the config sets no `timeout`. */
const DEFAULT_LIST_TIMEOUT_MS = 10_000;

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Resolves when `p` settles or `signal` aborts, whichever is first; never rejects. */
function untilSettledOrAborted(p: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    p.then(done, done);
  });
}

/** The clients, watch and collection of one source; see createKubernetesSource for the contract. */
export class KubernetesSession {
  readonly name: string;
  readonly #config: KubernetesConfig;
  readonly #deps: SourceDeps;
  readonly #buffer = new EventBuffer(EVENT_BUFFER_CAPACITY);
  #clients: KubeClients | undefined;
  #watchers: EventWatcher[] | undefined;
  #closed = false;
  /** Optional kinds currently skipped (forbidden), so that the warning is logged once. */
  readonly #skipped = new Set<string>();

  constructor(config: KubernetesConfig, deps: SourceDeps) {
    this.#config = config;
    this.#deps = deps;
    this.name = config.name;
  }

  async collect(ctx: CollectContext): Promise<SourceResult> {
    this.#clients ??= loadKubeClients(this.#config);
    const clients = this.#clients;
    const timeoutMs = Math.max(0, ctx.deadline - ctx.now());
    const abort = new AbortController();
    const onAbort = (): void => abort.abort(ctx.signal.reason);
    if (ctx.signal.aborted) abort.abort(ctx.signal.reason);
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      if (this.#config.events) {
        const watchers = this.#startWatchers(clients);
        // The first collection waits for the first events list, so that it reports the
        // warnings already on record; later ones do not wait.
        await untilSettledOrAborted(Promise.all(watchers.map((w) => w.ready)), abort.signal);
      }
      const read: ReadContext = { clients, signal: abort.signal, options: withSignal(abort.signal), timeoutMs };
      const samples = await this.#collectState(read);
      return { samples, events: this.#config.events ? this.#buffer.drain(ctx.now()) : [] };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  /** Stops the watch; no watch starts after it. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watchers ?? []) w.stop();
  }

  #startWatchers(clients: KubeClients): EventWatcher[] {
    if (this.#closed) return [];
    if (this.#watchers === undefined) {
      const random = seededRandom(seedOf(this.name));
      const scopes = this.#config.namespaces ?? [undefined];
      this.#watchers = scopes.map((namespace) => new EventWatcher({
        clients, namespace, buffer: this.#buffer, logger: this.#deps.logger, source: this.name,
        now: () => this.#deps.clock.now(), listTimeoutMs: this.#config.timeout ?? DEFAULT_LIST_TIMEOUT_MS, random,
      }));
      for (const w of this.#watchers) w.start();
    }
    return this.#watchers;
  }

  async #collectState(read: ReadContext): Promise<SourceResult['samples']> {
    const ns = this.#config.namespaces;
    const gitops = this.#config.gitops;
    const [nodes, deployments, statefulSets, daemonSets, pods, replicaSets, argo, fleet, plans] = await Promise.all([
      listScopes(read, NODES, undefined),
      listScopes(read, DEPLOYMENTS, ns),
      listScopes(read, STATEFULSETS, ns),
      listScopes(read, DAEMONSETS, ns),
      listScopes(read, PODS, ns),
      this.#optional(read, REPLICASETS, ns),
      gitops ? this.#optional(read, ARGO_APPLICATIONS, ns) : undefined,
      gitops ? this.#optional(read, FLEET_BUNDLE_DEPLOYMENTS, ns) : undefined,
      gitops ? this.#optional(read, SUC_PLANS, ns) : undefined,
    ]);
    const set = new SampleSet();
    addNodeSamples(set, nodes);
    addDeploymentSamples(set, deployments);
    addStatefulSetSamples(set, statefulSets);
    addDaemonSetSamples(set, daemonSets);
    addWorkloadPodSamples(set, pods, replicaSets === undefined ? undefined : indexReplicaSets(replicaSets as V1ReplicaSet[]));
    if (argo !== undefined) addArgoApplicationSamples(set, argo);
    if (fleet !== undefined) addFleetBundleDeploymentSamples(set, fleet);
    if (plans !== undefined) addUpgradePlanSamples(set, plans);
    return set.toArray();
  }

  /**
   * Lists a kind the collection can do without: undefined when its API is not installed (404)
   * or reading it is forbidden (401/403, logged once until it works again). Other failures
   * (unreachable, timeout, garbage) fail the collection like any other request.
   */
  async #optional<T>(read: ReadContext, spec: KindSpec<T>, ns: readonly string[] | undefined): Promise<T[] | undefined> {
    try {
      const items = await listScopes(read, spec, ns);
      if (this.#skipped.delete(spec.resource)) {
        this.#deps.logger.info({ source: this.name, resource: spec.resource }, 'kubernetes resource readable again');
      }
      return items;
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      const status = httpStatus(err.cause);
      if (status === 404) {
        this.#deps.logger.debug({ source: this.name, resource: spec.resource }, 'kubernetes resource not installed; skipped');
        return undefined;
      }
      if (err.code === SourceErrorCode.PermissionDenied) {
        if (!this.#skipped.has(spec.resource)) {
          this.#skipped.add(spec.resource);
          this.#deps.logger.warn({ source: this.name, resource: spec.resource, err: err.message }, 'kubernetes resource forbidden; skipping its series until it is readable');
        }
        return undefined;
      }
      throw err;
    }
  }
}

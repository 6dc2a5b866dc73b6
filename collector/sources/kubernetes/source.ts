// The kubernetes source. @kubernetes/client-node costs about 65 MiB of RSS to load (its generated
// API and models load with KubeConfig), so it is loaded on the first collection of a configured
// kubernetes source, never by importing this module or its config schema.
import { errorMessage } from '../../../common/errors.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { CollectContext, Source, SourceDeps, SourceResult } from '../source.js';
import type { KubernetesConfig } from './config.js';
import type { KubernetesSession } from './session.js';

class KubernetesSource implements Source {
  readonly kind = 'kubernetes';
  readonly name: string;
  readonly #config: KubernetesConfig;
  readonly #deps: SourceDeps;
  #session: Promise<KubernetesSession> | undefined;
  #closed = false;

  constructor(config: KubernetesConfig, deps: SourceDeps) {
    this.#config = config;
    this.#deps = deps;
    this.name = config.name;
  }

  async collect(ctx: CollectContext): Promise<SourceResult> {
    if (this.#closed) throw new SourceError(SourceErrorCode.Failed, `expected collect before close of kubernetes source ${this.name}, found it closed`);
    this.#session ??= import('./session.js').then(
      (m) => new m.KubernetesSession(this.#config, this.#deps),
      (err: unknown) => {
        this.#session = undefined;
        throw new SourceError(SourceErrorCode.Failed, `cannot load @kubernetes/client-node for kubernetes source ${this.name}: ${errorMessage(err)}`, { cause: err });
      },
    );
    const session = await this.#session;
    if (this.#closed) throw new SourceError(SourceErrorCode.Failed, `expected collect before close of kubernetes source ${this.name}, found it closed`);
    return session.collect(ctx);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#session !== undefined) (await this.#session.catch(() => undefined))?.close();
  }
}

/**
 * A kubernetes source for `config`. Nothing is loaded or connected until the first `collect`,
 * which loads the kubeconfig (DW_SOURCE_FAILED when it cannot, retried on the next collection),
 * starts the warning-event watch (when `events`) and lists everything else within the deadline;
 * the first collection also waits (within the deadline) for the first events list, later ones
 * drain what the watch received in between. A collection fails with
 * DW_SOURCE_PERMISSION_DENIED when nodes, pods, Deployments, StatefulSets or DaemonSets are
 * forbidden; forbidden ReplicaSets and GitOps kinds are skipped with a warning, and GitOps kinds
 * whose API is not installed (404) are skipped silently. `close` stops the watch; a `collect`
 * after it rejects with DW_SOURCE_FAILED.
 */
export function createKubernetesSource(config: KubernetesConfig, deps: SourceDeps): Source {
  return new KubernetesSource(config, deps);
}

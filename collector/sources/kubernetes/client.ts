// Building @kubernetes/client-node clients from the source config, and making their requests
// abortable.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Observable, Watch,
  type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext,
} from '@kubernetes/client-node';
import { errorMessage } from '../../../common/errors.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { KubernetesConfig } from './config.js';

/** The clients one kubernetes source uses, all built from one KubeConfig. */
export interface KubeClients {
  /** The API server URL, for messages. */
  readonly server: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly watch: Watch;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where the cluster comes from, for messages: `kubeconfig /path (context x)` or `in-cluster`. */
export function describeOrigin(config: KubernetesConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (useInCluster(config, env)) return 'the in-cluster service account';
  const file = config.kubeconfig ?? join(homedir(), '.kube', 'config');
  return config.context === undefined ? `kubeconfig ${file}` : `kubeconfig ${file} (context ${config.context})`;
}

function useInCluster(config: KubernetesConfig, env: NodeJS.ProcessEnv): boolean {
  if (config.inCluster !== undefined) return config.inCluster;
  return config.kubeconfig === undefined && config.context === undefined && typeof env.KUBERNETES_SERVICE_HOST === 'string' && env.KUBERNETES_SERVICE_HOST !== '';
}

/**
 * Loads the KubeConfig the config names (see kubernetesConfigSchema for the default) and builds
 * the clients. Throws SourceError DW_SOURCE_FAILED when the file cannot be read, the context does
 * not exist, or in-cluster credentials are missing.
 */
export function loadKubeClients(config: KubernetesConfig, env: NodeJS.ProcessEnv = process.env): KubeClients {
  const kc = new KubeConfig();
  const origin = describeOrigin(config, env);
  if (useInCluster(config, env)) {
    if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
      throw new SourceError(SourceErrorCode.Failed, 'expected KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT for inCluster: true, found them unset (is the agent running in a pod?)');
    }
    if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
      throw new SourceError(SourceErrorCode.Failed, `expected a service account token at ${SERVICE_ACCOUNT_TOKEN} for inCluster: true, found none (automountServiceAccountToken: false?)`);
    }
    kc.loadFromCluster();
  } else {
    const file = config.kubeconfig ?? join(homedir(), '.kube', 'config');
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new SourceError(SourceErrorCode.Failed, `expected a readable kubeconfig at ${file}, found: ${errorMessage(err)}`, { cause: err });
    }
    if (config.context !== undefined) {
      if (kc.getContextObject(config.context) === null) {
        const known = kc.getContexts().map((c) => c.name).join(', ');
        throw new SourceError(SourceErrorCode.Failed, `expected context ${JSON.stringify(config.context)} in ${file}, found only: ${known === '' ? '(none)' : known}`);
      }
      kc.setCurrentContext(config.context);
    }
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new SourceError(SourceErrorCode.Failed, `expected a current cluster in ${origin}, found none (no current-context?)`);
  }
  try {
    return {
      server: cluster.server,
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      custom: kc.makeApiClient(CustomObjectsApi),
      watch: new Watch(kc),
    };
  } catch (err) {
    throw new SourceError(SourceErrorCode.Failed, `cannot build a client for ${cluster.server} from ${origin}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Per-request options that attach `signal` to the request, so that aborting it closes the
 * socket (the generated client takes a signal only through a middleware).
 */
export function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre(ctx: RequestContext) {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post(ctx: ResponseContext) {
      return new Observable(Promise.resolve(ctx));
    },
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

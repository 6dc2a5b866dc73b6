// Shared pieces of the kubernetes source tests: a kubeconfig for the test API server, a collect
// context, a logger that records, and the fixture site loaded into a server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../../common/clock.js';
import type { CollectContext, SourceDeps, SourceLogger } from '../../../../collector/sources/source.js';
import { kubernetesConfigSchema, type KubernetesConfig } from '../../../../collector/sources/kubernetes/index.js';
import { fixtureItems, type KubeApiServer } from '../../../helpers/kube-api-server.js';

/** A temporary directory and its cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-k8s-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes a kubeconfig for `server` (its CA, URL and bearer token; `url`, `token` and `ca`
 * override them) into `dir` and returns its path. The same shape kubectl and k3s write.
 */
export async function writeKubeconfig(dir: string, server: KubeApiServer, over: { url?: string; token?: string; ca?: string } = {}): Promise<string> {
  const path = join(dir, 'kubeconfig.yaml');
  const ca = Buffer.from(over.ca ?? server.ca, 'utf8').toString('base64');
  await writeFile(path, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: shop-0142',
    '  cluster:',
    `    server: ${over.url ?? server.url}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: driftwatch',
    '  user:',
    `    token: ${over.token ?? server.token}`,
    'contexts:',
    '- name: shop-0142',
    '  context:',
    '    cluster: shop-0142',
    '    user: driftwatch',
    'current-context: shop-0142',
    '',
  ].join('\n'));
  return path;
}

/** A parsed source config (defaults applied) reading `kubeconfig`. */
export function sourceConfig(kubeconfig: string, extra: Record<string, unknown> = {}): KubernetesConfig {
  return kubernetesConfigSchema.parse({ kind: 'kubernetes', name: 'k8s', kubeconfig, ...extra });
}

/** A collect context with a deadline `timeoutMs` from now on the system clock. */
export function collectContext(timeoutMs = 5000, signal: AbortSignal = new AbortController().signal): CollectContext {
  const now = systemClock.now();
  return { signal, roundTime: now, deadline: now + timeoutMs, now: () => systemClock.now() };
}

export interface LogEntry {
  readonly level: 'warn' | 'info' | 'debug';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A SourceLogger that keeps every entry and lets a test wait for one. */
export class RecordingLogger implements SourceLogger {
  readonly entries: LogEntry[] = [];
  readonly #waiters: { match: (e: LogEntry) => boolean; since: number; resolve: (e: LogEntry) => void }[] = [];

  warn(fields: Record<string, unknown>, message: string): void {
    this.#add({ level: 'warn', fields, message });
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.#add({ level: 'info', fields, message });
  }
  debug(fields: Record<string, unknown>, message: string): void {
    this.#add({ level: 'debug', fields, message });
  }

  /** The first entry at index >= `since` matching `match`, now or when it is logged. */
  waitFor(match: (e: LogEntry) => boolean, since = 0): Promise<LogEntry> {
    const found = this.entries.slice(since).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ match, since, resolve }));
  }

  #add(e: LogEntry): void {
    this.entries.push(e);
    const index = this.entries.length - 1;
    for (const w of [...this.#waiters]) {
      if (index >= w.since && w.match(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }
}

/** Source deps with the system clock and a recording logger. */
export function deps(logger = new RecordingLogger()): SourceDeps & { logger: RecordingLogger } {
  return { clock: systemClock, logger };
}

/** Loads the fixture site (test/fixtures/kubernetes/) into `server`; `gitops` adds the CRD objects. */
export function loadSite(server: KubeApiServer, gitops = true): void {
  server.load('nodes', fixtureItems('nodes.json'));
  server.load('deployments', fixtureItems('deployments.json'));
  server.load('replicasets', fixtureItems('replicasets.json'));
  server.load('statefulsets', fixtureItems('statefulsets.json'));
  server.load('daemonsets', fixtureItems('daemonsets.json'));
  server.load('pods', fixtureItems('pods.json'));
  server.load('events', fixtureItems('events.json'));
  if (gitops) {
    server.load('applications', fixtureItems('argocd-applications.json'));
    server.load('bundledeployments', fixtureItems('fleet-bundledeployments.json'));
    server.load('plans', fixtureItems('suc-plans.json'));
  }
}

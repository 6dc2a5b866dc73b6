// A test server that speaks the Kubernetes API's list and watch protocol over HTTPS, for driving
// @kubernetes/client-node without a cluster. What it does like kube-apiserver: JSON List bodies
// with metadata.resourceVersion, limit/continue paging, namespaced and all-namespace paths,
// fieldSelector equality on dotted fields, watches as chunked newline-delimited
// {"type","object"} streams resuming after a resourceVersion, BOOKMARKs, 410 Gone (as an ERROR
// event or as HTTP 410) for a compacted resourceVersion, Status bodies for 401/403/404, bearer
// token authentication, /api, /apis and /version discovery. What it does not do: admission,
// validation, controllers, label selectors, writes (objects change only through the methods
// below), protobuf, or resourceVersion semantics on lists (a list is always the latest state).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fixturePath } from './paths.js';

/** A resource type the server knows. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Custom resources: list items keep apiVersion and kind (built-in lists leave them out). */
  readonly custom: boolean;
}

export const RESOURCES = {
  nodes: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, custom: false },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, custom: false },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, custom: false },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, custom: false },
  statefulsets: { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true, custom: false },
  daemonsets: { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true, custom: false },
  replicasets: { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true, custom: false },
  applications: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', kind: 'Application', namespaced: true, custom: true },
  bundledeployments: { group: 'fleet.cattle.io', version: 'v1alpha1', plural: 'bundledeployments', kind: 'BundleDeployment', namespaced: true, custom: true },
  plans: { group: 'upgrade.cattle.io', version: 'v1', plural: 'plans', kind: 'Plan', namespaced: true, custom: true },
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly resource: ResourceName | undefined;
  readonly namespace: string | undefined;
  readonly watch: boolean;
  readonly authorization: string | undefined;
  /** Settles when the response is finished or its connection closed (an aborted request too). */
  readonly closed: Promise<void>;
}

/** A watch the server holds open. */
interface OpenWatch {
  readonly resource: ResourceName;
  readonly namespace: string | undefined;
  readonly fieldSelector: string | null;
  readonly res: ServerResponse;
  readonly request: RecordedRequest;
}

type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

interface HistoryEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

interface Hold {
  readonly match: (r: RecordedRequest) => boolean;
  readonly gate: Promise<void>;
}

/** The test CA, server certificate and key (test-only; see test/fixtures/kubernetes/README.md). */
export function testTls(): { ca: string; cert: string; key: string } {
  return {
    ca: readFileSync(fixturePath('kubernetes', 'tls', 'ca.crt'), 'utf8'),
    cert: readFileSync(fixturePath('kubernetes', 'tls', 'server.crt'), 'utf8'),
    key: readFileSync(fixturePath('kubernetes', 'tls', 'server.key'), 'utf8'),
  };
}

/** The items of a fixture List under test/fixtures/kubernetes/, as fresh copies. */
export function fixtureItems(file: string): KubeObject[] {
  const list = JSON.parse(readFileSync(fixturePath('kubernetes', file), 'utf8')) as { items: KubeObject[] };
  return list.items;
}

function status(code: number, reason: string, message: string, details: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

function fieldAt(obj: unknown, dotted: string): string | undefined {
  let cur: unknown = obj;
  for (const p of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}

/** fieldSelector with `a=b`, `a==b`, `a!=b` terms joined by commas. */
function matchesFieldSelector(obj: unknown, selector: string | null): boolean {
  if (selector === null || selector === '') return true;
  for (const term of selector.split(',')) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (m === null) return false;
    const value = fieldAt(obj, m[1]!) ?? '';
    if (m[2] === '!=' ? value === m[3] : value !== m[3]) return false;
  }
  return true;
}

function key(obj: KubeObject): string {
  return `${String(obj.metadata.namespace ?? '')}/${String(obj.metadata.name)}`;
}

/**
 * The server. Start with `KubeApiServer.start()`; load objects with `load`; change them with
 * `emit` (which feeds open watches); script failures with `forbid`, `garbage`, `hold`, `compact`,
 * `uninstall`; observe with `requests`, `waitForRequest`, `waitForWatch`. `close` ends every
 * connection.
 */
export class KubeApiServer {
  readonly token = 'dw-test-token-3f9a';
  readonly ca: string;
  #server!: Server;
  #url = '';
  #rv = 1000;
  #seq = 0;
  readonly #store = new Map<ResourceName, Map<string, KubeObject>>();
  readonly #history = new Map<ResourceName, HistoryEntry[]>();
  /** Watches from a resourceVersion below this get 410 Gone. */
  readonly #compactedBelow = new Map<ResourceName, number>();
  readonly #installed = new Set<ResourceName>();
  readonly #forbidden: { resource: ResourceName; verb: 'list' | 'watch' }[] = [];
  readonly #garbage = new Map<ResourceName, string>();
  readonly #holds: Hold[] = [];
  readonly #watches = new Set<OpenWatch>();
  readonly #sockets = new Set<Socket>();
  readonly #requestWaiters: { match: (r: RecordedRequest) => boolean; since: number; resolve: (r: RecordedRequest) => void }[] = [];
  readonly #watchWaiters: { match: (r: RecordedRequest) => boolean; since: number; resolve: (r: RecordedRequest) => void }[] = [];
  readonly #establishedWatches: RecordedRequest[] = [];
  readonly #closedWaiters: { resource: ResourceName; resolve: () => void }[] = [];
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** How a too-old watch is refused: an ERROR event in a 200 stream (kube-apiserver's way) or HTTP 410. */
  goneAs: 'event' | 'http' = 'event';

  private constructor(ca: string) {
    this.ca = ca;
    for (const r of Object.keys(RESOURCES) as ResourceName[]) {
      if (!RESOURCES[r].custom) this.#installed.add(r);
      this.#store.set(r, new Map());
      this.#history.set(r, []);
    }
  }

  /** Starts on 127.0.0.1 on a free port. */
  static async start(): Promise<KubeApiServer> {
    const tls = testTls();
    const s = new KubeApiServer(tls.ca);
    s.#server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => s.#handle(req, res));
    s.#server.on('connection', (socket: Socket) => {
      s.#sockets.add(socket);
      socket.on('close', () => s.#sockets.delete(socket));
    });
    s.#server.on('secureConnection', (socket: Socket) => {
      s.#sockets.add(socket);
      socket.on('close', () => s.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.#url = `https://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    return s;
  }

  get url(): string {
    return this.#url;
  }

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Replaces the objects of `resource`; each gets a fresh resourceVersion. Does not notify watches. */
  load(resource: ResourceName, objects: readonly KubeObject[]): void {
    const m = new Map<string, KubeObject>();
    for (const o of objects) {
      const copy = structuredClone(o);
      copy.metadata.resourceVersion = String(++this.#rv);
      m.set(key(copy), copy);
    }
    this.#store.set(resource, m);
    if (RESOURCES[resource].custom) this.#installed.add(resource);
  }

  /** Makes a custom resource's API answer (listing nothing until loaded). */
  install(resource: ResourceName): void {
    this.#installed.add(resource);
  }

  /** Makes a custom resource's API answer 404, as when its CRD is not installed. */
  uninstall(resource: ResourceName): void {
    this.#installed.delete(resource);
  }

  /** Answers 403 Forbidden (a real RBAC Status body) to `verb` on `resource`. */
  forbid(resource: ResourceName, verb: 'list' | 'watch' = 'list'): void {
    this.#forbidden.push({ resource, verb });
  }

  /** Lifts every `forbid`. */
  allowAll(): void {
    this.#forbidden.length = 0;
  }

  /** Answers lists of `resource` with 200, Content-Type application/json, and `body`. */
  garbage(resource: ResourceName, body = '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"12'): void {
    this.#garbage.set(resource, body);
  }

  /** Holds requests matching `match` unanswered until the returned release is called (or close). */
  hold(match: (r: RecordedRequest) => boolean): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h: Hold = { match, gate };
    this.#holds.push(h);
    return () => {
      const i = this.#holds.indexOf(h);
      if (i >= 0) this.#holds.splice(i, 1);
      release();
    };
  }

  /**
   * Writes an object as etcd would: a new resourceVersion, the store updated, the change kept in
   * the history and sent to every open watch it matches. Returns the new resourceVersion.
   */
  emit(resource: ResourceName, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): number {
    const copy = structuredClone(object);
    const rv = ++this.#rv;
    copy.metadata.resourceVersion = String(rv);
    if (type === 'DELETED') this.#store.get(resource)!.delete(key(copy));
    else this.#store.get(resource)!.set(key(copy), copy);
    this.#history.get(resource)!.push({ rv, type, object: copy });
    for (const w of this.#watches) {
      if (w.resource === resource && this.#visible(w.namespace, w.fieldSelector, copy)) this.#send(w.res, type, copy, resource);
    }
    return rv;
  }

  /**
   * Advances the resourceVersion (as writes to other resources do) and sends a BOOKMARK carrying
   * it to every open watch of `resource`. Returns that resourceVersion.
   */
  bookmark(resource: ResourceName): number {
    const rv = ++this.#rv;
    const r = RESOURCES[resource];
    for (const w of this.#watches) {
      if (w.resource !== resource || w.res.writableEnded || w.res.destroyed) continue;
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, metadata: { resourceVersion: String(rv) } } }) + '\n');
    }
    return rv;
  }

  /** Forgets the history of `resource`: a watch from any resourceVersion before now gets 410 Gone. */
  compact(resource: ResourceName): void {
    this.#compactedBelow.set(resource, this.#rv + 1);
    this.#history.set(resource, []);
  }

  /** Ends the open watches of `resource`: cleanly (end of stream) or by destroying the socket. */
  dropWatches(resource: ResourceName, how: 'end' | 'destroy' = 'end'): number {
    let n = 0;
    for (const w of [...this.#watches]) {
      if (w.resource !== resource) continue;
      n++;
      if (how === 'end') w.res.end();
      else w.res.destroy();
    }
    return n;
  }

  /** Open watches of `resource`. */
  openWatches(resource: ResourceName): number {
    let n = 0;
    for (const w of this.#watches) if (w.resource === resource) n++;
    return n;
  }

  /** Resolves when no watch of `resource` is open (after a client stopped watching). */
  waitForWatchesClosed(resource: ResourceName): Promise<void> {
    if (this.openWatches(resource) === 0) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push({ resource, resolve }));
  }

  #watchClosed(w: OpenWatch): void {
    if (!this.#watches.delete(w)) return;
    if (this.openWatches(w.resource) > 0) return;
    for (const waiter of [...this.#closedWaiters]) {
      if (waiter.resource !== w.resource) continue;
      this.#closedWaiters.splice(this.#closedWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** The first request with seq >= `since` matching `match`, now or when it arrives. */
  waitForRequest(match: (r: RecordedRequest) => boolean, since = 0): Promise<RecordedRequest> {
    const found = this.requests.find((r) => r.seq >= since && match(r));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#requestWaiters.push({ match, since, resolve }));
  }

  /** The first watch with seq >= `since` matching `match` once it is open (history replayed). */
  waitForWatch(match: (r: RecordedRequest) => boolean, since = 0): Promise<RecordedRequest> {
    const found = this.#establishedWatches.find((r) => r.seq >= since && match(r));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#watchWaiters.push({ match, since, resolve }));
  }

  /** The seq the next request will get: pass it as `since` to wait for later requests only. */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Closes the server and every connection (held requests and watches included). */
  async close(): Promise<void> {
    for (const h of [...this.#holds]) this.#holds.splice(this.#holds.indexOf(h), 1);
    for (const w of this.#watches) w.res.destroy();
    this.#watches.clear();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #visible(namespace: string | undefined, fieldSelector: string | null, obj: KubeObject): boolean {
    if (namespace !== undefined && obj.metadata.namespace !== namespace) return false;
    return matchesFieldSelector(obj, fieldSelector);
  }

  #send(res: ServerResponse, type: string, obj: KubeObject, resource: ResourceName): void {
    if (res.writableEnded || res.destroyed) return;
    const r = RESOURCES[resource];
    const object = { kind: r.kind, apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, ...obj };
    res.write(JSON.stringify({ type, object }) + '\n');
  }

  #json(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  #route(path: string): { resource: ResourceName; namespace: string | undefined } | 'discovery' | undefined {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(path);
    if (m === null) return path === '/api' || path === '/apis' || path === '/version' ? 'discovery' : undefined;
    const [, coreVersion, group, version, namespace, plural] = m;
    for (const [name, r] of Object.entries(RESOURCES) as [ResourceName, ResourceType][]) {
      const sameGroup = coreVersion !== undefined ? r.group === '' && r.version === coreVersion : r.group === group && r.version === version;
      if (sameGroup && r.plural === plural && (namespace === undefined || r.namespaced)) {
        return { resource: name, namespace: namespace === undefined ? undefined : decodeURIComponent(namespace) };
      }
    }
    return undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const route = this.#route(url.pathname);
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const recorded: RecordedRequest = {
      seq: this.#seq++, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams,
      resource: typeof route === 'object' ? route.resource : undefined, namespace: typeof route === 'object' ? route.namespace : undefined,
      watch, authorization: req.headers.authorization,
      closed: new Promise<void>((resolve) => res.on('close', () => resolve())),
    };
    this.requests.push(recorded);
    for (const w of [...this.#requestWaiters]) {
      if (recorded.seq >= w.since && w.match(recorded)) {
        this.#requestWaiters.splice(this.#requestWaiters.indexOf(w), 1);
        w.resolve(recorded);
      }
    }
    for (const h of this.#holds) {
      if (h.match(recorded)) {
        await h.gate;
        break;
      }
    }
    if (res.destroyed) return;
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.#json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    if (req.method !== 'GET') {
      return this.#json(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (this test server only lists and watches)`));
    }
    if (route === 'discovery') return this.#discovery(url.pathname, res);
    if (route === undefined || !this.#installed.has(route.resource)) {
      return this.#json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const verb = watch ? 'watch' : 'list';
    const r = RESOURCES[route.resource];
    if (this.#forbidden.some((f) => f.resource === route.resource && f.verb === verb)) {
      const resName = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
      const scope = route.namespace === undefined ? 'at the cluster scope' : `in the namespace "${route.namespace}"`;
      const message = `${resName} is forbidden: User "system:serviceaccount:driftwatch:driftwatch" cannot ${verb} resource "${r.plural}" in API group "${r.group}" ${scope}`;
      return this.#json(res, 403, status(403, 'Forbidden', message, { group: r.group, kind: r.plural }));
    }
    if (watch) return this.#watch(route.resource, route.namespace, url.searchParams, res, recorded);
    const garbage = this.#garbage.get(route.resource);
    if (garbage !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(garbage);
      return;
    }
    this.#list(route.resource, route.namespace, url.searchParams, res);
  }

  #list(resource: ResourceName, namespace: string | undefined, q: URLSearchParams, res: ServerResponse): void {
    const r = RESOURCES[resource];
    const all = [...this.#store.get(resource)!.values()]
      .filter((o) => this.#visible(namespace, q.get('fieldSelector'), o))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const offset = q.has('continue') ? Number(Buffer.from(q.get('continue')!, 'base64url').toString('utf8')) : 0;
    const limit = q.has('limit') ? Number(q.get('limit')) : 0;
    const end = limit > 0 ? Math.min(all.length, offset + limit) : all.length;
    const items = all.slice(offset, end).map((o) => {
      if (r.custom) return o;
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    const metadata: Record<string, unknown> = { resourceVersion: String(this.#rv) };
    if (end < all.length) {
      metadata.continue = Buffer.from(String(end), 'utf8').toString('base64url');
      metadata.remainingItemCount = all.length - end;
    }
    this.#json(res, 200, { kind: `${r.kind}List`, apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, metadata, items });
  }

  #watch(resource: ResourceName, namespace: string | undefined, q: URLSearchParams, res: ServerResponse, recorded: RecordedRequest): void {
    const fromText = q.get('resourceVersion');
    const from = fromText === null || fromText === '' || fromText === '0' ? undefined : Number(fromText);
    const compactedBelow = this.#compactedBelow.get(resource) ?? 0;
    if (from !== undefined && (!Number.isFinite(from) || from < compactedBelow - 1)) {
      const message = `too old resource version: ${fromText} (${compactedBelow - 1})`;
      if (this.goneAs === 'http') return this.#json(res, 410, status(410, 'Expired', message));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', message) }) + '\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const fieldSelector = q.get('fieldSelector');
    if (from === undefined) {
      for (const o of this.#store.get(resource)!.values()) if (this.#visible(namespace, fieldSelector, o)) this.#send(res, 'ADDED', o, resource);
    } else {
      for (const h of this.#history.get(resource)!) {
        if (h.rv > from && this.#visible(namespace, fieldSelector, h.object)) this.#send(res, h.type, h.object, resource);
      }
    }
    const w: OpenWatch = { resource, namespace, fieldSelector, res, request: recorded };
    this.#watches.add(w);
    res.on('close', () => this.#watchClosed(w));
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    if (timeoutSeconds > 0) {
      const t = setTimeout(() => {
        if (this.#watches.has(w)) res.end();
      }, timeoutSeconds * 1000);
      t.unref();
      res.on('close', () => clearTimeout(t));
    }
    this.#establishedWatches.push(recorded);
    for (const waiter of [...this.#watchWaiters]) {
      if (recorded.seq >= waiter.since && waiter.match(recorded)) {
        this.#watchWaiters.splice(this.#watchWaiters.indexOf(waiter), 1);
        waiter.resolve(recorded);
      }
    }
  }

  #discovery(path: string, res: ServerResponse): void {
    if (path === '/version') {
      return this.#json(res, 200, {
        major: '1', minor: '29', gitVersion: 'v1.29.3+k3s1', gitCommit: '8aecc26b0f02b3ba7d1de45e6bc2f08e2c82c4ff', gitTreeState: 'clean',
        buildDate: '2024-03-25T21:59:02Z', goVersion: 'go1.21.8', compiler: 'gc', platform: 'linux/amd64',
      });
    }
    if (path === '/api') {
      return this.#json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.#url.replace('https://', '') }] });
    }
    const groups = new Map<string, string>();
    for (const name of this.#installed) {
      const r = RESOURCES[name];
      if (r.group !== '') groups.set(r.group, r.version);
    }
    this.#json(res, 200, {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [...groups].map(([name, version]) => ({
        name, versions: [{ groupVersion: `${name}/${version}`, version }], preferredVersion: { groupVersion: `${name}/${version}`, version },
      })),
    });
  }
}

// Failure modes of the kubernetes source: target down, timeout, garbage, permission denied,
// bad kubeconfig. Each is a SourceError with its DW_SOURCE_* code and a message that names the
// request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createKubernetesSource } from '../../../../collector/sources/kubernetes/index.js';
import type { SourceError } from '../../../../collector/sources/errors.js';
import { KubeApiServer, testTls } from '../../../helpers/kube-api-server.js';
import { collectContext, deps, loadSite, sourceConfig, tempDir, writeKubeconfig } from './helpers.js';

async function withServer(fn: (server: KubeApiServer, dir: string) => Promise<void>): Promise<void> {
  const server = await KubeApiServer.start();
  const { dir, cleanup } = await tempDir();
  try {
    loadSite(server);
    await fn(server, dir);
  } finally {
    await server.close();
    await cleanup();
  }
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function expectCode(code: string, message?: RegExp) {
  return (err: unknown): boolean => {
    const e = err as SourceError;
    assert.equal(e.name, 'SourceError', String(err));
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  };
}

test('target down (closed port): DW_SOURCE_UNREACHABLE naming the server', async () => {
  await withServer(async (server, dir) => {
    const url = `https://127.0.0.1:${await closedPort()}`;
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server, { url })), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_UNREACHABLE', new RegExp(`${url.replace(/\./g, '\\.')}.*ECONNREFUSED`)));
    } finally {
      await source.close?.();
    }
  });
});

test('slow server: DW_SOURCE_TIMEOUT at the deadline, and the request in flight is aborted', async () => {
  await withServer(async (server, dir) => {
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false }), deps());
    const release = server.hold((r) => r.resource === 'deployments');
    try {
      const started = Date.now();
      await assert.rejects(source.collect(collectContext(300)), expectCode('DW_SOURCE_TIMEOUT', /list deployments\.apps in all namespaces.*within (29\d|300) ms/));
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1500, `failed after ${elapsed} ms`);
      const held = await server.waitForRequest((r) => r.resource === 'deployments');
      await held.closed; // the client closed the connection: nothing is left hanging
    } finally {
      release();
      await source.close?.();
    }
  });
});

test('an aborted signal (agent stopping) ends the collection at once with DW_SOURCE_TIMEOUT', async () => {
  await withServer(async (server, dir) => {
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false }), deps());
    const release = server.hold((r) => r.resource === 'pods');
    const abort = new AbortController();
    try {
      const pending = source.collect(collectContext(60_000, abort.signal));
      const held = await server.waitForRequest((r) => r.resource === 'pods');
      abort.abort();
      await assert.rejects(pending, expectCode('DW_SOURCE_TIMEOUT', /list pods/));
      await held.closed;
    } finally {
      release();
      await source.close?.();
    }
  });
});

test('garbage body (truncated JSON): DW_SOURCE_BAD_RESPONSE naming the request', async () => {
  await withServer(async (server, dir) => {
    server.garbage('pods');
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false }), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_BAD_RESPONSE', /expected JSON from list pods in all namespaces/));
    } finally {
      await source.close?.();
    }
  });
});

test('JSON that is not a List: DW_SOURCE_BAD_RESPONSE', async () => {
  await withServer(async (server, dir) => {
    server.garbage('nodes', '{"kind":"Status","apiVersion":"v1","status":"Success"}');
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false }), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_BAD_RESPONSE', /expected a List with an items array from list nodes/));
    } finally {
      await source.close?.();
    }
  });
});

test('403 on a required kind: DW_SOURCE_PERMISSION_DENIED naming the verb and resource', async () => {
  await withServer(async (server, dir) => {
    server.forbid('deployments');
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server)), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_PERMISSION_DENIED',
        /refused to list deployments\.apps in all namespaces: 403 Forbidden.*deployments\.apps is forbidden: User "system:serviceaccount:driftwatch:driftwatch" cannot list resource "deployments"/));
    } finally {
      await source.close?.();
    }
  });
});

test('a token the server does not accept (401): DW_SOURCE_PERMISSION_DENIED', async () => {
  await withServer(async (server, dir) => {
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server, { token: 'expired' }), { events: false }), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_PERMISSION_DENIED', /401 Unauthorized/));
    } finally {
      await source.close?.();
    }
  });
});

test('a server certificate the kubeconfig does not trust: DW_SOURCE_FAILED naming TLS', async () => {
  await withServer(async (server, dir) => {
    // Another CA: the server's own certificate stands in for it (it signs nothing).
    const other = testTls().cert;
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server, { ca: other }), { events: false }), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_FAILED', /expected a trusted TLS certificate from https:\/\/127\.0\.0\.1:\d+ for list /));
    } finally {
      await source.close?.();
    }
  });
});

test('a missing kubeconfig or context: DW_SOURCE_FAILED saying what was expected', async () => {
  await withServer(async (server, dir) => {
    const missing = createKubernetesSource(sourceConfig(`${dir}/nope.yaml`), deps());
    await assert.rejects(missing.collect(collectContext()), expectCode('DW_SOURCE_FAILED', /expected a readable kubeconfig at .*nope\.yaml/));
    const kubeconfig = await writeKubeconfig(dir, server);
    const wrongContext = createKubernetesSource(sourceConfig(kubeconfig, { context: 'shop-9999' }), deps());
    await assert.rejects(wrongContext.collect(collectContext()), expectCode('DW_SOURCE_FAILED', /expected context "shop-9999" .* found only: shop-0142/));
    // A failed collection leaves the source usable: the next one tries again.
    const ok = createKubernetesSource(sourceConfig(kubeconfig, { context: 'shop-0142', events: false }), deps());
    assert.ok((await ok.collect(collectContext())).samples.length > 0);
  });
});

test('the source recovers after the server comes back', async () => {
  await withServer(async (server, dir) => {
    server.forbid('nodes');
    const source = createKubernetesSource(sourceConfig(await writeKubeconfig(dir, server), { events: false }), deps());
    try {
      await assert.rejects(source.collect(collectContext()), expectCode('DW_SOURCE_PERMISSION_DENIED', /list nodes:/));
      server.allowAll();
      assert.ok((await source.collect(collectContext())).samples.length > 0);
    } finally {
      await source.close?.();
    }
  });
});

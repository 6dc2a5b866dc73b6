// The prometheus source against a real node_exporter (Debian prometheus-node-exporter) on a
// loopback port, its values controlled through the textfile collector; failure modes against
// a closed port and a tiny local HTTP server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createPrometheusSource, prometheusConfigSchema } from '../../../../collector/sources/prometheus/index.js';
import { seriesKey, type Sample } from '../../../../proto/index.js';
import { freeTcpPort, missingBinary } from '../../../helpers/free-port.js';
import { NODE_EXPORTER_PATH, type NodeExporter, startNodeExporter } from '../../../helpers/node-exporter.js';
import { testContext, testDeps } from '../../../helpers/source-context.js';

const skip = await missingBinary(NODE_EXPORTER_PATH, 'prometheus-node-exporter');

const TEXTFILE = `# HELP dw_app_version_info The running app version.
# TYPE dw_app_version_info gauge
dw_app_version_info{app="pos",version="4.2.1"} 1
# TYPE dw_disk_free_bytes gauge
dw_disk_free_bytes{mount="/data"} 123456789
dw_disk_free_bytes{mount="/var"} 0.5
# TYPE dw_temperature_celsius gauge
dw_temperature_celsius{sensor="cpu"} NaN
dw_temperature_celsius{sensor="gpu"} +Inf
# TYPE dw_secret_token_age_seconds gauge
dw_secret_token_age_seconds 12
# TYPE dw_request_seconds histogram
dw_request_seconds_bucket{handler="checkout",le="0.1"} 3
dw_request_seconds_bucket{handler="checkout",le="+Inf"} 5
dw_request_seconds_sum{handler="checkout"} 1.5
dw_request_seconds_count{handler="checkout"} 5
dw_request_seconds_bucket{handler="login",le="0.1"} 1
dw_request_seconds_bucket{handler="login",le="+Inf"} 1
dw_request_seconds_sum{handler="login"} 0.02
dw_request_seconds_count{handler="login"} 1
`;

function config(url: string, extra: Record<string, unknown> = {}) {
  return prometheusConfigSchema.parse({ kind: 'prometheus', name: 'node', url, allow: ['dw_*'], ...extra });
}

const byKey = (samples: readonly Sample[]): string[] =>
  samples.map((s) => `${seriesKey(s.name, s.labels)} ${String(s.value)}`).sort();

describe('prometheus source against a real node_exporter', { skip }, () => {
  let exporter: NodeExporter;
  before(async () => {
    exporter = await startNodeExporter({ app: TEXTFILE });
  });
  after(async () => {
    await exporter?.cleanup();
  });

  test('allow and deny lists select exactly the series; values from the textfile collector exact', async () => {
    const source = createPrometheusSource(config(exporter.url, {
      allow: ['dw_app_*', 'dw_disk_free_bytes', 'dw_temperature_celsius', 'dw_secret_*', 'dw_request_seconds_sum', 'dw_request_seconds_count', 'node_load1'],
      deny: ['dw_secret_*'],
    }), testDeps());
    assert.equal(source.kind, 'prometheus');
    const { samples, events } = await source.collect(testContext(5000));
    assert.deepEqual(events, []);
    const instance = `127.0.0.1:${exporter.port}`;
    const load1 = samples.find((s) => s.name === 'node_load1');
    assert.ok(load1 !== undefined && typeof load1.value === 'number' && load1.value >= 0);
    assert.deepEqual(byKey(samples.filter((s) => s.name !== 'node_load1')), [
      `dw_app_version_info{app="pos",instance="${instance}",version="4.2.1"} 1`,
      `dw_disk_free_bytes{instance="${instance}",mount="/data"} 123456789`,
      `dw_disk_free_bytes{instance="${instance}",mount="/var"} 0.5`,
      `dw_request_seconds_count{handler="checkout",instance="${instance}"} 5`,
      `dw_request_seconds_count{handler="login",instance="${instance}"} 1`,
      `dw_request_seconds_sum{handler="checkout",instance="${instance}"} 1.5`,
      `dw_request_seconds_sum{handler="login",instance="${instance}"} 0.02`,
      `dw_temperature_celsius{instance="${instance}",sensor="cpu"} NaN`,
      `dw_temperature_celsius{instance="${instance}",sensor="gpu"} Infinity`,
    ]);
    assert.ok(samples.every((s) => s.type === 'float'));
  });

  test('histogram buckets only when allowed by name; static labels, the exporter\'s kept as exported_*', async () => {
    const source = createPrometheusSource(config(exporter.url, { allow: ['dw_request_seconds_bucket', 'dw_app_version_info'], labels: { instance: 'shop-42', app: 'agent' } }), testDeps());
    const { samples } = await source.collect(testContext(5000));
    assert.deepEqual(byKey(samples), [
      'dw_app_version_info{app="agent",exported_app="pos",instance="shop-42",version="4.2.1"} 1',
      'dw_request_seconds_bucket{app="agent",handler="checkout",instance="shop-42",le="+Inf"} 5',
      'dw_request_seconds_bucket{app="agent",handler="checkout",instance="shop-42",le="0.1"} 3',
      'dw_request_seconds_bucket{app="agent",handler="login",instance="shop-42",le="+Inf"} 1',
      'dw_request_seconds_bucket{app="agent",handler="login",instance="shop-42",le="0.1"} 1',
    ]);
  });

  test('a new value in the textfile is seen by the next scrape', async () => {
    const source = createPrometheusSource(config(exporter.url, { allow: ['dw_app_version_info'] }), testDeps());
    await exporter.writeTextfile('app', TEXTFILE.replace('version="4.2.1"', 'version="4.3.0"'));
    try {
      const { samples } = await source.collect(testContext(5000));
      assert.deepEqual(samples.map((s) => s.labels['version']), ['4.3.0']);
    } finally {
      await exporter.writeTextfile('app', TEXTFILE);
    }
  });

  test('a body over maxBytes → TOO_LARGE', async () => {
    const source = createPrometheusSource(config(exporter.url, { maxBytes: '1KiB' }), testDeps());
    await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_TOO_LARGE', message: /expected at most 1024 bytes \(maxBytes\)/ });
  });
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer(handler: Handler, fn: (url: string) => Promise<void>): Promise<void> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  try {
    await fn(`http://127.0.0.1:${port}/metrics`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('prometheus source failure modes', () => {
  test('a closed port → UNREACHABLE', async () => {
    const port = await freeTcpPort();
    const source = createPrometheusSource(config(`http://127.0.0.1:${port}/metrics`), testDeps());
    await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_UNREACHABLE', message: /found ECONNREFUSED/ });
  });

  test('HTTP 403 and 401 → PERMISSION_DENIED; 500 → BAD_RESPONSE with the status', async () => {
    for (const [status, code] of [[403, 'DW_SOURCE_PERMISSION_DENIED'], [401, 'DW_SOURCE_PERMISSION_DENIED'], [500, 'DW_SOURCE_BAD_RESPONSE']] as const) {
      await withServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end('go away\n');
      }, async (url) => {
        const source = createPrometheusSource(config(url), testDeps());
        await assert.rejects(source.collect(testContext(5000)), (e: Error & { code?: string }) => {
          assert.equal(e.code, code);
          assert.match(e.message, new RegExp(`found (HTTP )?${status} .*: go away`));
          return true;
        });
      });
    }
  });

  test('a garbage body (HTML) → BAD_RESPONSE naming the line', async () => {
    await withServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>\n<h1>Login</h1>\n</body></html>\n');
    }, async (url) => {
      const source = createPrometheusSource(config(url), testDeps());
      await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /expected a sample line \(metric name, labels, value\) at line 1, found "<html><body>"/ });
    });
  });

  test('a server that does not speak HTTP → BAD_RESPONSE', async () => {
    const server = createTcpServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const a = server.address();
      const source = createPrometheusSource(config(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/metrics`), testDeps());
      await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /expected an HTTP response from .*, found one that does not parse \(HPE_/ });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a bad value or label syntax in an allowed line → BAD_RESPONSE', async () => {
    for (const [body, found] of [['dw_x{a="1"} twelve\n', /value of dw_x\{a="1",instance="127\.0\.0\.1:\d+"\}, found "twelve"/], ['dw_x{a=1} 1\n', /found: Encountered invalid line: dw_x\{a=1\} 1/], ['dw_x{a="1" 1\n', /found: Encountered invalid line: dw_x\{a="1" 1/], ['dw_x{a="1 1\n', /value of dw_x\{instance="127\.0\.0\.1:\d+"\}, found ""/]] as const) {
      await withServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
      }, async (url) => {
        const source = createPrometheusSource(config(url), testDeps());
        await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: found });
      });
    }
  });

  test('OpenMetrics: # EOF required, exemplars and _total fine', async () => {
    const om = '# TYPE dw_jobs counter\n# HELP dw_jobs Jobs.\ndw_jobs_total{queue="a"} 17 # {trace_id="abc"} 1 1700000000.1\ndw_jobs_created{queue="a"} 1.7e9\n';
    for (const [body, ok] of [[`${om}# EOF\n`, true], [om, false]] as const) {
      await withServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(body);
      }, async (url) => {
        const source = createPrometheusSource(config(url, { labels: { instance: 'x' } }), testDeps());
        if (ok) {
          const { samples } = await source.collect(testContext(5000));
          assert.deepEqual(byKey(samples), ['dw_jobs_created{instance="x",queue="a"} 1700000000', 'dw_jobs_total{instance="x",queue="a"} 17']);
        } else {
          await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /ending with "# EOF", found none/ });
        }
      });
    }
  });

  test('no answer before the deadline → TIMEOUT; headers then a stalled body → TIMEOUT', async () => {
    const handlers: Handler[] = [
      () => { /* never answers */ },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('dw_x 1\n'); // and never ends
      },
    ];
    for (const handler of handlers) {
      await withServer(handler, async (url) => {
        const source = createPrometheusSource(config(url, { timeout: '300ms' }), testDeps());
        const started = Date.now();
        await assert.rejects(source.collect(testContext(10_000)), { code: 'DW_SOURCE_TIMEOUT', message: /within 300ms/ });
        assert.ok(Date.now() - started < 3000);
      });
    }
  });

  test('an endless body → TOO_LARGE, reading stops at maxBytes; a large Content-Length → TOO_LARGE unread', async () => {
    let written = 0;
    await withServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.from('dw_filler{a="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} 1\n'.repeat(1000));
      const pump = (): void => {
        while (!res.destroyed && written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    }, async (url) => {
      const source = createPrometheusSource(config(url, { maxBytes: '256KiB' }), testDeps());
      await assert.rejects(source.collect(testContext(10_000)), { code: 'DW_SOURCE_TOO_LARGE', message: /stopped reading at \d+ bytes/ });
    });
    assert.ok(written < 64 * 1024 * 1024, `the server wrote ${written} bytes`);
    await withServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(20 * 1024 * 1024) });
      res.write('dw_x 1\n');
    }, async (url) => {
      const source = createPrometheusSource(config(url), testDeps());
      await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_TOO_LARGE', message: /found Content-Length 20971520/ });
    });
  });

  test('gzip bodies, the bearer token from a file and extra headers are sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-prom-'));
    try {
      await writeFile(join(dir, 'token'), 's3cret\n');
      let seen: IncomingMessage | undefined;
      await withServer((req, res) => {
        seen = req;
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-encoding': 'gzip' }).end(gzipSync('dw_x 1\ndw_y 2'));
      }, async (url) => {
        const source = createPrometheusSource(config(url, { bearerTokenFile: join(dir, 'token'), headers: { 'X-Site': 'shop-42' }, labels: { instance: '' } }), testDeps());
        const { samples } = await source.collect(testContext(5000));
        // The last line has no newline: still read.
        assert.deepEqual(samples.map((s) => [s.name, s.labels, s.value]), [['dw_x', {}, 1], ['dw_y', {}, 2]]);
      });
      assert.equal(seen?.headers['authorization'], 'Bearer s3cret');
      assert.equal(seen?.headers['x-site'], 'shop-42');
      assert.match(String(seen?.headers['accept']), /^text\/plain;version=0\.0\.4/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('more allowed series than maxSeries → TOO_LARGE; an abort by the agent → FAILED', async () => {
    await withServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('dw_a 1\ndw_b 2\ndw_c 3\n');
    }, async (url) => {
      const source = createPrometheusSource(config(url, { maxSeries: 2 }), testDeps());
      await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_TOO_LARGE', message: /at most 2 allowed series/ });
    });
    await withServer(() => { /* never answers */ }, async (url) => {
      const source = createPrometheusSource(config(url), testDeps());
      const ctx = testContext(5000);
      const p = source.collect(ctx);
      setImmediate(() => ctx.controller.abort(new Error('agent stopping')));
      await assert.rejects(p, { code: 'DW_SOURCE_FAILED', message: /aborted \(agent stopping\)/ });
    });
  });
});

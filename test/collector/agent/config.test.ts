// The agent config: defaults, every problem at once with exact messages, YAML syntax errors
// with line and column, env and flag precedence, and the shipped example.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { shippingSection } from '../../../cmd/agent-shipping.js';
import { AgentError, loadAgentConfig, parseAgentConfig, type AgentConfig } from '../../../collector/agent/index.js';
import { SOURCE_KINDS } from '../../../collector/sources/registry.js';
import { repoRoot } from '../../helpers/paths.js';
import { tempDir } from './helpers.js';

const MINIMAL = `
site:
  id: shop-0042
store:
  dir: /var/lib/driftwatch/store
sources:
  - kind: host
    name: node
`;

function problemsOf(fn: () => unknown): { code: string; message: string; problems: readonly string[] } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AgentError, `expected an AgentError, found ${String(err)}`);
    return { code: err.code, message: err.message, problems: err.problems };
  }
  assert.fail('expected the config to be refused');
}

describe('agent config', () => {
  it('fills in every default, resolves each source\'s interval and timeout, and freezes', () => {
    const c = parseAgentConfig(MINIMAL, { file: 'agent.yaml' });
    assert.deepEqual(c, {
      site: { id: 'shop-0042', labels: {} },
      interval: 15_000,
      store: { dir: '/var/lib/driftwatch/store', diskBudget: 1024 ** 3, blockDuration: 300_000 },
      http: { listen: '127.0.0.1:9465' },
      log: { level: 'info' },
      sources: [{ kind: 'host', name: 'node', root: '/', filesystems: ['/'], perCpu: false, interval: 15_000, timeout: 10_000 }],
      sections: {},
    } satisfies AgentConfig);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sources[0]) && Object.isFrozen(c.store));
  });

  it('derives a source timeout of 80% of its interval, at most 10 s', () => {
    const c = parseAgentConfig(`${MINIMAL}  - kind: host\n    name: slow\n    interval: 1m\n  - kind: host\n    name: set\n    timeout: 3s\n`, { file: 'agent.yaml' });
    assert.deepEqual(c.sources.map((s) => [s.name, s.interval, s.timeout]), [['node', 15_000, 10_000], ['slow', 60_000, 10_000], ['set', 15_000, 3_000]]);
    const fast = parseAgentConfig(MINIMAL.replace('store:', 'interval: 5s\nstore:'), { file: 'agent.yaml' });
    assert.deepEqual([fast.sources[0]!.interval, fast.sources[0]!.timeout], [5_000, 4_000]);
  });

  it('reports every problem at once, in file order, with what was expected and found and where', () => {
    const text = `site:
  id: "shop 42"
  labels: { region: eu-west, "bad-label": x }
interval: 10
store:
  diskBudget: lots
  blockDuration: 7m
http:
  listen: localhost
  port: 9465
sources:
  - kind: host
    name: node
    filesystems: [var]
  - kind: snpm
    name: router
  - kind: prometheus
    name: node
    url: ftp://x
    allow: []
  - kind: host
    name: h2
    interval: 30s
    timeout: 1m
  - name: nokind
  - kind: host
    name: h3
    interval: 25s
`;
    const { code, message, problems } = problemsOf(() => parseAgentConfig(text, { file: 'bad.yaml' }));
    assert.equal(code, 'DW_AGENT_CONFIG_INVALID');
    const kinds = SOURCE_KINDS.map((k) => JSON.stringify(k)).join(', ');
    assert.deepEqual(problems, [
      'site.id: expected a site id of letters, digits, ".", "_" and "-" starting with a letter or digit, found "shop 42" (line 2, column 7)',
      'site.labels.bad-label: expected a label name such as region or tier (letters, digits, "_"), found "bad-label" (line 3, column 43)',
      'interval: expected at least 1s, found 10ms (line 4, column 11)',
      'store.dir: expected a string, found nothing (line 6, column 3)',
      'store.diskBudget: expected a size such as 4096, 64KiB, 512MiB, 1GB, found "lots" (line 6, column 15)',
      'store.blockDuration: expected a duration that divides 24h, such as 5m, 15m or 1h, found 7m (line 7, column 18)',
      'http.listen: expected host:port such as 127.0.0.1:9465, [::1]:9465 or :9465, or "" to disable, found "localhost" (line 9, column 11)',
      'http.port: expected one of the keys listen, found unknown key "port" (line 10, column 9)',
      'sources.0.filesystems.0: expected an absolute mount point such as /var, found "var" (line 14, column 19)',
      `sources.1.kind: expected one of ${kinds}, found "snpm" (line 15, column 11)`,
      'sources.2.name: expected a name no other source has, found "node" again (sources.0.name) (line 18, column 11)',
      'sources.2.url: expected an http:// or https:// URL, found "ftp://x" (line 19, column 10)',
      'sources.2.allow: expected at least one metric name or glob to allow, found an empty list (line 20, column 12)',
      'sources.3.timeout: expected a positive duration of at most the source\'s interval (30s), found 1m (line 24, column 14)',
      `sources.4.kind: expected one of ${kinds}, found nothing (line 25, column 5)`,
    ]);
    assert.equal(message, `bad.yaml: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
  });

  it('checks source intervals against the agent interval', () => {
    const { problems } = problemsOf(() => parseAgentConfig(`${MINIMAL}    interval: 25s\n`, { file: 'a.yaml' }));
    assert.deepEqual(problems, ['sources.0.interval: expected a multiple of the agent\'s interval (15s), found 25s (line 9, column 15)']);
    const block = problemsOf(() => parseAgentConfig(MINIMAL.replace('store:', 'interval: 10m\nstore:'), { file: 'a.yaml' }));
    assert.deepEqual(block.problems, ['store.blockDuration: expected at least the interval (10m), found 5m (line 6, column 3)']);
  });

  it('reports YAML syntax errors with their line and column', () => {
    const { code, problems } = problemsOf(() => parseAgentConfig('site:\n  id: x\n  id: y\nsources: [\n', { file: 'syntax.yaml' }));
    assert.equal(code, 'DW_AGENT_CONFIG_INVALID');
    assert.deepEqual(problems, [
      'line 3, column 3: expected valid YAML, found a syntax error: map keys must be unique (DUPLICATE_KEY)',
      'line 5, column 1: expected valid YAML, found a syntax error: flow sequence in block collection must be sufficiently indented and end with a ] (BAD_INDENT)',
    ]);
  });

  it('refuses a document that is not a mapping, and lists what an empty one lacks', () => {
    assert.deepEqual(problemsOf(() => parseAgentConfig('- a\n- b\n', { file: 'x.yaml' })).problems.slice(0, 1), [
      '(top level): expected a mapping of settings, found a list',
    ]);
    assert.deepEqual(problemsOf(() => parseAgentConfig('', { file: 'x.yaml' })).problems, [
      'site: expected a mapping, found nothing',
      'store: expected a mapping, found nothing',
      'sources: expected a list, found nothing',
    ]);
  });

  it('takes flags over env over the file over defaults, and says where a bad value came from', () => {
    const file = `${MINIMAL}http:\n  listen: 127.0.0.1:9999\n`;
    const env = { DRIFTWATCH_STORE_DIR: '/from/env', DRIFTWATCH_HTTP_LISTEN: '', DRIFTWATCH_INTERVAL: '30s', DRIFTWATCH_LOG_LEVEL: 'debug', HOME: '/root' };
    const fromEnv = parseAgentConfig(file, { file: 'a.yaml', env });
    assert.deepEqual([fromEnv.store.dir, fromEnv.http.listen, fromEnv.interval, fromEnv.log.level, fromEnv.sources[0]!.interval], ['/from/env', '', 30_000, 'debug', 30_000]);
    const fromFlags = parseAgentConfig(file, { file: 'a.yaml', env, flags: { 'store-dir': '/from/flag', 'site-id': 'shop-7', 'disk-budget': '64MiB' } });
    assert.deepEqual([fromFlags.store.dir, fromFlags.site.id, fromFlags.store.diskBudget, fromFlags.http.listen], ['/from/flag', 'shop-7', 64 * 2 ** 20, '']);
    const fileOnly = parseAgentConfig(file, { file: 'a.yaml', env: {} });
    assert.deepEqual([fileOnly.store.dir, fileOnly.http.listen, fileOnly.interval], ['/var/lib/driftwatch/store', '127.0.0.1:9999', 15_000]);

    const { problems } = problemsOf(() => parseAgentConfig(file, {
      file: 'a.yaml', env: { DRIFTWATCH_INTERVAL: 'often', DRIFTWATCH_LOG_LEVEL: 'loud' }, flags: { 'disk-budget': '-1' },
    }));
    assert.deepEqual(problems, [
      'interval: expected a duration such as 500ms, 15s, 5m, 24h, found "often" (from DRIFTWATCH_INTERVAL)',
      'store.diskBudget: expected a size such as 4096, 64KiB, 512MiB, 1GB, found "-1" (from --disk-budget)',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", found "loud" (from DRIFTWATCH_LOG_LEVEL)',
    ]);
  });

  it('fills a missing section from env or flags', () => {
    const c = parseAgentConfig('site:\n  id: s\nsources:\n  - kind: host\n    name: node\n', { file: 'a.yaml', flags: { 'store-dir': '/tmp/x' } });
    assert.equal(c.store.dir, '/tmp/x');
  });

  it('says DW_AGENT_CONFIG_UNREADABLE for a missing, unreadable or directory path', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await assert.rejects(loadAgentConfig({ file: join(dir, 'nope.yaml') }), {
        code: 'DW_AGENT_CONFIG_UNREADABLE', message: `expected a readable YAML config file at ${join(dir, 'nope.yaml')}, found nothing there`,
      });
      await assert.rejects(loadAgentConfig({ file: dir }), { code: 'DW_AGENT_CONFIG_UNREADABLE', message: `expected a readable YAML config file at ${dir}, found a directory` });
      const ok = join(dir, 'agent.yaml');
      await writeFile(ok, MINIMAL);
      assert.equal((await loadAgentConfig({ file: ok })).site.id, 'shop-0042');
    } finally {
      await cleanup();
    }
  });

  it('validates the shipped example, which has every source kind and a shipping section', async () => {
    const file = join(repoRoot, 'examples', 'agent.yaml');
    const c = await loadAgentConfig({ file, env: {}, sections: { shipping: shippingSection({}) } });
    assert.deepEqual([...new Set(c.sources.map((s) => s.kind))].sort(), [...SOURCE_KINDS].sort());
    assert.equal((c.sections.shipping as { aggregator?: string } | undefined)?.aggregator, 'aggregator.example.com:7443');
    // Without the shipper's section the key is unknown, like any other.
    await assert.rejects(loadAgentConfig({ file, env: {} }), /unknown key "shipping"/);
    assert.deepEqual([...SOURCE_KINDS].sort(), ['exec', 'host', 'kubernetes', 'prometheus', 'snmp']);
  });

  it('reports problems of the shipping section together with the rest of the file', () => {
    const text = [
      'site: { id: shop-1 }', 'interval: 0s', 'store: { dir: /tmp/x }',
      'sources: [{ kind: host, name: node }]',
      'shipping: { aggregator: "no-port", token: inline, chunkSize: 10 }', '',
    ].join('\n');
    const err = (() => {
      try {
        parseAgentConfig(text, { file: 'agent.yaml', sections: { shipping: shippingSection({}) } });
      } catch (e) {
        return e as AgentError;
      }
      return undefined;
    })();
    assert.ok(err instanceof AgentError, 'rejected');
    assert.equal(err.code, 'DW_AGENT_CONFIG_INVALID');
    for (const p of [/interval: expected/, /shipping\.aggregator: expected the aggregator's address as host:port/, /shipping\.token: /, /shipping\.chunkSize: /, /shipping\.tokenFile: expected a token file/]) {
      assert.match(err.message, p);
    }
  });

  it('holds site labels to the limits the center keeps them to', () => {
    const labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x']));
    const text = `site: { id: shop-1, labels: ${JSON.stringify(labels)} }\nstore: { dir: /tmp/x }\nsources: [{ kind: host, name: node }]\n`;
    assert.throws(() => parseAgentConfig(text, { file: 'agent.yaml' }), /site\.labels: expected at most 64 site labels, found 65/);
  });
});

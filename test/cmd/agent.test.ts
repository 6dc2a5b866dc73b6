// The real CLI in a child process: `driftwatch agent --config … --rounds 3` exits 0 and
// `driftwatch block inspect` shows its blocks; a long-running agent answers /metrics and
// /healthz (found through the port in its log line) and exits 0 on SIGTERM; bad configs exit 2.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startJsonLogChild, type JsonLogChild } from '../helpers/json-log-child.js';
import { fixturePath } from '../helpers/paths.js';
import { readStoreBlocks, tempDir } from '../collector/agent/helpers.js';
import { runDriftwatch } from './cli-run.js';

/** A command for the exec source: prints one string series and one float series. */
const PLC_SCRIPT = `console.log(JSON.stringify({ series: [
  { name: 'plc_firmware_version', labels: { plc: 'line-1' }, value: '4.2.1' },
  { name: 'plc_cycle_time_seconds', labels: { plc: 'line-1' }, value: 0.012 },
] }));\n`;

function configYaml(storeDir: string, listen: string, script?: string): string {
  return `site:
  id: shop-0042
  labels: { region: eu-west }
interval: 1s
store:
  dir: ${storeDir}
  blockDuration: 1m
http:
  listen: "${listen}"
sources:
  - kind: host
    name: node
    root: ${fixturePath('host', 'basic')}
    filesystems: [/]
${script === undefined ? '' : `  - kind: exec
    name: plc
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]
`}`;
}

type Running = JsonLogChild;

function startAgent(args: string[]): Running {
  return startJsonLogChild(['agent', ...args]);
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe('driftwatch agent (CLI)', () => {
  it('--rounds 3 runs three rounds, exits 0, and block inspect shows the sealed block', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const storeDir = join(dir, 'store');
      const config = join(dir, 'agent.yaml');
      const script = join(dir, 'plc.mjs');
      await writeFile(script, PLC_SCRIPT);
      await writeFile(config, configYaml(storeDir, '', script));
      const agent = startAgent(['--config', config, '--rounds', '3']);
      const code = await agent.exited;
      assert.equal(code, 0, agent.stderr());
      assert.equal(agent.stderr(), '');
      const messages = agent.lines.map((l) => l.msg);
      assert.deepEqual(messages.filter((m) => m !== 'block sealed'),
        ['no shipping section in the config: blocks stay in the store (docs/shipper.md)', 'agent starting', 'agent started', 'agent stopped']);
      assert.ok(agent.lines.every((l) => l.site === 'shop-0042'), 'every log line carries the site');
      assert.deepEqual(agent.lines.at(-1)!.reason, 'rounds_done');

      const inspect = runDriftwatch(['block', 'inspect', storeDir]);
      assert.equal(inspect.status, 0, inspect.stderr);
      assert.match(inspect.stdout, new RegExp(`^store ${storeDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}  site shop-0042  [12] sealed blocks?, 0 rounds in the head, 0 quarantined$`, 'm'));
      const stored = await readStoreBlocks(storeDir);
      assert.equal(stored.rounds.length, 3);
      for (const r of stored.rounds) {
        assert.equal(r.t % 1000, 0, 'aligned to the 1 s interval');
        assert.ok(r.samples.some((s) => s.name === 'node_uname_release' && s.value === '6.1.0-18-amd64'));
        assert.deepEqual(r.samples.filter((s) => s.name === 'driftwatch_source_up').map((s) => [s.labels.source, s.value]).sort(), [['node', 1], ['plc', 1]]);
        assert.deepEqual(r.samples.filter((s) => s.name.startsWith('plc_')).map((s) => [s.name, s.labels, s.value]).sort(), [
          ['plc_cycle_time_seconds', { plc: 'line-1' }, 0.012], ['plc_firmware_version', { plc: 'line-1' }, '4.2.1'],
        ]);
      }
      assert.deepEqual(stored.events.map((e) => e.kind), ['agent_start', 'agent_stop']);
    } finally {
      await cleanup();
    }
  });

  it('serves /metrics and /healthz on the port it logs, and exits 0 on SIGTERM', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const storeDir = join(dir, 'store');
      const config = join(dir, 'agent.yaml');
      await writeFile(config, configYaml(storeDir, '127.0.0.1:9'));
      // The flag wins over the file: port 0, a free port, reported in the log.
      const agent = startAgent(['--config', config, '--listen', '127.0.0.1:0']);
      try {
        const listening = await agent.waitFor((l) => l.msg === 'http listening for /metrics and /healthz');
        const port = listening.port as number;
        assert.ok(port > 0);
        await agent.waitFor((l) => l.msg === 'agent started');
        const health = await get(port, '/healthz');
        assert.equal(health.status, 200);
        assert.match(health.body, /^ok: running/);
        const metrics = await get(port, '/metrics');
        assert.equal(metrics.status, 200);
        for (const name of ['driftwatch_agent_rounds_total', 'driftwatch_agent_round_duration_seconds_bucket', 'driftwatch_agent_store_stored_bytes', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
          assert.match(metrics.body, new RegExp(`^${name}`, 'm'), name);
        }
      } finally {
        agent.child.kill('SIGTERM');
      }
      assert.equal(await agent.exited, 0, agent.stderr());
      const stopped = await agent.waitFor((l) => l.msg === 'agent stopped');
      assert.equal(stopped.reason, 'signal');
      assert.ok(agent.lines.some((l) => l.msg === 'signal received, finishing the round in flight, then flushing the store' && l.signal === 'SIGTERM'));
    } finally {
      await cleanup();
    }
  });

  it('exits 2 with every config problem listed at once', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const config = join(dir, 'agent.yaml');
      await writeFile(config, 'site:\n  id: "a b"\nstore: {}\nsources:\n  - kind: nope\n    name: x\n');
      const r = runDriftwatch(['agent', '--config', config, '--rounds', '1']);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^driftwatch: DW_AGENT_CONFIG_INVALID: .*agent\.yaml: 3 problems:\n {2}site\.id: expected a site id .*\n {2}store\.dir: expected a string, found nothing \(line 3, column 8\)\n {2}sources\.0\.kind: expected one of .*, found "nope" \(line 5, column 11\)\n$/);
      const missing = runDriftwatch(['agent', '--config', join(dir, 'nope.yaml')]);
      assert.equal(missing.status, 2);
      assert.equal(missing.stderr, `driftwatch: DW_AGENT_CONFIG_UNREADABLE: expected a readable YAML config file at ${join(dir, 'nope.yaml')}, found nothing there\n`);
      const usage = runDriftwatch(['agent', '--rounds', '0', '--config', config]);
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /^driftwatch: DW_CLI_USAGE: expected driftwatch agent --config <agent\.yaml> .*, found --rounds "0" \(expected a whole number of at least 1\)\n$/);
    } finally {
      await cleanup();
    }
  });
});

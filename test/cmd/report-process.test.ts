// `driftwatch report` as a real process (bin/driftwatch.js) against the aggregator's HTTP
// listener on loopback serving the fixed in-test reports (not the real index): the command is
// registered, reads DRIFTWATCH_AGGREGATOR_URL, prints the report, and reports failures as one
// coded line with the documented exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { startReportServer, type ReportServer } from './report-server.js';

/** Runs the CLI without blocking this process's event loop (the server lives here). */
function driftwatch(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'driftwatch.js'), ...args], { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('driftwatch report as a process, against fixed in-test reports (not the real index)', () => {
  let server: ReportServer;
  before(async () => {
    server = await startReportServer();
  });
  after(async () => {
    await server.close();
  });

  it('report sites with DRIFTWATCH_AGGREGATOR_URL: the table with the fleet line on top, exit 0', async () => {
    const r = await driftwatch(['report', 'sites'], { DRIFTWATCH_AGGREGATOR_URL: server.http.url });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^sites at 2025-11-20T15:00:00Z \(\d+d ago\), known at 2025-11-20T15:00:00Z \(\d+d ago\)$/);
    assert.equal(lines[1], '480 sites, 477 complete through at (479 with any data by then)');
    assert.match(r.stdout, /\n4 sites\n$/);
  });

  it('--aggregator wins over the environment; an unreachable one is one coded line on stderr, exit 1; --help exits 0', async () => {
    const port = await freeTcpPort();
    const r = await driftwatch(['report', 'drift', '--aggregator', `http://127.0.0.1:${port}`, '-o', 'json'], { DRIFTWATCH_AGGREGATOR_URL: server.http.url });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `driftwatch: DW_CLI_AGGREGATOR_UNREACHABLE: expected an aggregator answering at http://127.0.0.1:${port}, found connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const help = await driftwatch(['report', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: driftwatch report drift\|upgrades\|stale\|sites/);
    const bad = await driftwatch(['report', 'drift', '--output', 'xml'], {});
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'driftwatch: DW_CLI_USAGE: expected --output to be table, json, csv, found "xml"\n');
  });
});

// `driftwatch report` against the aggregator's real HTTP listener on loopback, whose fleet routes
// serve a fixed in-test FleetReports (not the real index): golden table and CSV outputs, JSON as
// the API's body, paging with a pinned cut, flags and their errors, API errors, an unreachable
// aggregator. DW_UPDATE_GOLDEN=1 rewrites the golden files (then review the diff).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { runReport } from '../../cmd/report.js';
import { csvField, relativeTime } from '../../cmd/report-render.js';
import { fixturePath } from '../helpers/paths.js';
import { createServer, type Socket } from 'node:net';
import { freeTcpPort } from '../helpers/free-port.js';
import { DRIFT_ROWS } from '../aggregator/http/fixed-reports.js';
import { NOW, startReportServer, type ReportServer } from './report-server.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } }),
    text: () => chunks.join(''),
  };
}

function golden(name: string, actual: string): void {
  const path = fixturePath('report', name);
  if (process.env.DW_UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.CI === 'true' && !existsSync(path)) assert.fail(`golden file ${path} is missing; run with DW_UPDATE_GOLDEN=1 and commit it`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from ${path} (DW_UPDATE_GOLDEN=1 rewrites it)`);
}

describe('driftwatch report, against fixed in-test reports (not the real index)', () => {
  let server: ReportServer;
  let env: NodeJS.ProcessEnv;
  const run = async (...args: string[]): Promise<Run> => {
    const out = sink();
    const err = sink();
    const code = await runReport(args, { stdout: out.stream, stderr: err.stream }, { env, now: () => NOW });
    return { code, stdout: out.text(), stderr: err.text() };
  };

  before(async () => {
    server = await startReportServer();
    env = { DRIFTWATCH_AGGREGATOR_URL: server.http.url };
  });
  after(async () => {
    await server.close();
  });

  for (const kind of ['drift', 'upgrades', 'stale', 'sites']) {
    it(`report ${kind}: the table (golden), fleet line on top, aligned columns, absolute and relative times`, async () => {
      const r = await run(kind);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      golden(`${kind}.txt`, r.stdout);
      const lines = r.stdout.split('\n');
      assert.match(lines[0]!, new RegExp(`^${kind} at 2025-11-20T15:00:00Z \\(now\\), known at 2025-11-20T15:00:00Z \\(now\\)$`));
      assert.equal(lines[1], '480 sites, 477 complete through at (479 with any data by then)');
      const h = lines.findIndex((l) => l.startsWith('SITE '));
      assert.equal(h, kind === 'upgrades' ? 4 : 3, 'a blank line between the heading and the table');
      const header = lines[h]!;
      const rows = lines.slice(h + 1).filter((l) => l.startsWith('shop-'));
      for (const col of header.split(/ {2,}/).slice(1)) {
        const at = header.indexOf(col);
        if (col === 'DRIFT' || col === 'STALE AFTER' || col === 'BACKLOG') continue; // right-aligned
        for (const row of rows) assert.equal(row[at - 1], ' ', `${kind}: column ${col} starts after a space in ${JSON.stringify(row)}`);
      }
    });

    it(`report ${kind} --output csv: RFC 4180 (golden): a header row, quoted fields, CRLF`, async () => {
      const r = await run(kind, '--output', 'csv');
      assert.equal(r.code, 0, r.stderr);
      golden(`${kind}.csv`, r.stdout);
      assert.ok(r.stdout.endsWith('\r\n'));
      assert.equal(r.stdout.replace(/\r\n/g, '').includes('\n'), false, 'no bare LF: every line ends in CRLF');
    });
  }

  it('csv quoting: quotes doubled, commas, CR and LF quoted; the sites report keeps labels as JSON', async () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    const r = await run('sites', '-o', 'csv');
    const row = r.stdout.split('\r\n').find((l) => l.startsWith('shop-0107,'))!;
    const labels = csvField(JSON.stringify({ customer: 'Acme, "North"', region: 'eu-west', tier: 'shop' }));
    assert.equal(labels, String.raw`"{""customer"":""Acme, \""North\"""",""region"":""eu-west"",""tier"":""shop""}"`);
    assert.ok(row.startsWith(`shop-0107,${labels},1,`), `labels as JSON, names sorted, quoted: ${row}`);
  });

  it('--output json: the API\'s body, every row in one, with the cut the server chose', async () => {
    const r = await run('drift', '--output', 'json', '--at', '2025-11-20T12:00:00Z');
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.at, '2025-11-20T12:00:00.000Z');
    assert.equal(body.knownAt, '2025-11-20T15:00:00.000Z');
    assert.equal(body.total, 3);
    assert.equal(body.next, null);
    assert.deepEqual(body.rows.map((x: { site: string }) => x.site), DRIFT_ROWS.map((d) => d.site));
    assert.deepEqual(body.fleet, { sites: 480, sitesWithData: 479, sitesCompleteThroughAt: 477 });
  });

  it('paging: every page fetched with at and known_at pinned by the first answer; --limit caps the rows and says so', async () => {
    server.reports.drifts = Array.from({ length: 2345 }, (_, i) => ({ ...DRIFT_ROWS[0]!, site: `shop-${String(i).padStart(4, '0')}` }));
    try {
      const before = server.reports.calls.length;
      const r = await run('drift', '-o', 'json', '--known-at', '2025-11-20T14:00:00Z', '--selector', 'tier=shop');
      assert.equal(r.code, 0, r.stderr);
      const body = JSON.parse(r.stdout);
      assert.equal(body.rows.length, 2345);
      assert.equal(new Set(body.rows.map((x: { site: string }) => x.site)).size, 2345);
      const calls = server.reports.calls.slice(before).map((c) => c.query);
      assert.deepEqual(calls.map((q) => [q.offset, q.limit]), [[0, 1000], [1000, 1000], [2000, 1000]]);
      assert.ok(calls.every((q) => q.knownAt === Date.UTC(2025, 10, 20, 14) && q.at === Date.UTC(2025, 10, 20, 14) && (q as { selector?: string }).selector === 'tier=shop'));

      const limited = await run('drift', '--limit', '1500', '-o', 'json');
      const lb = JSON.parse(limited.stdout);
      assert.equal(lb.rows.length, 1500);
      assert.match(lb.next, /^\/fleet\/v1\/drift\?at=.*&known_at=.*&offset=1500$/);
      assert.deepEqual(server.reports.calls.slice(-2).map((c) => [c.query.offset, c.query.limit]), [[0, 1000], [1000, 500]]);
      const table = await run('drift', '--limit', '2');
      assert.match(table.stdout, /\n2 of 2,345 drifting series shown \(--limit\)\n$/);
    } finally {
      server.reports.drifts = DRIFT_ROWS;
    }
  });

  it('upgrades --revision and --policy are passed through; the heading names the revision; the counts cover every row even under --limit', async () => {
    const r = await run('upgrades', '--revision', 'seq:12', '--policy', 'base-os', '--at', '1763640000000');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(server.reports.calls.at(-1)!.query, { at: Date.UTC(2025, 10, 20, 12), knownAt: NOW, offset: 0, limit: 1000, revision: 'seq:12', policy: 'base-os' });
    assert.match(r.stdout, /^upgrades at 2025-11-20T12:00:00Z \(3h ago\), known at 2025-11-20T15:00:00Z \(now\), policy base-os\n.*\nrevision a1b2c3d \(seq 12\), in force from 2025-11-20T06:00:00Z \(9h ago\)\n/);
    assert.match(r.stdout, new RegExp(String.raw`\n {4}2025-11-16T12:00:00Z \(4d ago\) {2}contact {2}last heartbeat: backlog 0 blocks; nothing since\n`));
    assert.match(r.stdout, /\n1 upgrade row: 0 converged, 0 in progress, 1 failed, 0 unknown\n$/);
    const limited = await run('upgrades', '--limit', '1');
    assert.match(limited.stdout, /\n1 of 4 upgrade rows shown \(--limit\); of all: 1 converged, 0 in progress, 2 failed, 1 unknown\n$/);
    const json = JSON.parse((await run('upgrades', '-o', 'json')).stdout);
    assert.deepEqual([json.revision, json.revisionSeq, json.summary.failed], ['a1b2c3d', 12, 2], 'the JSON keeps the upgrades page\'s fields');
  });

  it('an empty report says so under the fleet line', async () => {
    server.reports.drifts = [];
    try {
      const r = await run('drift');
      assert.equal(r.stdout.split('\n').slice(3).join('\n'), 'no drift in the data held\n');
    } finally {
      server.reports.drifts = DRIFT_ROWS;
    }
  });

  it('bad flags: DW_CLI_USAGE saying what was expected and found, exit 2, nothing asked', async () => {
    const before = server.reports.calls.length;
    const cases: [string[], RegExp][] = [
      [[], /^driftwatch: DW_CLI_USAGE: expected driftwatch report drift\|upgrades\|stale\|sites .*, found no report named\n$/],
      [['drifts'], /^driftwatch: DW_CLI_USAGE: expected the report to be drift, upgrades, stale, sites, found "drifts"\n$/],
      [['drift', 'stale'], /found 2 arguments \("drift" "stale"\)\n$/],
      [['drift', '--at', 'yesterday'], /^driftwatch: DW_CLI_USAGE: expected --at to be an RFC 3339 time with a zone \(2025-11-20T12:00:00Z\) or milliseconds since the epoch, found "yesterday"\n$/],
      [['drift', '--known-at=2025-11-20T12:00:00'], /expected --known-at to be an RFC 3339 time .*found "2025-11-20T12:00:00"\n$/],
      [['drift', '--output', 'yaml'], /expected --output to be table, json, csv, found "yaml"\n$/],
      [['drift', '--limit', '0'], /expected --limit to be a whole number of rows of at least 1, found "0"\n$/],
      [['drift', '--policy', 'x'], /found --policy with report drift \(it filters upgrades only\)\n$/],
      [['stale', '--revision', 'x'], /found --revision with report stale \(it chooses the upgrades' revision only\)\n$/],
      [['drift', '--selektor', 'a=b'], /found the option "--selektor"\n$/],
      [['drift', '--at'], /found --at without a value\n$/],
      [['drift', '--at', '1', '--at', '2'], /found --at given twice\n$/],
      [['drift', '--timeout', 'soon'], /expected --timeout to be a duration such as 30s or 2m, found "soon"\n$/],
      [['drift', '--aggregator', 'ftp://x'], /expected --aggregator to be an http:\/\/ or https:\/\/ URL such as http:\/\/aggregator\.example:9470, found "ftp:\/\/x"\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message, args.join(' '));
    }
    const saved = env;
    env = { DRIFTWATCH_AGGREGATOR_URL: 'not a url' };
    try {
      assert.match((await run('drift')).stderr, /expected DRIFTWATCH_AGGREGATOR_URL to be an http:\/\/ or https:\/\/ URL .* found "not a url"\n$/);
    } finally {
      env = saved;
    }
    assert.equal(server.reports.calls.length, before);
  });

  it('API errors print the API\'s code and message: 4xx exit 2, 503 exit 1', async () => {
    let r = await run('drift', '--selector', 'region in (eu');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^driftwatch: DW_API_BAD_SELECTOR: expected "," or "\)" in a list of values at character 14 of the selector "region in \(eu", found the end \(HTTP 400 from http:\/\/127\.0\.0\.1:\d+\/fleet\/v1\/drift\)\n$/);
    r = await run('upgrades', '--policy', 'nope');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^driftwatch: DW_API_UNKNOWN_POLICY: expected a policy whose expected values revision a1b2c3d changed, found none named "nope" \(HTTP 404 from /);
    r = await run('drift', '--known-at', String(NOW + 60_000));
    assert.match(r.stderr, /^driftwatch: DW_API_BAD_PARAM: expected known_at at or before the aggregator's clock/);
    server.ready = { ok: false, reason: 'index catching up' };
    try {
      r = await run('stale');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^driftwatch: DW_API_NOT_READY: expected the fleet index to have caught up with the stored blocks, found it not ready: index catching up \(HTTP 503 from /);
    } finally {
      server.ready = { ok: true, reason: 'caught up' };
    }
  });

  it('an unreachable aggregator is DW_CLI_AGGREGATOR_UNREACHABLE naming it, exit 1; a server that is not the fleet API is DW_CLI_BAD_RESPONSE', async () => {
    const port = await freeTcpPort();
    let r = await run('drift', '--aggregator', `http://127.0.0.1:${port}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^driftwatch: DW_CLI_AGGREGATOR_UNREACHABLE: expected an aggregator answering at http://127\\.0\\.0\\.1:${port}, found connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\n$`));
    r = await run('drift', '--aggregator', `${server.http.url}/some/path/`);
    assert.equal(r.code, 0, 'a path in the URL is replaced by the API path');

    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const addr = silent.address() as { port: number };
      r = await run('drift', '--aggregator', `http://127.0.0.1:${addr.port}`, '--timeout', '200ms');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^driftwatch: DW_CLI_AGGREGATOR_UNREACHABLE: expected an aggregator answering at http:\/\/127\.0\.0\.1:\d+, found no answer within 200 ms\n$/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }

    const answered: Socket[] = [];
    const other = createServer((s) => {
      answered.push(s);
      s.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: 9\r\nconnection: close\r\n\r\n<h1>x</h1');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      r = await run('drift', '--aggregator', `http://127.0.0.1:${(other.address() as { port: number }).port}`);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^driftwatch: DW_CLI_BAD_RESPONSE: expected a fleet API answer from http:\/\/127\.0\.0\.1:\d+\/fleet\/v1\/drift, found HTTP 404 "<h1>x<\/h1"\n$/);
    } finally {
      for (const s of answered) s.destroy();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('relative times: the largest whole unit, up to 48 h in hours', () => {
    assert.deepEqual([0, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 47 * 3_600_000, 48 * 3_600_000, 9 * 86_400_000].map((d) => relativeTime(NOW - d, NOW)),
      ['now', 'now', '1s ago', '59s ago', '1m ago', '59m ago', '1h ago', '47h ago', '2d ago', '9d ago']);
    assert.equal(relativeTime(NOW + 300_000, NOW), 'in 5m');
  });
});

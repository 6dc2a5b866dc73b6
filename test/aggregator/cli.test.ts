// The real CLI in child processes: `driftwatch aggregator credentials add|list|revoke`, bad
// configs with coded errors, and a running `driftwatch aggregator` over TLS with a policy
// directory that serves /healthz, /readyz once its startup reindex finished, and the fleet API,
// takes uploads with a token from `credentials add`, reloads credentials and policies on SIGHUP,
// exits 0 on SIGTERM, and after a SIGKILL mid-upload restarts with the upload resumable and its
// policy history continued.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status as Status } from '@grpc/grpc-js';
import { runDriftwatch } from '../cmd/cli-run.js';
import { describeStatus, IngestClient, sha256Of } from '../helpers/ingest-client.js';
import { startJsonLogChild, type JsonLogChild } from '../helpers/json-log-child.js';
import { testPki, type TestPki } from '../helpers/tls.js';
import { makeBlock, T0 } from './helpers.js';

type Running = JsonLogChild;

function startAggregatorProcess(args: string[]): Running {
  return startJsonLogChild(['aggregator', ...args]);
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe('driftwatch aggregator (CLI)', () => {
  let dir: string;
  let pki: TestPki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-agg-cli-'));
    pki = await testPki();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('credentials add prints a token once and stores only its hash; list and revoke by key id', async () => {
    const file = join(dir, 'creds-list.yaml');
    const add = runDriftwatch(['aggregator', 'credentials', 'add', '--site', 'shop-7', '--credentials', file]);
    assert.equal(add.status, 0, add.stderr);
    const token = add.stdout.trim();
    assert.match(token, /^dwt_[A-Za-z0-9_-]{43}$/);
    assert.match(add.stderr, /key id [0-9a-f]{12}.*cannot be shown again/s);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(token.slice(4)), 'the token is not in the file');
    const second = runDriftwatch(['aggregator', 'credentials', 'add', '--site', 'shop-7', '--credentials', file]);
    assert.equal(second.status, 0, second.stderr);
    const list = runDriftwatch(['aggregator', 'credentials', 'list', '--credentials', file]);
    const keys = list.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(keys.map((k) => k[0]), ['shop-7', 'shop-7']);
    const revoke = runDriftwatch(['aggregator', 'credentials', 'revoke', '--site', 'shop-7', '--key', keys[0]![1]!, '--credentials', file]);
    assert.equal(revoke.status, 0, revoke.stderr);
    assert.equal(runDriftwatch(['aggregator', 'credentials', 'list', '--credentials', file]).stdout.trim().split('\n').length, 1);
    const again = runDriftwatch(['aggregator', 'credentials', 'revoke', '--site', 'shop-7', '--key', keys[0]![1]!, '--credentials', file]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /^driftwatch: DW_AGGREGATOR_CREDENTIALS_INVALID: expected a token of site shop-7 with key id \w+ .*found none/);
    const badSite = runDriftwatch(['aggregator', 'credentials', 'add', '--site', 'shop 7', '--credentials', file]);
    assert.equal(badSite.status, 2);
    assert.match(badSite.stderr, /DW_AGGREGATOR_CREDENTIALS_INVALID: .*site: expected a site id/s);
  });

  it('bad configs and flags exit 2 with every problem and its code', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'dataDir: 3\ngrpc:\n  listen: nowhere\n  bogus: 1\nlimits:\n  maxChunkBytes: 2MiB\n  maxBlockBytes: 1MiB\n  pushback: soon\n');
    const r = runDriftwatch(['aggregator', '--config', config, '--http-listen', 'abc']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^driftwatch: DW_AGGREGATOR_CONFIG_INVALID: .*bad\.yaml: 8 problems:/);
    for (const p of [
      /credentials: expected a string, found nothing/, /dataDir: expected a string, found 3 \(line 1, column 10\)/,
      /grpc\.tls: expected grpc\.tls with cert and key files/, /grpc\.listen: expected host:port .*found "nowhere" \(line 3, column 11\)/,
      /grpc\.bogus: expected one of the keys listen, tls, insecure, found unknown key "bogus"/, /limits\.maxChunkBytes: expected at most limits\.maxBlockBytes/,
      /limits\.pushback: expected a duration such as 500ms, 15s, 5m, 24h, found "soon"/, /http\.listen: .*found "abc" \(from --http-listen\)/,
    ]) assert.match(r.stderr, p);

    const missing = runDriftwatch(['aggregator', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^driftwatch: DW_AGGREGATOR_CONFIG_UNREADABLE: expected a readable YAML config file at .*nope\.yaml, found nothing there/);
    const flag = runDriftwatch(['aggregator', '--bogus', 'x']);
    assert.match(flag.stderr, /^driftwatch: DW_CLI_USAGE: expected driftwatch aggregator .*found "--bogus"/);
    const insecure = runDriftwatch(['aggregator', '--data-dir', join(dir, 'd'), '--credentials', 'x', '--insecure', '--grpc-listen', '0.0.0.0:0']);
    assert.match(insecure.stderr, /DW_AGGREGATOR_CONFIG_INVALID: .*grpc\.listen: expected a loopback address .*grpc\.insecure: true, found "0\.0\.0\.0:0"/s);
    const creds = join(dir, 'creds-bad.yaml');
    await writeFile(creds, 'version: 1\nsites:\n  shop-1:\n    - sha256: not-a-hash\n');
    const badCreds = runDriftwatch(['aggregator', '--data-dir', join(dir, 'd'), '--credentials', creds, '--insecure', '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0']);
    assert.match(badCreds.stderr, /^driftwatch: DW_AGGREGATOR_CREDENTIALS_INVALID: .*sites\.shop-1\.0\.sha256: expected a SHA-256 as 64 lowercase hex digits \(never the token itself\), found "not-a-hash"/s);
    const tls = runDriftwatch(['aggregator', '--data-dir', join(dir, 'd'), '--credentials', join(dir, 'none.yaml'), '--tls-cert', pki.serverCertPath, '--tls-key', join(pki.dir, 'other-ca.key')]);
    assert.equal(tls.status, 2);
    assert.match(tls.stderr, /^driftwatch: DW_AGGREGATOR_TLS_INVALID: expected the PEM private key of the certificate \(CN=localhost\), found the key is not the certificate's/);
  });

  it('serves /healthz, /readyz after its startup reindex, the fleet API and uploads over TLS, reloads credentials and policies on SIGHUP, stops on SIGTERM; after a SIGKILL mid-upload it resumes', async () => {
    const creds = join(dir, 'creds.yaml');
    const dataDir = join(dir, 'data');
    const token = runDriftwatch(['aggregator', 'credentials', 'add', '--site', 'shop-1', '--credentials', creds]).stdout.trim();
    const policies = join(dir, 'policies');
    await mkdir(policies);
    const policy = (range: string): string => `apiVersion: driftwatch.io/v1\nkind: Policy\nmetadata: { name: pos }\nspec:\n  selector: {}\n  expectations:\n    - series: kube_deployment_container_image{deployment="pos"}\n      semver: "${range}"\n`;
    await writeFile(join(policies, 'pos.yaml'), policy('>=2.4.0 <2.5.0'));
    const args = [
      '--data-dir', dataDir, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--tls-cert', pki.serverCertPath, '--tls-key', pki.serverKeyPath,
      '--credentials', creds, '--policies', policies,
    ];
    let agg = startAggregatorProcess(args);
    let listening = await agg.waitFor('aggregator listening');
    const health = await get(`${String(listening.http)}/healthz`);
    assert.equal(health.status, 200);
    assert.match(health.body, /^ok: /);
    const ready = await agg.waitFor('fleet reports ready');
    assert.match(String(ready.reason), /^reports final through .*; policy revision sha256:[0-9a-f]{64} \(directory\)$/);
    const readyz = await get(`${String(listening.http)}/readyz`);
    assert.equal(readyz.status, 200, readyz.body);
    assert.ok(agg.lines.some((l) => l.msg === 'fleet index rebuilt from the stored blocks (the startup reindex)' && l.blocks === 0));
    const sites = await get(`${String(listening.http)}/fleet/v1/sites`);
    assert.equal(sites.status, 200, sites.body);
    assert.match(sites.body, /^\{"at":"[^"]+","knownAt":"[^"]+","selector":null,"fleet":\{"sites":0,/);

    const block = makeBlock('shop-1', 40, { rounds: 40, strings: 80, floats: 40, compression: 'none' });
    let client = new IngestClient(String(listening.grpc), { ca: pki.caCert, token });
    const whole = await client.upload({ siteId: 'shop-1', blockId: makeBlock('shop-1', 41).id, bytes: makeBlock('shop-1', 41).bytes });
    assert.equal(whole.status.code, Status.OK, describeStatus(whole.status));

    // A site added while it runs is known after SIGHUP.
    const token2 = runDriftwatch(['aggregator', 'credentials', 'add', '--site', 'shop-2', '--credentials', creds]).stdout.trim();
    await writeFile(join(policies, 'pos.yaml'), policy('>=2.5.0 <2.6.0'));
    agg.child.kill('SIGHUP');
    await agg.waitFor('credentials reloaded');
    const reloaded = await agg.waitFor((l) => l.msg === 'policy revision loaded' && l.trigger === 'explicit');
    const first = await agg.waitFor((l) => l.msg === 'policy revision loaded' && l.trigger === 'start');
    assert.notEqual(reloaded.revision, first.revision, 'SIGHUP loaded the changed policy file');
    const c2 = new IngestClient(String(listening.grpc), { ca: pki.caCert, token: token2 });
    assert.equal((await c2.hello({ siteId: 'shop-2', agentTime: T0 })).status.code, Status.OK);
    c2.close();

    // Half an upload, then SIGKILL.
    const up = client.openUpload();
    up.send({ begin: { siteId: 'shop-1', blockId: block.id, size: block.bytes.length, sha256: sha256Of(block.bytes), offset: 0 } });
    up.send({ chunk: { offset: 0, data: block.bytes.subarray(0, 6000) } });
    await up.waitFor((r) => Number(r.progress?.offset ?? 0) === 6000);
    agg.child.kill('SIGKILL');
    assert.equal(await agg.exited, null);
    await up.status;
    client.close();

    agg = startAggregatorProcess(args);
    listening = await agg.waitFor('aggregator listening');
    const continued = await agg.waitFor('policy history continued from the data directory');
    assert.equal(continued.revisions, 2, 'the revision loaded on SIGHUP was kept');
    client = new IngestClient(String(listening.grpc), { ca: pki.caCert, token });
    const hello = await client.hello({ siteId: 'shop-1', agentTime: T0, pendingBlockIds: [block.id] });
    assert.deepEqual(hello.response!.partialUploads!.map((p) => Number(p.offset)), [6000]);
    assert.deepEqual(hello.response!.heldBlockIds, []);
    const resumed = await client.upload({ siteId: 'shop-1', blockId: block.id, bytes: block.bytes, offset: 6000, chunkBytes: 8000 });
    assert.equal(resumed.status.code, Status.OK, describeStatus(resumed.status));
    const metrics = await get(`${String(listening.http)}/metrics`);
    assert.match(metrics.body, /^driftwatch_aggregator_ingest_blocks_total\{result="stored"\} 1$/m);
    assert.match(metrics.body, /^driftwatch_aggregator_sites_known 2$/m);
    client.close();

    agg.child.kill('SIGTERM');
    assert.equal(await agg.exited, 0, agg.stderr());
    assert.equal(agg.stderr(), '');
    await agg.waitFor('aggregator stopped');
  });
});

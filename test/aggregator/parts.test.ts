// The aggregator's parts on their own: group commit, the credentials file, the config, the HTTP
// routes (and a plugin registered beside them), admission, and the clock-offset filter.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  addCredential, Admission, DEFAULT_INGEST_LIMITS, GroupCommit, hashToken, loadCredentials, nextClockOffset, parseAggregatorConfig, parseCredentials,
  revokeCredential, startAggregator, startAggregatorHttp, type BatchOp,
} from '../../aggregator/index.js';
import { isDriftwatchError } from '../../common/errors.js';

const put = (key: string): BatchOp => ({ type: 'put', key, value: new Uint8Array(1) });

describe('group commit', () => {
  it('batches concurrent commits, flushes at maxCommits, and rejects every commit of a failed batch', async () => {
    const written: string[][] = [];
    let failNext = false;
    const group = new GroupCommit(async (ops) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      written.push(ops.map((o) => o.key));
    }, { maxDelayMs: 1000, maxCommits: 3 });
    await Promise.all([group.commit([put('a')]), group.commit([put('b'), put('c')]), group.commit([put('d')])]);
    assert.deepEqual(written, [['a', 'b', 'c', 'd']], 'three commits fill a batch at once, without waiting the delay');
    failNext = true;
    const failed = await Promise.allSettled([group.commit([put('e')]), group.commit([put('f')]), group.commit([put('g')])]);
    assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    const late = group.commit([put('h')]);
    await group.drain();
    await late;
    assert.deepEqual(written.at(-1), ['h'], 'drain writes what waits for company');
    assert.equal(group.batches, 2);
    assert.equal(group.commits, 4);
  });
});

describe('credentials file', () => {
  it('maps token hashes to sites; reports every problem with DW_AGGREGATOR_CREDENTIALS_INVALID', async () => {
    const h = hashToken('dwt_a');
    const creds = parseCredentials(`version: 1\nsites:\n  shop-1:\n    - sha256: ${h}\n`, 'c.yaml');
    assert.equal(creds.siteOf('dwt_a'), 'shop-1');
    assert.equal(creds.siteOf('dwt_b'), undefined);
    assert.throws(() => parseCredentials(`version: 2\nsites:\n  "a b": []\n  shop-1:\n    - sha256: ${h}\n      note: x\n`, 'c.yaml'), (err: unknown) => {
      assert.ok(isDriftwatchError(err, 'DW_AGGREGATOR_CREDENTIALS_INVALID'));
      assert.match(err.message, /version: expected 1, found 2/);
      assert.match(err.message, /sites\.a b: expected a site id/);
      assert.match(err.message, /sites\.shop-1\.0\.note: expected one of the keys sha256, created, found unknown key "note"/);
      return true;
    });
    assert.throws(() => parseCredentials(`version: 1\nsites:\n  shop-1:\n    - sha256: ${h}\n  shop-2:\n    - sha256: ${h}\n`, 'c.yaml'), /expected a hash no other site has, found the hash of shop-1 again/);
    assert.throws(() => parseCredentials('version: [1\n', 'c.yaml'), (err: unknown) => isDriftwatchError(err, 'DW_AGGREGATOR_CREDENTIALS_INVALID'));
  });

  it('add writes a 0600 file durably with the hash only; revoke removes by key id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-creds-'));
    try {
      const file = join(dir, 'credentials.yaml');
      await assert.rejects(loadCredentials(file), (err) => isDriftwatchError(err, 'DW_AGGREGATOR_CREDENTIALS_UNREADABLE') && /found nothing there/.test(err.message));
      const a = await addCredential(file, 'shop-1', new Date(Date.UTC(2025, 10, 20)));
      const b = await addCredential(file, 'shop-1', new Date(Date.UTC(2025, 10, 21)));
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const text = await readFile(file, 'utf8');
      assert.ok(!text.includes(a.token) && !text.includes(b.token));
      assert.match(text, /created: 2025-11-20T00:00:00.000Z/);
      let creds = await loadCredentials(file);
      assert.equal(creds.siteOf(a.token), 'shop-1');
      assert.equal(creds.siteOf(b.token), 'shop-1');
      assert.equal(await revokeCredential(file, 'shop-1', a.keyId), 1);
      creds = await loadCredentials(file);
      assert.equal(creds.siteOf(a.token), undefined);
      assert.equal(creds.siteOf(b.token), 'shop-1');
      assert.equal(await revokeCredential(file, 'shop-9', b.keyId), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('aggregator config', () => {
  it('defaults, and flags over env over the file', () => {
    const c = parseAggregatorConfig('dataDir: /data\ncredentials: /c.yaml\ngrpc:\n  tls: { cert: /a.crt, key: /a.key }\nlimits:\n  maxChunkBytes: 256KiB\n', {
      file: 'a.yaml', env: { DRIFTWATCH_AGGREGATOR_DATA_DIR: '/env', DRIFTWATCH_AGGREGATOR_HTTP_LISTEN: '127.0.0.1:1' }, flags: { 'data-dir': '/flag' },
    });
    assert.equal(c.dataDir, '/flag');
    assert.equal(c.http.listen, '127.0.0.1:1');
    assert.equal(c.grpc.listen, ':7443');
    assert.equal(c.grpc.insecure, false);
    assert.equal(c.limits.maxChunkBytes, 256 << 10);
    assert.equal(c.limits.maxBlockBytes, DEFAULT_INGEST_LIMITS.maxBlockBytes);
    assert.equal(c.limits.pushback, 2000);
    assert.equal(c.groupCommit.maxDelay, 2);
    assert.ok(Object.isFrozen(c.limits));
    const flagsOnly = parseAggregatorConfig('', { flags: { 'data-dir': '/d', credentials: '/c', insecure: 'true', 'grpc-listen': '127.0.0.1:0' } });
    assert.equal(flagsOnly.grpc.insecure, true);
  });

  it('TLS and insecure are exclusive; one of them is required', () => {
    assert.throws(() => parseAggregatorConfig('dataDir: /d\ncredentials: /c\ngrpc:\n  listen: 127.0.0.1:1\n  insecure: true\n  tls: { cert: a, key: b }\n', { file: 'a.yaml' }),
      (err: unknown) => isDriftwatchError(err, 'DW_AGGREGATOR_CONFIG_INVALID') && /grpc\.insecure: expected either grpc\.tls or grpc\.insecure: true, found both \(line 5, column 13\)/.test(err.message));
  });
});

describe('aggregator HTTP', () => {
  it('/healthz, /readyz and /metrics; plugins add routes; unknown paths are 404 with a hint', async () => {
    let ready = false;
    const registry = new Registry();
    const http = await startAggregatorHttp({
      listen: '127.0.0.1:0', registry,
      health: () => ({ ok: true, reason: 'storage open' }),
      ready: () => (ready ? { ok: true, reason: 'accepting uploads' } : { ok: false, reason: 'starting' }),
      plugins: [async (app) => {
        app.get('/fleet/v1/sites', async () => ({ sites: [] }));
      }],
    });
    try {
      const res = async (path: string): Promise<{ status: number; body: string; type: string }> => {
        const r = await fetch(`${http.url}${path}`);
        return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
      };
      assert.deepEqual(await res('/readyz'), { status: 503, body: 'unavailable: starting\n', type: 'text/plain; charset=utf-8' });
      ready = true;
      assert.equal((await res('/readyz')).status, 200);
      assert.equal((await res('/healthz')).body, 'ok: storage open\n');
      assert.match((await res('/metrics')).type, /^text\/plain/);
      assert.deepEqual(JSON.parse((await res('/fleet/v1/sites')).body), { sites: [] });
      const missing = await res('/nope');
      assert.equal(missing.status, 404);
      assert.match(missing.body, /try \/metrics, \/healthz or \/readyz/);
    } finally {
      await http.close();
    }
    await assert.rejects(startAggregatorHttp({ listen: 'nowhere', registry, health: () => ({ ok: true, reason: '' }), ready: () => ({ ok: true, reason: '' }) }),
      (err) => isDriftwatchError(err, 'DW_AGGREGATOR_HTTP_LISTEN_FAILED'));
  });

  it('plaintext gRPC is refused on an address that is not loopback, before anything is opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-agg-insecure-'));
    try {
      await assert.rejects(startAggregator({ dataDir: join(dir, 'data'), grpcListen: '0.0.0.0:0', tls: 'insecure', credentials: { file: join(dir, 'none.yaml') } }),
        (err) => isDriftwatchError(err, 'DW_AGGREGATOR_INSECURE_NOT_LOOPBACK'));
      await assert.rejects(stat(join(dir, 'data')), 'no data directory was created');
      await writeFile(join(dir, 'bad.pem'), 'not pem');
      await assert.rejects(startAggregator({ dataDir: join(dir, 'data'), tls: { cert: Buffer.from('x'), key: Buffer.from('y') }, credentials: { file: join(dir, 'none.yaml') } }),
        (err) => isDriftwatchError(err, 'DW_AGGREGATOR_TLS_INVALID'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('admission and clock offsets', () => {
  it('admission caps uploads in all, per site and in buffered bytes; release frees the slot', () => {
    const a = new Admission({ ...DEFAULT_INGEST_LIMITS, maxConcurrentUploads: 3, maxUploadsPerSite: 2, maxBufferedBytes: 1000 });
    const t1 = a.tryAcquire('s1', 400);
    const t2 = a.tryAcquire('s1', 400);
    assert.match(JSON.stringify(a.tryAcquire('s1', 1)), /fewer than 2 uploads in progress for this site/);
    assert.match(JSON.stringify(a.tryAcquire('s2', 300)), /at most 1000 bytes of uploads in progress, found 800 and 300 more/);
    const t3 = a.tryAcquire('s2', 100);
    assert.match(JSON.stringify(a.tryAcquire('s3', 1)), /fewer than 3 uploads in progress, found 3/);
    for (const t of [t1, t2, t3]) if (!('refused' in t)) a.release(t);
    assert.equal(a.active, 0);
    assert.equal(a.bufferedBytes, 0);
    assert.ok(!('refused' in a.tryAcquire('s3', 5000)), 'one upload larger than the buffer cap is let in alone');
  });

  it('the clock-offset filter keeps the smallest round trip within the hour', () => {
    const at = (t: number, rtt: number | undefined, offset = 0) => ({ offsetMs: offset, rttMs: rtt, measuredAt: t });
    let e = nextClockOffset(undefined, at(0, undefined, 5));
    e = nextClockOffset(e, at(1000, 300, 6));
    assert.equal(e.offsetMs, 6);
    e = nextClockOffset(e, at(2000, undefined, 7));
    assert.equal(e.offsetMs, 6, 'an unknown round trip never replaces a known one within the window');
    e = nextClockOffset(e, at(3000, 300, 8));
    assert.equal(e.offsetMs, 8, 'an equal round trip: the newer sample');
    e = nextClockOffset(e, at(3000 + 3_600_001, 5000, 9));
    assert.equal(e.offsetMs, 9, 'past the window the newest sample wins');
  });
});

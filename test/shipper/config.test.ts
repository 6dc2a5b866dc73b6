// The `shipping:` config section: defaults, every problem at once, the token from a file or
// DRIFTWATCH_TOKEN, the CA file, and the options it resolves to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseShippingConfig, resolveShipping, ShipperError, ShipperErrorCode, shippingConfigSchema, TOKEN_ENV,
} from '../../shipper/index.js';
import { tempDir } from '../collector/store/helpers.js';

test('defaults fill in everything but the address and the token', () => {
  const c = parseShippingConfig({ aggregator: 'aggregator.example.com:7443', tokenFile: '/etc/driftwatch/token' }, {});
  assert.deepEqual(c, {
    aggregator: 'aggregator.example.com:7443', tokenFile: '/etc/driftwatch/token', tls: { insecure: false }, chunkSize: 65_536,
    backoff: { base: 1000, cap: 300_000 }, syncInterval: 60_000, heartbeatInterval: 30_000,
    callTimeouts: { hello: 30_000, heartbeat: 10_000, uploadIdle: 60_000 },
  });
});

test('units: durations, sizes and bandwidths as people write them', () => {
  const c = parseShippingConfig({
    aggregator: '[::1]:7443', tokenFile: 't', tls: { caFile: '/ca.pem', serverName: 'ingest.example.com' }, chunkSize: '256KiB', bandwidth: '1Mbit',
    backoff: { base: '500ms', cap: '10m' }, syncInterval: '5m', heartbeatInterval: '15s', callTimeouts: { uploadIdle: '2m' },
  }, {});
  assert.deepEqual([c.chunkSize, c.bandwidth, c.backoff, c.syncInterval, c.heartbeatInterval, c.callTimeouts.uploadIdle],
    [262_144, 125_000, { base: 500, cap: 600_000 }, 300_000, 15_000, 120_000]);
  assert.equal(parseShippingConfig({ aggregator: 'a:1', tokenFile: 't', bandwidth: 125000 }, {}).bandwidth, 125_000);
  assert.equal(parseShippingConfig({ aggregator: 'a:1', tokenFile: 't', bandwidth: '64KiB/s' }, {}).bandwidth, 65_536);
});

test('every problem is reported at once, each as path: expected …, found …', () => {
  let caught: unknown;
  try {
    parseShippingConfig({
      aggregator: 'no-port', tls: { insecure: true, caFile: '/ca.pem' }, chunkSize: '10MiB', bandwidth: 'fast',
      backoff: { base: '1m', cap: '1s' }, syncInterval: '10ms', token: 'inline-secret',
    }, {});
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ShipperError && caught.code === ShipperErrorCode.ConfigInvalid);
  const paths = caught.problems.map((p) => p.split(':')[0]).sort();
  assert.deepEqual(paths, [
    'shipping', 'shipping.aggregator', 'shipping.backoff.cap', 'shipping.bandwidth', 'shipping.chunkSize', 'shipping.syncInterval',
    'shipping.tls.insecure', 'shipping.token', 'shipping.tokenFile',
  ]);
  for (const p of caught.problems) assert.match(p, /expected|[Uu]nrecognized/, p);
  assert.ok(caught.problems.some((p) => /^shipping.token: expected the token in tokenFile or DRIFTWATCH_TOKEN, never inline/.test(p)));
  assert.ok(caught.problems.some((p) => p.includes(`found neither`) && p.includes(TOKEN_ENV)));
  assert.ok(!caught.message.includes('inline-secret'), 'the inline token is not echoed');
});

test('the schema alone (for the agent\'s config) accepts a section without a token file', () => {
  assert.equal(shippingConfigSchema.safeParse({ aggregator: 'a:1' }).success, true);
  assert.equal(parseShippingConfig({ aggregator: 'a:1' }, { [TOKEN_ENV]: 'from-env' }).tokenFile, undefined);
});

test('resolveShipping: the token from its file (trimmed), a warning when others can read it; the CA read; options out', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const tokenFile = join(dir, 'token');
    const caFile = join(dir, 'ca.pem');
    await writeFile(tokenFile, 'site-abc-123\n');
    await chmod(tokenFile, 0o644);
    await writeFile(caFile, '-----BEGIN CERTIFICATE-----\n');
    const c = parseShippingConfig({ aggregator: 'agg:7443', tokenFile, tls: { caFile, serverName: 'agg.example' }, bandwidth: '512kbit' }, {});
    const r = await resolveShipping(c, {});
    assert.equal(r.tokenSource, 'file');
    assert.equal(r.transport.token, 'site-abc-123');
    assert.equal(r.transport.address, 'agg:7443');
    assert.equal(r.transport.bandwidthBytesPerSecond, 64_000);
    assert.equal(r.transport.chunkBytes, 65_536);
    assert.deepEqual(r.transport.callTimeouts, { helloMs: 30_000, heartbeatMs: 10_000, uploadIdleMs: 60_000 });
    const tls = r.transport.tls as { ca: Buffer; serverName: string };
    assert.equal(tls.serverName, 'agg.example');
    assert.equal(Buffer.from(tls.ca).toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.deepEqual(r.retry, { baseMs: 1000, capMs: 300_000 });
    assert.deepEqual(r.run, { syncInterval: 60_000, heartbeatInterval: 30_000 });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /readable by others \(mode 644\)/);
    assert.match(r.description, /agg:7443 \(TLS, CA .+ca\.pem, bandwidth 512 kbit\/s \(64000 B\/s\)\)/);
    assert.ok(!r.description.includes('site-abc-123'));
    await chmod(tokenFile, 0o600);
    assert.deepEqual((await resolveShipping(c, {})).warnings, []);
    // DRIFTWATCH_TOKEN wins over the file.
    const env = await resolveShipping(c, { [TOKEN_ENV]: 'from-env' });
    assert.deepEqual([env.tokenSource, env.transport.token], ['env', 'from-env']);
  } finally {
    await cleanup();
  }
});

test('resolveShipping: unreadable files and unusable tokens are DW_SHIP_CREDENTIAL_UNREADABLE; insecure warns', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const unreadable = (e: unknown): boolean => e instanceof ShipperError && e.code === ShipperErrorCode.CredentialUnreadable && /expected .+, found/.test(e.message);
    const missing = parseShippingConfig({ aggregator: 'a:1', tokenFile: join(dir, 'missing') }, {});
    await assert.rejects(resolveShipping(missing, {}), unreadable);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n', { mode: 0o600 });
    await assert.rejects(resolveShipping(parseShippingConfig({ aggregator: 'a:1', tokenFile: empty }, {}), {}), unreadable);
    await assert.rejects(resolveShipping(parseShippingConfig({ aggregator: 'a:1' }, { [TOKEN_ENV]: 'two words' }), { [TOKEN_ENV]: 'two words' }), unreadable);
    const noCa = parseShippingConfig({ aggregator: 'a:1', tls: { caFile: join(dir, 'nope.pem') } }, { [TOKEN_ENV]: 'x' });
    await assert.rejects(resolveShipping(noCa, { [TOKEN_ENV]: 'x' }), unreadable);
    await assert.rejects(resolveShipping(parseShippingConfig({ aggregator: 'a:1' }, { [TOKEN_ENV]: 'x' }), {}),
      (e: unknown) => e instanceof ShipperError && e.code === ShipperErrorCode.ConfigInvalid);
    const insecure = await resolveShipping(parseShippingConfig({ aggregator: 'a:1', tls: { insecure: true } }, { [TOKEN_ENV]: 'x' }), { [TOKEN_ENV]: 'x' });
    assert.equal(insecure.transport.tls, 'insecure');
    assert.match(insecure.warnings.join('\n'), /clear text/);
  } finally {
    await cleanup();
  }
});

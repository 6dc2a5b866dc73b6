// Mutual TLS: an aggregator with grpc.tls.clientCa admits an agent only with a client
// certificate its CA signed — on top of the site's token — and the agent's shipping config
// carries that certificate (tls.certFile / tls.keyFile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentialsFromHashes, hashToken, startAggregator } from '../../aggregator/index.js';
import { ManualClock } from '../../common/clock.js';
import { isDriftwatchError } from '../../common/errors.js';
import { createGrpcTransport, parseShippingConfig, resolveShipping, type GrpcTls, type TransportResult } from '../../shipper/index.js';
import { tempDir } from '../collector/store/helpers.js';
import { testPki } from '../helpers/tls.js';

const SITE = 'site-test-1';
const TOKEN = 'dwt_mtls_site-test-1_00112233445566778899aabbccddeeff';
const HELLO = { siteId: SITE, pendingBlockIds: [], agentVersion: 'test' };

function status<T>(r: TransportResult<T>): string {
  return r.status === 'success' ? 'success' : `${r.status} ${r.error.code}: ${r.error.message}`;
}

test('an aggregator asking for client certificates admits the agent whose certificate its CA signed, and no other', async () => {
  const pki = await testPki();
  const data = await tempDir();
  const clock = new ManualClock(Date.UTC(2026, 10, 21));
  const agg = await startAggregator({
    dataDir: data.dir, clock, shutdownGraceMs: 500,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert },
    credentials: { credentials: credentialsFromHashes({ [SITE]: [hashToken(TOKEN)] }) },
  });
  const hello = async (tls: GrpcTls, token = TOKEN): Promise<string> => {
    const t = createGrpcTransport({ address: agg.grpcAddress, tls: { ca: pki.caCert, serverName: 'localhost', ...tls }, token, clock, callTimeouts: { helloMs: 10_000 } });
    try {
      return status(await t.hello(HELLO));
    } finally {
      t.close();
    }
  };
  try {
    assert.equal(await hello({ cert: pki.clientCert, key: pki.clientKey }), 'success');
    // No certificate, or one another CA signed: the handshake fails, the call never reaches the service.
    assert.match(await hello({}), /^retryable DW_SHIP_UNAVAILABLE: /);
    assert.match(await hello({ cert: pki.otherClientCert, key: pki.otherClientKey }), /^retryable DW_SHIP_UNAVAILABLE: /);
    // The certificate does not stand in for the token: the token still decides the site.
    assert.match(await hello({ cert: pki.clientCert, key: pki.clientKey }, 'dwt_unknown_token_0000'), /^failure DW_SHIP_UNAUTHENTICATED: /);
  } finally {
    await agg.close();
    await data.cleanup();
  }
});

test('shipping.tls.certFile and keyFile: read at start, both or neither, never with insecure', async () => {
  const pki = await testPki();
  const dir = await tempDir();
  try {
    const cert = join(dir.dir, 'agent.crt');
    const key = join(dir.dir, 'agent.key');
    await writeFile(cert, pki.clientCert);
    await writeFile(key, pki.clientKey);
    await chmod(key, 0o644);
    const env = { DRIFTWATCH_TOKEN: TOKEN };
    const config = parseShippingConfig({ aggregator: 'localhost:7443', tls: { caFile: pki.caCertPath, certFile: cert, keyFile: key } }, env);
    const r = await resolveShipping(config, env);
    const tls = r.transport.tls as GrpcTls;
    assert.deepEqual([Buffer.from(tls.cert!), Buffer.from(tls.key!)], [pki.clientCert, pki.clientKey]);
    assert.match(r.description, /client certificate .*agent\.crt/);
    assert.ok(r.warnings.some((w) => /client key file .*agent\.key is readable by others \(mode 644\)/.test(w)), r.warnings.join('; '));

    assert.throws(() => parseShippingConfig({ aggregator: 'localhost:7443', tls: { certFile: cert } }, env), (e: unknown) => {
      assert.ok(isDriftwatchError(e, 'DW_SHIP_CONFIG_INVALID'));
      assert.match((e as Error).message, /shipping\.tls\.keyFile: expected certFile and keyFile together \(mutual TLS\), found only certFile/);
      return true;
    });
    assert.throws(() => parseShippingConfig({ aggregator: 'localhost:7443', tls: { insecure: true, certFile: cert, keyFile: key } }, env),
      (e: unknown) => isDriftwatchError(e, 'DW_SHIP_CONFIG_INVALID') && /expected either insecure: true or caFile\/serverName\/certFile\/keyFile, found both/.test((e as Error).message));
    const missing = parseShippingConfig({ aggregator: 'localhost:7443', tls: { certFile: join(dir.dir, 'none.crt'), keyFile: key } }, env);
    await assert.rejects(resolveShipping(missing, env), (e: unknown) => isDriftwatchError(e, 'DW_SHIP_CREDENTIAL_UNREADABLE') && /expected a readable PEM client certificate file at .*none\.crt/.test((e as Error).message));
    assert.throws(() => createGrpcTransport({ address: 'localhost:7443', tls: { cert: pki.clientCert }, token: TOKEN }),
      (e: unknown) => isDriftwatchError(e, 'DW_SHIP_INVALID_OPTIONS') && /found only the certificate/.test((e as Error).message));
  } finally {
    await dir.cleanup();
  }
});

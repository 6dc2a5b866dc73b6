// Test certificates made with the openssl CLI, once per test process, in a temporary directory:
// a CA, a server certificate for localhost and 127.0.0.1 and a client certificate signed by it,
// and a second CA with a client certificate of its own (to test that an untrusted server or
// client is refused). ECDSA P-256: quick to make.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  readonly dir: string;
  readonly caCert: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  /** A CA that signed nothing here but otherClientCert. */
  readonly otherCaCert: Buffer;
  /** A client certificate (CN site-test-1, clientAuth) signed by the CA, and its key: mutual TLS. */
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** A client certificate signed by the other CA, and its key. */
  readonly otherClientCert: Buffer;
  readonly otherClientKey: Buffer;
  readonly caCertPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('DW_TEST_DEPENDENCY_MISSING: expected the openssl command (Debian package openssl; npm test runs scripts/install-system-deps.sh), found it missing', { cause: err });
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

let cached: Promise<TestPki> | undefined;

/** The test PKI of this process (made on first use). */
export function testPki(): Promise<TestPki> {
  cached ??= makeTestPki();
  return cached;
}

/** Makes a fresh test PKI in a new temporary directory. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-pki-'));
  await openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=driftwatch test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', '-x509', ...EC, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=driftwatch other CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
  for (const [name, ca] of [['client', 'ca'], ['other-client', 'other-ca']] as const) {
    await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=site-test-1'], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', 'client.ext'], dir);
  }
  const read = (name: string): Promise<Buffer> => readFile(join(dir, name));
  return {
    dir,
    caCert: await read('ca.crt'),
    serverCert: await read('server.crt'),
    serverKey: await read('server.key'),
    otherCaCert: await read('other-ca.crt'),
    clientCert: await read('client.crt'),
    clientKey: await read('client.key'),
    otherClientCert: await read('other-client.crt'),
    otherClientKey: await read('other-client.key'),
    caCertPath: join(dir, 'ca.crt'),
    serverCertPath: join(dir, 'server.crt'),
    serverKeyPath: join(dir, 'server.key'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

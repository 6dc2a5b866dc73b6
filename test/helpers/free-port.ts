// Free loopback ports for servers the tests start. The port is free when returned and may be
// taken by the time the server binds it: callers retry on a bind failure.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A UDP port on 127.0.0.1 that was free a moment ago (bind 0, read the port, close). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Whether a test needing the system binary `path` (Debian package `pkg`) can run: undefined when
 * it is there. When it is missing, in CI (`CI=true`) this throws, so the test fails and never
 * skips silently; elsewhere it returns the reason to skip with.
 */
export async function missingBinary(path: string, pkg: string): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  try {
    await access(path, constants.X_OK);
    return undefined;
  } catch {
    const reason = `${path} is missing: install Debian's ${pkg} (npm test runs scripts/install-system-deps.sh)`;
    if (process.env['CI'] === 'true') throw new Error(`DW_TEST_DEPENDENCY_MISSING: expected ${path} in CI, found it missing; ${reason}`);
    return reason;
  }
}

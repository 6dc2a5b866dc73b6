// Starts a real Debian prometheus-node-exporter on a loopback port for the prometheus source
// tests: most collectors off, plus a textfile collector directory the test writes (so that
// values are exact), ready once /metrics answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './free-port.js';
import { supervise } from './supervised-child.js';

export const NODE_EXPORTER_PATH = '/usr/bin/prometheus-node-exporter';

export interface NodeExporter {
  readonly port: number;
  /** http://127.0.0.1:<port>/metrics */
  readonly url: string;
  /** The textfile collector directory. */
  readonly textfileDir: string;
  /** Writes `<name>.prom` into the textfile directory atomically; the next scrape reads it. */
  writeTextfile(name: string, text: string): Promise<void>;
  /** node_exporter's output so far (for failure messages). */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes the temp dir. */
  cleanup(): Promise<void>;
}

async function waitReady(url: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (exited()) throw new Error('node_exporter exited before answering');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
      // Not listening yet: poll again after the event loop turns (no fixed sleep).
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`node_exporter did not answer ${url} within ${timeoutMs}ms (last: ${last})`);
}

/**
 * Starts node_exporter with the textfile, loadavg, time and uname collectors only, the files in
 * `textfiles` written before it starts. Retries on another port when the chosen one was taken.
 */
export async function startNodeExporter(textfiles: Readonly<Record<string, string>> = {}): Promise<NodeExporter> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-node-exporter-'));
  const write = async (name: string, text: string): Promise<void> => {
    const tmp = join(dir, `.${name}.prom.tmp`);
    await writeFile(tmp, text);
    await rename(tmp, join(dir, `${name}.prom`));
  };
  try {
    for (const [name, text] of Object.entries(textfiles)) await write(name, text);
    for (let attempt = 0; ; attempt++) {
      const port = await freeTcpPort();
      const url = `http://127.0.0.1:${port}/metrics`;
      const child: ChildProcess = spawn(NODE_EXPORTER_PATH, [
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${dir}`,
        '--collector.loadavg',
        '--collector.time',
        '--collector.uname',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const supervised = supervise(child);
      const stop = supervised.stop;
      try {
        await waitReady(url, supervised.exited, 10_000);
      } catch (err) {
        await stop();
        if (/address already in use/i.test(supervised.output()) && attempt < 4) continue;
        throw new Error(`${(err as Error).message}; node_exporter output:\n${supervised.output()}`, { cause: err });
      }
      return {
        port,
        url,
        textfileDir: dir,
        writeTextfile: write,
        log: supervised.output,
        async cleanup() {
          await stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// A driftwatch command in a child process whose stdout is pino's JSON lines: wait for a log
// message (the readiness signal), read what it logged, kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface JsonLogChild {
  readonly child: ChildProcess;
  /**
   * Resolves with the first line whose `msg` is `match` (or for which `match` is true), seen
   * already or to come; rejects if the process exits first.
   */
  waitFor(match: string | ((line: Record<string, unknown>) => boolean)): Promise<Record<string, unknown>>;
  /** Every line logged so far. */
  readonly lines: readonly Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** Runs `driftwatch ...args` (bin/driftwatch.js) with `env` over this process's environment. */
export function startJsonLogChild(args: readonly string[], env: Record<string, string> = {}): JsonLogChild {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'driftwatch.js'), ...args], {
    cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of waiters.filter((x) => x.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child, exited, lines, stderr: () => err,
    waitFor(match) {
      const test = typeof match === 'string' ? (l: Record<string, unknown>) => l.msg === match : match;
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<Record<string, unknown>>((resolve) => waiters.push({ test, resolve })),
        exited.then((code) => {
          const what = typeof match === 'string' ? JSON.stringify(match) : 'the expected line';
          throw new Error(`driftwatch ${args[0] ?? ''} exited (${code}) before logging ${what}; stderr: ${err}; last lines: ${JSON.stringify(lines.slice(-5))}`);
        }),
      ]);
    },
  };
}

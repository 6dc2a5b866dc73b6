// Runs the real built CLI (bin/driftwatch.js) in a child process, for the cmd tests.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/driftwatch.js ...args` from the repository root and waits for it (at most `timeoutMs`). */
export function runDriftwatch(args: readonly string[], timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'driftwatch.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

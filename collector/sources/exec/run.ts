// Runs a command in its own process group with a deadline and a stdout cap. When it must stop
// (deadline, abort, too much output) the whole group gets SIGTERM, then SIGKILL after a grace.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { SourceError, SourceErrorCode, isTimeoutReason } from '../errors.js';

export interface RunOptions {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly maxBytes: number;
  readonly killGraceMs: number;
  /** Time left, ms. */
  readonly budgetMs: number;
  readonly signal: AbortSignal;
  /** `now() >= deadline` by the injected clock: tells a deadline abort from a stop. */
  readonly deadlinePassed: () => boolean;
  /** Called with a promise that settles when a killed group is gone (for `close`). */
  readonly onKill: (gone: Promise<void>) => void;
}

/** What a run that exited 0 printed. */
export interface RunResult {
  readonly stdout: Buffer;
  readonly stderrTail: string;
}

const STDERR_TAIL_BYTES = 2048;
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** The child's environment: a few variables from the agent's, then the configured ones. */
export function childEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of INHERITED_ENV) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return { ...out, ...env };
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGTERM to the process group `pid`, SIGKILL after `graceMs` if any member is left. The promise
 * settles when the group is gone (checked after the leader exits and at the grace).
 */
function killGroup(pid: number, graceMs: number, leaderExited: Promise<void>): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is already gone
    }
  };
  signal('SIGTERM');
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if (groupAlive(pid)) signal('SIGKILL');
      resolve();
    }, graceMs);
    void leaderExited.then(() => {
      if (!groupAlive(pid)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function tail(text: string): string {
  const t = text.trim();
  return t === '' ? '(stderr empty)' : `stderr: ${t.length > 500 ? `…${t.slice(-500)}` : t}`;
}

/**
 * Runs the command and resolves with its stdout when it exits 0 and closes its output. Rejects
 * with SourceError: DW_SOURCE_UNREACHABLE when the program is not there (ENOENT),
 * DW_SOURCE_PERMISSION_DENIED when it may not be run (EACCES), DW_SOURCE_FAILED for a missing
 * cwd or another spawn error or an abort by the agent, DW_SOURCE_COMMAND_FAILED for a non-zero
 * exit or a death by signal (with the stderr tail), DW_SOURCE_TIMEOUT at the deadline,
 * DW_SOURCE_TOO_LARGE past maxBytes of stdout. In the last three (and on abort) the process
 * group is killed; the rejection does not wait for it to be gone (see `onKill`).
 */
export async function runCommand(o: RunOptions): Promise<RunResult> {
  const [program, ...args] = o.command as [string, ...string[]];
  const where = program;
  if (o.cwd !== undefined) {
    const s = await stat(o.cwd).catch((err: NodeJS.ErrnoException) => err);
    if (s instanceof Error || !s.isDirectory()) {
      const found = s instanceof Error ? (s.code ?? s.message) : 'not a directory';
      throw new SourceError(SourceErrorCode.Failed, `expected cwd ${o.cwd} to be a directory, found ${found}`, { where });
    }
  }
  return new Promise<RunResult>((resolve, reject) => {
    let settled = false;
    let killed = false;
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const child = spawn(program, args, { cwd: o.cwd, env: childEnv(o.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const leaderExited = new Promise<void>((r) => child.once('exit', () => r()));

    const cleanup = (): void => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: SourceError, kill: boolean): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (kill && child.pid !== undefined && !killed) {
        killed = true;
        o.onKill(killGroup(child.pid, o.killGraceMs, leaderExited));
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      reject(err);
    };

    const timer = setTimeout(() => {
      fail(new SourceError(SourceErrorCode.Timeout, `expected ${program} to finish within ${o.budgetMs}ms, found it still running: killed its process group`, { where }), true);
    }, o.budgetMs);
    const onAbort = (): void => {
      const byDeadline = o.deadlinePassed() || isTimeoutReason(o.signal.reason);
      const reason: unknown = o.signal.reason;
      fail(byDeadline
        ? new SourceError(SourceErrorCode.Timeout, `expected ${program} to finish by the deadline, found it still running: killed its process group`, { where })
        : new SourceError(SourceErrorCode.Failed, `expected ${program} to finish, found the collection aborted (${reason instanceof Error ? reason.message : String(reason)}): killed its process group`, { where }), true);
    };
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (err: NodeJS.ErrnoException) => {
      // Spawn failures: the process never ran.
      if (err.code === 'ENOENT') {
        fail(new SourceError(SourceErrorCode.Unreachable, `expected an executable ${program}${program.includes('/') ? '' : ' on PATH'}, found ENOENT (no such file)`, { where, cause: err }), false);
      } else if (err.code === 'EACCES') {
        fail(new SourceError(SourceErrorCode.PermissionDenied, `expected ${program} to be executable by the agent, found EACCES`, { where, cause: err }), false);
      } else {
        fail(new SourceError(SourceErrorCode.Failed, `expected to start ${program}, found ${err.code ?? err.message}`, { where, cause: err }), true);
      }
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > o.maxBytes) {
        fail(new SourceError(SourceErrorCode.TooLarge, `expected at most ${o.maxBytes} bytes (maxBytes) on stdout of ${program}, found more: killed its process group`, { where }), true);
        return;
      }
      chunks.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    // 'close': exited and stdout/stderr closed (a child left holding them keeps it open).
    child.once('close', (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      if (code === 0) {
        settled = true;
        cleanup();
        resolve({ stdout: Buffer.concat(chunks), stderrTail: stderr });
        return;
      }
      const how = code !== null ? `exit code ${code}` : `death by ${sig ?? 'a signal'}`;
      fail(new SourceError(SourceErrorCode.CommandFailed, `expected ${program} to exit 0, found ${how}; ${tail(stderr)}`, { where }), false);
    });
  });
}


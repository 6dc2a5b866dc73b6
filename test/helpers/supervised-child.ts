// A server process started by a test: its recent output kept for error messages, whether it
// exited, and a stop that sends SIGTERM, then SIGKILL after 3 s, and waits for the exit.
import type { ChildProcess } from 'node:child_process';

export interface SupervisedChild {
  /** The last 8 KiB of stdout and stderr (and a spawn error, if any). */
  output(): string;
  exited(): boolean;
  /** Stops the process and waits for it; does nothing once it has exited. */
  stop(): Promise<void>;
}

export function supervise(child: ChildProcess): SupervisedChild {
  let output = '';
  let exited = false;
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = new Promise<void>((resolve) => child.once('close', () => {
    exited = true;
    resolve();
  }));
  child.once('error', (e) => {
    output += String(e);
  });
  return {
    output: () => output,
    exited: () => exited,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(t);
    },
  };
}

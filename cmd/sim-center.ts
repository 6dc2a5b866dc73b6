// The simulator's aggregator seen from the simulator: forks cmd/sim-center-child.js, moves its
// clock and policies over IPC (SimCenter), and stops it. A child that dies fails every call
// pending and to come with DW_SIM_AGGREGATOR_FAILED.
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { SimError, SimErrorCode } from '../simulator/errors.js';
import type { SimCenter } from '../simulator/fleet.js';
import type { CenterInit, CenterRequest } from './sim-center-child.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code?: string; message: string };

/** A running simulator aggregator. */
export interface RunningCenter extends SimCenter {
  readonly httpAddress: string;
  readonly pid: number;
  /** Waits until the center's reports include everything stored so far. */
  settle(): Promise<void>;
  /** The child's peak and current RSS (bytes). */
  memory(): Promise<{ peakRss: number; rss: number }>;
  /** Closes the aggregator and ends the child. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the child exits, with its exit code. */
  readonly exited: Promise<number | null>;
}

export interface CenterOptions {
  readonly dataDir: string;
  readonly start: number;
  readonly tokens: ReadonlyMap<string, string>;
  /** Default 127.0.0.1:0. */
  readonly grpcListen?: string;
  /** Default 127.0.0.1:0. */
  readonly httpListen?: string;
}

/** Forks the center and waits until it serves (its startup reindex done). */
export async function startSimCenter(o: CenterOptions): Promise<RunningCenter> {
  const child: ChildProcess = fork(new URL('./sim-center-child.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let seq = 0;
  let dead: SimError | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    dead ??= new SimError(SimErrorCode.AggregatorFailed, `expected the simulator's aggregator (pid ${child.pid}) to keep running, it exited with code ${code}`);
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
    resolve(code);
  }));
  child.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new SimError(SimErrorCode.AggregatorFailed, `the simulator's aggregator failed: ${m.code ?? ''} ${m.message}`.replace('  ', ' ')));
  });
  const call = (msg: CenterInit | WithoutId<CenterRequest>, id = ++seq): Promise<unknown> => {
    if (dead !== undefined) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...msg, id });
    });
  };
  const hashes: Record<string, string> = {};
  for (const [site, token] of o.tokens) hashes[site] = createHash('sha256').update(token).digest('hex');
  const init: CenterInit = {
    op: 'init', dataDir: o.dataDir, start: o.start, hashes, grpcListen: o.grpcListen ?? '127.0.0.1:0', httpListen: o.httpListen ?? '127.0.0.1:0',
  };
  let ready: { grpcAddress: string; httpAddress: string };
  try {
    ready = (await call(init, 0)) as { grpcAddress: string; httpAddress: string };
  } catch (err) {
    // It could not start (an address in use, a bad data directory): end it, or its IPC channel keeps us running.
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    grpcAddress: ready.grpcAddress,
    httpAddress: ready.httpAddress,
    pid: child.pid!,
    exited,
    setTime: async (t) => {
      await call({ op: 'time', t });
    },
    applyPolicies: async (files) => {
      await call({ op: 'policies', files });
    },
    settle: async () => {
      await call({ op: 'settle' });
    },
    memory: async () => (await call({ op: 'memory' })) as { peakRss: number; rss: number },
    close() {
      closing ??= (async () => {
        if (dead === undefined) await call({ op: 'close' }).catch(() => undefined);
        await exited;
      })();
      return closing;
    },
  };
}

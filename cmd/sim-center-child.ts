// The simulator's aggregator, in a process of its own (forked by cmd/sim-center.ts): a real
// aggregator on a ManualClock that the simulator moves over IPC, so that arrivals, heartbeats
// and policy revisions carry simulated times, and its memory is measured apart from the fleet's.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentialsFromHashes, startAggregator, type Aggregator } from '../aggregator/index.js';
import { ManualClock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import { processMemory } from '../common/process-memory.js';

/** The first message: where and how to run. */
export interface CenterInit {
  readonly op: 'init';
  readonly dataDir: string;
  readonly start: number;
  /** Token SHA-256 (hex) by site. */
  readonly hashes: Readonly<Record<string, string>>;
  readonly grpcListen: string;
  readonly httpListen: string;
}

export type CenterRequest =
  | { readonly id: number; readonly op: 'time'; readonly t: number }
  | { readonly id: number; readonly op: 'policies'; readonly files: Readonly<Record<string, string>> }
  | { readonly id: number; readonly op: 'settle' }
  | { readonly id: number; readonly op: 'memory' }
  | { readonly id: number; readonly op: 'close' };

function send(message: unknown): void {
  process.send!(message);
}

let agg: Aggregator | undefined;
let clock: ManualClock | undefined;
let policiesDir = '';

async function handle(m: CenterInit | CenterRequest): Promise<unknown> {
  switch (m.op) {
    case 'init': {
      clock = new ManualClock(m.start);
      policiesDir = join(m.dataDir, 'policies');
      await mkdir(policiesDir, { recursive: true });
      agg = await startAggregator({
        dataDir: m.dataDir, tls: 'insecure', grpcListen: m.grpcListen, httpListen: m.httpListen, clock,
        credentials: { credentials: credentialsFromHashes(Object.fromEntries(Object.entries(m.hashes).map(([s, h]) => [s, [h]]))) },
        fleet: { policies: { dir: policiesDir, watch: false, pollIntervalMs: 0 } },
        // The fleet's connection carries thousands of sites' calls at once.
        limits: { maxConcurrentUploads: 1 << 20, maxBufferedBytes: 4 * 2 ** 30 },
      });
      await agg.fleet!.whenReady();
      return { grpcAddress: agg.grpcAddress, httpAddress: agg.httpAddress };
    }
    case 'time':
      clock!.set(m.t);
      return {};
    case 'policies': {
      for (const f of await readdir(policiesDir)) await rm(join(policiesDir, f), { force: true });
      for (const [name, text] of Object.entries(m.files)) await writeFile(join(policiesDir, name), text);
      const r = await agg!.fleet!.reloadPolicies();
      if (r !== undefined && (r.outcome === 'invalid' || r.outcome === 'failed')) throw new Error(`the policy reload ended ${r.outcome}: ${r.rejected.map((x) => JSON.stringify(x)).join('; ')}`);
      return { added: r?.added.map((x) => x.id) ?? [] };
    }
    case 'settle':
      await agg!.fleet!.catchUp();
      return {};
    case 'memory':
      return processMemory();
    case 'close':
      await agg?.close();
      return {};
  }
}

process.on('message', (m: CenterInit | CenterRequest) => {
  handle(m).then(
    (value) => {
      send({ id: 'id' in m ? m.id : 0, ok: true, value });
      if (m.op === 'close') process.disconnect();
    },
    (err: unknown) => send({ id: 'id' in m ? m.id : 0, ok: false, code: (err as { code?: string }).code, message: errorMessage(err) }),
  );
});
process.on('disconnect', () => {
  // The simulator is gone: stop serving.
  void agg?.close().finally(() => process.exit(0));
});
// Ctrl-C in a terminal reaches the whole process group: the simulator decides when this stops
// (it asks with `close`, after printing what it has to say).
process.on('SIGINT', () => {});

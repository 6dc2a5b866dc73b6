// Crash test: a child appends rounds and is SIGKILLed at seeded random moments, at least 50
// times (DW_CRASH_KILLS raises it; DW_SEED replays a run). After every kill the store opens and
// holds every acknowledged round exactly once, with its content, and nothing it did not write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../../common/clock.js';
import { randomInt, seededRandom, seedFromEnv } from '../../../common/random.js';
import { openEdgeStore } from '../../../collector/store/index.js';
import { CRASH_OPTIONS, crashRound, runBase } from './crash-rounds.js';
import { normalizeRound, readAllRounds, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

interface RunResult {
  acked: number[];
  ready: boolean;
  exit: string;
}

/** Runs one child; kills it after `killAfterAcks` acks (or `killAfterAcks` = 0: soon after spawn) plus `jitterMs`. */
function runChild(dir: string, run: number, killAfterAcks: number, jitterMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result: RunResult = { acked: [], ready: false, exit: '' };
    let buffered = '';
    let stderr = '';
    let killing = false;
    const killSoon = (): void => {
      if (killing) return;
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), jitterMs);
    };
    if (killAfterAcks === 0) killSoon();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'ready') result.ready = true;
        else if (line.startsWith('ack ')) {
          result.acked.push(Number(line.slice(4)));
          if (result.acked.length >= killAfterAcks) killSoon();
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      result.exit = signal ?? `exit ${code}`;
      if (signal !== 'SIGKILL') reject(new Error(`child run ${run} ended with ${result.exit} before the kill: ${stderr}`));
      else resolve(result);
    });
  });
}

test('kill -9 at random moments loses no acknowledged round and duplicates none', { timeout: 180_000 }, async () => {
  const seed = seedFromEnv(20_251_121);
  const kills = Number(process.env.DW_CRASH_KILLS ?? 50);
  const random = seededRandom(seed);
  const { dir, cleanup } = await tempDir();
  const acked = new Set<number>();
  const written = new Set<number>(); // unacknowledged rounds seen once: they must stay
  let ackedTotal = 0;
  let notReady = 0;
  try {
    for (let run = 0; run < kills; run++) {
      const context = `seed ${seed} (DW_SEED=${seed} replays it), run ${run}`;
      const early = random() < 0.15;
      const result = await runChild(dir, run, early ? 0 : randomInt(random, 1, 30), early ? randomInt(random, 0, 60) : randomInt(random, 0, 4));
      if (!result.ready) notReady++;
      for (const t of result.acked) acked.add(t);
      ackedTotal += result.acked.length;
      const inFlight = result.acked.length === 0 ? runBase(run) : result.acked[result.acked.length - 1]! + 1000;

      const store = await openEdgeStore({ dir, siteId: 'crash-site', clock: new ManualClock(runBase(run + 1)), ...CRASH_OPTIONS });
      try {
        const stats = store.stats();
        assert.equal(stats.quarantinedBlocks, 0, `${context}: nothing corrupt after a kill`);
        assert.equal(stats.totals.headRoundsQuarantined, 0, context);
        const { rounds, events } = await readAllRounds(store);
        const present = new Map<number, number>();
        for (const r of rounds) present.set(r.t, (present.get(r.t) ?? 0) + 1);
        for (const [t, n] of present) {
          assert.equal(n, 1, `${context}: round ${t} is there ${n} times`);
          if (!acked.has(t)) {
            assert.ok(written.has(t) || t === inFlight, `${context}: round ${t} was never appended`);
            written.add(t);
          }
        }
        for (const t of acked) assert.ok(present.has(t), `${context}: acknowledged round ${t} is missing`);
        for (const t of written) assert.ok(present.has(t), `${context}: round ${t}, once durable, is missing`);
        for (const r of rounds) {
          assert.deepEqual(normalizeRound(r), { ...normalizeRound(crashRound(r.t)), events: [] }, `${context}: round ${r.t} differs`);
        }
        // Round events come back too: exactly those of the rounds present.
        const expectedEvents = rounds.flatMap((r) => normalizeRound(crashRound(r.t)).events);
        assert.deepEqual(events.map((e) => normalizeRound({ t: e.t, samples: [], events: [e] }).events[0]).sort(), expectedEvents.sort(), `${context}: events differ`);
      } finally {
        await store.close();
      }
    }
    assert.ok(ackedTotal >= kills, `expected most runs to acknowledge rounds, found ${ackedTotal} in ${kills} runs`);
    console.log(`crash test: seed ${seed}, ${kills} kills, ${ackedTotal} acknowledged rounds, ${written.size} unacknowledged but durable, ${notReady} killed before ready`);
  } finally {
    await cleanup();
  }
});

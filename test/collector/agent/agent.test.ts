// The agent's loop on a ManualClock, no real sleeps: N rounds leave sealed blocks whose decoded
// contents equal exactly what the sources returned; aligned rounds; a suspended process records
// a gap and does not burst; stop finishes the round in flight; health; /metrics and /healthz.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  createAgent, createAgentMetrics, parseAgentConfig, startAgentHttp, type AgentConfig, type AgentOptions,
} from '../../../collector/agent/index.js';
import { fastForwardTimers, ManualTimers, systemTimers, type ScheduledSource } from '../../../collector/round/index.js';
import { SourceError, SourceErrorCode } from '../../../collector/sources/errors.js';
import type { SourceResult } from '../../../collector/sources/source.js';
import { seededRandom, seedFromEnv } from '../../../common/random.js';
import { canonicalLabels, type BlockEvent, type Round, type Sample } from '../../../proto/index.js';
import {
  clockAt, okSource, readStoreBlocks, recordingLogger, sampleLines, ScriptedSource, seededSource, T0, tempDir,
} from './helpers.js';

function testConfig(dir: string, yamlExtra = ''): AgentConfig {
  return parseAgentConfig(`site:\n  id: shop-0042\nstore:\n  dir: ${dir}\n${yamlExtra}sources:\n  - kind: host\n    name: unused\n`, { file: 'test.yaml' });
}

const up = (source: string, kind: string, value: 0 | 1): Sample => ({ name: 'driftwatch_source_up', labels: { source, kind }, type: 'float', value });
const duration = (source: string, kind: string): Sample => ({ name: 'driftwatch_source_duration_seconds', labels: { source, kind }, type: 'float', value: 0 });

function eventLines(events: readonly BlockEvent[]): string[] {
  return events.map((e) => JSON.stringify([e.t, e.kind, e.reason, e.message, canonicalLabels(e.labels), e.rangeMinT, e.rangeMaxT, e.count])).sort();
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

/** Fires the loop's timers one by one until `run` settles. */
async function drive<T>(timers: ManualTimers, run: Promise<T>): Promise<T> {
  let done = false;
  const settled = run.then(() => {
    done = true;
  }, () => {
    done = true;
  });
  while (!done) {
    await Promise.race([timers.whenPending(), settled]);
    if (!done) timers.runNext();
  }
  return run;
}

function baseOptions(config: AgentConfig, sources: ScheduledSource[], clock: ReturnType<typeof clockAt>, extra: Partial<AgentOptions> = {}): AgentOptions {
  return {
    config, sources, clock, timers: fastForwardTimers(clock), deadlineTimers: systemTimers(clock),
    logger: recordingLogger(), version: '0.1.0-test', random: seededRandom(7), ...extra,
  };
}

describe('agent', () => {
  it('N rounds leave sealed blocks whose decoded contents equal exactly what the sources returned, plus up and duration', async () => {
    const seed = seedFromEnv(20251121);
    const random = seededRandom(seed);
    const { dir, cleanup } = await tempDir();
    try {
      const config = testConfig(dir);
      const clock = clockAt(3_000); // started 3 s past an aligned slot
      const a = seededSource('apps', random, { strings: 40, floats: 10 });
      const b = seededSource('sensors', random, { strings: 5, floats: 30 });
      // Fails in a seeded third of its rounds; every 60 s only.
      const flakyRandom = seededRandom(seed + 1);
      const flakyReturned = new Map<number, SourceResult | 'failed'>();
      const flaky = new ScriptedSource('router', 'snmp', async (ctx) => {
        if (flakyRandom() < 0.33) {
          flakyReturned.set(ctx.roundTime, 'failed');
          throw new SourceError(SourceErrorCode.Timeout, 'expected an answer from 192.0.2.1:161, found none');
        }
        const result = { samples: [{ name: 'snmp_sys_descr', labels: { target: '192.0.2.1' }, type: 'string' as const, value: 'RouterOS 7.16' }], events: [] };
        flakyReturned.set(ctx.roundTime, result);
        return result;
      });
      const sources: ScheduledSource[] = [
        { source: a, interval: 15_000, timeout: 10_000 },
        { source: b, interval: 15_000, timeout: 10_000 },
        { source: flaky, interval: 60_000, timeout: 10_000 },
      ];
      const rounds = 50;
      const agent = createAgent(baseOptions(config, sources, clock));
      const summary = await agent.run({ rounds });
      assert.deepEqual(summary, { rounds, roundsMissed: 0, sourceErrors: [...flakyReturned.values()].filter((v) => v === 'failed').length, blocksSealed: 3, stopReason: 'rounds_done' });
      assert.ok(a.closed && b.closed && flaky.closed, 'sources closed on stop');

      // What the sources returned, round by round, with the sampler's own series.
      const times = Array.from({ length: rounds }, (_, i) => T0 + 15_000 * (i + 1));
      const expectedRounds: Round[] = times.map((t) => {
        const samples: Sample[] = [...a.returned.get(t)!.samples, ...b.returned.get(t)!.samples, up('apps', 'seeded', 1), duration('apps', 'seeded'), up('sensors', 'seeded', 1), duration('sensors', 'seeded')];
        const r = flakyReturned.get(t);
        if (r !== undefined) samples.push(up('router', 'snmp', r === 'failed' ? 0 : 1), duration('router', 'snmp'), ...(r === 'failed' ? [] : r.samples));
        return { t, samples };
      });
      assert.deepEqual([...flakyReturned.keys()], times.filter((t) => t % 60_000 === 0), 'the 60 s source ran only on its aligned slots');
      const expectedEvents: BlockEvent[] = [
        ...times.flatMap((t) => [...a.returned.get(t)!.events, ...b.returned.get(t)!.events]),
        ...[...flakyReturned].filter(([, r]) => r === 'failed').map(([t]) => ({
          t, kind: 'source_error', reason: 'DW_SOURCE_TIMEOUT', message: 'expected an answer from 192.0.2.1:161, found none',
          labels: { source: 'router', source_kind: 'snmp' }, rangeMinT: 0, rangeMaxT: 0, count: 0,
        })),
        {
          t: T0 + 3_000, kind: 'agent_start', reason: 'started', message: 'driftwatch agent 0.1.0-test started: 3 sources every 15s',
          labels: { version: '0.1.0-test', interval: '15s' }, rangeMinT: 0, rangeMaxT: 0, count: 0,
        },
        {
          t: times[rounds - 1]!, kind: 'agent_stop', reason: 'rounds_done', message: `driftwatch agent 0.1.0-test stopping (${rounds} rounds done) after ${rounds} rounds`,
          labels: { version: '0.1.0-test' }, rangeMinT: 0, rangeMaxT: 0, count: rounds,
        },
      ];
      assert.ok(expectedEvents.some((e) => e.kind === 'source_error') && expectedEvents.some((e) => e.kind === 'test'), `seed ${seed}: both event kinds occur`);

      const stored = await readStoreBlocks(dir);
      assert.equal(stored.blocks, 3, '5-minute blocks: 12:00:15–12:04:45, 12:05–12:09:45, and the flushed rest');
      assert.deepEqual(stored.rounds.map((r) => r.t), times);
      stored.rounds.forEach((r, i) => assert.deepEqual(sampleLines(r.samples), sampleLines(expectedRounds[i]!.samples), `seed ${seed}: round ${i}`));
      assert.deepEqual(eventLines(stored.events), eventLines(expectedEvents), `seed ${seed}`);
    } finally {
      await cleanup();
    }
  });

  it('aligns rounds to the interval and records a suspension as one gap, without a burst of catch-up rounds', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(1_234);
      const timers = new ManualTimers(clock);
      const source = okSource('node', [{ name: 'node_load1', labels: {}, type: 'float', value: 0.5 }], [], 'host');
      const registry = new Registry();
      const metrics = createAgentMetrics(registry);
      const logger = recordingLogger();
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source, interval: 15_000, timeout: 10_000 }], clock), timers, metrics, logger });
      const run = agent.run({ rounds: 3 });

      await timers.whenPending();
      assert.equal(timers.nextAt, T0 + 15_000, 'the first round waits for the next aligned slot');
      timers.runNext();
      await agent.ready;
      await timers.whenPending();
      assert.equal(timers.nextAt, T0 + 30_000);
      // The process is suspended for 10 minutes and 7 seconds: it wakes at 12:10:22.
      timers.set(T0 + 15_000 + 607_000);
      await timers.whenPending();
      assert.equal(timers.nextAt, T0 + 630_000, 'resumes at the next aligned slot (12:10:30)');
      timers.runNext();
      await timers.whenPending();
      timers.runNext();
      const summary = await run;
      assert.deepEqual([summary.rounds, summary.roundsMissed, summary.stopReason], [3, 40, 'rounds_done']);
      assert.deepEqual(source.contexts.map((c) => c.roundTime), [T0 + 15_000, T0 + 630_000, T0 + 645_000], 'no catch-up rounds');

      const stored = await readStoreBlocks(dir);
      assert.deepEqual(stored.rounds.map((r) => r.t), [T0 + 15_000, T0 + 630_000, T0 + 645_000]);
      const gap = stored.events.find((e) => e.kind === 'agent_gap');
      assert.deepEqual(gap, {
        t: T0 + 622_000, kind: 'agent_gap', reason: 'suspended',
        message: `missed 40 rounds from ${new Date(T0 + 30_000).toISOString()} to ${new Date(T0 + 615_000).toISOString()}: the agent woke 9m52s after the planned round (process suspended or stalled, or the clock stepped forward); resuming at the next aligned round`,
        labels: { interval: '15s' }, rangeMinT: T0 + 30_000, rangeMaxT: T0 + 615_000, count: 40,
      });
      assert.match(await registry.metrics(), /^driftwatch_agent_rounds_missed_total 40$/m);
      assert.match(await registry.metrics(), /^driftwatch_agent_rounds_total 3$/m);
      assert.ok(logger.messages('warn').includes('rounds missed (process suspended or stalled), recorded as a gap; resuming at the next aligned round'));
    } finally {
      await cleanup();
    }
  });

  it('a round that overruns its slot runs late once, then skips what it overran', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(500);
      const timers = new ManualTimers(clock);
      // The second collection takes 40 s (by the clock), past two slots.
      const source = new ScriptedSource('slow', 'exec', async (_ctx, call) => {
        if (call === 2) clock.advance(40_000);
        return { samples: [], events: [] };
      });
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source, interval: 15_000, timeout: 60_000 }], clock), timers });
      const summary = await drive(timers, agent.run({ rounds: 3 }));
      assert.deepEqual(source.contexts.map((c) => c.roundTime - T0), [15_000, 30_000, 75_000]);
      assert.equal(summary.roundsMissed, 2);
    } finally {
      await cleanup();
    }
  });

  it('plans from the new time when the clock steps back, instead of sleeping the step away', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(500);
      const logger = recordingLogger();
      // Timers that fire at once, as a setTimeout whose delay passed while the wall clock stepped back.
      const immediate = { at: (_at: number, fn: () => void) => { setImmediate(fn); return () => {}; } };
      const source = new ScriptedSource('node', 'host', async (_ctx, call) => {
        if (call === 1) clock.set(T0 + 500 - 3_600_000); // NTP steps the clock back an hour
        return { samples: [], events: [] };
      });
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source, interval: 15_000, timeout: 10_000 }], clock), timers: immediate, logger });
      await agent.run({ rounds: 2 });
      assert.deepEqual(source.contexts.map((c) => c.roundTime - T0), [15_000, 15_000 - 3_600_000]);
      assert.ok(logger.messages('warn').includes('clock stepped back, rounds planned from the new time'));
    } finally {
      await cleanup();
    }
  });

  it('stop between rounds ends the wait at once, flushes the store and closes the sources', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(500);
      const timers = new ManualTimers(clock);
      const source = okSource('node', [{ name: 'node_load1', labels: {}, type: 'float', value: 1 }]);
      const logger = recordingLogger();
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source, interval: 15_000, timeout: 10_000 }], clock), timers, logger });
      assert.deepEqual(agent.health(), { ok: false, reason: 'starting: the store is not open yet' });
      const run = agent.run();
      await timers.whenPending();
      timers.runNext();
      await timers.whenPending();
      assert.deepEqual(agent.health(), { ok: true, reason: `running, last round ${new Date(T0 + 15_000).toISOString()}` });
      agent.stop('SIGTERM');
      const summary = await run;
      assert.deepEqual([summary.rounds, summary.stopReason, summary.blocksSealed], [1, 'signal', 1]);
      assert.equal(timers.pending, 0);
      assert.ok(source.closed);
      assert.deepEqual(agent.health(), { ok: false, reason: 'stopped' });
      const stored = await readStoreBlocks(dir);
      assert.equal(stored.rounds.length, 1);
      // No round was in flight: agent_stop is stored without one and sealed into the last block.
      assert.equal(stored.blocks, 1);
      assert.deepEqual(stored.events.map((e) => [e.kind, e.reason, e.t - T0, e.count, e.message]), [
        ['agent_start', 'started', 500, 0, 'driftwatch agent 0.1.0-test started: 1 source every 15s'],
        ['agent_stop', 'signal', 15_000, 1, 'driftwatch agent 0.1.0-test stopping (SIGTERM) after 1 round'],
      ]);
      assert.equal(logger.lines.filter((l) => l.message.startsWith('events after the last round')).length, 0);
    } finally {
      await cleanup();
    }
  });

  it('stop during a round finishes it and stores it with the agent_stop event', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt();
      const timers = new ManualTimers(clock);
      let release!: () => void;
      const source = new ScriptedSource('k8s', 'kubernetes', () => new Promise<SourceResult>((resolve) => {
        release = () => resolve({ samples: [{ name: 'kube_node_info', labels: { node: 'n1' }, type: 'string', value: 'v1.31.2+k3s1' }], events: [] });
      }));
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source, interval: 15_000, timeout: 10_000 }], clock), timers, deadlineTimers: new ManualTimers(clock) });
      const run = agent.run();
      await timers.whenPending();
      timers.runNext();
      while (source.calls === 0) await new Promise((resolve) => setImmediate(resolve));
      agent.stop('SIGINT');
      assert.match(agent.health().reason, /^running/, 'still running the round in flight');
      release();
      const summary = await run;
      assert.deepEqual([summary.rounds, summary.stopReason], [1, 'signal']);
      const stored = await readStoreBlocks(dir);
      assert.deepEqual(stored.rounds.map((r) => sampleLines(r.samples).filter((l) => l.startsWith('kube_'))), [['kube_node_info{node="n1"} string "v1.31.2+k3s1"']]);
      assert.deepEqual(stored.events.map((e) => [e.kind, e.reason, e.message]), [
        ['agent_start', 'started', 'driftwatch agent 0.1.0-test started: 1 source every 15s'],
        ['agent_stop', 'signal', 'driftwatch agent 0.1.0-test stopping (SIGINT) after 1 round'],
      ]);
    } finally {
      await cleanup();
    }
  });

  it('stores the round when a source repeats a series of its own, keeping the first value', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(500);
      const logger = recordingLogger();
      const buggy = okSource('buggy', [
        { name: 'plc_state', labels: { line: '1' }, type: 'string', value: 'running' },
        { name: 'plc_state', labels: { line: '1' }, type: 'string', value: 'stopped' },
      ], [], 'exec');
      const summary = await createAgent({ ...baseOptions(testConfig(dir), [{ source: buggy, interval: 15_000, timeout: 10_000 }], clock), logger }).run({ rounds: 2 });
      assert.equal(summary.rounds, 2);
      const stored = await readStoreBlocks(dir);
      assert.deepEqual(stored.rounds.map((r) => sampleLines(r.samples).filter((l) => l.startsWith('plc_'))), [['plc_state{line="1"} string "running"'], ['plc_state{line="1"} string "running"']]);
      assert.equal(logger.messages('warn').filter((m) => m.startsWith('duplicate series')).length, 2);
    } finally {
      await cleanup();
    }
  });

  it('reports unhealthy when no round was stored for two intervals and a timeout', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt();
      const timers = new ManualTimers(clock);
      const agent = createAgent({ ...baseOptions(testConfig(dir), [{ source: okSource('a', []), interval: 15_000, timeout: 10_000 }], clock), timers });
      const run = agent.run();
      await agent.ready;
      assert.deepEqual(agent.health(), { ok: true, reason: 'running, waiting for the first round' });
      clock.advance(40_001); // moved without the timers: the loop is stuck
      assert.deepEqual(agent.health(), { ok: false, reason: `no round stored since ${new Date(T0).toISOString()} (expected one every 15s)` });
      agent.stop('test');
      await run;
    } finally {
      await cleanup();
    }
  });

  it('fails to run when the store cannot be opened, and closes the sources', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, 'not-a-dir');
      await writeFile(file, 'x');
      const clock = clockAt();
      const source = okSource('a', []);
      const agent = createAgent(baseOptions(testConfig(join(file, 'store')), [{ source, interval: 15_000, timeout: 10_000 }], clock));
      await assert.rejects(agent.run({ rounds: 1 }), (err: { code?: string }) => typeof err.code === 'string' && err.code.startsWith('DW_STORE_'));
      await assert.rejects(agent.ready);
      assert.ok(source.closed);
      assert.deepEqual(agent.health(), { ok: false, reason: 'failed: see the log' });
    } finally {
      await cleanup();
    }
  });

  it('serves /metrics and /healthz', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = clockAt(500);
      const timers = new ManualTimers(clock);
      const registry = new Registry();
      const metrics = createAgentMetrics(registry);
      const failing = new ScriptedSource('router', 'snmp', async () => {
        throw new SourceError(SourceErrorCode.PermissionDenied, 'expected the community to be accepted, found authorizationError');
      });
      const agent = createAgent({
        ...baseOptions(testConfig(dir), [{ source: okSource('node', []), interval: 15_000, timeout: 10_000 }, { source: failing, interval: 15_000, timeout: 10_000 }], clock),
        timers, metrics,
      });
      const http = await startAgentHttp({ listen: '127.0.0.1:0', registry, health: () => agent.health() });
      try {
        assert.deepEqual(await get(http.port, '/healthz'), { status: 503, body: 'unhealthy: starting: the store is not open yet\n' });
        const run = agent.run();
        for (let i = 0; i < 2; i++) {
          await timers.whenPending();
          timers.runNext();
        }
        await timers.whenPending();
        assert.deepEqual(await get(http.port, '/healthz'), { status: 200, body: `ok: running, last round ${new Date(T0 + 30_000).toISOString()}\n` });
        const m = await get(http.port, '/metrics');
        assert.equal(m.status, 200);
        for (const line of [
          'driftwatch_agent_rounds_total 2',
          'driftwatch_agent_rounds_missed_total 0',
          'driftwatch_agent_source_errors_total{source="router",code="DW_SOURCE_PERMISSION_DENIED"} 2',
          'driftwatch_agent_round_duration_seconds_count 2',
          'driftwatch_agent_blocks_sealed_total 0',
          'driftwatch_agent_store_unshipped_blocks 0',
          'driftwatch_agent_store_quarantined_blocks 0',
        ]) assert.ok(m.body.split('\n').includes(line), `${line} in\n${m.body}`);
        assert.match(m.body, /^driftwatch_agent_store_stored_bytes [1-9]\d*$/m);
        assert.equal((await get(http.port, '/nope')).status, 404);
        agent.stop('test');
        await run;
        assert.deepEqual(await get(http.port, '/healthz'), { status: 503, body: 'unhealthy: stopped\n' });
        assert.match((await get(http.port, '/metrics')).body, /^driftwatch_agent_blocks_sealed_total 1$/m);
      } finally {
        await http.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('refuses to listen on an address in use, with a code', async () => {
    const registry = new Registry();
    const first = await startAgentHttp({ listen: '127.0.0.1:0', registry, health: () => ({ ok: true, reason: 'x' }) });
    try {
      await assert.rejects(startAgentHttp({ listen: `127.0.0.1:${first.port}`, registry, health: () => ({ ok: true, reason: 'x' }) }), {
        code: 'DW_AGENT_HTTP_LISTEN_FAILED', message: new RegExp(`^expected to listen on 127\\.0\\.0\\.1:${first.port}, found listen EADDRINUSE`),
      });
    } finally {
      await first.close();
    }
  });
});

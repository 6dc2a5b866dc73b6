// The sampler: due vs not due, ok vs failed vs timed out, deadlines on a ManualClock (no real
// sleeps), duplicate and invalid series, and rounds the store always accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSampler, ManualTimers, type ScheduledSource } from '../../collector/round/index.js';
import { SourceError, SourceErrorCode } from '../../collector/sources/errors.js';
import type { SourceResult } from '../../collector/sources/source.js';
import { openEdgeStore } from '../../collector/store/index.js';
import type { Sample } from '../../proto/index.js';
import {
  clockAt, failingSource, hangingSource, okSource, recordingLogger, sampleLines, ScriptedSource, T0, tempDir,
} from './agent/helpers.js';

const f = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({ name, labels, type: 'float', value });
const s = (name: string, value: string, labels: Record<string, string> = {}): Sample => ({ name, labels, type: 'string', value });

function scheduled(source: ScriptedSource, interval = 15_000, timeout = 12_000): ScheduledSource {
  return { source, interval, timeout };
}

describe('sampler', () => {
  it('samples only the due sources; up 1 for ok, 0 and a source_error event for failed, nothing for not due', async () => {
    const clock = clockAt();
    const timers = new ManualTimers(clock);
    const a = okSource('a', [s('app_version', '1.2.3')], [], 'exec');
    const hourly = okSource('hourly', [f('slow_metric', 7)], [], 'snmp');
    const broken = failingSource('broken', new SourceError(SourceErrorCode.Unreachable, 'expected an answer from 10.0.0.1:161, found connection refused'), 'snmp');
    const sampler = createSampler({ sources: [scheduled(a), scheduled(hourly, 3_600_000), scheduled(broken)], clock, timers, logger: recordingLogger() });
    assert.equal(sampler.isDue(scheduled(hourly, 3_600_000), T0 + 15_000), false);

    const r = await sampler.sample(T0 + 15_000);
    assert.equal(r.round.t, T0 + 15_000);
    assert.deepEqual(sampleLines(r.round.samples), [
      'app_version string "1.2.3"',
      'driftwatch_source_duration_seconds{kind="exec",source="a"} float 0',
      'driftwatch_source_duration_seconds{kind="snmp",source="broken"} float 0',
      'driftwatch_source_up{kind="exec",source="a"} float 1',
      'driftwatch_source_up{kind="snmp",source="broken"} float 0',
    ]);
    assert.deepEqual(r.round.events, [{
      t: T0 + 15_000, kind: 'source_error', reason: 'DW_SOURCE_UNREACHABLE', message: 'expected an answer from 10.0.0.1:161, found connection refused',
      labels: { source: 'broken', source_kind: 'snmp' }, rangeMinT: 0, rangeMaxT: 0, count: 0,
    }]);
    assert.deepEqual(r.sources.map((x) => [x.name, x.status]), [['a', 'ok'], ['hourly', 'not_due'], ['broken', 'failed']]);
    assert.equal(hourly.calls, 0);

    // At the top of the hour every source is due.
    const top = await sampler.sample(T0 + 3_600_000);
    assert.deepEqual(top.sources.map((x) => x.status), ['ok', 'ok', 'failed']);
    assert.ok(sampleLines(top.round.samples).includes('driftwatch_source_up{kind="snmp",source="hourly"} float 1'));
    assert.equal(timers.pending, 0, 'every deadline timer is cancelled once its source settled');
  });

  it('aborts a source that never settles at its deadline and goes on; it is not called again while it hangs', async () => {
    const clock = clockAt(15_000);
    const timers = new ManualTimers(clock);
    const hanging = hangingSource('k8s', 'kubernetes');
    const fine = new ScriptedSource('node', 'host', async () => ({ samples: [f('node_load1', 0.5)], events: [] }));
    const logger = recordingLogger();
    const sampler = createSampler({ sources: [scheduled(hanging, 15_000, 12_000), scheduled(fine)], clock, timers, logger });

    let settled = false;
    const round = sampler.sample(T0 + 15_000).then((r) => {
      settled = true;
      return r;
    });
    await timers.whenPending(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the round waits for the hanging source until its deadline');
    assert.equal(timers.nextAt, T0 + 15_000 + 12_000);
    timers.advance(11_999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    timers.advance(1);
    const r = await round;
    assert.equal(hanging.aborted, 1, 'the source\'s signal was aborted');
    assert.equal(hanging.contexts[0]!.deadline, T0 + 27_000);
    assert.equal(hanging.contexts[0]!.signal.reason.code, 'DW_SOURCE_TIMEOUT');
    assert.deepEqual(sampleLines(r.round.samples), [
      'driftwatch_source_duration_seconds{kind="host",source="node"} float 0',
      'driftwatch_source_duration_seconds{kind="kubernetes",source="k8s"} float 12',
      'driftwatch_source_up{kind="host",source="node"} float 1',
      'driftwatch_source_up{kind="kubernetes",source="k8s"} float 0',
      'node_load1 float 0.5',
    ]);
    assert.deepEqual(r.round.events.map((e) => [e.kind, e.reason, e.message]), [
      ['source_error', 'DW_SOURCE_TIMEOUT', 'expected an answer within 12s, found none by the deadline'],
    ]);

    // Next round: the source still has not settled (it ignores its signal), so it is skipped, failed at once.
    clock.set(T0 + 30_000);
    const next = await sampler.sample(T0 + 30_000);
    assert.equal(hanging.calls, 1);
    assert.deepEqual(next.sources.map((x) => [x.name, x.status, x.status === 'failed' ? x.code : '']), [['k8s', 'failed', 'DW_SOURCE_TIMEOUT'], ['node', 'ok', '']]);
    assert.match(next.round.events[0]!.message, /^expected the previous collection \(started .*\) to have settled, found it still running; skipped this round$/);
  });

  it('collects the due sources concurrently', async () => {
    const clock = clockAt();
    const timers = new ManualTimers(clock);
    const resolvers: ((r: SourceResult) => void)[] = [];
    const deferred = (name: string): ScriptedSource => new ScriptedSource(name, 'test', () => new Promise((resolve) => resolvers.push(resolve)));
    const a = deferred('a');
    const b = deferred('b');
    const round = createSampler({ sources: [scheduled(a), scheduled(b)], clock, timers, logger: recordingLogger() }).sample(T0);
    await timers.whenPending(2);
    assert.equal(a.calls + b.calls, 2, 'both called before either answered');
    clock.advance(250);
    resolvers[1]!({ samples: [f('b_metric', 2)], events: [] });
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(250);
    resolvers[0]!({ samples: [f('a_metric', 1)], events: [] });
    const r = await round;
    assert.deepEqual(r.sources.map((x) => [x.name, x.status === 'not_due' ? 0 : x.durationMs]), [['a', 500], ['b', 250]]);
  });

  it('keeps the first source\'s value of a series emitted twice, and warns', async () => {
    const clock = clockAt();
    const logger = recordingLogger();
    const first = okSource('node', [f('node_load1', 0.5), f('node_load5', 0.4)], [], 'host');
    const second = okSource('exporter', [f('node_load1', 9.9), f('node_load15', 0.3), f('driftwatch_source_up', 5, { source: 'node', kind: 'host' })], [], 'prometheus');
    const r = await createSampler({ sources: [scheduled(first), scheduled(second)], clock, timers: new ManualTimers(clock), logger }).sample(T0);
    const values = new Map(r.round.samples.map((x) => [`${x.name}${JSON.stringify(x.labels)}`, x.value]));
    assert.equal(values.get('node_load1{}'), 0.5);
    assert.equal(values.get('node_load15{}'), 0.3);
    assert.equal(values.get('driftwatch_source_up{"source":"node","kind":"host"}'), 1, 'a source cannot shadow the sampler\'s own series');
    assert.deepEqual(logger.lines.map((l) => [l.level, l.message, l.fields]), [[
      'warn', 'duplicate series left out of the round, keeping the first source\'s value',
      { source: 'exporter', series: 'node_load1', keptFrom: 'node', count: 2 },
    ]]);
    assert.deepEqual(r.sources.map((x) => (x.status === 'ok' ? [x.samples, x.dropped] : [])), [[2, 0], [1, 2]]);
  });

  it('leaves out invalid samples and events; a series a source repeats is left out by withoutRepeats, which the store then takes', async () => {
    const clock = clockAt();
    const logger = recordingLogger();
    const messy = okSource('messy', [
      f('ok_metric', 1),
      f('bad name', 2),
      { name: 'wrong_type', labels: {}, type: 'float', value: 'x' } as unknown as Sample,
      f('bad_label', 3, { 'not-valid': 'x' }),
      f('ok_metric', 4), // the same series twice in one source
    ], [
      { t: T0, kind: 'test', reason: 'r', message: 'm', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 },
      { t: -1, kind: 'test', reason: 'r', message: 'm', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 },
    ]);
    const r = await createSampler({ sources: [scheduled(messy)], clock, timers: new ManualTimers(clock), logger }).sample(T0);
    // The cheap path checks duplicates across sources only.
    assert.deepEqual(sampleLines(r.round.samples).filter((x) => !x.startsWith('driftwatch_')), ['ok_metric float 1', 'ok_metric float 4']);
    assert.equal(r.round.events.length, 1);
    assert.deepEqual(logger.lines.map((l) => [l.message, l.fields.samples, l.fields.events, l.fields.problem]), [
      ['invalid samples or events left out of the round', 3, 1, 'expected a valid metric name, found "bad name"'],
    ]);
    const strict = r.withoutRepeats();
    assert.deepEqual(sampleLines(strict.samples).filter((x) => !x.startsWith('driftwatch_')), ['ok_metric float 1']);
    assert.equal(r.withoutRepeats(), strict, 'computed once');
    assert.deepEqual(logger.lines.slice(1).map((l) => [l.message, l.fields]), [
      ['duplicate series left out of the round, keeping the first source\'s value', { source: 'messy', series: 'ok_metric', keptFrom: 'messy', count: 1 }],
    ]);
    const { dir, cleanup } = await tempDir();
    const store = await openEdgeStore({ dir, siteId: 'site-1', clock });
    try {
      await assert.rejects(store.appendRound(r.round), { code: 'DW_STORE_INVALID_ROUND' });
      await store.appendRound(strict);
      assert.equal(store.stats().headRounds, 1);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('turns any failure into a DW_SOURCE_* code: a plain error, a sync throw, a bad result', async () => {
    const clock = clockAt();
    const plain = failingSource('plain', new Error('socket hang up'));
    const sync = new ScriptedSource('sync', 'test', () => {
      throw new SourceError(SourceErrorCode.PermissionDenied, 'expected access, found 403 Forbidden');
    });
    const shape = new ScriptedSource('shape', 'test', async () => ({ samples: 'nope' }) as unknown as SourceResult);
    const r = await createSampler({ sources: [scheduled(plain), scheduled(sync), scheduled(shape)], clock, timers: new ManualTimers(clock), logger: recordingLogger() }).sample(T0);
    assert.deepEqual(r.round.events.map((e) => [e.labels.source, e.reason, e.message]), [
      ['plain', 'DW_SOURCE_FAILED', 'socket hang up'],
      ['sync', 'DW_SOURCE_PERMISSION_DENIED', 'expected access, found 403 Forbidden'],
      ['shape', 'DW_SOURCE_FAILED', 'expected a result with samples and events arrays, found something else (a bug in the source)'],
    ]);
  });

  it('a hard stop fails the collections still running', async () => {
    const clock = clockAt();
    const timers = new ManualTimers(clock);
    const stop = new AbortController();
    const hanging = hangingSource('slow');
    const round = createSampler({ sources: [scheduled(hanging)], clock, timers, logger: recordingLogger() }).sample(T0, stop.signal);
    await timers.whenPending(1);
    stop.abort(new Error('hard stop'));
    const r = await round;
    assert.equal(hanging.aborted, 1);
    assert.deepEqual(r.sources.map((x) => (x.status === 'failed' ? x.message : x.status)), ['expected to finish the collection, found the agent stopping']);
    assert.equal(timers.pending, 0);
  });
});

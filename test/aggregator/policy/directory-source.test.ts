// The directory source: a valid change becomes a revision effective at load time; an invalid one
// is rejected with every problem and the previous revision stays; reloads come from fs.watch
// (debounced), polling and explicit calls; tests wait on the reload signal, never on sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../common/clock.js';
import { ManualTimers } from '../../../common/timers.js';
import {
  createDirectoryPolicySource, createPolicyMetrics, MAX_POLICY_FILE_BYTES, PolicyError, PolicyErrorCode, PolicyHistory,
  type PolicySource, type ReloadResult,
} from '../../../aggregator/policy/index.js';
import { posPolicy, policyYaml, recordingLogger, tempDir } from './helpers.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function rangeIn(source: PolicySource, t: number, knownAt?: number): string | undefined {
  const e = source.history.inForceAt(t, { knownAt })?.policies.find((p) => p.name === 'shop-pos')?.expectations[0]?.expected;
  return e?.kind === 'semver' ? e.range : undefined;
}

/** Resolves with the first completed reload that satisfies `want` (stray reloads from late file events are skipped). */
function reloadWhere(source: PolicySource, want: (r: ReloadResult) => boolean): Promise<ReloadResult> {
  return new Promise((resolve) => {
    const off = source.onReload((r) => {
      if (!want(r)) return;
      off();
      resolve(r);
    });
  });
}

/** Writes a file the way a careful deployer does: a temporary dotfile (ignored), then a rename. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(path, '..', `.tmp-${Math.random().toString(36).slice(2)}`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

test('start loads the directory as a revision effective at load time; an explicit reload of the same files is unchanged', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~2.4.0'));
  await mkdir(join(dir, 'nested'));
  await writeFile(join(dir, 'nested', 'base.yml'), policyYaml('base'));
  await writeFile(join(dir, '.hidden.yaml'), 'not: [valid');
  await writeFile(join(dir, 'README.md'), '# not a policy');
  const clock = new ManualClock(T0);
  const source = createDirectoryPolicySource({ dir, clock, watch: false, pollInterval: 0 });
  t.after(() => source.close());
  const first = await source.start();
  assert.equal(first.outcome, 'changed');
  assert.equal(first.trigger, 'start');
  const rev = first.added[0]!;
  assert.deepEqual([rev.effectiveAt, rev.loadedAt, rev.source], [T0, T0, { kind: 'directory', path: dir }]);
  assert.match(rev.id, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(rev.files.map((f) => f.path), ['nested/base.yml', 'pos.yaml'], 'dotfiles and non-YAML files are skipped');
  assert.deepEqual(rev.policies.map((p) => p.name), ['base', 'shop-pos']);
  assert.equal(first.inForce, rev);

  clock.advance(60_000);
  const again = await source.reload();
  assert.equal(again.outcome, 'unchanged');
  assert.equal(again.inForce, rev);
  assert.equal(source.history.revisions().length, 1, 'no new revision, and the effective time did not move');
  assert.deepEqual(source.stats, { reloads: 2, changed: 1, unchanged: 1, invalid: 0, failed: 0 });
  const restarted = await source.start();
  assert.deepEqual([restarted.trigger, restarted.outcome], ['explicit', 'unchanged'], 'a second start only reloads');
});

test('a change seen by fs.watch becomes a new revision; an invalid change is rejected and the previous stays in force entirely', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~2.4.0'));
  await writeFile(join(dir, 'base.yaml'), policyYaml('base'));
  const clock = new ManualClock(T0);
  const logger = recordingLogger();
  const registry = new Registry();
  const seen: ReloadResult[] = [];
  const source = createDirectoryPolicySource({
    dir, clock, logger, metrics: createPolicyMetrics(registry), debounce: 20, pollInterval: 0, onReload: (r) => seen.push(r),
  });
  t.after(() => source.close());
  await source.start();

  // A valid change.
  clock.set(T0 + 3_600_000);
  let next = reloadWhere(source, (r) => r.outcome === 'changed');
  await writeAtomic(join(dir, 'pos.yaml'), posPolicy('~2.5.0'));
  const changed = await next;
  assert.equal(changed.trigger, 'watch');
  assert.equal(changed.added[0]!.effectiveAt, T0 + 3_600_000);
  assert.equal(rangeIn(source, T0 + 3_599_999), '~2.4.0');
  assert.equal(rangeIn(source, T0 + 3_600_000), '~2.5.0');

  // An invalid change: two files broken at once, every problem reported, nothing of it applied.
  clock.set(T0 + 7_200_000);
  next = reloadWhere(source, (r) => r.outcome === 'invalid');
  await writeAtomic(join(dir, 'base.yaml'), policyYaml('base', { expectations: ['{ series: "kube_x{", exact: y }'] }));
  await writeAtomic(join(dir, 'pos.yaml'), posPolicy('~2.6.0').replace('semver', 'semverr'));
  let invalid = await next;
  // The two renames may land in one reload or two: wait until both problems are in one.
  while (invalid.error?.problems.length !== 3) invalid = await reloadWhere(source, (r) => r.outcome === 'invalid');
  assert.ok(invalid.error instanceof PolicyError);
  assert.equal(invalid.error.code, PolicyErrorCode.Invalid);
  assert.deepEqual(invalid.error.problems.map((p) => [p.file, p.code, p.line]), [
    ['base.yaml', PolicyErrorCode.BadSeriesMatcher, 8],
    ['pos.yaml', PolicyErrorCode.ExpectationKind, 8],
    ['pos.yaml', PolicyErrorCode.UnknownField, 8],
  ]);
  assert.equal(invalid.inForce, changed.added[0], 'the previous revision stays in force');
  assert.equal(rangeIn(source, T0 + 7_200_000), '~2.5.0');
  assert.equal(source.history.revisions().length, 2);
  assert.equal(source.history.rejected().at(-1)!.effectiveAt, T0 + 7_200_000);
  const warning = logger.lines.find((l) => l.level === 'warn')!;
  assert.equal(warning.message, 'policy set rejected, the previous revision stays in force');
  assert.equal(warning.fields.code, PolicyErrorCode.Invalid);
  const reloads = await registry.getSingleMetric('driftwatch_aggregator_policy_reloads_total')!.get();
  assert.ok(reloads.values.some((v) => v.labels.outcome === 'invalid' && v.value >= 1));

  // The same invalid content again: not recorded twice, but still reported as the current error.
  const rejections = source.history.rejected().length;
  const same = await source.reload();
  assert.equal(same.outcome, 'unchanged');
  assert.equal(same.error?.problems.length, 3);
  assert.equal(source.history.rejected().length, rejections);

  // Fixed: a new revision.
  clock.set(T0 + 10_800_000);
  next = reloadWhere(source, (r) => r.outcome === 'changed');
  await writeAtomic(join(dir, 'base.yaml'), policyYaml('base'));
  await writeAtomic(join(dir, 'pos.yaml'), posPolicy('~2.6.0'));
  let fixed = await next;
  while (rangeIn(source, T0 + 10_800_000) !== '~2.6.0') fixed = await reloadWhere(source, (r) => r.outcome === 'changed');
  assert.equal(fixed.added[0]!.effectiveAt, T0 + 10_800_000);
  assert.equal(source.stats.invalid >= 1 && source.stats.changed >= 3, true);
  assert.ok(seen.length >= 4, 'onReload saw every reload');
});

test('reverting to earlier content is a new revision with the earlier id', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const clock = new ManualClock(T0);
  const source = createDirectoryPolicySource({ dir, clock, watch: false, pollInterval: 0 });
  t.after(() => source.close());
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~1.0.0'));
  const a = (await source.start()).added[0]!;
  clock.advance(1000);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~2.0.0'));
  await source.reload();
  clock.advance(1000);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~1.0.0'));
  const back = (await source.reload()).added[0]!;
  assert.equal(back.id, a.id);
  assert.notEqual(back.seq, a.seq);
  assert.equal(back.effectiveAt, T0 + 2000);
  assert.equal(rangeIn(source, T0 + 1500), '~2.0.0');
});

test('the poll timer reloads when file-system events are off (ManualTimers, no sleeps)', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~1.0.0'));
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const source = createDirectoryPolicySource({ dir, clock, timers, watch: false, pollInterval: 30_000 });
  t.after(() => source.close());
  await source.start();
  await timers.whenPending(1);
  assert.equal(timers.nextAt, T0 + 30_000);

  await writeFile(join(dir, 'pos.yaml'), posPolicy('~2.0.0'));
  const next = source.nextReload();
  timers.advance(30_000);
  const r = await next;
  assert.deepEqual([r.trigger, r.outcome, r.added[0]!.effectiveAt], ['poll', 'changed', T0 + 30_000]);
  await timers.whenPending(1);
  assert.equal(timers.nextAt, T0 + 60_000, 'the next poll is armed after the reload');
  const quiet = source.nextReload();
  timers.advance(30_000);
  assert.equal((await quiet).outcome, 'unchanged');
});

test('a missing directory fails the reload (DW_POLICY_SOURCE_UNREADABLE) and the previous revision stays', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const policyDir = join(dir, 'policies');
  await mkdir(policyDir);
  await writeFile(join(policyDir, 'pos.yaml'), posPolicy('~1.0.0'));
  const logger = recordingLogger();
  const source = createDirectoryPolicySource({ dir: policyDir, clock: new ManualClock(T0), watch: false, pollInterval: 0, logger });
  t.after(() => source.close());
  const first = await source.start();
  await rm(policyDir, { recursive: true });
  const r = await source.reload();
  assert.equal(r.outcome, 'failed');
  assert.equal(r.error?.code, PolicyErrorCode.SourceUnreadable);
  assert.match(r.error!.message, /^expected a readable policy directory, found ENOENT/);
  assert.equal(r.inForce, first.added[0]);
  assert.equal(logger.lines.at(-1)!.message, 'policy source could not be read, the previous revision stays in force');
  const none = createDirectoryPolicySource({ dir: join(dir, 'never'), watch: false, pollInterval: 0 });
  const r2 = await none.start();
  assert.deepEqual([r2.outcome, r2.inForce], ['failed', undefined]);
  await none.close();
});

test('a file over the size limit rejects the set', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'huge.yaml'), '#'.repeat(MAX_POLICY_FILE_BYTES + 10));
  const source = createDirectoryPolicySource({ dir, watch: false, pollInterval: 0 });
  t.after(() => source.close());
  const r = await source.start();
  assert.equal(r.outcome, 'invalid');
  assert.deepEqual(r.error?.problems.map((p) => [p.file, p.code]), [['huge.yaml', PolicyErrorCode.FileTooLarge]]);
  assert.equal(r.inForce, undefined, 'nothing was ever in force');
});

test('a source continuing a stored history keeps its revisions and effective times across restarts', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~1.0.0'));
  const first = createDirectoryPolicySource({ dir, clock: new ManualClock(T0), watch: false, pollInterval: 0 });
  await first.start();
  await first.close();
  const stored = first.history.serialize();

  const history = PolicyHistory.deserialize(stored);
  const second = createDirectoryPolicySource({ dir, history, clock: new ManualClock(T0 + 86_400_000), watch: false, pollInterval: 0 });
  t.after(() => second.close());
  const r = await second.start();
  assert.equal(r.outcome, 'unchanged', 'the same files after a restart are the same revision');
  assert.equal(r.inForce!.effectiveAt, T0);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~2.0.0'));
  const changed = await second.reload();
  assert.deepEqual([changed.added[0]!.seq, changed.added[0]!.effectiveAt], [2, T0 + 86_400_000]);
});

test('reloads are serialised: calls while one waits to start join it; close rejects later calls and pending waits', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await writeFile(join(dir, 'pos.yaml'), posPolicy('~1.0.0'));
  const source = createDirectoryPolicySource({ dir, watch: false, pollInterval: 0 });
  const a = source.reload();
  const b = source.reload();
  assert.equal(a, b, 'a reload not yet started is joined');
  await a;
  const waiting = source.nextReload();
  await source.close();
  await assert.rejects(waiting, (e: unknown) => e instanceof PolicyError && e.code === PolicyErrorCode.SourceClosed);
  await assert.rejects(source.reload(), (e: unknown) => e instanceof PolicyError && e.code === PolicyErrorCode.SourceClosed);
  await assert.rejects(source.start(), (e: unknown) => e instanceof PolicyError && e.code === PolicyErrorCode.SourceClosed);
  await source.close();
  t.diagnostic(`stats ${JSON.stringify(source.stats)}`);
});

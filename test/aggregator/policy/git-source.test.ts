// The git source on temporary repositories made with isomorphic-git (no git binary), commits at
// set committer dates: every first-parent commit that changed the policy subdirectory is a
// revision effective at its commit time; an invalid commit is rejected and the revision before it
// stays in force from its time on; new commits are picked up; knownAt hides late fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as git from 'isomorphic-git';
import { ManualClock } from '../../../common/clock.js';
import {
  createGitPolicySource, PolicyErrorCode, PolicyHistory, type PolicySource, type ReloadResult,
} from '../../../aggregator/policy/index.js';
import { posPolicy, policyYaml, tempDir } from './helpers.js';

const S = 1_767_600_000; // committer dates in seconds (January 2026)
const NOW = (S + 100_000) * 1000;

class Repo {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<Repo> {
    await git.init({ fs, dir, defaultBranch: 'main' });
    return new Repo(dir);
  }

  /** Writes (or, with null, deletes) files, then commits them at `seconds` on `ref`. Returns the sha. */
  async commit(seconds: number, files: Record<string, string | null>, opts: { ref?: string; parent?: string[]; message?: string } = {}): Promise<string> {
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (text === null) {
        await rm(full, { force: true });
        await git.remove({ fs, dir: this.dir, filepath: path });
      } else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, text);
        await git.add({ fs, dir: this.dir, filepath: path });
      }
    }
    const who = { name: 'Fleet Ops', email: 'ops@example.com', timestamp: seconds, timezoneOffset: 0 };
    return git.commit({
      fs, dir: this.dir, message: opts.message ?? `change at ${seconds}`, author: who, committer: who,
      ...(opts.ref === undefined ? {} : { ref: opts.ref }), ...(opts.parent === undefined ? {} : { parent: opts.parent }),
    });
  }
}

function rangeAt(source: PolicySource, t: number, knownAt?: number): string | undefined {
  const e = source.history.inForceAt(t, { knownAt })?.policies.find((p) => p.name === 'shop-pos')?.expectations[0]?.expected;
  return e?.kind === 'semver' ? e.range : undefined;
}

test('every commit that changed the policy subdirectory is a revision at its commit time; an invalid one keeps the previous in force', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  const c0 = await repo.commit(S, { 'README.md': 'fleet repo\n' });
  const c1 = await repo.commit(S + 1000, { 'policies/pos.yaml': posPolicy('~2.4.0'), 'policies/base.yaml': policyYaml('base') });
  const c2 = await repo.commit(S + 2000, { 'README.md': 'fleet repo, edited\n', 'apps/pos.yaml': 'not: a policy\n' });
  const c3 = await repo.commit(S + 3000, { 'policies/pos.yaml': posPolicy('~2.5.0') });
  const c4 = await repo.commit(S + 4000, { 'policies/pos.yaml': posPolicy('banana') });
  const c5 = await repo.commit(S + 5000, { 'policies/pos.yaml': posPolicy('~2.6.0') });

  const clock = new ManualClock(NOW);
  const source = createGitPolicySource({ repository: dir, ref: 'main', subdirectory: 'policies', clock, watch: false, pollInterval: 0 });
  t.after(() => source.close());
  const r = await source.start();
  assert.equal(r.outcome, 'changed');
  assert.deepEqual(r.added.map((x) => [x.id, x.effectiveAt, x.loadedAt]), [
    [c1, (S + 1000) * 1000, NOW], [c3, (S + 3000) * 1000, NOW], [c5, (S + 5000) * 1000, NOW],
  ]);
  assert.ok(![c0, c2].some((c) => source.history.has(c)), 'commits outside the subdirectory are not revisions');
  assert.deepEqual(r.added[0]!.source, { kind: 'git', repository: dir, ref: 'main', subdirectory: 'policies', commit: c1, committedAt: (S + 1000) * 1000 });
  assert.deepEqual(r.added[0]!.files.map((f) => f.path), ['base.yaml', 'pos.yaml'], 'paths relative to the subdirectory');

  assert.deepEqual(r.rejected.map((x) => [x.id, x.effectiveAt]), [[c4, (S + 4000) * 1000]]);
  assert.deepEqual(r.rejected[0]!.problems.map((p) => [p.code, p.file, p.line]), [[PolicyErrorCode.BadSemverRange, 'pos.yaml', 8]]);

  assert.equal(rangeAt(source, (S + 999) * 1000), undefined, 'nothing before the first commit');
  assert.equal(rangeAt(source, (S + 1000) * 1000), '~2.4.0');
  assert.equal(rangeAt(source, (S + 2500) * 1000), '~2.4.0');
  assert.equal(rangeAt(source, (S + 3000) * 1000), '~2.5.0');
  assert.equal(rangeAt(source, (S + 4500) * 1000), '~2.5.0', 'the invalid commit changes nothing: the previous revision stays in force from its time on');
  assert.equal(rangeAt(source, (S + 5000) * 1000), '~2.6.0');

  const again = await source.reload();
  assert.equal(again.outcome, 'unchanged', 'the ref did not move');
});

test('new commits are picked up on reload; knownAt hides a commit fetched later even though it is dated earlier', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  await repo.commit(S + 1000, { 'pos.yaml': posPolicy('~1.0.0') });
  const clock = new ManualClock(NOW);
  const source = createGitPolicySource({ repository: dir, ref: 'main', clock, watch: false, pollInterval: 0 });
  t.after(() => source.close());
  await source.start();

  // A commit dated S+2000 that the aggregator only reads at FETCH.
  const late = await repo.commit(S + 2000, { 'pos.yaml': posPolicy('~2.0.0') });
  const FETCH = NOW + 3_600_000;
  clock.set(FETCH);
  const r = await source.reload();
  assert.deepEqual([r.outcome, r.added[0]!.id, r.added[0]!.effectiveAt, r.added[0]!.loadedAt], ['changed', late, (S + 2000) * 1000, FETCH]);
  assert.equal(rangeAt(source, (S + 2500) * 1000, FETCH - 1), '~1.0.0', 'as known before the fetch');
  assert.equal(rangeAt(source, (S + 2500) * 1000, FETCH), '~2.0.0', 'as known from the fetch on');
});

test('committer dates that go backwards are raised to the previous change, so revisions stay in commit order', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  await repo.commit(S + 5000, { 'pos.yaml': posPolicy('~1.0.0') });
  const skewed = await repo.commit(S + 4000, { 'pos.yaml': posPolicy('~2.0.0') });
  const source = createGitPolicySource({ repository: dir, clock: new ManualClock(NOW), watch: false, pollInterval: 0 });
  t.after(() => source.close());
  const r = await source.start();
  const second = r.added.find((x) => x.id === skewed)!;
  assert.equal(second.effectiveAt, (S + 5000) * 1000);
  assert.equal(second.source.kind === 'git' && second.source.committedAt, (S + 4000) * 1000);
  assert.equal(rangeAt(source, (S + 5000) * 1000), '~2.0.0', 'the child wins at the shared time');
});

test('a merge takes effect at the merge commit on the first-parent history, not at the branch commit\'s date', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  const base = await repo.commit(S + 1000, { 'policies/pos.yaml': posPolicy('~1.0.0') });
  // On a feature branch (from base), the change is committed at S+2000 ...
  const feature = await repo.commit(S + 2000, { 'policies/pos.yaml': posPolicy('~2.0.0') }, { ref: 'feature', parent: [base] });
  // ... and merged into main at S+3000 (the index holds the feature's tree).
  const merge = await repo.commit(S + 3000, {}, { ref: 'main', parent: [base, feature], message: 'merge feature' });
  const source = createGitPolicySource({ repository: dir, ref: 'main', subdirectory: 'policies', clock: new ManualClock(NOW), watch: false, pollInterval: 0 });
  t.after(() => source.close());
  const r = await source.start();
  assert.deepEqual(r.added.map((x) => [x.id, x.effectiveAt]), [[base, (S + 1000) * 1000], [merge, (S + 3000) * 1000]]);
  assert.equal(source.history.has(feature), false);
  assert.equal(rangeAt(source, (S + 2500) * 1000), '~1.0.0');
});

test('removing the subdirectory is a revision with no policies', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  await repo.commit(S + 1000, { 'policies/pos.yaml': posPolicy('~1.0.0') });
  const gone = await repo.commit(S + 2000, { 'policies/pos.yaml': null, 'README.md': 'moved\n' });
  const source = createGitPolicySource({ repository: dir, subdirectory: 'policies/', clock: new ManualClock(NOW), watch: false, pollInterval: 0 });
  t.after(() => source.close());
  await source.start();
  const latest = source.history.latest()!;
  assert.deepEqual([latest.id, latest.policies.length], [gone, 0]);
});

test('a missing repository or ref fails the reload with DW_POLICY_SOURCE_UNREADABLE', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const none = createGitPolicySource({ repository: join(dir, 'nothing'), watch: false, pollInterval: 0 });
  const r1 = await none.start();
  assert.deepEqual([r1.outcome, r1.error?.code], ['failed', PolicyErrorCode.SourceUnreadable]);
  assert.match(r1.error!.message, /^expected a git repository/);
  await none.close();
  const repo = await Repo.create(dir);
  await repo.commit(S, { 'pos.yaml': posPolicy('~1.0.0') });
  const wrongRef = createGitPolicySource({ repository: dir, ref: 'release', watch: false, pollInterval: 0 });
  const r2 = await wrongRef.start();
  assert.deepEqual([r2.outcome, r2.error?.code], ['failed', PolicyErrorCode.SourceUnreadable]);
  assert.match(r2.error!.message, /^expected the ref "release" in the git repository, found/);
  await wrongRef.close();
});

test('after a restart with the stored history, known commits keep their loadedAt and only new ones are added', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  await repo.commit(S + 1000, { 'pos.yaml': posPolicy('~1.0.0') });
  await repo.commit(S + 2000, { 'pos.yaml': posPolicy('~1.1.0') });
  const first = createGitPolicySource({ repository: dir, clock: new ManualClock(NOW), watch: false, pollInterval: 0 });
  await first.start();
  await first.close();

  const c3 = await repo.commit(S + 3000, { 'pos.yaml': posPolicy('~1.2.0') });
  const history = PolicyHistory.deserialize(first.history.serialize());
  const second = createGitPolicySource({ repository: dir, history, clock: new ManualClock(NOW + 1000), watch: false, pollInterval: 0 });
  t.after(() => second.close());
  const r = await second.start();
  assert.deepEqual(r.added.map((x) => [x.id, x.loadedAt, x.seq]), [[c3, NOW + 1000, 3]]);
  assert.deepEqual(second.history.revisions().map((x) => x.loadedAt), [NOW, NOW, NOW + 1000]);
});

test('a new commit is seen through fs.watch on the repository\'s refs', async (t) => {
  const { dir, cleanup } = await tempDir('dw-policy-git-');
  t.after(cleanup);
  const repo = await Repo.create(dir);
  await repo.commit(S + 1000, { 'pos.yaml': posPolicy('~1.0.0') });
  const source = createGitPolicySource({ repository: dir, ref: 'main', debounce: 20, pollInterval: 0 });
  t.after(() => source.close());
  await source.start();
  const changed = new Promise<ReloadResult>((resolve) => {
    const off = source.onReload((r) => {
      if (r.outcome !== 'changed') return;
      off();
      resolve(r);
    });
  });
  const c2 = await repo.commit(S + 2000, { 'pos.yaml': posPolicy('~2.0.0') });
  const r = await changed;
  assert.deepEqual([r.trigger, r.added[0]!.id], ['watch', c2]);
});

// The revision history: which revision is in force at event time t, as known at K; previous;
// rejections; serialize/deserialize round trip and refusal of damaged histories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  loadPolicySet, PolicyError, PolicyErrorCode, PolicyHistory, policySetHash, type PolicyRevision, type RevisionSource,
} from '../../../aggregator/policy/index.js';
import { examplePolicyFiles, posPolicy } from './helpers.js';

const DIR: RevisionSource = { kind: 'directory', path: '/etc/driftwatch/policies' };

function revision(range: string, effectiveAt: number, loadedAt = effectiveAt, source: RevisionSource = DIR): Omit<PolicyRevision, 'seq'> {
  const set = loadPolicySet([{ path: 'pos.yaml', text: posPolicy(range) }]);
  return { id: source.kind === 'git' ? source.commit : policySetHash(set.files), source, effectiveAt, loadedAt, files: set.files, policies: set.policies };
}

function rangeOf(r: PolicyRevision | undefined): string | undefined {
  const e = r?.policies[0]?.expectations[0]?.expected;
  return e?.kind === 'semver' ? e.range : undefined;
}

test('inForceAt: undefined before the first revision, then the latest that took effect by t', () => {
  const h = new PolicyHistory();
  h.add(revision('^1', 1000));
  h.add(revision('^2', 2000));
  h.add(revision('^3', 3000));
  assert.equal(h.inForceAt(999), undefined);
  assert.equal(rangeOf(h.inForceAt(1000)), '^1', 'in force from its effective time, inclusive');
  assert.equal(rangeOf(h.inForceAt(1999)), '^1');
  assert.equal(rangeOf(h.inForceAt(2000)), '^2');
  assert.equal(rangeOf(h.inForceAt(1e15)), '^3');
  assert.equal(rangeOf(h.latest()), '^3');
  assert.deepEqual(h.revisions().map((r) => r.seq), [1, 2, 3]);
});

test('revisions added out of effective order are ordered by effectiveAt; equal times go to the later added', () => {
  const h = new PolicyHistory();
  const late = h.add(revision('^3', 3000));
  const early = h.add(revision('^1', 1000));
  const tie = h.add(revision('^4', 3000));
  assert.deepEqual(h.revisions().map((r) => r.seq), [early.seq, late.seq, tie.seq]);
  assert.equal(h.inForceAt(3000), tie);
  assert.equal(h.previous(tie), late);
  assert.equal(h.previous(late), early);
  assert.equal(h.previous(early), undefined);
});

test('knownAt: a query only sees revisions learned by then', () => {
  const h = new PolicyHistory();
  // A directory revision: effective when loaded.
  h.add(revision('^1', 1000, 1000));
  // A git commit dated 2000 but fetched at 5000.
  h.add(revision('^2', 2000, 5000, { kind: 'git', repository: '/r', ref: 'main', subdirectory: '', commit: 'c'.repeat(40), committedAt: 2000 }));
  assert.equal(rangeOf(h.inForceAt(3000, { knownAt: 4999 })), '^1', 'before the fetch, the old revision was in force at 3000');
  assert.equal(rangeOf(h.inForceAt(3000, { knownAt: 5000 })), '^2', 'from the fetch on, the commit applies from its own date');
  assert.equal(rangeOf(h.inForceAt(3000)), '^2', 'no knownAt: everything known');
  assert.equal(h.inForceAt(3000, { knownAt: 999 }), undefined);
  assert.equal(h.revisions({ knownAt: 4999 }).length, 1);
  assert.equal(rangeOf(h.latest({ knownAt: 4999 })), '^1');
});

test('a commit already in the history cannot be added twice; times must be finite', () => {
  const h = new PolicyHistory();
  const git: RevisionSource = { kind: 'git', repository: '/r', ref: 'main', subdirectory: '', commit: 'a'.repeat(40), committedAt: 1 };
  h.add(revision('^1', 1, 1, git));
  assert.throws(() => h.add(revision('^1', 1, 1, git)), (e: unknown) => e instanceof PolicyError && e.code === PolicyErrorCode.HistoryConflict);
  assert.throws(() => h.add(revision('^1', NaN)), (e: unknown) => e instanceof PolicyError && e.code === PolicyErrorCode.HistoryConflict);
  // A directory's id repeats when content is reverted: that is allowed.
  h.add(revision('^9', 5));
  h.add(revision('^9', 6));
  assert.equal(h.revisions().length, 3);
});

test('rejections are kept, never in force, and filtered by knownAt', () => {
  const h = new PolicyHistory();
  h.add(revision('^1', 1000));
  h.reject({ id: 'sha256:bad', source: DIR, effectiveAt: 2000, loadedAt: 2000, problems: [{ code: PolicyErrorCode.BadSemverRange, file: 'pos.yaml', line: 8, column: 3, path: 'spec', message: 'expected x, found y' }] });
  assert.equal(rangeOf(h.inForceAt(2500)), '^1');
  assert.equal(h.rejected().length, 1);
  assert.equal(h.rejected({ knownAt: 1999 }).length, 0);
  assert.equal(h.has('sha256:bad'), true);
});

test('serialize → deserialize gives the same history, answers and next seq', async () => {
  const h = new PolicyHistory();
  const files = await examplePolicyFiles();
  const all = loadPolicySet(files);
  h.add({ id: policySetHash(all.files), source: DIR, effectiveAt: 1000, loadedAt: 1000, files: all.files, policies: all.policies });
  h.add(revision('^2', 500, 3000, { kind: 'git', repository: '/r', ref: 'main', subdirectory: 'p', commit: 'b'.repeat(40), committedAt: 500 }));
  h.reject({ id: 'sha256:x', source: DIR, effectiveAt: 4000, loadedAt: 4000, problems: [{ code: PolicyErrorCode.YamlSyntax, file: 'a.yaml', path: '', message: 'expected valid YAML, found a syntax error' }] });
  const text = h.serialize();
  const back = PolicyHistory.deserialize(text);
  assert.equal(back.serialize(), text, 'byte-identical');
  assert.deepEqual(back.revisions(), h.revisions());
  assert.deepEqual(back.rejected(), h.rejected());
  for (const t of [0, 499, 500, 999, 1000, 5000]) {
    for (const k of [undefined, 1000, 2999, 3000]) {
      assert.equal(back.inForceAt(t, { knownAt: k })?.seq, h.inForceAt(t, { knownAt: k })?.seq, `t=${t} knownAt=${k}`);
    }
  }
  const next = back.add(revision('^3', 6000));
  assert.equal(next.seq, 3, 'seq continues');
  assert.ok(Object.isFrozen(back.revisions()[0]!.policies[0]!.selector));
});

test('deserialize refuses what is not a history, another version, or a damaged one, with DW_POLICY_HISTORY_CORRUPT', () => {
  const h = new PolicyHistory();
  h.add(revision('^1', 1000));
  const good = JSON.parse(h.serialize());
  const cases: [string, RegExp][] = [
    ['not json', /^expected a policy history in JSON/],
    ['{"format":"other"}', /^expected a document with format "driftwatch-policy-history", found "other"/],
    [JSON.stringify({ ...good, version: 2 }), /^expected policy history version 1, found 2/],
    [JSON.stringify({ ...good, revisions: [{ ...good.revisions[0], effectiveAt: 'soon' }] }), /revisions\.0\.effectiveAt/],
    [JSON.stringify({ ...good, nextSeq: 1 }), /^expected nextSeq above every seq \(1\), found 1/],
  ];
  const badRegex = structuredClone(good);
  badRegex.revisions[0].policies[0].expectations[0].series.text = 'kube_x{a=~"("}';
  cases.push([JSON.stringify(badRegex), /^expected revision .* to hold valid policies, found policy shop-pos: series matcher/]);
  const mismatched = structuredClone(good);
  mismatched.revisions[0].policies[0].expectations[0].series.matchers = [];
  cases.push([JSON.stringify(mismatched), /whose parts do not match its text/]);
  const badRange = structuredClone(good);
  badRange.revisions[0].policies[0].expectations[0].expected.range = 'nope';
  cases.push([JSON.stringify(badRange), /DW_POLICY_BAD_SEMVER_RANGE/]);
  for (const [text, message] of cases) {
    assert.throws(() => PolicyHistory.deserialize(text), (e: unknown) => {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.code, PolicyErrorCode.HistoryCorrupt);
      assert.match(e.message, message);
      return true;
    }, text.slice(0, 60));
  }
});

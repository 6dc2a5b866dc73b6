// check(): each kind of expected value, semver with a leading v, k3s build metadata, image tags,
// image repositories, prereleases, and values of the wrong type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  check, expectedKey, expectedText, normalizeRepository, parseImageRef, versionOf, type ExpectedValue,
} from '../../../aggregator/policy/index.js';

const semverOf = (range: string, extra: Partial<{ image: string; includePrerelease: boolean }> = {}): ExpectedValue =>
  ({ kind: 'semver', range, includePrerelease: false, ...extra });

function ok(e: ExpectedValue, value: string | number): boolean {
  return check(e, value).ok;
}

test('exact and oneOf compare whole strings', () => {
  assert.deepEqual(check({ kind: 'exact', value: 'Synced' }, 'Synced'), { ok: true, expectedText: '"Synced"' });
  assert.deepEqual(check({ kind: 'exact', value: 'Synced' }, 'OutOfSync'), { ok: false, expectedText: '"Synced"', reason: 'found "OutOfSync"' });
  assert.equal(ok({ kind: 'exact', value: 'Synced' }, 'synced'), false);
  const one: ExpectedValue = { kind: 'oneOf', values: ['Healthy', 'Progressing'] };
  assert.equal(ok(one, 'Progressing'), true);
  assert.equal(ok(one, 'Degraded'), false);
  assert.equal(check(one, 'Degraded').expectedText, 'one of "Healthy", "Progressing"');
});

test('pattern is RE2 and anchored at both ends', () => {
  const p: ExpectedValue = { kind: 'pattern', regex: 'Ubuntu 22\\.04(\\.\\d+)? LTS' };
  assert.equal(ok(p, 'Ubuntu 22.04.4 LTS'), true);
  assert.equal(ok(p, 'Ubuntu 22.04 LTS'), true);
  assert.equal(ok(p, 'Ubuntu 22.04.4 LTS (patched)'), false, 'anchored at the end');
  assert.equal(ok(p, 'My Ubuntu 22.04 LTS'), false, 'anchored at the start');
  assert.equal(check(p, 'x').expectedText, 'matching /Ubuntu 22\\.04(\\.\\d+)? LTS/');
});

test('semver tolerates a leading v and ignores build metadata (k3s, rke2)', () => {
  const r = semverOf('~1.29.3');
  for (const v of ['1.29.3', 'v1.29.3', 'V1.29.4', 'v1.29.3+k3s1', 'v1.29.5+rke2r1']) assert.equal(ok(r, v), true, v);
  for (const v of ['v1.30.0+k3s1', 'v1.29.2+k3s2', '1.29', 'latest', '']) assert.equal(ok(r, v), false, v);
  assert.equal(ok(semverOf('>=v1.29.0 <v1.30.0'), 'v1.29.3+k3s1'), true, 'a v in the range is tolerated too');
  assert.equal(check(r, 'v1.30.0+k3s1').reason, 'found "v1.30.0+k3s1": version 1.30.0+k3s1 is outside ~1.29.3');
  assert.equal(check(r, 'latest').reason, 'found "latest", neither a semver version nor an image reference with a tag');
});

test('semver applies to an image reference\'s tag (registry ports and digests understood)', () => {
  const r = semverOf('>=2.4.1 <3');
  for (const v of ['registry.example.com/shop/pos:2.4.1', 'registry.example.com:5000/shop/pos:v2.9.0', 'pos:2.4.1@sha256:' + 'a'.repeat(64), 'ghcr.io/acme/pos:2.5.0']) {
    assert.equal(ok(r, v), true, v);
  }
  assert.equal(ok(r, 'registry.example.com/shop/pos:2.3.9'), false);
  assert.equal(check(r, 'registry.example.com/shop/pos:2.3.9').reason, 'found "registry.example.com/shop/pos:2.3.9": version 2.3.9 is outside >=2.4.1 <3');
  assert.equal(check(r, 'registry.example.com:5000/shop/pos').reason, 'found the image reference "registry.example.com:5000/shop/pos" without a tag');
  assert.equal(check(r, 'registry.example.com/shop/pos@sha256:' + 'b'.repeat(64)).reason?.startsWith('found the image reference'), true);
  assert.equal(check(r, 'registry/pos:latest').reason, 'found "registry/pos:latest" whose tag "latest" is not a semver version');
});

test('image restricts the repository, with Docker\'s normalisation', () => {
  const r = semverOf('^2.4.0', { image: 'registry.example.com/shop/pos' });
  assert.equal(ok(r, 'registry.example.com/shop/pos:2.4.1'), true);
  assert.equal(check(r, 'registry.example.com/other/pos:2.4.1').reason, 'found the image registry.example.com/other/pos, not registry.example.com/shop/pos');
  assert.equal(check(r, '2.4.1').reason, 'found the image 2.4.1, not registry.example.com/shop/pos', 'a bare version is a valid image name');
  assert.equal(check(r, 'Not An Image').reason, 'found "Not An Image", not an image reference');
  assert.equal(check(r, 'x').expectedText, 'registry.example.com/shop/pos with a tag in semver ^2.4.0');
  const nginx = semverOf('1.25.x', { image: 'nginx' });
  assert.equal(ok(nginx, 'docker.io/library/nginx:1.25.3'), true);
  assert.equal(ok(nginx, 'nginx:1.25.3'), true);
  assert.equal(normalizeRepository('bitnami/redis'), 'docker.io/bitnami/redis');
  assert.equal(normalizeRepository('docker.io/redis'), 'docker.io/library/redis');
  assert.equal(normalizeRepository('localhost/app'), 'localhost/app');
  assert.deepEqual(parseImageRef('localhost:5000/a/b:1.0'), { repository: 'localhost:5000/a/b', tag: '1.0', digest: undefined });
  assert.equal(parseImageRef('Upper/Case:1'), undefined);
  assert.equal(parseImageRef('a b:1'), undefined);
});

test('prereleases need includePrerelease; k3s image tags (-k3s1) are prereleases', () => {
  assert.equal(ok(semverOf('>=1.29.0'), 'rancher/k3s:v1.29.3-k3s1'), false);
  assert.equal(ok(semverOf('>=1.29.0', { includePrerelease: true }), 'rancher/k3s:v1.29.3-k3s1'), true);
  assert.equal(ok(semverOf('>=1.29.3', { includePrerelease: true }), 'rancher/k3s:v1.29.3-k3s1'), false, '1.29.3-k3s1 sorts before 1.29.3');
  assert.equal(ok(semverOf('>=1.29.3-0', { includePrerelease: true }), 'rancher/k3s:v1.29.3-k3s1'), true);
  // The container runtime's version: the runtime:// prefix is dropped.
  assert.equal(ok(semverOf('>=1.7.0-0 <1.8.0-0', { includePrerelease: true }), 'containerd://1.7.11-k3s2'), true);
  assert.equal(ok(semverOf('>=1.7.0'), 'containerd://1.7.11'), true);
  assert.equal(check(semverOf('^2', { includePrerelease: true }), 'x').expectedText, 'semver ^2 (prereleases included)');
  const v = versionOf('v1.2.3+k3s1');
  assert.ok('version' in v);
  assert.deepEqual([v.version.version, v.version.build], ['1.2.3', ['k3s1']]);
});

test('eq and min/max compare floats; NaN satisfies nothing', () => {
  assert.equal(ok({ kind: 'eq', value: 2 }, 2), true);
  assert.equal(ok({ kind: 'eq', value: 2 }, 2.0000001), false);
  const r: ExpectedValue = { kind: 'range', min: 5e9 };
  assert.equal(ok(r, 5e9), true, 'min is inclusive');
  assert.equal(check(r, 4e9).reason, 'found the float 4000000000, below 5000000000');
  assert.equal(ok({ kind: 'range', max: 85 }, 85), true, 'max is inclusive');
  assert.equal(check({ kind: 'range', max: 85 }, 91.5).reason, 'found the float 91.5, above 85');
  assert.equal(ok({ kind: 'range', min: 1, max: 3 }, 2), true);
  assert.equal(check({ kind: 'range', min: 1, max: 3 }, NaN).reason, 'found NaN');
  assert.equal(ok({ kind: 'eq', value: 0 }, NaN), false);
  assert.deepEqual([{ kind: 'eq', value: 2 }, { kind: 'range', min: 1, max: 3 }, { kind: 'range', min: 5e9 }, { kind: 'range', max: 85 }]
    .map((e) => expectedText(e as ExpectedValue)), ['== 2', 'between 1 and 3', '>= 5000000000', '<= 85']);
});

test('a value of the other type never satisfies an expectation', () => {
  assert.equal(check({ kind: 'exact', value: '2' }, 2).reason, 'found the float 2, expected a string series');
  assert.equal(check({ kind: 'eq', value: 2 }, '2').reason, 'found the string "2", expected a float series');
  assert.equal(ok(semverOf('*'), 1), false);
});

test('check takes an expectation as well as an expected value', () => {
  const expectation = {
    series: { text: 'x', name: 'x', matchers: [] }, expected: { kind: 'exact', value: 'a' } as ExpectedValue, upgradeDeadline: 1,
  };
  assert.equal(check(expectation, 'a').ok, true);
});

test('expectedKey: equal requirements have equal keys; oneOf compares as a set', () => {
  assert.equal(expectedKey({ kind: 'oneOf', values: ['a', 'b'] }), expectedKey({ kind: 'oneOf', values: ['b', 'a'] }));
  assert.notEqual(expectedKey(semverOf('^1')), expectedKey(semverOf('^1', { includePrerelease: true })));
  assert.notEqual(expectedKey(semverOf('^1')), expectedKey(semverOf('^1', { image: 'x' })));
  assert.notEqual(expectedKey({ kind: 'range', min: 1 }), expectedKey({ kind: 'range', max: 1 }));
  assert.notEqual(expectedKey({ kind: 'exact', value: '1' }), expectedKey({ kind: 'eq', value: 1 }));
});

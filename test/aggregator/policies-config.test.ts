// The aggregator config's `policies` and `fleet` sections: a directory (also as --policies or
// DRIFTWATCH_AGGREGATOR_POLICIES) or a git repository, exactly one, with coded errors that say
// what was expected and found.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorErrorCode, parseAggregatorConfig } from '../../aggregator/index.js';
import { isDriftwatchError } from '../../common/errors.js';

const BASE = 'dataDir: /d\ncredentials: /c.yaml\ngrpc:\n  insecure: true\n  listen: 127.0.0.1:7443\n';

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isDriftwatchError(err, AggregatorErrorCode.ConfigInvalid), String(err));
    return err.message;
  }
  assert.fail('expected DW_AGGREGATOR_CONFIG_INVALID');
}

describe('aggregator config: policies and the fleet index', () => {
  it('no policies by default; a directory from the file, the environment or --policies (flags win); the catch-up interval', () => {
    const none = parseAggregatorConfig(BASE, { file: 'a.yaml' });
    assert.equal(none.policies, undefined);
    assert.equal(none.fleet.catchUpInterval, 1000);
    const file = parseAggregatorConfig(`${BASE}policies:\n  dir: /etc/driftwatch/policies\nfleet:\n  catchUpInterval: 250ms\n`, { file: 'a.yaml' });
    assert.deepEqual({ ...file.policies }, { dir: '/etc/driftwatch/policies', watch: true, pollInterval: 30_000 });
    assert.equal(file.fleet.catchUpInterval, 250);
    const env = parseAggregatorConfig(BASE, { file: 'a.yaml', env: { DRIFTWATCH_AGGREGATOR_POLICIES: '/env/policies' } });
    assert.equal(env.policies?.dir, '/env/policies');
    const flag = parseAggregatorConfig(`${BASE}policies:\n  dir: /file\n  pollInterval: 0\n`, { file: 'a.yaml', env: { DRIFTWATCH_AGGREGATOR_POLICIES: '/env' }, flags: { policies: '/flag' } });
    assert.deepEqual([flag.policies?.dir, flag.policies?.pollInterval], ['/flag', 0]);
  });

  it('index snapshots: on by default every 10 minutes; an interval, 0 (on close only), or off; a too short interval is reported', () => {
    const none = parseAggregatorConfig(BASE, { file: 'a.yaml' });
    assert.deepEqual([none.fleet.snapshots, none.fleet.snapshotInterval], [true, 600_000]);
    const set = parseAggregatorConfig(`${BASE}fleet:\n  snapshotInterval: 1h\n`, { file: 'a.yaml' });
    assert.equal(set.fleet.snapshotInterval, 3_600_000);
    const closeOnly = parseAggregatorConfig(`${BASE}fleet:\n  snapshotInterval: 0\n  snapshots: true\n`, { file: 'a.yaml' });
    assert.equal(closeOnly.fleet.snapshotInterval, 0);
    assert.equal(parseAggregatorConfig(`${BASE}fleet:\n  snapshots: false\n`, { file: 'a.yaml' }).fleet.snapshots, false);
    const bad = problems(() => parseAggregatorConfig(`${BASE}fleet:\n  snapshotInterval: 500ms\n`, { file: 'a.yaml' }));
    assert.match(bad, /fleet\.snapshotInterval: expected 0 \(on close only\) or at least 1000 ms, found 500 \(line 7, column 21\)/);
  });

  it('a git repository, with the ref and subdirectory defaulted', () => {
    const c = parseAggregatorConfig(`${BASE}policies:\n  git:\n    repository: /srv/fleet.git\n  watch: false\n`, { file: 'a.yaml' });
    assert.deepEqual(JSON.parse(JSON.stringify(c.policies)), { git: { repository: '/srv/fleet.git', ref: 'HEAD', subdirectory: '' }, watch: false, pollInterval: 30_000 });
  });

  it('both sources, neither, unknown keys and bad values are reported at once, each with where it came from', () => {
    const both = problems(() => parseAggregatorConfig(`${BASE}policies:\n  git: { repository: /r }\n`, { file: 'a.yaml', flags: { policies: '/p' } }));
    assert.match(both, /policies: expected either policies\.dir or policies\.git, found both/);
    const bad = problems(() => parseAggregatorConfig(`${BASE}policies:\n  directory: /p\n  pollInterval: often\n  git: { repository: '', branch: main }\nfleet:\n  catchUpInterval: 1ms\n`, { file: 'a.yaml' }));
    assert.match(bad, /^a\.yaml: 5 problems:/);
    for (const p of [
      /policies\.directory: expected one of the keys dir, git, watch, pollInterval, found unknown key "directory" \(line 7, column 14\)/,
      /policies\.pollInterval: expected a duration such as 500ms, 15s, 5m, 24h, found "often" \(line 8, column 17\)/,
      /policies\.git\.repository: expected a non-empty string, found ""/,
      /policies\.git\.branch: expected one of the keys repository, ref, subdirectory, found unknown key "branch"/,
      /fleet\.catchUpInterval: expected at least 10 ms, found 1 \(line 11, column 20\)/,
    ]) assert.match(bad, p);
    const neither = problems(() => parseAggregatorConfig(`${BASE}policies:\n  watch: true\n`, { file: 'a.yaml' }));
    assert.match(neither, /policies: expected policies\.dir \(a directory of policy files\) or policies\.git \(a repository\), found neither/);
  });
});

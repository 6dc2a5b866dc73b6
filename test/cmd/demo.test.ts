import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runDriftwatch } from './cli-run.js';

test('driftwatch demo runs the synthetic site through a real store and prints its blocks', () => {
  const r = runDriftwatch(['demo'], 120_000);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  // The block table: a header row and at least one block row (a ULID, its level, ...).
  assert.match(r.stdout, /^id\s+level\s+seq\s+min time\s+max time/m);
  const rows = r.stdout.split('\n').filter((l) => /^[0-9A-HJKMNP-TV-Z]{26}\s+\d+\s+\d+\s+\d{4}-\d\d-\d\dT/.test(l));
  assert.ok(rows.length >= 1, r.stdout);
  // Compacted hour blocks (level 1) and fresh 5-minute ones (level 0).
  assert.ok(rows.some((l) => /^\S+\s+1\s/.test(l)), r.stdout);
  assert.ok(rows.some((l) => /^\S+\s+0\s/.test(l)), r.stdout);
  assert.match(r.stdout, /interim demo shows the edge store/);
  // The temporary store is removed unless --keep.
  const dir = /appended to a real LevelDB store in (\S+)/.exec(r.stdout)?.[1];
  assert.ok(dir !== undefined, r.stdout);
  assert.equal(existsSync(dir), false, `${dir} left behind`);
});

test('driftwatch demo rejects an unknown option', () => {
  const r = runDriftwatch(['demo', '--fleet=500']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^driftwatch: DW_CLI_USAGE: expected .*found "--fleet=500"\n$/);
});

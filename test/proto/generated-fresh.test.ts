import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/paths.js';

test('proto/gen matches the .proto files (run node scripts/gen-proto.mjs when this fails)', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-proto.mjs', '--check'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, repoRoot } from '../helpers/paths.js';

async function simDirs(): Promise<Set<string>> {
  return new Set((await readdir(tmpdir())).filter((n) => n.startsWith('driftwatch-sim-')));
}

test('Ctrl-C during a run stops the fleet and the aggregator at the next step, removes the temporary data, exits 130', { timeout: 120_000 }, async () => {
  const before = await simDirs();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'driftwatch.js'), 'simulate', '--scenario', fixturePath('scenarios', 'small.yaml')], {
    cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The readiness signal: the first tenth of simulated time is reported.
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (/simulating {1,2}10%/.test(stderr)) resolve();
    });
    void exited.then((code) => reject(new Error(`exited ${code} before 10%: ${stderr}`)));
  });
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /driftwatch: DW_SIM_INTERRUPTED: expected the simulation to reach 2026-11-11T00:00:00\.000Z, it was interrupted at 2026-11-\d\dT[\d:.]+Z; stopped and cleaned up\n$/);
  assert.equal(stdout, '', 'no figures for an interrupted run');
  const left = [...await simDirs()].filter((d) => !before.has(d));
  assert.deepEqual(left, [], 'the temporary data directory is removed');
});

// SIGTERM while the agent waits between rounds (the usual case): the real CLI in a child process
// stores agent_stop without a round and seals it into the last block before it exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { fixturePath, repoRoot } from '../../helpers/paths.js';
import { readStoreBlocks, tempDir } from './helpers.js';

it('SIGTERM between rounds: the sealed block holds agent_stop (reason signal), and the process exits 0', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const storeDir = join(dir, 'store');
    const config = join(dir, 'agent.yaml');
    // An hourly round: once started, the loop waits for the next whole hour, so the signal
    // arrives between rounds.
    await writeFile(config, `site:\n  id: shop-0042\ninterval: 1h\nstore:\n  dir: ${storeDir}\n  blockDuration: 1h\nhttp:\n  listen: ""\n`
      + `sources:\n  - kind: host\n    name: node\n    root: ${fixturePath('host', 'basic')}\n`);
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'driftwatch.js'), 'agent', '--config', config], {
      cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          if (line.msg === 'agent started') resolve();
        }
      });
      void exited.then((code) => reject(new Error(`agent exited (${code}) before it started; stderr: ${stderr}`)));
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.ok(!lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('events after the last round')), JSON.stringify(lines));

    const stored = await readStoreBlocks(storeDir);
    assert.equal(stored.blocks, 1, 'the flush sealed one block');
    const stop = stored.events.filter((e) => e.kind === 'agent_stop');
    assert.equal(stop.length, 1, JSON.stringify(stored.events));
    assert.equal(stop[0]!.reason, 'signal');
    assert.match(stop[0]!.message, /stopping \(SIGTERM\) after \d+ rounds?$/);
    assert.equal(stop[0]!.count, stored.rounds.length);
    assert.deepEqual(stored.events.map((e) => e.kind), ['agent_start', 'agent_stop']);
  } finally {
    await cleanup();
  }
});

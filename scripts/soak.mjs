#!/usr/bin/env node
// The shipping soak: runs the end-to-end shipping and kill tests again and again with new seeds
// and more kills than CI does, printing each seed so a failure can be replayed exactly:
//   node scripts/soak.mjs [--runs N] [--kills K] [--seed S]
//   replay one run: DW_SEED=<seed> DW_KILLS=<kills> node --test dist/test/e2e/kill.test.js dist/test/e2e/shipping.test.js
// Run `npm run build` first. Exits 1 at the first failing run.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const runs = opt('runs', 10);
const kills = opt('kills', 30);
let seed = opt('seed', randomInt(1, 2 ** 31 - 1));
const files = ['dist/test/e2e/kill.test.js', 'dist/test/e2e/shipping.test.js'].map((f) => join(root, f));
console.log(`soak: ${runs} runs, ${kills} kills each, first seed ${seed}`);
for (let run = 1; run <= runs; run++, seed++) {
  console.log(`soak: run ${run}/${runs} seed ${seed}`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=dot', ...files], {
    cwd: root, stdio: 'inherit', env: { ...process.env, DW_SEED: String(seed), DW_KILLS: String(kills) },
  });
  if (r.status !== 0) {
    console.error(`soak: FAILED at run ${run}, seed ${seed}; replay: DW_SEED=${seed} DW_KILLS=${kills} node --test ${files.map((f) => f.slice(root.length + 1)).join(' ')}`);
    process.exit(1);
  }
}
console.log(`soak: ${runs} runs passed`);

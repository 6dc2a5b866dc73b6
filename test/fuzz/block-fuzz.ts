// The block decoder's mutation fuzzer as a script:
//   npm run fuzz -- --cases 100000 [--seed N]
// Prints its seed first, so a failure replays with the same --seed.
import { parseArgs } from 'node:util';
import { runBlockFuzz } from './block-fuzz-lib.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
const cases = Number(values.cases);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed)) {
  console.error(`block-fuzz: DW_FUZZ_USAGE: expected --cases N (N >= 1) and --seed as integers, found ${values.cases} and ${values.seed}`);
  process.exit(2);
}
console.log(`block fuzz: ${cases} cases, seed ${seed}`);
const started = performance.now();
try {
  const r = runBlockFuzz({ cases, seed });
  const s = ((performance.now() - started) / 1000).toFixed(1);
  console.log(JSON.stringify({ ...r, seconds: Number(s) }));
  console.log(`${r.cases} passed, 0 failed`);
} catch (err) {
  console.error((err as Error).message);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

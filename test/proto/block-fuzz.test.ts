import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedFromEnv } from '../../common/random.js';
import { runBlockFuzz } from '../fuzz/block-fuzz-lib.js';

// CI runs a smaller count than the release check (npm run fuzz -- --cases 100000).
const CASES = Number(process.env.DW_FUZZ_CASES ?? 5000);

test(`${CASES} mutated blocks decode or fail with a BlockFormatError, never crash or hang`, { timeout: 300_000 }, () => {
  const seed = seedFromEnv(11);
  const r = runBlockFuzz({ cases: CASES, seed });
  assert.equal(r.cases, CASES);
  // The mutations must reach deep: a good share rejected past the checksum stage.
  const deep = (r.rejected.DW_BLOCK_MALFORMED ?? 0) + (r.rejected.DW_BLOCK_TRUNCATED ?? 0);
  assert.ok(deep > CASES / 10, `expected many rejections past the checksums, found ${JSON.stringify(r.rejected)}`);
  assert.ok((r.rejected.DW_BLOCK_CHECKSUM_MISMATCH ?? 0) > 0);
  assert.ok((r.rejected.DW_BLOCK_DECOMPRESSION ?? 0) + (r.rejected.DW_BLOCK_LIMIT_EXCEEDED ?? 0) > 0);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock.js';
import { seedFromEnv, seededRandom } from '../../common/random.js';
import { newUlid, ulidToString } from '../../common/ulid.js';
import { BlockBuilder, encodeBlock, decodeBlockHeader } from '../../proto/index.js';
import { syntheticSite } from '../../bench/synthetic-site.js';
import { openEdgeStore } from '../../collector/store/index.js';
import { runDriftwatch, type CliResult } from './cli-run.js';

const seed = seedFromEnv(20251120);
const start = Date.UTC(2025, 10, 20, 6);
let dir: string;
let blockPath: string;
let blockBytes: Uint8Array;
let blockId: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dw-block-inspect-'));
  const builder = new BlockBuilder();
  for (const round of syntheticSite({ seed, start, stringSeries: 120, floatSeries: 30, durationMs: 3_600_000 })) builder.append(round);
  const id = newUlid(new ManualClock(start), seededRandom(seed));
  blockId = ulidToString(id);
  blockBytes = encodeBlock(builder.build(), { siteId: 'shop-0042', blockId: id, sequence: 7, level: 0, createdAt: start + 3_600_000 });
  blockPath = join(dir, 'block.dwb');
  await writeFile(blockPath, blockBytes);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A coded error on stderr, exit 2, and no stack trace. */
function assertCodedError(r: CliResult, code: RegExp): void {
  const msg = `seed ${seed}; stdout: ${r.stdout}; stderr: ${r.stderr}`;
  assert.equal(r.status, 2, msg);
  assert.match(r.stderr, /^driftwatch: [A-Z_]+: /, msg);
  assert.match(r.stderr.slice('driftwatch: '.length), code, msg);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace: ${msg}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, msg);
  assert.equal(r.stdout, '', msg);
}

test('block inspect prints the header and statistics of a block as a table', () => {
  const r = runDriftwatch(['block', 'inspect', blockPath]);
  assert.equal(r.status, 0, r.stderr);
  const header = decodeBlockHeader(blockBytes);
  assert.match(r.stdout, /^site\s+shop-0042$/m);
  assert.match(r.stdout, new RegExp(`^id\\s+${blockId}$`, 'm'));
  assert.match(r.stdout, /^time range\s+2025-11-20T06:00:00\.000Z \.\. 2025-11-20T06:59:45\.000Z/m);
  assert.match(r.stdout, /^sequence\s+7$/m);
  assert.match(r.stdout, /^level\s+0$/m);
  assert.match(r.stdout, /^compression\s+brotli$/m);
  assert.match(r.stdout, /^rounds\s+240$/m);
  assert.match(r.stdout, /^series\s+150\s+\(string 120, float 30\)$/m);
  assert.match(r.stdout, new RegExp(`^samples\\s+${header.numSamples.toLocaleString('en-US')}\\s`, 'm'));
  assert.match(r.stdout, /^bytes per sample\s+\d+\.\d{4}$/m);
  // Aligned: every value starts in the same column.
  const columns = new Set(r.stdout.trim().split('\n').map((l) => l.search(/(?<=\S\s{2,})\S/)));
  assert.equal(columns.size, 1, r.stdout);
});

test('block inspect --json prints the same as JSON', () => {
  const r = runDriftwatch(['block', 'inspect', '--json', blockPath]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const header = decodeBlockHeader(blockBytes);
  assert.equal(out.header.id, blockId);
  assert.equal(out.header.site, 'shop-0042');
  assert.equal(out.header.sequence, 7);
  assert.equal(out.header.minT, new Date(header.minT).toISOString());
  assert.deepEqual(out.header.replaces, []);
  assert.equal(out.stats.rounds, 240);
  assert.equal(out.stats.series, 150);
  assert.equal(out.stats.stringSeries, 120);
  assert.equal(out.stats.samples, header.numSamples);
  assert.equal(out.stats.bytes, blockBytes.length);
  assert.equal(out.stats.bytesPerSample, blockBytes.length / header.numSamples);
  assert.equal(out.stats.compressionRatio, header.rawPayloadLength / header.payloadLength);
});

test('block inspect rejects a bit-flipped block with a coded error', async () => {
  const random = seededRandom(seed);
  const header = decodeBlockHeader(blockBytes);
  const payloadStart = blockBytes.length - 4 - header.payloadLength;
  // One flip in the header, one in the payload.
  for (const [from, to] of [[9, payloadStart - 4], [payloadStart, blockBytes.length - 4]] as const) {
    const copy = Uint8Array.from(blockBytes);
    const at = from + Math.floor(random() * (to - from));
    copy[at]! ^= 1 << Math.floor(random() * 8);
    const path = join(dir, `flipped-${at}.dwb`);
    await writeFile(path, copy);
    const r = runDriftwatch(['block', 'inspect', path]);
    assertCodedError(r, /^DW_BLOCK_[A-Z_]+: .*expected.*found/);
    assert.ok(r.stderr.includes(path), r.stderr);
  }
});

test('block inspect rejects a truncated block', async () => {
  for (const keep of [3, 20, Math.floor(blockBytes.length / 2), blockBytes.length - 1]) {
    const path = join(dir, `truncated-${keep}.dwb`);
    await writeFile(path, blockBytes.subarray(0, keep));
    assertCodedError(runDriftwatch(['block', 'inspect', path]), /^DW_BLOCK_(TRUNCATED|CHECKSUM_MISMATCH): .*expected.*found/);
  }
  const empty = join(dir, 'empty.dwb');
  await writeFile(empty, new Uint8Array(0));
  assertCodedError(runDriftwatch(['block', 'inspect', empty]), /^DW_BLOCK_TRUNCATED: /);
});

test('block inspect rejects a file that is not a block', async () => {
  const random = seededRandom(seed + 1);
  const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
  const path = join(dir, 'noise.bin');
  await writeFile(path, noise);
  assertCodedError(runDriftwatch(['block', 'inspect', path]), /^DW_BLOCK_BAD_MAGIC: .*expected.*found/);
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'just some text, not a block\n');
  assertCodedError(runDriftwatch(['block', 'inspect', text]), /^DW_BLOCK_BAD_MAGIC: /);
  // The original is untouched by all of this.
  assert.deepEqual(new Uint8Array(await readFile(blockPath)), blockBytes);
});

test('block inspect on a missing path or without one says so', () => {
  assertCodedError(runDriftwatch(['block', 'inspect', join(dir, 'no-such-block.dwb')]), /^DW_CLI_PATH_NOT_FOUND: .*no-such-block\.dwb/);
  assertCodedError(runDriftwatch(['block', 'inspect']), /^DW_CLI_USAGE: expected .*found no path/);
  assertCodedError(runDriftwatch(['block', 'inspect', blockPath, '--yaml']), /^DW_CLI_USAGE: .*--yaml/);
});

test('block inspect lists every sealed block of an edge store directory, leaving it untouched', async () => {
  const storeDir = join(dir, 'store');
  const clock = new ManualClock(start);
  const store = await openEdgeStore({ dir: storeDir, siteId: 'shop-0042', clock, random: seededRandom(seed) });
  for (const round of syntheticSite({ seed, start, stringSeries: 60, floatSeries: 10, durationMs: 20 * 60_000 })) {
    clock.set(round.t);
    await store.appendRound(round);
  }
  await store.flush();
  const infos = await store.listBlocks();
  await store.close();
  const before = await snapshot(storeDir);

  const r = runDriftwatch(['block', 'inspect', storeDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^store ${storeDir}\\s+site shop-0042\\s+${infos.length} sealed blocks`, 'm'));
  for (const info of infos) assert.match(r.stdout, new RegExp(`^${info.id}\\s+0\\s+${info.sequence}\\s+${new Date(info.minT).toISOString()}`, 'm'));

  const j = runDriftwatch(['block', 'inspect', storeDir, '--json']);
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.equal(out.site, 'shop-0042');
  assert.deepEqual(out.blocks.map((b: { header: { id: string } }) => b.header.id), infos.map((i) => i.id));
  assert.deepEqual(out.blocks.map((b: { stats: { samples: number } }) => b.stats.samples), infos.map((i) => i.numSamples));
  assert.ok(out.blocks.every((b: { shipped: boolean }) => b.shipped === false));

  assert.deepEqual(await snapshot(storeDir), before, 'block inspect changed the store directory');
});

test('block inspect rejects a directory that is not a store', async () => {
  const plain = join(dir, 'plain');
  await mkdir(plain);
  assertCodedError(runDriftwatch(['block', 'inspect', plain]), /^DW_CLI_NOT_A_STORE: .*expected .*found a directory without one/);
  assert.deepEqual(await readdir(plain), []);
});

/** File names and contents of a directory, to show it did not change. */
async function snapshot(d: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(d)).sort()) out[name] = (await readFile(join(d, name))).toString('base64');
  return out;
}

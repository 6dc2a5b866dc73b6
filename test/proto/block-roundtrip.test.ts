import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockBuilder, blockToRounds, decodeBlock, decodeBlockHeader, encodeBlock, mergeBlockData, seriesKey, type Round, type Sample } from '../../proto/index.js';
import { seededRandom, seedFromEnv } from '../../common/random.js';
import { randomBlockData, randomRounds } from '../helpers/block-gen.js';

const SEED = seedFromEnv(20261121);
const RUNS = Number(process.env.DW_PROPERTY_RUNS ?? 300);
const params = { seed: SEED, numRuns: RUNS };
console.log(`property seed ${SEED} (replay with DW_SEED=${SEED})`);

const NAMES = ['kube_deployment_container_image', 'node_hwmon_temp_celsius', 'up', 'a:b'];
const LABELS = ['namespace', 'deployment', 'le', '_'];
const seriesArb = fc.record({
  name: fc.constantFrom(...NAMES),
  labels: fc.dictionary(fc.constantFrom(...LABELS), fc.string({ unit: 'grapheme', maxLength: 6 }), { maxKeys: 3 }),
  type: fc.constantFrom('float' as const, 'string' as const),
});
const floatArb = fc.oneof(
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.integer({ min: -100000, max: 100000 }).map((n) => n / 10),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 49, -(2 ** 49), 2 ** 49 + 1, Number.MAX_SAFE_INTEGER, 5e-324),
);
const stringArb = fc.oneof(fc.constantFrom('', 'v1', 'v2', 'Running'), fc.string({ unit: 'grapheme', maxLength: 10 }));

/** Rows: a set of series, then rounds in which each is present or not, with values. */
const roundsArb = fc
  .tuple(
    fc.uniqueArray(seriesArb, { selector: (s) => seriesKey(s.name, s.labels), maxLength: 8 }),
    fc.integer({ min: 0, max: 2 ** 44 }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 10 ** 8 }), fc.array(fc.tuple(fc.boolean(), floatArb, stringArb), { minLength: 8, maxLength: 8 })), { maxLength: 30 }),
  )
  .map(([series, start, steps]) => {
    let t = start;
    return steps.map(([dt, cells]): Round => {
      t += dt;
      const samples: Sample[] = [];
      series.forEach((s, i) => {
        const [present, f, str] = cells[i]!;
        if (present) samples.push({ name: s.name, labels: s.labels, type: s.type, value: s.type === 'float' ? f : str });
      });
      return { t, samples };
    });
  });

function build(rounds: readonly Round[]) {
  const b = new BlockBuilder();
  for (const r of rounds) b.append(r);
  return b.build();
}

function normalize(rounds: readonly Round[]) {
  return rounds.map((r) => ({
    t: r.t,
    samples: r.samples.map((s) => ({ key: seriesKey(s.name, s.labels), type: s.type, value: s.value })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  }));
}

const id = { siteId: 'site-0001', blockId: new Uint8Array(16).fill(7), sequence: 42, createdAt: 1_763_700_000_000, replaces: [new Uint8Array(16).fill(1)], level: 2 };

test('encode then decode gives back exactly the block, with either compression', () => {
  fc.assert(
    fc.property(roundsArb, fc.constantFrom('none' as const, 'brotli' as const), (rounds, compression) => {
      fc.pre(rounds.length > 0);
      const data = build(rounds);
      const bytes = encodeBlock(data, id, { compression });
      const block = decodeBlock(bytes);
      assert.deepStrictEqual(block.data, data);
      assert.equal(block.header.numRounds, rounds.length);
      assert.equal(block.header.numSamples, rounds.reduce((n, r) => n + r.samples.length, 0));
      assert.equal(block.header.minT, rounds[0]!.t);
      assert.equal(block.header.maxT, rounds[rounds.length - 1]!.t);
      assert.deepStrictEqual(block.header.replaces, id.replaces);
      assert.equal(block.header.sequence, 42);
      assert.equal(block.header.level, 2);
      assert.deepStrictEqual(decodeBlockHeader(bytes.subarray(0, bytes.length - block.header.payloadLength - 4)), block.header);
    }),
    params,
  );
});

test('the column form gives back every sample of every round (absent stays absent)', () => {
  fc.assert(
    fc.property(roundsArb, (rounds) => {
      assert.deepStrictEqual(normalize(blockToRounds(build(rounds))), normalize(rounds));
    }),
    params,
  );
});

test('merging consecutive blocks equals building one block from all their rounds', () => {
  fc.assert(
    fc.property(roundsArb, fc.array(fc.nat(), { maxLength: 4 }), (rounds, cutsRaw) => {
      const cuts = [...new Set(cutsRaw.map((c) => c % (rounds.length + 1)))].sort((a, b) => a - b);
      const parts = [];
      let from = 0;
      for (const c of [...cuts, rounds.length]) {
        parts.push(build(rounds.slice(from, c)));
        from = c;
      }
      assert.deepStrictEqual(mergeBlockData(parts), build(rounds));
    }),
    params,
  );
});

test('seeded random blocks with events and special values round-trip', () => {
  const random = seededRandom(SEED);
  for (let i = 0; i < 200; i++) {
    const data = randomBlockData(random, { maxRounds: 60 });
    assert.deepStrictEqual(decodeBlock(encodeBlock(data, id)).data, data, `case ${i}, seed ${SEED}`);
  }
});

test('rounds in row form survive build, encode, decode and blockToRounds', () => {
  const random = seededRandom(SEED + 1);
  for (let i = 0; i < 50; i++) {
    const rounds = randomRounds(random);
    if (rounds.length === 0) continue;
    const back = blockToRounds(decodeBlock(encodeBlock(build(rounds), id)).data);
    assert.deepStrictEqual(normalize(back), normalize(rounds));
  }
});

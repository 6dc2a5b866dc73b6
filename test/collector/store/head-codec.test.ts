import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, seededRandom } from '../../../common/random.js';
import { decodeHeadDelta, decodeSeriesDef, encodeHeadDelta, encodeSeriesDef, HeadRecordError, type HeadDelta } from '../../../collector/store/head-codec.js';

const SPECIAL = [0, -0, 1, -1, 2 ** 52, -(2 ** 52), 2 ** 52 + 2, 2 ** 53 - 1, -(2 ** 53), 0.1, -1e-300, 1e300, NaN, Infinity, -Infinity, Number.MIN_VALUE];

function randomDelta(random: () => number): HeadDelta {
  const refs = new Set<number>();
  const n = randomInt(random, 0, 40);
  while (refs.size < n) refs.add(randomInt(random, 1, random() < 0.5 ? 100 : 2 ** 31));
  const sorted = [...refs].sort((a, b) => a - b);
  const set: [number, number | string][] = [];
  const gone: number[] = [];
  for (const ref of sorted) {
    const pick = random();
    if (pick < 0.2) gone.push(ref);
    else if (pick < 0.5) set.push([ref, ['', 'v1.2.3', 'ünïcødé ✓', 'a'.repeat(300)][randomInt(random, 0, 3)]!]);
    else if (pick < 0.7) set.push([ref, SPECIAL[randomInt(random, 0, SPECIAL.length - 1)]!]);
    else set.push([ref, random() < 0.5 ? randomInt(random, -1e6, 1e6) : (random() - 0.5) * 1e6]);
  }
  const events = random() < 0.3
    ? [{ t: 5, kind: 'kubernetes', reason: 'BackOff', message: 'x', labels: { pod: 'a' }, rangeMinT: 0, rangeMaxT: 0, count: 3 }]
    : [];
  return { set, gone, events };
}

/** The decoder groups values by kind; compare as maps keyed by ref. */
function canonical(d: HeadDelta): unknown {
  return {
    set: [...d.set].sort((a, b) => a[0] - b[0]).map(([ref, v]) => [ref, typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : `s:${v}`]),
    gone: d.gone,
    events: d.events,
  };
}

/** Previous values as a collector makes them: decimals on a few scales, integers, strings, specials. */
function randomPrevious(random: () => number, delta: HeadDelta): Map<number, number | string> {
  const prev = new Map<number, number | string>();
  for (const [ref, value] of delta.set) {
    const pick = random();
    if (pick < 0.1) continue;
    if (pick < 0.2) prev.set(ref, 'old');
    else if (pick < 0.3) prev.set(ref, SPECIAL[randomInt(random, 0, SPECIAL.length - 1)]!);
    else if (typeof value === 'number' && Number.isFinite(value)) prev.set(ref, Math.round((value - (random() - 0.5) * 100) * 100) / 100);
    else prev.set(ref, randomInt(random, -1e9, 1e9) / [1, 10, 100, 1000, 10000][randomInt(random, 0, 4)]!);
  }
  return prev;
}

test('head delta records round-trip every value exactly against previous values (seeded)', () => {
  const random = seededRandom(2024);
  for (let i = 0; i < 3000; i++) {
    const delta = randomDelta(random);
    const prev = randomPrevious(random, delta);
    const bytes = encodeHeadDelta(delta, (ref) => prev.get(ref));
    assert.deepEqual(canonical(decodeHeadDelta(bytes, (ref) => prev.get(ref))), canonical(delta), `case ${i}`);
  }
});

test('decimal floats are stored as small steps from their previous value', () => {
  // A CPU-seconds counter with 1/100 s resolution: 8 bytes raw, 2 as a step.
  const bytes = encodeHeadDelta({ set: [[3, 2163495.87]], gone: [], events: [] }, () => 2163482.92);
  assert.equal(bytes.length, 10); // 7 bytes of counts, the ref, a 2-byte step
  assert.deepEqual(decodeHeadDelta(bytes, () => 2163482.92).set, [[3, 2163495.87]]);
  // Without the previous value a step cannot be read.
  assert.throws(() => decodeHeadDelta(bytes), HeadRecordError);
});

test('an unchanged round is a handful of bytes', () => {
  assert.equal(encodeHeadDelta({ set: [], gone: [], events: [] }).length, 7);
  // Small integers take about two bytes plus the ref delta.
  assert.ok(encodeHeadDelta({ set: [[1, 5], [2, 300]], gone: [], events: [] }).length <= 12);
});

test('truncated or mutated records fail with HeadRecordError, never anything else', () => {
  const random = seededRandom(99);
  for (let i = 0; i < 2000; i++) {
    const bytes = encodeHeadDelta(randomDelta(random));
    const cut = bytes.subarray(0, randomInt(random, 0, bytes.length - 1));
    assert.throws(() => decodeHeadDelta(cut), HeadRecordError, `truncated case ${i}`);
    const flipped = Uint8Array.from(bytes);
    flipped[randomInt(random, 0, flipped.length - 1)]! ^= 1 << randomInt(random, 0, 7);
    try {
      decodeHeadDelta(flipped);
    } catch (err) {
      assert.ok(err instanceof HeadRecordError, `mutated case ${i}: ${String(err)}`);
    }
  }
  // A huge declared count is refused before anything is allocated.
  assert.throws(() => decodeHeadDelta(Uint8Array.from([1, 0xff, 0xff, 0xff, 0x7f])), /expected a count of at most the 0 bytes left/);
  assert.throws(() => decodeHeadDelta(Uint8Array.from([2, 0, 0, 0, 0, 0])), /version/);
});

test('series definitions round-trip and junk is refused', () => {
  const def = { ref: 7, name: 'kube_pod_info', labels: { namespace: 'a', pod: 'b' }, type: 'string' as const };
  assert.deepEqual(decodeSeriesDef(7, encodeSeriesDef(def)), def);
  assert.throws(() => decodeSeriesDef(1, new TextEncoder().encode('[1,2]')), HeadRecordError);
  assert.throws(() => decodeSeriesDef(1, Uint8Array.from([0xff])), HeadRecordError);
});

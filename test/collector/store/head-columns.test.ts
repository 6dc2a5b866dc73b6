// The head's column form and the compaction's one-at-a-time merge against the codec's own
// reference: HeadState gives what BlockBuilder builds from the same rounds (whatever the order
// of label keys), replays its own records to the same state, and BlockMerger gives what
// mergeBlockData gives for the same parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seedFromEnv } from '../../../common/random.js';
import { BlockBuilder, BlockFormatError, mergeBlockData, seriesKey, type BlockData, type Labels, type Round, type Sample } from '../../../proto/index.js';
import { HeadState } from '../../../collector/store/head-state.js';
import { BlockMerger } from '../../../collector/store/block-merger.js';
import { decodeHeadDelta, encodeHeadDelta } from '../../../collector/store/head-codec.js';
import { identityHash } from '../../../collector/store/head-series.js';

const SEED = seedFromEnv(20261122);
const params = { seed: SEED, numRuns: Number(process.env.DW_PROPERTY_RUNS ?? 200) };
console.log(`property seed ${SEED} (replay with DW_SEED=${SEED})`);

const NAMES = ['kube_pod_container_image', 'node_hwmon_temp_celsius', 'up'];
const LABELS = ['namespace', 'pod', 'le', '_'];
const seriesArb = fc.record({
  name: fc.constantFrom(...NAMES),
  labels: fc.dictionary(fc.constantFrom(...LABELS), fc.string({ unit: 'grapheme', maxLength: 5 }), { maxKeys: 3 }),
  type: fc.constantFrom('float' as const, 'string' as const),
});
const floatArb = fc.oneof(
  fc.double(),
  fc.integer({ min: -100000, max: 100000 }).map((n) => n / 10),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 49 + 1, Number.MAX_SAFE_INTEGER, 5e-324),
);
const stringArb = fc.oneof(fc.constantFrom('', 'v1', 'v2'), fc.string({ unit: 'grapheme', maxLength: 6 }));

/** Labels with the same entries in reverse key order: the same series. */
function reversed(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).reverse());
}

/** Rounds over up to 8 series, each present or not in each round, label keys in either order. */
const roundsArb = fc
  .tuple(
    fc.uniqueArray(seriesArb, { selector: (s) => seriesKey(s.name, s.labels), maxLength: 8 }),
    fc.integer({ min: 0, max: 2 ** 44 }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 10 ** 6 }), fc.array(fc.tuple(fc.boolean(), floatArb, stringArb, fc.boolean()), { minLength: 8, maxLength: 8 }), fc.boolean()), { minLength: 1, maxLength: 25 }),
  )
  .map(([series, start, steps]) => {
    let t = start;
    return steps.map(([dt, cells, withEvent]): Round => {
      t += dt;
      const samples: Sample[] = [];
      series.forEach((s, i) => {
        const [present, f, str, flip] = cells[i]!;
        if (present) samples.push({ name: s.name, labels: flip ? reversed(s.labels) : { ...s.labels }, type: s.type, value: s.type === 'float' ? f : str });
      });
      const events = withEvent ? [{ t: t - 1, kind: 'kubernetes', reason: 'BackOff', message: 'm', labels: { pod: 'p', app: 'a' }, rangeMinT: 0, rangeMaxT: 0, count: 1 }] : [];
      return events.length > 0 ? { t, samples, events } : { t, samples };
    });
  });

function build(rounds: readonly Round[]): BlockData {
  const b = new BlockBuilder();
  for (const r of rounds) b.append(r);
  return b.build();
}

function normalize(rounds: readonly Round[]): unknown {
  return rounds.map((r) => ({
    t: r.t,
    samples: r.samples.map((s) => `${seriesKey(s.name, s.labels)} ${s.type} ${Object.is(s.value, -0) ? '-0' : String(s.value)}`).sort(),
    events: (r.events ?? []).length,
  }));
}

/** Appends `rounds` to a fresh head without a database; returns the head and each round's record. */
function appendAll(rounds: readonly Round[]): { head: HeadState; records: { t: number; bytes: Uint8Array }[] } {
  const head = new HeadState(Number.MAX_SAFE_INTEGER);
  const records: { t: number; bytes: Uint8Array }[] = [];
  for (const r of rounds) {
    const planned = head.plan(r);
    assert.equal(planned.kind, 'plan');
    if (planned.kind !== 'plan') continue;
    records.push({ t: r.t, bytes: encodeHeadDelta(planned.plan.delta, (ref) => head.previous(ref)) });
    head.commit(planned.plan, 0, planned.plan.newDefs.map(() => 0));
  }
  return { head, records };
}

test('the head in column form is the block BlockBuilder builds from the same rounds, and replays from its records', () => {
  fc.assert(
    fc.property(roundsArb, (rounds) => {
      const { head, records } = appendAll(rounds);
      assert.deepStrictEqual(head.toBlockData([]), build(rounds));
      assert.deepStrictEqual(normalize(head.rows()), normalize(rounds));
      // Replaying the records against the same definitions gives the same head.
      const again = new HeadState(Number.MAX_SAFE_INTEGER);
      for (const def of head.defs.values()) again.loadDef({ ref: def.ref, name: def.name, labels: def.labels, type: def.type }, 0);
      for (const rec of records) assert.equal(again.replay(rec.t, decodeHeadDelta(rec.bytes, (ref) => again.previous(ref)), 0), undefined);
      assert.deepStrictEqual(again.toBlockData([]), build(rounds));
    }),
    params,
  );
});

test('the head finds a series by name and labels in any key order, and refuses it twice in a round', () => {
  const head = new HeadState(60_000);
  const a = { name: 'kube_pod_info', labels: { namespace: 'pos', pod: 'p-0', node: 'n1' }, type: 'string' as const, value: 'x' };
  const first = head.plan({ t: 1000, samples: [a] });
  assert.ok(first.kind === 'plan');
  head.commit(first.plan, 0, [0]);
  const same = head.plan({ t: 2000, samples: [{ ...a, labels: { pod: 'p-0', node: 'n1', namespace: 'pos' } }] });
  assert.ok(same.kind === 'plan');
  assert.equal(same.plan.newDefs.length, 0, 'no new definition for the same series');
  assert.deepEqual(same.plan.delta, { set: [], gone: [], events: [] });
  assert.equal(identityHash(a.name, a.labels), identityHash(a.name, { node: 'n1', namespace: 'pos', pod: 'p-0' }));
  assert.throws(() => head.plan({ t: 2000, samples: [a, { ...a, labels: { node: 'n1', pod: 'p-0', namespace: 'pos' }, type: 'float', value: 1 }] }),
    { code: 'DW_STORE_INVALID_ROUND', message: /samples\[1\]: expected each series once per round, found kube_pod_info\{namespace="pos",node="n1",pod="p-0"\} again/ });
  // A label more or less is another series.
  const other = head.plan({ t: 2000, samples: [a, { ...a, labels: { namespace: 'pos', pod: 'p-0' } }] });
  assert.ok(other.kind === 'plan');
  assert.equal(other.plan.newDefs.length, 1);
  // The same series as a float: the head is sealed first.
  assert.deepEqual(head.plan({ t: 2000, samples: [{ ...a, type: 'float', value: 1 }] }), { kind: 'seal', reason: 'type_change' });
});

test('merging blocks one at a time equals mergeBlockData of all of them', () => {
  fc.assert(
    fc.property(roundsArb, fc.array(fc.nat(), { maxLength: 5 }), fc.boolean(), (rounds, cutsRaw, hint) => {
      const cuts = [...new Set(cutsRaw.map((c) => c % (rounds.length + 1)))].sort((x, y) => x - y);
      const parts: BlockData[] = [];
      let from = 0;
      for (const c of [...cuts, rounds.length]) {
        parts.push(build(rounds.slice(from, c)));
        from = c;
      }
      const merger = new BlockMerger(hint ? { maxRounds: rounds.length } : {});
      for (const p of parts) merger.add(p);
      const merged = merger.build();
      assert.deepStrictEqual({ ...merged, series: merged.series.map((s) => (s.type === 'float' ? { ...s, values: Float64Array.from(s.values) } : s)) }, mergeBlockData(parts));
      assert.deepStrictEqual(mergeBlockData(parts), build(rounds));
    }),
    params,
  );
});

test('the merger refuses overlapping parts and a series that changes type, keeping what it had', () => {
  const part = (t: number, type: 'float' | 'string'): BlockData => build([{ t, samples: [{ name: 'x', labels: {}, type, value: type === 'float' ? 1 : 'a' }] }]);
  const merger = new BlockMerger();
  merger.add(part(10, 'float'));
  assert.throws(() => merger.add(part(10, 'float')), (e: unknown) => e instanceof BlockFormatError && e.code === 'DW_BLOCK_INVALID_INPUT' && /time order without overlap/.test(e.message));
  assert.throws(() => merger.add(part(20, 'string')), (e: unknown) => e instanceof BlockFormatError && /expected x to stay float, found string/.test(e.message));
  merger.add(part(30, 'float'));
  assert.deepStrictEqual(merger.build(), mergeBlockData([part(10, 'float'), part(30, 'float')]));
});

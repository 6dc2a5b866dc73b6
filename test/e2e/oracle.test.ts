// The oracle itself must be able to fail: a missing block is loss, a block stored twice under
// two ids is duplication, other values are unexpected, a replaced block is not double counted,
// and a dropped range excuses exactly the samples inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { newUlid } from '../../common/ulid.js';
import { BlockBuilder, dataDroppedEvent, encodeBlock, type Round, type Sample } from '../../proto/index.js';
import { compareSides } from './oracle.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const random = seededRandom(5);

function rounds(from: number, n: number, value = 1): Round[] {
  return Array.from({ length: n }, (_, i) => ({
    t: from + i * 15_000,
    samples: <Sample[]>[
      { name: 'a', labels: { x: '1' }, type: 'float' as const, value: value + i },
      { name: 'b', labels: {}, type: 'string' as const, value: `v${value}` },
    ],
  }));
}

function block(rs: Round[], opts: { replaces?: Uint8Array[]; events?: ReturnType<typeof dataDroppedEvent>[] } = {}): { id: Uint8Array; bytes: Uint8Array } {
  const b = new BlockBuilder();
  for (const r of rs) b.append(r);
  for (const e of opts.events ?? []) b.appendEvent(e);
  const id = newUlid(clock, random);
  return { id, bytes: encodeBlock(b.build(), { siteId: 's', blockId: id, sequence: 1, createdAt: clock.now(), replaces: opts.replaces ?? [] }) };
}

const T = Date.UTC(2026, 0, 1);

test('identical sides pass', () => {
  const a = block(rounds(T, 4));
  const r = compareSides([a.bytes], [a.bytes]);
  assert.deepEqual([r.lost.length, r.duplicated.length, r.unexpected.length, r.edgeSamples], [0, 0, 0, 8]);
});

test('a block missing at the center is loss', () => {
  const a = block(rounds(T, 4));
  const b = block(rounds(T + 60_000, 4));
  const r = compareSides([a.bytes, b.bytes], [a.bytes]);
  assert.equal(r.lost.length, 8);
});

test('the same rounds under two block ids is duplication; other values are unexpected', () => {
  const a = block(rounds(T, 4));
  const again = block(rounds(T, 4));
  assert.equal(compareSides([a.bytes], [a.bytes, again.bytes]).duplicated.length, 8);
  const other = block(rounds(T, 4, 7));
  assert.equal(compareSides([a.bytes], [other.bytes]).unexpected.length, 8);
});

test('a block and the compacted block replacing it are counted once', () => {
  const a = block(rounds(T, 4));
  const b = block(rounds(T + 60_000, 4));
  const c = block([...rounds(T, 4), ...rounds(T + 60_000, 4)], { replaces: [a.id, b.id] });
  const r = compareSides([c.bytes], [a.bytes, c.bytes]);
  assert.deepEqual([r.lost.length, r.duplicated.length, r.unexpected.length], [0, 0, 0]);
});

test('a reported dropped range excuses the samples inside it, and only those', () => {
  const a = block(rounds(T, 4));
  const b = block(rounds(T + 60_000, 4));
  const note = block(rounds(T + 120_000, 1), { events: [dataDroppedEvent(T + 120_000, T + 60_000, T + 60_000 + 30_000, 3, 'disk_budget', 'test')] });
  const r = compareSides([a.bytes, b.bytes, note.bytes], [a.bytes, note.bytes]);
  assert.equal(r.lost.length, 2, 'the round after the range is still lost');
});

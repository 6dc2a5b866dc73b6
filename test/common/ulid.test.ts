import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { newUlid, parseUlid, ulidTime, ulidToString } from '../../common/ulid.js';

test('a ULID keeps its time and round-trips through its text form', () => {
  const clock = new ManualClock(1_763_700_000_123);
  const id = newUlid(clock, seededRandom(7));
  assert.equal(ulidTime(id), 1_763_700_000_123);
  const text = ulidToString(id);
  assert.match(text, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.deepEqual(parseUlid(text), id);
  assert.deepEqual(parseUlid(text.toLowerCase()), id);
});

test('ULIDs sort by time in their text form', () => {
  const clock = new ManualClock(1000);
  const a = ulidToString(newUlid(clock, seededRandom(1)));
  clock.advance(1);
  const b = ulidToString(newUlid(clock, seededRandom(2)));
  assert.ok(a < b);
});

test('parseUlid rejects what is not a ULID', () => {
  assert.equal(parseUlid('too-short'), undefined);
  assert.equal(parseUlid('8ZZZZZZZZZZZZZZZZZZZZZZZZZ'), undefined); // over 128 bits
  assert.equal(parseUlid('0000000000000000000000000U'), undefined); // U is not in the alphabet
});

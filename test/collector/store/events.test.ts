// Events that belong to no round (appendEvents): durable before a seal, sealed into the next
// block with their own time, refused whole when malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { isDriftwatchError } from '../../../common/errors.js';
import type { BlockEvent } from '../../../proto/index.js';
import { blockEvents, openTestStore, syntheticRound, T0 } from './helpers.js';

const MIN = 60_000;

function stopEvent(t: number): BlockEvent {
  return { t, kind: 'agent_stop', reason: 'signal', message: 'driftwatch agent stopping (SIGTERM) after 3 rounds', labels: { version: '0.1.0' }, rangeMinT: 0, rangeMaxT: 0, count: 3 };
}

test('appendEvents is durable at once and the next seal takes the events with their own time', async () => {
  const s = await openTestStore({ blockDuration: 5 * MIN });
  try {
    const random = seededRandom(21);
    for (let i = 0; i < 3; i++) await s.store.appendRound(syntheticRound(T0 + i * 15_000, random));
    // Between rounds, and past the last round's time (not moved into the rounds' range).
    await s.store.appendEvents([stopEvent(T0 + 37_000)]);
    assert.equal(s.store.stats().pendingEvents, 1);
    // Nothing sealed yet; a restart keeps the event (it was synced).
    await s.reopen();
    assert.equal(s.store.stats().pendingEvents, 1);
    assert.equal(s.store.stats().headRounds, 3);
    const sealed = await s.store.flush();
    assert.ok(sealed !== undefined);
    assert.deepEqual([sealed.numRounds, sealed.numEvents, sealed.lastRoundT, sealed.maxT], [3, 1, T0 + 30_000, T0 + 37_000]);
    const events = await blockEvents(s.store, sealed.id);
    assert.deepEqual(events, [stopEvent(T0 + 37_000)]);
    assert.equal(s.store.stats().pendingEvents, 0);
    await s.reopen();
    assert.equal(s.store.stats().pendingEvents, 0, 'the seal deleted the pending record');
  } finally {
    await s.cleanup();
  }
});

test('appendEvents with an empty head: flush seals an events-only block', async () => {
  const s = await openTestStore({ blockDuration: MIN });
  try {
    await s.store.appendEvents([]); // nothing to write
    assert.equal(s.store.stats().pendingEvents, 0);
    const start = { ...stopEvent(T0 + 5), kind: 'agent_start', reason: 'started', count: 0 };
    await s.store.appendEvents([start, stopEvent(T0 + 9)]);
    const only = await s.store.flush();
    assert.ok(only !== undefined);
    assert.deepEqual([only.numRounds, only.numEvents, only.minT, only.maxT, only.firstRoundT], [0, 2, T0 + 5, T0 + 9, undefined]);
    assert.deepEqual((await blockEvents(s.store, only.id)).map((e) => e.kind), ['agent_start', 'agent_stop']);
  } finally {
    await s.cleanup();
  }
});

test('appendEvents refuses malformed events with DW_STORE_INVALID_EVENTS and writes none of them', async () => {
  const s = await openTestStore();
  try {
    const bad: unknown[] = [
      [{ ...stopEvent(T0), t: -1 }],
      [stopEvent(T0), { ...stopEvent(T0), kind: '' }],
      [{ ...stopEvent(T0), rangeMinT: 5, rangeMaxT: 1 }],
      [{ ...stopEvent(T0), labels: { '': 'x' } }],
      'not a list',
    ];
    for (const events of bad) {
      await assert.rejects(s.store.appendEvents(events as BlockEvent[]), (err) => isDriftwatchError(err, 'DW_STORE_INVALID_EVENTS'), JSON.stringify(events));
    }
    assert.equal(s.store.stats().pendingEvents, 0);
    await s.reopen();
    assert.equal(s.store.stats().pendingEvents, 0);
    await s.store.close();
    await assert.rejects(s.store.appendEvents([stopEvent(T0)]), (err) => isDriftwatchError(err, 'DW_STORE_CLOSED'));
    await s.reopen();
  } finally {
    await s.cleanup();
  }
});

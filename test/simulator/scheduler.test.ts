import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleepUntil } from '../../common/timers.js';
import { SimScheduler } from '../../simulator/scheduler.js';

test('the fleet is quiet only when every agent sleeps and no shipper call is in flight', async () => {
  const sched = new SimScheduler(1_000);
  const a = sched.addSite();
  const b = sched.addSite();
  let quiet = false;
  const q = sched.quiet().then(() => (quiet = true));
  // a sleeps; b has not armed its round yet.
  void sleepUntil(sched.agentTimers(a), 2_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(quiet, false);
  // b sleeps, but a's shipper has a call in flight.
  let finish!: () => void;
  void a.track(new Promise<void>((r) => (finish = r)));
  void sleepUntil(sched.agentTimers(b), 3_000);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(quiet, false);
  finish();
  await q;
  assert.equal(quiet, true);
  // Other timers (shipper intervals, deadlines) do not count as sleeping.
  assert.equal(sched.nextAt(), 2_000);
});

test('timers fire in time order with the clock at the step, and a cancelled one never fires', async () => {
  const sched = new SimScheduler(0);
  const fired: [string, number][] = [];
  sched.timers.at(300, () => fired.push(['c', sched.clock.now()]));
  sched.timers.at(100, () => fired.push(['a', sched.clock.now()]));
  const cancel = sched.timers.at(200, () => fired.push(['x', sched.clock.now()]));
  sched.timers.at(100, () => fired.push(['b', sched.clock.now()]));
  cancel();
  sched.fireUntil(250);
  assert.deepEqual(fired, [['a', 250], ['b', 250]]);
  assert.equal(sched.nextAt(), 300);
  sched.fireUntil(300);
  assert.deepEqual(fired.map((f) => f[0]), ['a', 'b', 'c']);
  assert.equal(sched.nextAt(), undefined);
  assert.equal(sched.fired, 3);
});

test('a site that waits for a timer armed on the shared timers is busy until its agent sleeps again', async () => {
  const sched = new SimScheduler(0);
  const s = sched.addSite();
  const agent = sched.agentTimers(s);
  // One agent round: sleep until 60 s, then "work" (a tracked call), then sleep again.
  const loop = (async () => {
    await sleepUntil(agent, 60_000);
    await s.track(new Promise((r) => setImmediate(r)));
    await sleepUntil(agent, 120_000);
  })();
  await sched.quiet();
  assert.equal(sched.nextAt(), 60_000);
  sched.fireUntil(60_000);
  await sched.quiet();
  assert.equal(sched.nextAt(), 120_000);
  sched.fireUntil(120_000);
  await loop;
});

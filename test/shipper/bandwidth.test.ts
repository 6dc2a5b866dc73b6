// The bandwidth cap: the token bucket on a ManualClock, and bandwidth parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.js';
import { randomInt, seededRandom, seedFromEnv } from '../../common/random.js';
import { ManualTimers } from '../../common/timers.js';
import { formatBandwidth, parseBandwidth, TokenBucket } from '../../shipper/index.js';

const T0 = 1_763_700_000_000;
const SEED = seedFromEnv(7);

test('a take within the burst is immediate; beyond it waits exactly for the refill', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const bucket = new TokenBucket({ bytesPerSecond: 1000, burstBytes: 1000, clock, timers });
  await bucket.take(1000);
  assert.equal(timers.pending, 0);
  let done = false;
  const p = bucket.take(500).then(() => {
    done = true;
  });
  assert.equal(timers.nextAt, T0 + 500);
  timers.advance(499);
  await Promise.resolve();
  assert.equal(done, false);
  timers.advance(1);
  await p;
  assert.equal(done, true);
  // After a quiet spell the bucket is full again, never fuller than the burst.
  timers.advance(60_000);
  assert.equal(bucket.available(), 1000);
});

test(`the bucket paces a stream of takes to the rate: bytes ≤ burst + rate × elapsed at every moment (seed ${SEED})`, async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const rate = 125_000; // 1 Mbit/s
  const burst = 16_384;
  const bucket = new TokenBucket({ bytesPerSecond: rate, burstBytes: burst, clock, timers });
  const random = seededRandom(SEED);
  let sent = 0;
  const total = 2_000_000;
  const sender = (async () => {
    while (sent < total) {
      const n = Math.min(randomInt(random, 1, 65_536), total - sent);
      await bucket.take(n);
      sent += n;
      assert.ok(sent <= burst + (rate * (clock.now() - T0)) / 1000,
        `${sent} bytes by ${clock.now() - T0} ms exceeds the cap`);
    }
  })();
  let finished = false;
  void sender.then(() => {
    finished = true;
  });
  while (!finished) {
    await Promise.race([timers.whenPending(1), sender]);
    if (!finished) timers.runNext();
  }
  await sender;
  const elapsed = clock.now() - T0;
  const ideal = ((total - burst) * 1000) / rate;
  assert.ok(elapsed >= ideal - 1 && elapsed <= ideal + 10, `expected about ${ideal} ms for ${total} bytes at ${rate} B/s, found ${elapsed}`);
});

test('takes are served in call order; an aborted take gives its reservation back', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const bucket = new TokenBucket({ bytesPerSecond: 100, burstBytes: 0, clock, timers });
  const order: string[] = [];
  const a = bucket.take(100).then(() => order.push('a'));
  const ac = new AbortController();
  const b = bucket.take(100, ac.signal).then(() => order.push('b'), () => order.push('b aborted'));
  const c = bucket.take(100).then(() => order.push('c'));
  ac.abort(new Error('stop'));
  await b;
  assert.equal(bucket.available(), -200, 'a and c are still reserved; b gave its 100 back');
  timers.advance(1000);
  await a;
  timers.advance(2000);
  await c;
  assert.deepEqual(order, ['b aborted', 'a', 'c']);
});

test('parseBandwidth reads bits, bytes per second and numbers', () => {
  const cases: [string | number, number | undefined][] = [
    ['1Mbit', 125_000], ['1Mbit/s', 125_000], ['10Mbps', 1_250_000], ['512kbit', 64_000], ['512Kbit', 64_000], ['1Gbit', 125_000_000],
    ['8000bit', 1000], ['125KB/s', 125_000], ['1MiB/s', 1_048_576], ['4096B/s', 4096], ['4096/s', 4096], [125_000, 125_000], [0.5, 0.5],
    ['1Mb', undefined], ['fast', undefined], ['0Mbit', undefined], [0, undefined], [-5, undefined], ['125KB', undefined], ['', undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseBandwidth(input), want, JSON.stringify(input));
  assert.equal(formatBandwidth(125_000), '1 Mbit/s (125000 B/s)');
  assert.equal(formatBandwidth(64_000), '512 kbit/s (64000 B/s)');
});

test('a TokenBucket refuses a non-positive rate', () => {
  const clock = new ManualClock(T0);
  assert.throws(() => new TokenBucket({ bytesPerSecond: 0, clock, timers: new ManualTimers(clock) }), /positive rate/);
});

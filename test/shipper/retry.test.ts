// withRetry on ManualTimers against a scripted transport: full-jitter bounds, the cap, push-back,
// resume offsets, the DATA_LOSS restart, aborts, and an outage of days passed in no time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.js';
import { seededRandom, seedFromEnv } from '../../common/random.js';
import { ManualTimers } from '../../common/timers.js';
import {
  backoffDelay, failed, ShipperError, ShipperErrorCode, success, withRetry, type IngestTransport, type RetryEvent, type TransportResult,
  type UploadResult,
} from '../../shipper/index.js';

const T0 = 1_763_700_000_000;
const DAY = 86_400_000;
const SEED = seedFromEnv(20251120);

function err(code: ShipperErrorCode, retryable: boolean, extra: { pushbackMs?: number; resumeOffset?: number } = {}): ShipperError {
  return new ShipperError(code, `expected success, found ${code} (scripted)`, { retryable, ...extra });
}

/** A transport whose calls answer from a script (the last answer repeats), recording offsets. */
function scripted(answers: { upload?: TransportResult<UploadResult>[]; hello?: TransportResult<never>[] }): IngestTransport & { offsets: number[]; calls: number } {
  let u = 0;
  let h = 0;
  const t = {
    offsets: [] as number[],
    calls: 0,
    async hello() {
      t.calls++;
      const list = answers.hello ?? [];
      return list[Math.min(h++, list.length - 1)]!;
    },
    async upload(_b: unknown, offset: number) {
      t.calls++;
      t.offsets.push(offset);
      const list = answers.upload ?? [];
      return list[Math.min(u++, list.length - 1)]!;
    },
    async heartbeat() {
      return failed<never>(err(ShipperErrorCode.Protocol, false));
    },
    close() {},
  };
  return t as unknown as IngestTransport & { offsets: number[]; calls: number };
}

/** The failure's code; undefined on success. */
function codeOf(r: TransportResult<unknown>): string | undefined {
  return r.status === 'success' ? undefined : r.error.code;
}

const BLOCK = { siteId: 's', id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', bytes: new Uint8Array(100), sha256: new Uint8Array(32) };
const OK = success<UploadResult>({ duplicate: false, arrivedAt: 1 });

/** Drives `promise` by firing each timer as it is armed; returns the delays armed, in order. */
async function drive<T>(timers: ManualTimers, promise: Promise<T>): Promise<{ result: T; delays: number[] }> {
  const delays: number[] = [];
  let settled = false;
  const p = promise.finally(() => {
    settled = true;
  });
  while (!settled) {
    await Promise.race([timers.whenPending(1), p]);
    if (settled) break;
    delays.push(timers.nextAt! - timers.clock.now());
    timers.runNext();
  }
  return { result: await p, delays };
}

test(`backoffDelay: full jitter in [0, min(cap, base·2^attempt)), capped, never below push-back (seed ${SEED})`, () => {
  const policy = { baseMs: 100, capMs: 10_000 };
  const random = seededRandom(SEED);
  for (let attempt = 0; attempt < 40; attempt++) {
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(policy, attempt, random);
      assert.ok(d >= 0 && d < ceiling, `attempt ${attempt}: ${d} outside [0, ${ceiling})`);
      assert.ok(Number.isInteger(d));
    }
  }
  // The extremes of the random source map to the extremes of the range.
  assert.equal(backoffDelay(policy, 3, () => 0), 0);
  assert.equal(backoffDelay(policy, 3, () => 0.9999999), 799);
  assert.equal(backoffDelay(policy, 30, () => 0.9999999), 9_999);
  assert.equal(backoffDelay(policy, 1_000_000, () => 0.5), 5_000, 'a huge attempt number does not overflow');
  // Push-back is a floor, also above the cap.
  assert.equal(backoffDelay(policy, 0, () => 0.5, 30_000), 30_000);
  assert.equal(backoffDelay(policy, 20, () => 0.9, 100), 9_000);
  // Jitter spreads: the draws are not all alike.
  const spread = new Set(Array.from({ length: 100 }, () => backoffDelay(policy, 10, random)));
  assert.ok(spread.size > 50, `expected spread-out delays, found ${spread.size} distinct values`);
});

test(`withRetry waits exactly the seeded full-jitter delays on the timers, then succeeds (seed ${SEED})`, async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const policy = { baseMs: 1000, capMs: 8000 };
  const failures = Array.from({ length: 7 }, () => failed<UploadResult>(err(ShipperErrorCode.Unavailable, true, { resumeOffset: 0 })));
  const inner = scripted({ upload: [...failures, OK] });
  const events: RetryEvent[] = [];
  const t = withRetry(inner, policy, { clock, timers, random: seededRandom(SEED) });
  const { result, delays } = await drive(timers, t.upload(BLOCK, 0, { onRetry: (e) => events.push(e) }));
  assert.equal(result.status, 'success');
  const expectedRandom = seededRandom(SEED);
  const expected = Array.from({ length: 7 }, (_, a) => Math.floor(expectedRandom() * Math.min(8000, 1000 * 2 ** a)));
  assert.deepEqual(delays, expected);
  assert.deepEqual(events.map((e) => e.delayMs), expected);
  assert.deepEqual(events.map((e) => e.attempt), [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(delays.slice(4).every((d) => d < 8000), 'capped');
  assert.equal(clock.now(), T0 + expected.reduce((a, b) => a + b, 0));
});

test('withRetry honours the server\'s push-back: it waits at least pushbackMs', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const inner = scripted({
    upload: [
      failed(err(ShipperErrorCode.PushedBack, true, { pushbackMs: 45_000, resumeOffset: 0 })),
      failed(err(ShipperErrorCode.Unavailable, true, { pushbackMs: 2 * DAY, resumeOffset: 0 })),
      OK,
    ],
  });
  const t = withRetry(inner, { baseMs: 10, capMs: 100 }, { clock, timers, random: seededRandom(SEED) });
  const { result, delays } = await drive(timers, t.upload(BLOCK, 0));
  assert.equal(result.status, 'success');
  assert.deepEqual(delays, [45_000, 2 * DAY]);
});

test('withRetry returns non-retryable failures at once, without waiting', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  for (const code of [ShipperErrorCode.Conflict, ShipperErrorCode.Rejected, ShipperErrorCode.Unauthenticated, ShipperErrorCode.PermissionDenied]) {
    const inner = scripted({ upload: [failed(err(code, false)), OK], hello: [failed(err(code, false))] });
    const t = withRetry(inner, { baseMs: 10, capMs: 100 }, { clock, timers, random: seededRandom(1) });
    const r = await t.upload(BLOCK, 0);
    assert.equal(r.status, 'failure');
    assert.equal(codeOf(r), code);
    const h = await t.hello({ siteId: 's', pendingBlockIds: [], agentVersion: 'x' });
    assert.equal(codeOf(h), code);
    assert.equal(inner.calls, 2);
    assert.equal(timers.pending, 0);
  }
  assert.equal(clock.now(), T0);
});

test('withRetry resumes uploads at the failure\'s resumeOffset; progress resets the backoff', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const inner = scripted({
    upload: [
      failed(err(ShipperErrorCode.Unavailable, true, { resumeOffset: 10 })),
      failed(err(ShipperErrorCode.Unavailable, true, { resumeOffset: 10 })),
      failed(err(ShipperErrorCode.Unavailable, true, { resumeOffset: 10 })),
      failed(err(ShipperErrorCode.TransportFailed, true, { resumeOffset: 40 })),
      failed(err(ShipperErrorCode.Timeout, true, { resumeOffset: 70 })),
      OK,
    ],
  });
  // random → 0.999…: every delay is the top of its range, so the attempt number shows.
  const t = withRetry(inner, { baseMs: 100, capMs: 100_000 }, { clock, timers, random: () => 0.9999999 });
  const { result, delays } = await drive(timers, t.upload(BLOCK, 10));
  assert.equal(result.status, 'success');
  assert.deepEqual(inner.offsets, [10, 10, 10, 10, 40, 70]);
  // Attempts 0, 1, 2 grow (99, 199, 399); then the offset moved (10→40, 40→70): back to attempt 0.
  assert.deepEqual(delays, [99, 199, 399, 99, 99]);
});

test('withRetry: FAILED_PRECONDITION resumes at once at the server\'s offset; DATA_LOSS restarts from 0 once, then fails', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const resume = scripted({ upload: [failed(err(ShipperErrorCode.ResumeMismatch, true, { resumeOffset: 64 })), OK] });
  const events: RetryEvent[] = [];
  const r1 = await withRetry(resume, { baseMs: 100, capMs: 1000 }, { clock, timers, random: seededRandom(2) })
    .upload(BLOCK, 32, { onRetry: (e) => events.push(e) });
  assert.equal(r1.status, 'success');
  assert.deepEqual(resume.offsets, [32, 64]);
  assert.deepEqual(events.map((e) => [e.delayMs, e.nextOffset]), [[0, 64]]);

  const loss = scripted({ upload: [failed(err(ShipperErrorCode.ChecksumMismatch, false)), failed(err(ShipperErrorCode.ChecksumMismatch, false)), OK] });
  const r2 = await withRetry(loss, { baseMs: 100, capMs: 1000 }, { clock, timers, random: seededRandom(2) }).upload(BLOCK, 50);
  assert.equal(r2.status, 'failure');
  assert.equal(codeOf(r2), ShipperErrorCode.ChecksumMismatch);
  assert.deepEqual(loss.offsets, [50, 0], 'restarted from offset 0 exactly once');
  assert.equal(clock.now(), T0);
});

test('withRetry gives up only when the signal fires: DW_SHIP_ABORTED with the last failure, timer cancelled', async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const inner = scripted({ upload: [failed(err(ShipperErrorCode.Unavailable, true, { resumeOffset: 30 }))] });
  const t = withRetry(inner, { baseMs: 1000, capMs: 60_000 }, { clock, timers, random: seededRandom(SEED) });
  const ac = new AbortController();
  const p = t.upload(BLOCK, 0, { signal: ac.signal });
  for (let i = 0; i < 20; i++) {
    await timers.whenPending(1);
    timers.runNext();
  }
  await timers.whenPending(1);
  ac.abort(new Error('agent stopping'));
  const r = await p;
  assert.equal(codeOf(r), ShipperErrorCode.Aborted);
  const e = (r as { error: ShipperError }).error;
  assert.match(e.message, /DW_SHIP_UNAVAILABLE/);
  assert.equal(e.resumeOffset, 30);
  assert.equal(timers.pending, 0);
  assert.equal(inner.calls, 21);
});

test(`withRetry lives through a 3-day outage on a ManualClock in no real time; no wait exceeds the cap (seed ${SEED})`, async () => {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const linkBack = T0 + 3 * DAY;
  let calls = 0;
  const inner: IngestTransport = {
    async hello() {
      calls++;
      return clock.now() < linkBack
        ? failed(err(ShipperErrorCode.Unavailable, true))
        : success({ heldBlockIds: [], partialUploads: new Map(), serverTime: clock.now(), agentTime: clock.now(), rttMs: 0, maxChunkBytes: 0, maxBlockBytes: 0 });
    },
    upload: async () => OK,
    heartbeat: async () => failed(err(ShipperErrorCode.Protocol, false)),
    close() {},
  };
  const cap = 5 * 60_000;
  const t = withRetry(inner, { baseMs: 1000, capMs: cap }, { clock, timers, random: seededRandom(SEED) });
  const started = Date.now();
  const { result, delays } = await drive(timers, t.hello({ siteId: 's', pendingBlockIds: [], agentVersion: 'x' }));
  assert.equal(result.status, 'success');
  assert.ok(delays.every((d) => d >= 0 && d < cap));
  assert.ok(clock.now() >= linkBack && clock.now() < linkBack + cap, `back within one cap of the link: ${clock.now() - linkBack} ms late`);
  // Full jitter at a 5 min cap averages 2.5 min: about 1,700 attempts over 3 days.
  assert.ok(calls > 1000 && calls < 3000, `expected ~1700 attempts, found ${calls}`);
  assert.ok(Date.now() - started < 5000);
});

test('withRetry rejects a bad policy with DW_SHIP_INVALID_OPTIONS', () => {
  const clock = new ManualClock(T0);
  const deps = { clock, timers: new ManualTimers(clock), random: seededRandom(1) };
  for (const p of [{ baseMs: 0, capMs: 10 }, { baseMs: 10, capMs: 5 }, { baseMs: 1.5, capMs: 10 }]) {
    assert.throws(() => withRetry(scripted({}), p, deps), (e: unknown) => e instanceof ShipperError && e.code === ShipperErrorCode.InvalidOptions);
  }
});

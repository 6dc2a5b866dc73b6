// The fault proxy on real loopback sockets: an echo (or counting) TCP server as its target and
// plain clients. Waits are on events — bytes arriving, sockets closing, the proxy's counters —
// never on sleeps; the timing assertions (delay, throttle) are lower bounds with generous caps.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { randomInt, seededRandom, seedFromEnv } from '../../common/random.js';
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from '../helpers/fault-proxy.js';

const SEED = seedFromEnv(20_250_404);

/** One end of a TCP connection as a test sees it: what arrived, and how it closed. */
class Peer extends EventEmitter {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  /** The error code the socket closed with ('' for a clean close), once it closed. */
  closedWith: string | undefined;
  readonly closed: Promise<string>;

  constructor(readonly socket: Socket, echo: boolean) {
    super();
    let code = '';
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.bytes += c.length;
      if (echo) socket.write(c);
      this.emit('change');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      code ||= e.code ?? String(e);
    });
    socket.on('end', () => socket.end());
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.closedWith = code;
      this.emit('change');
      resolve(code);
    }));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `bytes` have arrived; rejects on a close before that or after 5 s, showing what arrived. */
  until(bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(deadline);
        this.off('change', check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (this.bytes >= bytes) finish();
        else if (this.closedWith !== undefined) finish(new Error(`expected ${bytes} bytes, found ${this.bytes} before close (${this.closedWith})`));
      };
      const deadline = setTimeout(() => finish(new Error(`expected ${bytes} bytes within 5 s, found ${this.bytes}`)), 5000);
      this.on('change', check);
      check();
    });
  }
}

/** A target server: echoes, or only counts what arrives. */
class Target {
  readonly peers: Peer[] = [];
  readonly connections = new EventEmitter();
  readonly server: Server;
  constructor(echo: boolean) {
    this.server = createServer({ allowHalfOpen: true }, (s) => {
      this.peers.push(new Peer(s, echo));
      this.connections.emit('connection');
    });
  }
  async listen(): Promise<{ host: string; port: number }> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const a = this.server.address();
    return { host: '127.0.0.1', port: typeof a === 'object' && a !== null ? a.port : 0 };
  }
  async peer(i: number): Promise<Peer> {
    while (this.peers.length <= i) await once(this.connections, 'connection');
    return this.peers[i]!;
  }
  close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function client(proxy: FaultProxy): Promise<Peer> {
  const s = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
  const peer = new Peer(s, false);
  cleanup.push(async () => {
    s.destroy();
  });
  await Promise.race([new Promise((resolve) => s.once('connect', resolve)), peer.closed]);
  return peer;
}

function bytes(n: number, seed: number): Buffer {
  const r = seededRandom(seed);
  return Buffer.from(Array.from({ length: n }, () => randomInt(r, 0, 255)));
}

const ms = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup(echo = true, options: Partial<FaultProxyOptions> = {}, seed = SEED): Promise<{ target: Target; proxy: FaultProxy }> {
  const target = new Target(echo);
  const address = await target.listen();
  const proxy = await startFaultProxy({ target: address, random: seededRandom(seed), ...options });
  cleanup.push(() => target.close(), () => proxy.close());
  return { target, proxy };
}

describe('fault proxy', () => {
  it('pass forwards every byte both ways, in order, and ends cleanly', async () => {
    const { target, proxy } = await setup();
    assert.match(proxy.address, /^127\.0\.0\.1:\d+$/);
    const data = bytes(200_000, SEED);
    const c = await client(proxy);
    c.socket.end(data);
    assert.equal(await c.closed, '');
    assert.ok(c.received().equals(data), `seed ${SEED}: the echo differs from what was sent`);
    assert.ok((await target.peer(0)).received().equals(data));
    const stats = await proxy.whenStats((s) => s.live === 0);
    assert.deepEqual(stats, { accepted: 1, refused: 0, live: 0, queued: 0, bytesToTarget: 200_000, bytesToClient: 200_000, bytesDiscarded: 0, cuts: 0 });
  });

  it('cut resets every live connection on both sides and keeps accepting', async () => {
    const { target, proxy } = await setup();
    const c = await client(proxy);
    c.socket.write('hello');
    await c.until(5);
    proxy.setMode('cut');
    assert.equal(await c.closed, 'ECONNRESET');
    assert.equal(await (await target.peer(0)).closed, 'ECONNRESET');
    assert.equal(proxy.stats.cuts, 1);
    assert.deepEqual(proxy.mode, { kind: 'pass' });

    const again = await client(proxy);
    again.socket.write('again');
    await again.until(5);
    assert.equal(again.received().toString(), 'again');
  });

  it('cutAfterBytes delivers exactly n bytes, then resets that connection', async () => {
    const { target, proxy } = await setup(false);
    proxy.cutAfterBytes(3000, 'toTarget');
    const c = await client(proxy);
    c.socket.write(bytes(10_000, SEED));
    const t = await target.peer(0);
    // Linux hands a reset peer the bytes it had not read yet, then an end of stream (not ECONNRESET).
    assert.match(await t.closed, /^(ECONNRESET)?$/);
    assert.equal(t.bytes, 3000);
    assert.match(await c.closed, /^(ECONNRESET|EPIPE)$/);
    assert.equal(proxy.stats.cuts, 1);
  });

  it('cutRandomly cuts each connection at a seeded offset in [1, 2·mean − 1], the same for the same seed', async () => {
    const mean = 20_000;
    const run = async (seed: number): Promise<number[]> => {
      const { target, proxy } = await setup(false, { mode: { kind: 'cutRandomly', meanBytesBetweenCuts: mean, direction: 'toTarget' } }, seed);
      const offsets: number[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await client(proxy);
        c.socket.write(bytes(100_000, seed + i));
        const t = await target.peer(i);
        assert.match(await t.closed, /^(ECONNRESET)?$/, `seed ${seed}: connection ${i}`);
        assert.match(await c.closed, /^(ECONNRESET|EPIPE)$/, `seed ${seed}: connection ${i} was not reset`);
        offsets.push(t.bytes);
      }
      assert.equal(proxy.stats.cuts, 4);
      return offsets;
    };
    const first = await run(SEED);
    const r = seededRandom(SEED);
    const expected = first.map(() => randomInt(r, 1, 2 * mean - 1));
    assert.deepEqual(first, expected, `seed ${SEED}: the target received other byte counts than the seeded offsets`);
    for (const o of first) assert.ok(o >= 1 && o <= 2 * mean - 1, `seed ${SEED}: offset ${o} out of range`);
    assert.deepEqual(await run(SEED), first, `seed ${SEED}: the same seed cut at other offsets`);
    assert.notDeepEqual(await run(SEED + 1), first, `seed ${SEED + 1}: another seed cut at the same offsets`);
  });

  it('blackhole forwards nothing either way, opens no target connection, and resets on leaving', async () => {
    const { target, proxy } = await setup();
    const before = await client(proxy);
    before.socket.write('a');
    await before.until(1);

    proxy.setMode('blackhole');
    before.socket.write(bytes(1000, SEED));
    const during = await client(proxy);
    during.socket.write(bytes(100, SEED));
    // The window closes once the proxy has read (and dropped) every byte sent into it.
    await proxy.whenStats((s) => s.bytesDiscarded === 1100);
    assert.equal(before.closedWith, undefined, 'a blackhole answers nothing, not even a reset');
    assert.equal(during.closedWith, undefined);

    proxy.setMode('pass');
    assert.equal(await before.closed, 'ECONNRESET');
    assert.equal(await during.closed, 'ECONNRESET');
    assert.equal(await target.peers[0]!.closed, 'ECONNRESET');
    assert.equal(target.peers.length, 1, 'no target connection is opened during a blackhole');
    assert.equal(target.peers[0]!.bytes, 1, 'only the byte sent before the blackhole reached the target');
    assert.equal(before.bytes, 1);
    const stats = proxy.stats;
    assert.equal(stats.cuts, 2);
    assert.equal(stats.bytesToTarget, 1);

    const after = await client(proxy);
    after.socket.write('back');
    await after.until(4);
  });

  it('throttle holds each direction to the rate: N bytes take at least (N − burst)/R', async () => {
    const { target, proxy } = await setup();
    const rate = 100_000;
    const n = 30_000;
    const burst = 2 * (rate / 100);
    proxy.setMode({ kind: 'throttle', bytesPerSecond: rate });
    const c = await client(proxy);
    const t0 = process.hrtime.bigint();
    c.socket.write(bytes(n, SEED));
    const t = await target.peer(0);
    await t.until(n);
    const up = ms(t0);
    await c.until(n);
    const down = ms(t0);
    const floor = ((n - burst) / rate) * 1000 - 5;
    assert.ok(up >= floor, `toTarget: ${n} B at ${rate} B/s took ${up.toFixed(1)} ms, expected ≥ ${floor} ms`);
    assert.ok(down >= floor, `toClient: took ${down.toFixed(1)} ms, expected ≥ ${floor} ms`);
    assert.ok(down < 3000, `throttled transfer took ${down.toFixed(1)} ms, expected well under 3 s`);
  });

  it('delay adds the latency in each direction and keeps order, across a switch back to pass', async () => {
    const { proxy } = await setup();
    const c = await client(proxy);
    proxy.setMode({ kind: 'delay', ms: 40 });
    let t0 = process.hrtime.bigint();
    c.socket.write('ping');
    await c.until(4);
    const roundTrip = ms(t0);
    assert.ok(roundTrip >= 80 - 2, `the echo came back after ${roundTrip.toFixed(1)} ms, expected ≥ 2 × 40 ms`);

    // Ten chunks go out delayed; the switch to pass lets the next ten through at once, yet
    // they arrive behind the first ten, whose echoes come back without delay.
    const messages = Array.from({ length: 20 }, (_, i) => `message ${i};`);
    t0 = process.hrtime.bigint();
    for (const [i, m] of messages.entries()) {
      if (i === 10) proxy.setMode('pass');
      c.socket.write(m);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = 'ping' + messages.join('');
    await c.until(expected.length);
    const oneWay = ms(t0);
    assert.ok(oneWay >= 40 - 2, `the batch came back after ${oneWay.toFixed(1)} ms, expected ≥ 40 ms`);
    assert.equal(c.received().toString(), expected);
  });

  it('refuse resets live connections and every new one; the target never sees the new ones', async () => {
    const { target, proxy } = await setup();
    const live = await client(proxy);
    live.socket.write('x');
    await live.until(1);
    proxy.setMode('refuse');
    assert.equal(await live.closed, 'ECONNRESET');
    const refused = await client(proxy);
    assert.equal(await refused.closed, 'ECONNRESET');
    assert.equal(refused.bytes, 0);
    await proxy.whenStats((s) => s.refused === 1);

    proxy.setMode('pass');
    const after = await client(proxy);
    after.socket.write('y');
    await after.until(1);
    assert.equal(target.peers.length, 2);
    assert.deepEqual({ ...proxy.stats, bytesToTarget: 0, bytesToClient: 0 }, {
      accepted: 3, refused: 1, live: 1, queued: 0, bytesToTarget: 0, bytesToClient: 0, bytesDiscarded: 0, cuts: 1,
    });
  });

  it('holds at most maxQueuedBytes per direction when the target stops reading, then delivers everything', async () => {
    const maxQueuedBytes = 64 * 1024;
    const { target, proxy } = await setup(false, { maxQueuedBytes });
    const c = await client(proxy);
    const t = await target.peer(0);
    t.socket.pause();
    const data = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 12)) & 0xff;
    c.socket.write(data);
    // The proxy queues up to the cap once the target's buffers are full, then pauses the client.
    const stalled = await proxy.whenStats((s) => s.queued >= maxQueuedBytes);
    assert.ok(stalled.queued < 2 * maxQueuedBytes, `queued ${stalled.queued} bytes, expected < ${2 * maxQueuedBytes}`);
    assert.ok(stalled.bytesToTarget < data.length);
    t.socket.resume();
    await t.until(data.length);
    assert.ok(t.received().equals(data));
  });

  it('close destroys connections and timers, and the proxy refuses further use', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const { proxy } = await setup();
    const c = await client(proxy);
    proxy.setMode({ kind: 'delay', ms: 10_000 });
    c.socket.write('held');
    await proxy.whenStats((s) => s.queued === 4);
    assert.ok(timers() > baseline, 'the held bytes wait on a timer');
    const waiting = assert.rejects(proxy.whenStats((s) => s.cuts > 0, 60_000), /closed first/);
    await proxy.close();
    await waiting;
    assert.equal(await c.closed, 'ECONNRESET');
    assert.equal(timers(), baseline, 'close clears every timer');
    assert.throws(() => proxy.setMode('pass'), /closed/);
    assert.throws(() => proxy.cutAfterBytes(1), /closed/);
    await proxy.close();
  });

  it('rejects a non-loopback address and bad parameters', async () => {
    await assert.rejects(startFaultProxy({ target: { host: '10.0.0.1', port: 1 }, random: seededRandom(SEED) }), RangeError);
    await assert.rejects(startFaultProxy({ target: { host: '127.0.0.1', port: 1 }, listen: { host: '0.0.0.0' }, random: seededRandom(SEED) }), RangeError);
    const { proxy } = await setup();
    assert.throws(() => proxy.setMode({ kind: 'throttle', bytesPerSecond: 0 }), RangeError);
    assert.throws(() => proxy.setMode({ kind: 'cutRandomly', meanBytesBetweenCuts: 0.5 }), RangeError);
    assert.throws(() => proxy.cutAfterBytes(0), RangeError);
  });
});

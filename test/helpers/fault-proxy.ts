// A TCP fault proxy for end-to-end tests of the shipping path. It sits on loopback between a
// client (the shipper's gRPC channel) and a target (the aggregator's ingest), forwards bytes both
// ways over a fresh target connection per client connection, and breaks the link the way edge
// links break: cut at once or at a seeded random byte, blackholed, delayed, throttled, refusing.
// The test changes the mode at any time with `setMode`.
//
// Bounded by construction: each direction of each connection queues at most `maxQueuedBytes`
// before its source socket is paused (TCP backpressure reaches the sender), writes wait for
// 'drain', each direction holds at most one timer, and close() clears them all. An error or
// reset on either side of a connection is passed on as a reset of the other side.
//
// Timing runs on the real monotonic clock (performance.now + setTimeout), not an injected
// clock: the sockets on either side are real and so is their time.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomInt, type Random } from '../../common/random.js';

/** A direction of a proxied connection: client → target (uploads) or target → client. */
export type Direction = 'toTarget' | 'toClient';

/** The bytes a cut counts: one direction or both together. */
export type CountedDirection = Direction | 'both';

/**
 * What the proxy does to the link. The kinds without parameters may also be given as strings.
 *
 * - `pass`: forwards every byte, in order.
 * - `cut`: resets (TCP RST, `socket.resetAndDestroy()`) every live connection on both sides,
 *   now, then behaves as `pass`: new connections are accepted and forwarded. `mode` reads back
 *   as `pass`.
 * - `cutRandomly`: forwards, but each connection is reset after a seeded random number of
 *   forwarded bytes, drawn uniformly from [1, 2·meanBytesBetweenCuts − 1] (mean
 *   `meanBytesBetweenCuts`) and counted in `direction` (default `both`). One draw per
 *   connection, in accept order: for live connections when the mode is set, for each new one
 *   when it is accepted. The peer receives exactly the bytes up to the offset; Linux then gives
 *   a peer that had not yet read them an end of stream, not ECONNRESET. A byte count, not a
 *   probability per chunk: TCP chunk boundaries differ from run to run, byte offsets do not.
 * - `blackhole`: a dead link. Connections are accepted and their bytes read and discarded in
 *   both directions; nothing is forwarded or answered, and no target connection is opened for a
 *   connection accepted meanwhile. Bytes queued for forwarding when the blackhole starts are
 *   discarded too. Since TCP cannot lose bytes in the middle of a stream, leaving `blackhole`
 *   (for any other mode) resets every connection that lived through it, idle ones included —
 *   as if the outage lasted until TCP gave up.
 * - `delay`: each chunk is forwarded `ms` after it arrived, in each direction, in order; an
 *   end of stream is delayed like the bytes before it. A direction keeps at most
 *   `maxQueuedBytes` in flight, so throughput is at most maxQueuedBytes / ms.
 * - `throttle`: at most `bytesPerSecond` in each direction, shared by all connections: a token
 *   bucket refilled continuously, forwarding slices of at most 10 ms worth of bytes and bursting
 *   at most 20 ms worth, so a 125,000 B/s (1 Mbit/s) link behaves like one.
 * - `refuse`: resets every live connection now, and resets each new connection as soon as it is
 *   accepted (the client sees ECONNRESET; a real refusal, ECONNREFUSED, would need the listener
 *   closed and the port given up).
 *
 * Bytes already queued when the mode changes keep their order; they are forwarded under the new
 * mode (a chunk delayed before a switch to `pass` still waits out its delay).
 */
export type FaultMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'cut' }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'throttle'; readonly bytesPerSecond: number }
  | { readonly kind: 'cutRandomly'; readonly meanBytesBetweenCuts: number; readonly direction?: CountedDirection };

/** The modes without parameters, by name. */
export type SimpleFaultMode = 'pass' | 'cut' | 'blackhole' | 'refuse';

/** Counters since the proxy started; a snapshot. */
export interface FaultProxyStats {
  /** Connections accepted, refused ones included. */
  readonly accepted: number;
  /** Connections reset on accept in `refuse` mode. */
  readonly refused: number;
  /** Connections open now. */
  readonly live: number;
  /** Bytes forwarded client → target. */
  readonly bytesToTarget: number;
  /** Bytes forwarded target → client. */
  readonly bytesToClient: number;
  /** Bytes read from either side and not yet forwarded (delayed, throttled or waiting for 'drain'). */
  readonly queued: number;
  /** Bytes read and dropped in `blackhole` (either direction). */
  readonly bytesDiscarded: number;
  /** Connections the proxy reset as a fault (cut, cutRandomly, cutAfterBytes, leaving blackhole, refuse of a live one). */
  readonly cuts: number;
}

export interface FaultProxyOptions {
  /** Where each client connection is forwarded; must be a loopback address. */
  readonly target: { readonly host: string; readonly port: number };
  /** Where the proxy listens; default 127.0.0.1 on a free port. Loopback only. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Seeded randomness for `cutRandomly` (`seededRandom(seed)` from common/random.ts). */
  readonly random: Random;
  /** The mode at start; default `pass`. */
  readonly mode?: FaultMode | SimpleFaultMode;
  /** Bytes queued per direction per connection before its source is paused; default 1 MiB. */
  readonly maxQueuedBytes?: number;
}

export interface FaultProxy {
  /** The port the proxy listens on. */
  readonly port: number;
  /** `host:port` to connect to (a gRPC target string). */
  readonly address: string;
  /** The current mode (`cut` reads back as `pass`). */
  readonly mode: FaultMode;
  /** A snapshot of the counters. */
  readonly stats: FaultProxyStats;
  /** Changes the mode now, effects on live connections included (see FaultMode). Throws a RangeError on bad parameters, an Error after close. */
  setMode(mode: FaultMode | SimpleFaultMode): void;
  /**
   * One-shot: after `n` more bytes are forwarded (counted in `direction`, default `both`, over
   * all connections), resets the connection that carried the n-th byte; its peer receives
   * exactly the bytes up to it. The mode is unchanged; arming again replaces the previous
   * countdown. Throws a RangeError unless n is a positive integer, an Error after close.
   */
  cutAfterBytes(n: number, direction?: CountedDirection): void;
  /**
   * Resolves with the stats once `predicate` holds (at once when it already does); rejects
   * after `timeoutMs` (default 5000) or when the proxy closes first, with the stats in the message.
   */
  whenStats(predicate: (stats: FaultProxyStats) => boolean, timeoutMs?: number): Promise<FaultProxyStats>;
  /** Stops listening, resets every connection (not counted as cuts), clears every timer; resolves when the server is closed. Idempotent. */
  close(): Promise<void>;
}

/** Starts a proxy listening on loopback. Rejects when it cannot listen; throws a RangeError on bad options. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.listen?.host ?? '127.0.0.1';
  requireLoopback('listen.host', host);
  requireLoopback('target.host', options.target.host);
  const maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
  if (!Number.isInteger(maxQueuedBytes) || maxQueuedBytes < 1) {
    throw new RangeError(`maxQueuedBytes expects a positive integer, found ${maxQueuedBytes}`);
  }
  const proxy = new FaultProxyServer(options, maxQueuedBytes);
  await proxy.listen(host, options.listen?.port ?? 0);
  return proxy;
}

function requireLoopback(what: string, host: string): void {
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return;
  throw new RangeError(`${what} expects a loopback address, found ${JSON.stringify(host)}`);
}

function normalize(mode: FaultMode | SimpleFaultMode): FaultMode {
  const m: FaultMode = typeof mode === 'string' ? { kind: mode } : mode;
  switch (m.kind) {
    case 'delay':
      if (!(Number.isFinite(m.ms) && m.ms >= 0)) throw new RangeError(`delay expects ms ≥ 0, found ${m.ms}`);
      break;
    case 'throttle':
      if (!(Number.isFinite(m.bytesPerSecond) && m.bytesPerSecond > 0)) {
        throw new RangeError(`throttle expects bytesPerSecond > 0, found ${m.bytesPerSecond}`);
      }
      break;
    case 'cutRandomly':
      if (!(Number.isInteger(m.meanBytesBetweenCuts) && m.meanBytesBetweenCuts >= 1)) {
        throw new RangeError(`cutRandomly expects meanBytesBetweenCuts to be a positive integer, found ${m.meanBytesBetweenCuts}`);
      }
      break;
    case 'pass':
    case 'cut':
    case 'blackhole':
    case 'refuse':
      break;
    default:
      throw new RangeError(`setMode expects pass, cut, cutRandomly, blackhole, delay, throttle or refuse, found ${JSON.stringify(mode)}`);
  }
  return m;
}

function counts(counted: CountedDirection, dir: Direction): boolean {
  return counted === 'both' || counted === dir;
}

/** A token bucket in bytes: refilled continuously at `rate` per second up to two slices. */
class TokenBucket {
  readonly slice: number;
  readonly #capacity: number;
  #tokens: number;
  #last: number;

  constructor(readonly rate: number, now: number) {
    this.slice = Math.max(1, Math.floor(rate / 100));
    this.#capacity = 2 * this.slice;
    this.#tokens = this.#capacity;
    this.#last = now;
  }

  /** Takes `n` tokens (n ≤ slice) and returns 0, or takes none and returns the ms until there are n. */
  take(n: number, now: number): number {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
    if (this.#tokens >= n) {
      this.#tokens -= n;
      return 0;
    }
    return ((n - this.#tokens) * 1000) / this.rate;
  }
}

interface Piece {
  chunk: Buffer;
  readonly due: number;
}

/** One direction of one connection: a FIFO of chunks waiting to be written to the sink. */
class Pipe {
  readonly queue: Piece[] = [];
  queued = 0;
  timer: NodeJS.Timeout | undefined;
  waitingDrain = false;
  pausedForQueue = false;
  sourceEnded = false;
  sinkEnded = false;
  constructor(readonly dir: Direction, readonly conn: Connection) {}

  get source(): Socket | undefined {
    return this.dir === 'toTarget' ? this.conn.client : this.conn.target;
  }

  get sink(): Socket | undefined {
    return this.dir === 'toTarget' ? this.conn.target : this.conn.client;
  }

  clear(): number {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const dropped = this.queued;
    this.queue.length = 0;
    this.queued = 0;
    return dropped;
  }
}

class Connection {
  target: Socket | undefined;
  readonly up: Pipe;
  readonly down: Pipe;
  /** Bytes left before cutRandomly cuts this connection; undefined in other modes. */
  budget: number | undefined;
  /** A cut is waiting for its last bytes to reach the kernel: forward nothing more. */
  cutting = false;
  gone = false;
  constructor(readonly client: Socket) {
    this.up = new Pipe('toTarget', this);
    this.down = new Pipe('toClient', this);
  }
}

interface Waiter {
  readonly predicate: (stats: FaultProxyStats) => boolean;
  readonly resolve: (stats: FaultProxyStats) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class FaultProxyServer implements FaultProxy {
  readonly #server: Server;
  readonly #target: { readonly host: string; readonly port: number };
  readonly #random: Random;
  readonly #maxQueued: number;
  readonly #connections = new Set<Connection>();
  #mode: FaultMode;
  #buckets: Record<Direction, TokenBucket> | undefined;
  #cutAfter: { remaining: number; readonly direction: CountedDirection } | undefined;
  #waiters: Waiter[] = [];
  #closing: Promise<void> | undefined;
  #port = 0;
  #address = '';
  #stats = { accepted: 0, refused: 0, bytesToTarget: 0, bytesToClient: 0, bytesDiscarded: 0, cuts: 0 };

  constructor(options: FaultProxyOptions, maxQueued: number) {
    this.#target = { host: options.target.host, port: options.target.port };
    this.#random = options.random;
    this.#maxQueued = maxQueued;
    this.#mode = { kind: 'pass' };
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
    // Errors on accept (EMFILE and the like) must not crash the test process; the client sees them.
    this.#server.on('error', () => {});
    if (options.mode !== undefined) this.setMode(options.mode);
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const a = this.#server.address();
        this.#port = typeof a === 'object' && a !== null ? a.port : 0;
        this.#address = host.includes(':') ? `[${host}]:${this.#port}` : `${host}:${this.#port}`;
        resolve();
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return this.#address;
  }

  get mode(): FaultMode {
    return this.#mode;
  }

  get stats(): FaultProxyStats {
    let queued = 0;
    for (const conn of this.#connections) queued += conn.up.queued + conn.down.queued;
    return { ...this.#stats, live: this.#connections.size, queued };
  }

  setMode(mode: FaultMode | SimpleFaultMode): void {
    if (this.#closing !== undefined) throw new Error('setMode expects an open fault proxy, found it closed');
    const next = normalize(mode);
    const leavingBlackhole = this.#mode.kind === 'blackhole' && next.kind !== 'blackhole';
    if (leavingBlackhole || next.kind === 'cut' || next.kind === 'refuse') {
      for (const conn of [...this.#connections]) this.#reset(conn, true);
    }
    this.#mode = next.kind === 'cut' ? { kind: 'pass' } : next;
    const now = performance.now();
    this.#buckets = next.kind === 'throttle'
      ? { toTarget: new TokenBucket(next.bytesPerSecond, now), toClient: new TokenBucket(next.bytesPerSecond, now) }
      : undefined;
    for (const conn of this.#connections) {
      conn.budget = next.kind === 'cutRandomly' ? this.#drawBudget(next.meanBytesBetweenCuts) : undefined;
      for (const pipe of [conn.up, conn.down]) {
        if (next.kind === 'blackhole') {
          this.#stats.bytesDiscarded += pipe.clear();
          this.#resumeSource(pipe);
        } else if (pipe.timer !== undefined) {
          clearTimeout(pipe.timer);
          pipe.timer = undefined;
        }
        this.#pump(pipe);
      }
    }
    this.#notify();
  }

  cutAfterBytes(n: number, direction: CountedDirection = 'both'): void {
    if (this.#closing !== undefined) throw new Error('cutAfterBytes expects an open fault proxy, found it closed');
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`cutAfterBytes expects a positive integer, found ${n}`);
    this.#cutAfter = { remaining: n, direction };
  }

  whenStats(predicate: (stats: FaultProxyStats) => boolean, timeoutMs = 5000): Promise<FaultProxyStats> {
    const now = this.stats;
    if (predicate(now)) return Promise.resolve(now);
    if (this.#closing !== undefined) return Promise.reject(new Error(`whenStats: the fault proxy is closed; stats ${JSON.stringify(now)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`whenStats: condition not met within ${timeoutMs} ms; stats ${JSON.stringify(this.stats)}`));
      }, timeoutMs);
      const waiter: Waiter = { predicate, resolve, reject, timer };
      this.#waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => this.#server.close(() => resolve()));
    for (const conn of [...this.#connections]) {
      this.#finish(conn);
      for (const s of [conn.client, conn.target]) if (s !== undefined && !s.destroyed) s.resetAndDestroy();
    }
    this.#notify();
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`whenStats: the fault proxy closed first; stats ${JSON.stringify(this.stats)}`));
    }
    this.#waiters = [];
    return this.#closing;
  }

  #accept(client: Socket): void {
    this.#stats.accepted++;
    client.on('error', () => {});
    if (this.#closing !== undefined || this.#mode.kind === 'refuse') {
      if (this.#closing === undefined) this.#stats.refused++;
      client.resetAndDestroy();
      this.#notify();
      return;
    }
    const conn = new Connection(client);
    this.#connections.add(conn);
    if (this.#mode.kind === 'cutRandomly') conn.budget = this.#drawBudget(this.#mode.meanBytesBetweenCuts);
    this.#attach(conn, conn.up, client);
    if (this.#mode.kind === 'blackhole') {
      client.resume(); // read and discard; no target connection while the link is down
    } else {
      const target = createConnection({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
      target.pause();
      conn.target = target;
      this.#attach(conn, conn.down, target);
      target.once('connect', () => {
        target.resume();
        this.#resumeSource(conn.up, true);
        this.#pump(conn.up);
        this.#pump(conn.down);
      });
    }
    this.#notify();
  }

  /** Wires a socket as the source of `pipe`. */
  #attach(conn: Connection, pipe: Pipe, socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#onData(pipe, chunk));
    socket.on('end', () => {
      pipe.sourceEnded = true;
      this.#pump(pipe);
    });
    // An error on either side (a reset, EPIPE, a refused target) is passed on as a reset of the other.
    socket.on('error', () => this.#reset(conn, false));
    socket.on('close', () => {
      const other = socket === conn.client ? conn.target : conn.client;
      if (other === undefined || other.destroyed) this.#finish(conn);
    });
  }

  #onData(pipe: Pipe, chunk: Buffer): void {
    if (pipe.conn.gone) return;
    if (this.#mode.kind === 'blackhole') {
      this.#stats.bytesDiscarded += chunk.length;
      this.#notify();
      return;
    }
    const delay = this.#mode.kind === 'delay' ? this.#mode.ms : 0;
    pipe.queue.push({ chunk, due: performance.now() + delay });
    pipe.queued += chunk.length;
    if (pipe.queued >= this.#maxQueued && !pipe.pausedForQueue) {
      pipe.pausedForQueue = true;
      pipe.source?.pause();
    }
    this.#pump(pipe);
    this.#notify();
  }

  #resumeSource(pipe: Pipe, force = false): void {
    if (!pipe.pausedForQueue && !force) return;
    if (pipe.queued >= this.#maxQueued) return;
    pipe.pausedForQueue = false;
    pipe.source?.resume();
  }

  /** Writes what is due and allowed from the head of `pipe`, then arms a timer or waits for 'drain'. */
  #pump(pipe: Pipe): void {
    const conn = pipe.conn;
    const sink = pipe.sink;
    if (conn.gone || conn.cutting || pipe.waitingDrain || pipe.timer !== undefined) return;
    if (this.#mode.kind === 'blackhole' || sink === undefined || sink.connecting || sink.destroyed) return;
    while (pipe.queue.length > 0) {
      const head = pipe.queue[0]!;
      const now = performance.now();
      if (head.due > now) return this.#wake(pipe, head.due - now);
      const bucket = this.#buckets?.[pipe.dir];
      let n = Math.min(head.chunk.length, bucket?.slice ?? Infinity);
      const random = this.#mode.kind === 'cutRandomly' && conn.budget !== undefined && counts(this.#mode.direction ?? 'both', pipe.dir);
      if (random) n = Math.min(n, conn.budget!);
      const cutAfter = this.#cutAfter !== undefined && counts(this.#cutAfter.direction, pipe.dir) ? this.#cutAfter : undefined;
      if (cutAfter !== undefined) n = Math.min(n, cutAfter.remaining);
      const wait = bucket?.take(n, now) ?? 0;
      if (wait > 0) return this.#wake(pipe, wait);

      const piece = head.chunk.subarray(0, n);
      if (n === head.chunk.length) pipe.queue.shift();
      else head.chunk = head.chunk.subarray(n);
      pipe.queued -= n;
      if (pipe.dir === 'toTarget') this.#stats.bytesToTarget += n;
      else this.#stats.bytesToClient += n;
      this.#resumeSource(pipe);
      let cut = false;
      if (random) cut = (conn.budget! -= n) === 0;
      if (cutAfter !== undefined && (cutAfter.remaining -= n) === 0) {
        this.#cutAfter = undefined;
        cut = true;
      }
      this.#notify();
      if (cut) {
        // Reset once the last bytes are in the kernel, so the peer receives exactly them.
        conn.cutting = true;
        sink.write(piece, () => this.#reset(conn, true));
        return;
      }
      if (!sink.write(piece)) {
        pipe.waitingDrain = true;
        sink.once('drain', () => {
          pipe.waitingDrain = false;
          this.#pump(pipe);
        });
        return;
      }
    }
    if (pipe.sourceEnded && !pipe.sinkEnded) {
      pipe.sinkEnded = true;
      sink.end();
    }
  }

  #wake(pipe: Pipe, ms: number): void {
    pipe.timer = setTimeout(() => {
      pipe.timer = undefined;
      this.#pump(pipe);
    }, Math.max(1, Math.ceil(ms)));
  }

  #drawBudget(mean: number): number {
    return randomInt(this.#random, 1, 2 * mean - 1);
  }

  /** Resets both sides of `conn` (a cut when `fault`, else passing on a peer's error). Idempotent. */
  #reset(conn: Connection, fault: boolean): void {
    if (conn.gone) return;
    this.#finish(conn);
    if (fault) this.#stats.cuts++;
    for (const s of [conn.client, conn.target]) if (s !== undefined && !s.destroyed) s.resetAndDestroy();
    this.#notify();
  }

  /** Forgets `conn`: clears its timers and queues. */
  #finish(conn: Connection): void {
    if (conn.gone) return;
    conn.gone = true;
    conn.up.clear();
    conn.down.clear();
    this.#connections.delete(conn);
    this.#notify();
  }

  #notify(): void {
    if (this.#waiters.length === 0) return;
    const stats = this.stats;
    const ready = this.#waiters.filter((w) => w.predicate(stats));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve(stats);
    }
  }
}

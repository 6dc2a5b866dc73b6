// The peer of the shipping-outage benchmark: the same rounds as Prometheus remote write 1.0 would
// put on the wire when it replays a backlog. Each sample becomes one prompb.TimeSeries holding
// the series' labels (sorted, `__name__` included) and that one sample — what Prometheus'
// queue manager sends ("we only ever append a TimeSeries with a single sample in it",
// storage/remote/queue_manager.go). Samples go to shard `ref % shards` (ref: the series' number
// in order of first appearance, as a head series ref is), each shard sends a WriteRequest once it
// holds max_samples_per_send (2,000) samples, oldest first, and every request body is
// snappy-compressed (block format, `snappyjs`, pure JS) as Prometheus does. A string series is
// an info-style series as kube-state-metrics exposes one: its value in the label `value`, the
// sample value 1 (the convention of bench/openmetrics.ts); when its value changes or a series
// goes away, the next round carries a staleness marker for the old label set, as Prometheus'
// scrape loop writes one. Nothing is sent: the bytes are counted, and run through a link model.
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { seriesKey } from '../proto/block/labels.js';
import type { Labels, Round, Sample } from '../proto/block/types.js';

// snappyjs ships no types; this is the one function used.
const snappy = createRequire(import.meta.url)('snappyjs') as { compress(input: Uint8Array): Uint8Array; uncompress(input: Uint8Array): Uint8Array };

/** Prometheus' defaults (config.DefaultQueueConfig). */
export const REMOTE_WRITE_DEFAULTS = { maxSamplesPerSend: 2000, minShards: 1, maxShards: 50 } as const;

/** The label that carries a string series' value in its info-style form. */
export const VALUE_LABEL = 'value';

/** Prometheus' staleness marker: a NaN with this bit pattern (model/value.StaleNaN). */
const STALE_NAN_BITS = 0x7ff0000000000002n;

/** TLS 1.3 record overhead per record (5-byte header, content type, 16-byte AEAD tag) and the largest plaintext per record. */
const TLS_RECORD_OVERHEAD = 22;
const TLS_RECORD_PLAINTEXT = 16_384;

export interface RemoteWritePeerOptions {
  /** Shards sending at once; each gets the series with ref % shards == its index. */
  readonly shards: number;
  /** Default 2,000. */
  readonly maxSamplesPerSend?: number;
  /** The site's bearer token, sent on every request (only its length matters). */
  readonly token: string;
}

/** What the peer would have sent. */
export interface RemoteWriteTotals {
  readonly shards: number;
  /** WriteRequests (HTTP POSTs). */
  readonly requests: number;
  /** Samples sent, staleness markers included. */
  readonly samples: number;
  readonly staleMarkers: number;
  /** Distinct label sets (info-style string series count once per value). */
  readonly seriesRefs: number;
  /** Protobuf bytes before snappy. */
  readonly protobufBytes: number;
  /** Snappy-compressed request bodies. */
  readonly bodyBytes: number;
  /** Client → server: bodies, HTTP/1.1 request heads and TLS record framing (no handshakes, no TCP/IP). */
  readonly upstreamBytes: number;
  /** Server → client: `204 No Content` responses and TLS record framing. */
  readonly downstreamBytes: number;
}

interface Identity {
  readonly ref: number;
  /** The TimeSeries' `labels` fields, encoded once. */
  readonly labelBytes: Uint8Array;
  /** The round index it was last present in. */
  lastRound: number;
}

/** One series' identities: a float series has one, an info-style string series one per value. */
interface SeriesSlot {
  float?: Identity;
  readonly byValue: Map<string, Identity>;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

class Writer {
  buf = Buffer.allocUnsafe(1 << 20);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** `labels` of a prompb.TimeSeries: repeated Label{name=1, value=2} (field 1), sorted by name; empty values are absent, as in Prometheus. */
function encodeLabels(labels: readonly (readonly [string, string])[]): Uint8Array {
  const w = new Writer();
  for (const [name, value] of labels) {
    if (value === '') continue;
    const n = Buffer.byteLength(name);
    const v = Buffer.byteLength(value);
    const inner = 1 + varintLength(n) + n + 1 + varintLength(v) + v;
    w.ensure(inner + 16);
    w.byte(0x0a);
    w.varint(inner);
    w.byte(0x0a);
    w.varint(n);
    w.pos += w.buf.write(name, w.pos);
    w.byte(0x12);
    w.varint(v);
    w.pos += w.buf.write(value, w.pos);
  }
  return Uint8Array.from(w.buf.subarray(0, w.pos));
}

function promLabels(sample: Sample): [string, string][] {
  const out: [string, string][] = [['__name__', sample.name]];
  for (const [k, v] of Object.entries(sample.labels)) out.push([k, v]);
  if (sample.type === 'string') {
    if (Object.hasOwn(sample.labels, VALUE_LABEL)) {
      throw new Error(`remote-write peer: expected no label ${VALUE_LABEL} on string series ${sample.name}, found one`);
    }
    out.push([VALUE_LABEL, String(sample.value)]);
  }
  // Go compares strings by bytes; these are ASCII, where that is code-unit order.
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The HTTP/1.1 request head Prometheus' remote-write client sends (Go's net/http adds Host, Content-Length, Accept-Encoding). */
function requestHeadBytes(bodyLength: number, token: string): number {
  return Buffer.byteLength(
    'POST /api/v1/write HTTP/1.1\r\n' +
    'Host: aggregator.example.net\r\n' +
    'User-Agent: Prometheus/2.53.0\r\n' +
    `Content-Length: ${bodyLength}\r\n` +
    `Authorization: Bearer ${token}\r\n` +
    'Content-Encoding: snappy\r\n' +
    'Content-Type: application/x-protobuf\r\n' +
    'X-Prometheus-Remote-Write-Version: 0.1.0\r\n' +
    'Accept-Encoding: gzip\r\n\r\n',
  );
}

const RESPONSE_BYTES = Buffer.byteLength('HTTP/1.1 204 No Content\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n\r\n');

function tlsFramed(n: number): number {
  return n + Math.ceil(n / TLS_RECORD_PLAINTEXT) * TLS_RECORD_OVERHEAD;
}

/**
 * The remote-write encoding of a stream of rounds, oldest first. `appendRound` encodes and, when
 * a shard's batch is full, snappy-compresses and counts it (memory: one batch per shard and one
 * entry per label set); `finish` sends every partial batch (batch_send_deadline) and returns the
 * totals. Throws when a round is older than the one before.
 */
export class RemoteWritePeer {
  readonly #shards: number;
  readonly #max: number;
  readonly #token: string;
  readonly #pending: Writer[];
  readonly #pendingCount: number[];
  /** Series keys computed once per labels object and name (the synthetic site reuses both). */
  readonly #keys = new WeakMap<Labels, Map<string, string>>();
  readonly #slots = new Map<string, SeriesSlot>();
  #present: Identity[] = [];
  #round = -1;
  #lastT = -Infinity;
  #refs = 0;
  #checked = false;
  #totals = { requests: 0, samples: 0, staleMarkers: 0, protobufBytes: 0, bodyBytes: 0, upstreamBytes: 0, downstreamBytes: 0 };

  constructor(options: RemoteWritePeerOptions) {
    if (!(Number.isInteger(options.shards) && options.shards >= 1)) throw new RangeError(`remote-write peer expects shards >= 1, found ${options.shards}`);
    this.#shards = options.shards;
    this.#max = options.maxSamplesPerSend ?? REMOTE_WRITE_DEFAULTS.maxSamplesPerSend;
    this.#token = options.token;
    this.#pending = Array.from({ length: this.#shards }, () => new Writer());
    this.#pendingCount = new Array<number>(this.#shards).fill(0);
  }

  /** Encodes one round's samples and the staleness markers of label sets gone since the round before. */
  appendRound(round: Round): void {
    if (!(round.t > this.#lastT)) throw new RangeError(`remote-write peer expects rounds oldest first, found ${round.t} after ${this.#lastT}`);
    this.#lastT = round.t;
    const r = ++this.#round;
    const present: Identity[] = [];
    for (const s of round.samples) {
      const id = this.#identity(s);
      id.lastRound = r;
      present.push(id);
      this.#append(id, s.type === 'string' ? 1 : (s.value as number), round.t, false);
    }
    for (const id of this.#present) if (id.lastRound !== r) this.#append(id, NaN, round.t, true);
    this.#present = present;
  }

  /** Sends what every shard still holds and returns the totals. Call once, after the last round. */
  finish(): RemoteWriteTotals {
    for (let shard = 0; shard < this.#shards; shard++) if (this.#pendingCount[shard]! > 0) this.#send(shard);
    return { shards: this.#shards, seriesRefs: this.#refs, ...this.#totals };
  }

  #identity(s: Sample): Identity {
    let byName = this.#keys.get(s.labels);
    if (byName === undefined) {
      byName = new Map();
      this.#keys.set(s.labels, byName);
    }
    let key = byName.get(s.name);
    if (key === undefined) {
      key = seriesKey(s.name, s.labels);
      byName.set(s.name, key);
    }
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { byValue: new Map() };
      this.#slots.set(key, slot);
    }
    if (s.type === 'float') {
      slot.float ??= this.#newIdentity(s);
      return slot.float;
    }
    const value = String(s.value);
    let id = slot.byValue.get(value);
    if (id === undefined) {
      id = this.#newIdentity(s);
      slot.byValue.set(value, id);
    }
    return id;
  }

  #newIdentity(s: Sample): Identity {
    return { ref: this.#refs++, labelBytes: encodeLabels(promLabels(s)), lastRound: -1 };
  }

  /** Appends one TimeSeries{labels, samples: [Sample{value=1 double, timestamp=2 int64}]} to its shard's batch. */
  #append(id: Identity, value: number, t: number, stale: boolean): void {
    const shard = id.ref % this.#shards;
    const w = this.#pending[shard]!;
    // proto3 leaves a zero value out; a staleness marker is a NaN, never zero.
    const hasValue = stale || Number.isNaN(value) || value !== 0 || Object.is(value, -0);
    const sampleLen = (hasValue ? 9 : 0) + 1 + varintLength(t);
    const inner = id.labelBytes.length + 1 + varintLength(sampleLen) + sampleLen;
    w.ensure(inner + 16);
    w.byte(0x0a);
    w.varint(inner);
    w.bytes(id.labelBytes);
    w.byte(0x12);
    w.varint(sampleLen);
    if (hasValue) {
      w.byte(0x09);
      if (stale) w.buf.writeBigUInt64LE(STALE_NAN_BITS, w.pos);
      else w.buf.writeDoubleLE(value, w.pos);
      w.pos += 8;
    }
    w.byte(0x10);
    w.varint(t);
    this.#totals.samples++;
    if (stale) this.#totals.staleMarkers++;
    if (++this.#pendingCount[shard]! >= this.#max) this.#send(shard);
  }

  #send(shard: number): void {
    const w = this.#pending[shard]!;
    const raw = w.buf.subarray(0, w.pos);
    const body = snappy.compress(raw);
    if (!this.#checked) {
      checkWriteRequest(body, this.#pendingCount[shard]!);
      this.#checked = true;
    }
    const t = this.#totals;
    t.requests++;
    t.protobufBytes += raw.length;
    t.bodyBytes += body.length;
    t.upstreamBytes += tlsFramed(requestHeadBytes(body.length, this.#token) + body.length);
    t.downstreamBytes += tlsFramed(RESPONSE_BYTES);
    w.pos = 0;
    this.#pendingCount[shard] = 0;
  }
}

// prompb's messages (prometheus/prompb/types.proto, remote.proto), for checking the encoder.
const prompb = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
}).lookupType('prometheus.WriteRequest');

/** Decodes the first request with protobufjs from prompb's schema and checks its shape; throws when it is off. */
function checkWriteRequest(body: Uint8Array, expected: number): void {
  const req = prompb.toObject(prompb.decode(snappy.uncompress(body)), { longs: Number }) as {
    timeseries: { labels: { name: string; value: string }[]; samples: { value?: number; timestamp: number }[] }[];
  };
  const bad = (what: string): never => {
    throw new Error(`remote-write peer: the first WriteRequest does not decode as expected: ${what}`);
  };
  if (req.timeseries.length !== expected) bad(`expected ${expected} time series, found ${req.timeseries.length}`);
  for (const ts of req.timeseries) {
    if (ts.samples.length !== 1) bad(`expected one sample per time series, found ${ts.samples.length}`);
    if (!(ts.samples[0]!.timestamp > 1e12)) bad(`expected a timestamp in ms, found ${ts.samples[0]!.timestamp}`);
    const names = ts.labels.map((l) => l.name);
    if (!names.includes('__name__')) bad('expected a __name__ label');
    for (let i = 1; i < names.length; i++) if (!(names[i - 1]! < names[i]!)) bad(`expected sorted label names, found ${names.join(',')}`);
  }
}

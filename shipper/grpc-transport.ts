// The ingest transport over gRPC (driftwatch.ingest.v1): TLS or insecure channel, the site's
// bearer token on every call, chunked uploads under a bandwidth cap. Heartbeats go over a
// connection of their own, so a long upload never queues them behind its chunks.
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, type ChannelCredentials, type ChannelOptions, type MethodDefinition } from '@grpc/grpc-js';
import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import { systemTimers, type Timers } from '../common/timers.js';
import { parseUlid, ulidToString } from '../common/ulid.js';
import { AUTHORIZATION_METADATA, ingestService, type HeartbeatRequestInit, type HelloRequestInit } from '../proto/index.js';
import { TokenBucket } from './bandwidth.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { abortedError, errorFromStatus, type CallContext } from './grpc-status.js';
import { uploadOnce, type UploadCallConfig } from './grpc-upload.js';
import {
  failed, success, type CallOptions, type HeartbeatInfo, type HeartbeatResult, type HelloInfo, type HelloResult,
  type IngestTransport, type TransportResult,
} from './transport.js';

/** Default chunk size: 64 KiB. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** The largest chunk size accepted in options: 4 MiB (gRPC's default message limit). */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024 - 1024;
/** Under a bandwidth cap, chunks are cut to what the cap sends in this many seconds (at least MIN_PACED_CHUNK bytes). */
const CHUNK_SECONDS = 5;
const MIN_PACED_CHUNK = 1024;
export const DEFAULT_CALL_TIMEOUTS: Required<CallTimeouts> = { helloMs: 30_000, heartbeatMs: 10_000, uploadIdleMs: 60_000 };

/**
 * TLS towards the aggregator: its CA (file or PEM; default: the system's roots) and name, and,
 * for an aggregator that asks for mutual TLS (`grpc.tls.clientCa`), this agent's certificate
 * chain and key (PEM; both or neither).
 */
export interface GrpcTls {
  readonly caFile?: string;
  readonly ca?: string | Uint8Array;
  /** The name the aggregator's certificate must carry, when it differs from the address's host. */
  readonly serverName?: string;
  /** The client certificate chain, PEM. */
  readonly cert?: string | Uint8Array;
  /** The client certificate's private key, PEM. */
  readonly key?: string | Uint8Array;
}

/** Real-time limits per call (ms). */
export interface CallTimeouts {
  readonly helloMs?: number;
  readonly heartbeatMs?: number;
  /** An upload with no response and no chunk flushed for this long is given up (retryable). */
  readonly uploadIdleMs?: number;
}

export interface GrpcTransportOptions {
  /** The aggregator's gRPC address: `host:port`. */
  readonly address: string;
  /** `'insecure'` sends the token in clear text: for tests and trusted links only. */
  readonly tls: GrpcTls | 'insecure';
  /** The site's credential, sent as `authorization: Bearer <token>`. */
  readonly token: string;
  /**
   * Block bytes per chunk; lowered to the server's max_chunk_bytes once Hello said it, and under a
   * bandwidth cap to 5 seconds' worth (at least 1 KiB). Default 64 KiB.
   */
  readonly chunkBytes?: number;
  /** Bandwidth cap on the block bytes uploads send. Default: none. */
  readonly bandwidthBytesPerSecond?: number;
  /** The cap's burst. Default: one second's worth. */
  readonly burstBytes?: number;
  readonly callTimeouts?: CallTimeouts;
  /** Stamps agent_time and measures round trips. Default: the system clock. */
  readonly clock?: Clock;
  /** The bandwidth cap waits on these. Default: systemTimers(clock). */
  readonly timers?: Timers;
  /** Extra gRPC channel options (merged over the defaults). */
  readonly channelOptions?: ChannelOptions;
  /**
   * gRPC clients shared by many transports, used instead of making two of its own (then `tls`
   * and `channelOptions` are the clients' business, and `close()` leaves them open): the fleet
   * simulator's thousands of sites share one connection. See `createIngestClients`.
   */
  readonly clients?: IngestClients;
}

/** The two gRPC clients of a transport: uploads and Hello on one connection, heartbeats on another. */
export interface IngestClients {
  readonly upload: Client;
  readonly heartbeat: Client;
}

/** Two clients for `address` with the transport's channel defaults, for `GrpcTransportOptions.clients`. */
export function createIngestClients(address: string, tls: GrpcTls | 'insecure', channelOptions: ChannelOptions = {}): IngestClients {
  const { creds, options } = channelCredentials(tls);
  const merged = { ...DEFAULT_CHANNEL_OPTIONS, ...options, ...channelOptions };
  return { upload: new Client(address, creds, merged), heartbeat: new Client(address, creds, merged) };
}

const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  // Find a dead (blackholed) link during a call without waiting for TCP's own timeouts.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // After an outage, try the link again within 10 s (grpc's default backs off to 120 s); the
  // shipper's own backoff decides how often calls are made.
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 10_000,
  // Each client its own connection: uploads and heartbeats do not share one TCP stream.
  'grpc.use_local_subchannel_pool': 1,
};

function invalid(message: string): ShipperError {
  return new ShipperError(ShipperErrorCode.InvalidOptions, message);
}

function positiveInt(v: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!(Number.isSafeInteger(v) && v > 0 && v <= max)) throw invalid(`expected ${name} to be an integer in 1..${max}, found ${v}`);
  return v;
}

function channelCredentials(tls: GrpcTls | 'insecure'): { creds: ChannelCredentials; options: ChannelOptions } {
  if (tls === 'insecure') return { creds: credentials.createInsecure(), options: {} };
  let ca: Buffer | null = null;
  if (tls.ca !== undefined) ca = Buffer.from(tls.ca);
  else if (tls.caFile !== undefined) {
    try {
      ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new ShipperError(ShipperErrorCode.CredentialUnreadable,
        `expected a readable PEM CA file at ${tls.caFile}, found ${errorMessage(err)}`, { cause: err });
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw invalid(`expected a client certificate and its key together (mutual TLS), found only the ${tls.cert === undefined ? 'key' : 'certificate'}`);
  }
  const options: ChannelOptions = tls.serverName === undefined
    ? {}
    : { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName };
  const key = tls.key === undefined ? null : Buffer.from(tls.key);
  const cert = tls.cert === undefined ? null : Buffer.from(tls.cert);
  try {
    return { creds: credentials.createSsl(ca, key, cert), options };
  } catch (err) {
    throw new ShipperError(ShipperErrorCode.CredentialUnreadable, `expected PEM client certificate and key, found ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * A transport to the aggregator at `address`. Throws DW_SHIP_INVALID_OPTIONS for bad options and
 * DW_SHIP_CREDENTIAL_UNREADABLE for an unreadable CA file; calls never throw. The connection is
 * made lazily by the first call and re-made after outages; `close()` ends it.
 */
export function createGrpcTransport(o: GrpcTransportOptions): IngestTransport {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):\d{1,5}$/.test(o.address)) {
    throw invalid(`expected the aggregator address as host:port, found ${JSON.stringify(o.address)}`);
  }
  if (!/^[\x21-\x7e]+$/.test(o.token)) {
    throw invalid(`expected a token of printable ASCII without spaces, found ${o.token === '' ? 'an empty token' : 'other characters'}`);
  }
  const chunkBytes = positiveInt(o.chunkBytes, DEFAULT_CHUNK_BYTES, 'chunkBytes', MAX_CHUNK_BYTES);
  const timeouts = {
    helloMs: positiveInt(o.callTimeouts?.helloMs, DEFAULT_CALL_TIMEOUTS.helloMs, 'callTimeouts.helloMs'),
    heartbeatMs: positiveInt(o.callTimeouts?.heartbeatMs, DEFAULT_CALL_TIMEOUTS.heartbeatMs, 'callTimeouts.heartbeatMs'),
    uploadIdleMs: positiveInt(o.callTimeouts?.uploadIdleMs, DEFAULT_CALL_TIMEOUTS.uploadIdleMs, 'callTimeouts.uploadIdleMs'),
  };
  if (o.bandwidthBytesPerSecond !== undefined && !(Number.isFinite(o.bandwidthBytesPerSecond) && o.bandwidthBytesPerSecond > 0)) {
    throw invalid(`expected bandwidthBytesPerSecond to be a positive number, found ${o.bandwidthBytesPerSecond}`);
  }
  const clock = o.clock ?? systemClock;
  const bucket = o.bandwidthBytesPerSecond === undefined ? undefined : new TokenBucket({
    bytesPerSecond: o.bandwidthBytesPerSecond, clock, timers: o.timers ?? systemTimers(clock),
    ...(o.burstBytes === undefined ? {} : { burstBytes: o.burstBytes }),
  });
  const shared = o.clients;
  const { upload: client, heartbeat: heartbeatClient } = shared ?? createIngestClients(o.address, o.tls, o.channelOptions);
  const metadata = (): Metadata => {
    const md = new Metadata();
    md.set(AUTHORIZATION_METADATA, `Bearer ${o.token}`);
    return md;
  };
  let serverMaxChunk = 0;
  let closed = false;

  /** One unary call; `agentTime` is stamped now, on the transport's clock. */
  function unary<Req extends { agentTime?: number | null }, Res>(
    c: Client, m: MethodDefinition<Req, Res>, req: Req, timeoutMs: number, opts: CallOptions,
  ): Promise<TransportResult<{ res: Res; agentTime: number; rttMs: number }>> {
    const ctx: CallContext = { method: m.originalName === 'hello' ? 'Hello' : 'Heartbeat', target: o.address };
    if (opts.signal?.aborted) return Promise.resolve(failed(abortedError(ctx, opts.signal.reason)));
    if (closed) return Promise.resolve(failed(new ShipperError(ShipperErrorCode.Aborted, `expected an open transport, found it closed`)));
    return new Promise((resolve) => {
      const agentTime = clock.now();
      const call = c.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { ...req, agentTime }, metadata(),
        { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err === null && res !== undefined) resolve(success({ res, agentTime, rttMs: Math.max(0, clock.now() - agentTime) }));
          else if (opts.signal?.aborted === true) resolve(failed(abortedError(ctx, opts.signal.reason)));
          else resolve(failed(errorFromStatus(err ?? { code: 2, details: 'no response' }, ctx)));
        });
      const onAbort = (): void => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // Under a bandwidth cap a chunk takes at most ~CHUNK_SECONDS to send, so that neither side's
  // idle timeout mistakes a slow link for a dead one.
  const paced = bucket === undefined ? chunkBytes : Math.min(chunkBytes, Math.max(MIN_PACED_CHUNK, Math.floor(bucket.bytesPerSecond * CHUNK_SECONDS)));
  const uploadConfig = (): UploadCallConfig => ({
    client, target: o.address, metadata, bucket, idleTimeoutMs: timeouts.uploadIdleMs,
    chunkBytes: serverMaxChunk > 0 ? Math.min(paced, serverMaxChunk) : paced,
  });

  return {
    async hello(info: HelloInfo, opts: CallOptions = {}) {
      const ids: Uint8Array[] = [];
      for (const text of info.pendingBlockIds) {
        const id = parseUlid(text);
        if (id === undefined) return failed(invalid(`expected pending block ids in ULID text form, found ${JSON.stringify(text)}`));
        ids.push(id);
      }
      const req: HelloRequestInit = { siteId: info.siteId, pendingBlockIds: ids, agentVersion: info.agentVersion, siteLabels: { ...info.siteLabels } };
      const r = await unary(client, ingestService.hello, req, timeouts.helloMs, opts);
      if (r.status !== 'success') return r;
      const { res, agentTime, rttMs } = r.value;
      const text = (b: Uint8Array | null | undefined): string | undefined => (b != null && b.length === 16 ? ulidToString(b) : undefined);
      const partialUploads = new Map<string, number>();
      for (const p of res.partialUploads ?? []) {
        const id = text(p.blockId);
        if (id !== undefined) partialUploads.set(id, Number(p.offset ?? 0));
      }
      serverMaxChunk = Number(res.maxChunkBytes ?? 0);
      const value: HelloResult = {
        heldBlockIds: (res.heldBlockIds ?? []).map(text).filter((id): id is string => id !== undefined),
        partialUploads, serverTime: Number(res.serverTime ?? 0), agentTime, rttMs,
        maxChunkBytes: serverMaxChunk, maxBlockBytes: Number(res.maxBlockBytes ?? 0),
      };
      return success(value);
    },

    upload(block, fromOffset, opts = {}) {
      if (closed) return Promise.resolve(failed(new ShipperError(ShipperErrorCode.Aborted, `expected an open transport, found it closed`)));
      return uploadOnce(uploadConfig(), block, fromOffset, opts);
    },

    async heartbeat(info: HeartbeatInfo, opts: CallOptions = {}) {
      const req: HeartbeatRequestInit = { ...info };
      const r = await unary(heartbeatClient, ingestService.heartbeat, req, timeouts.heartbeatMs, opts);
      if (r.status !== 'success') return r;
      const value: HeartbeatResult = { serverTime: Number(r.value.res.serverTime ?? 0), agentTime: r.value.agentTime, rttMs: r.value.rttMs };
      return success(value);
    },

    close() {
      if (closed) return;
      closed = true;
      if (shared !== undefined) return; // the owner closes shared clients
      client.close();
      heartbeatClient.close();
    },
  };
}

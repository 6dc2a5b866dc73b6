// A small driftwatch.ingest.v1 server for the shipper's tests, on a real @grpc/grpc-js server on
// loopback. It keeps to the protocol's guarantees (resumable partials, idempotent Stored,
// ALREADY_EXISTS on other bytes, FAILED_PRECONDITION with dw-resume-offset, DATA_LOSS on a bad
// checksum, INVALID_ARGUMENT for a block that does not decode) in memory, and has controllable
// faults: fail the next N calls with a status and a push-back trailer, cut an upload after K
// bytes (keeping the partial), hold uploads unanswered, corrupt a chunk. Its state outlives a
// restart (`kill` then `start` on the same port), like the center's durable store.
// Not the aggregator: that is tested on its own; this is the shipper's counterpart.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ulidToString } from '../../common/ulid.js';
import {
  decodeBlock, ingestService, RESUME_OFFSET_TRAILER, RETRY_PUSHBACK_TRAILER, type HeartbeatRequestInit, type HeartbeatResponseInit,
  type HelloRequestInit, type HelloResponseInit, type UploadRequestInit, type UploadResponseInit,
} from '../../proto/index.js';

/** A status to fail a call with. */
export interface Fault {
  readonly code: number;
  readonly details?: string;
  readonly pushbackMs?: number;
  readonly resumeOffset?: number;
}

export interface StoredBlock {
  readonly bytes: Buffer;
  readonly sha: string;
  readonly arrivedAt: number;
  readonly siteId: string;
}

/** The center's durable state: kept across kill/start. */
export interface IngestState {
  readonly blocks: Map<string, StoredBlock>;
  readonly partials: Map<string, { data: Buffer; size: number; sha: string }>;
}

export interface TestIngestOptions {
  /** token → site id. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly maxChunkBytes?: number;
  readonly maxBlockBytes?: number;
  /** The server's clock. Default Date.now. */
  readonly now?: () => number;
  /** TLS: the server's key and certificate (PEM). Default insecure. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
}

type Duplex = ServerDuplexStream<UploadRequestInit, UploadResponseInit>;

function fail(f: Fault): { code: number; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  if (f.pushbackMs !== undefined) metadata.set(RETRY_PUSHBACK_TRAILER, String(f.pushbackMs));
  if (f.resumeOffset !== undefined) metadata.set(RESUME_OFFSET_TRAILER, String(f.resumeOffset));
  return { code: f.code, details: f.details ?? `DW_INGEST_TEST: expected no fault, found status ${f.code} injected by the test`, metadata };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export class TestIngestServer {
  readonly state: IngestState = { blocks: new Map(), partials: new Map() };
  readonly events = new EventEmitter();
  readonly faults: { hello: Fault[]; upload: Fault[]; heartbeat: Fault[] } = { hello: [], upload: [], heartbeat: [] };
  /** Per upload call, in order: store this many bytes of it, then end the call UNAVAILABLE (partial kept). */
  readonly cutAfterBytes: number[] = [];
  /** Uploads get their Begin read and are never answered (a stalled link). */
  holdUploads = false;
  /** Heartbeats get no answer (until cancelled by the client); `heldHeartbeats` counts them. */
  holdHeartbeats = false;
  heldHeartbeats = 0;
  /** Blocks (by id) whose Begin is answered with this fault, every time. */
  readonly refuse = new Map<string, Fault>();
  /** Flip a bit in the next chunk received (the SHA-256 check then fails). */
  corruptNextChunk = false;
  readonly log = {
    hellos: [] as HelloRequestInit[],
    begins: [] as { id: string; offset: number }[],
    /** Ids answered Stored (duplicates included), in order. */
    acked: [] as { id: string; duplicate: boolean }[],
    heartbeats: [] as HeartbeatRequestInit[],
    chunkSizes: [] as number[],
    calls: { hello: 0, upload: 0, heartbeat: 0 },
  };
  readonly maxChunkBytes: number;
  readonly maxBlockBytes: number;
  readonly #o: TestIngestOptions;
  #server: Server | undefined;
  port = 0;

  constructor(o: TestIngestOptions) {
    this.#o = o;
    this.maxChunkBytes = o.maxChunkBytes ?? 16 * 1024;
    this.maxBlockBytes = o.maxBlockBytes ?? 8 * 1024 * 1024;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Starts listening (on `port`, or the previous port after a kill, or a free one). */
  async start(port = this.port): Promise<void> {
    const server = new Server();
    server.addService(ingestService, this.#handlers());
    const creds = this.#o.tls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(null, [{ private_key: this.#o.tls.key, cert_chain: this.#o.tls.cert }], false);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err === null ? resolve(p) : reject(err)));
    });
    this.#server = server;
  }

  /** Drops every connection at once (a crash, a cut link); the state is kept. */
  kill(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  async stop(): Promise<void> {
    this.kill();
  }

  /** Resolves at the first `event` for which `predicate` holds (checked on every emit). */
  waitFor<T>(event: string, predicate: (value: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve) => {
      const on = (v: T): void => {
        if (!predicate(v)) return;
        this.events.off(event, on);
        resolve(v);
      };
      this.events.on(event, on);
    });
  }

  #site(md: Metadata): string | undefined {
    const auth = md.get('authorization')[0];
    const m = typeof auth === 'string' ? /^Bearer (\S+)$/.exec(auth) : null;
    return m === null ? undefined : this.#o.tokens[m[1]!];
  }

  #handlers(): UntypedServiceImplementation {
    return {
      hello: (call: ServerUnaryCall<HelloRequestInit, HelloResponseInit>, cb: sendUnaryData<HelloResponseInit>) => {
        this.log.calls.hello++;
        const fault = this.faults.hello.shift();
        if (fault !== undefined) return cb(fail(fault));
        const site = this.#site(call.metadata);
        if (site === undefined) return cb({ code: status.UNAUTHENTICATED, details: 'DW_INGEST_UNAUTHENTICATED: expected a known site credential, found none' });
        if (site !== call.request.siteId) return cb({ code: status.PERMISSION_DENIED, details: `DW_INGEST_SITE_MISMATCH: expected site ${site}, found ${call.request.siteId}` });
        this.log.hellos.push(call.request);
        this.events.emit('hello', call.request);
        const held: Uint8Array[] = [];
        const partial: { blockId: Uint8Array; offset: number }[] = [];
        for (const id of call.request.pendingBlockIds ?? []) {
          const text = ulidToString(id);
          if (this.state.blocks.has(text)) held.push(id);
          const p = this.state.partials.get(text);
          if (p !== undefined && p.data.length > 0) partial.push({ blockId: id, offset: p.data.length });
        }
        cb(null, { heldBlockIds: held, partialUploads: partial, serverTime: this.#now(), maxChunkBytes: this.maxChunkBytes, maxBlockBytes: this.maxBlockBytes });
      },

      heartbeat: (call: ServerUnaryCall<HeartbeatRequestInit, HeartbeatResponseInit>, cb: sendUnaryData<HeartbeatResponseInit>) => {
        this.log.calls.heartbeat++;
        const fault = this.faults.heartbeat.shift();
        if (fault !== undefined) return cb(fail(fault));
        if (this.#site(call.metadata) === undefined) return cb({ code: status.UNAUTHENTICATED, details: 'DW_INGEST_UNAUTHENTICATED: expected a known site credential, found none' });
        this.log.heartbeats.push(call.request);
        if (this.holdHeartbeats) {
          this.heldHeartbeats++;
          call.on('cancelled', () => {
            this.heldHeartbeats--;
            this.events.emit('heartbeat-cancelled', call.request);
          });
          this.events.emit('heartbeat', call.request);
          return;
        }
        this.events.emit('heartbeat', call.request);
        cb(null, { serverTime: this.#now() });
      },

      upload: (call: Duplex) => this.#upload(call),
    };
  }

  #upload(call: Duplex): void {
    this.log.calls.upload++;
    let done = false;
    const end = (f: Fault): void => {
      if (done) return;
      done = true;
      call.emit('error', fail(f));
    };
    call.on('error', () => {}); // a client that went away
    call.on('cancelled', () => {
      done = true;
    });
    const fault = this.faults.upload.shift();
    if (fault !== undefined) {
      end(fault);
      return;
    }
    const site = this.#site(call.metadata);
    if (site === undefined) {
      end({ code: status.UNAUTHENTICATED, details: 'DW_INGEST_UNAUTHENTICATED: expected a known site credential, found none' });
      return;
    }
    const cut = this.cutAfterBytes.shift();
    let begin: { id: string; size: number; sha: string } | undefined;
    let callBytes = 0;

    const finish = (): void => {
      const p = this.state.partials.get(begin!.id)!;
      this.state.partials.delete(begin!.id);
      if (sha256(p.data) !== begin!.sha) {
        end({ code: status.DATA_LOSS, details: `DW_INGEST_CHECKSUM_MISMATCH: expected SHA-256 ${begin!.sha}, found ${sha256(p.data)}` });
        return;
      }
      try {
        const header = decodeBlock(p.data).header;
        if (header.siteId !== site) {
          end({ code: status.PERMISSION_DENIED, details: `DW_INGEST_SITE_MISMATCH: expected a block of site ${site}, found ${header.siteId}` });
          return;
        }
      } catch (err) {
        end({ code: status.INVALID_ARGUMENT, details: `DW_INGEST_INVALID_BLOCK: expected a block that decodes, found ${(err as Error).message}` });
        return;
      }
      this.state.blocks.set(begin!.id, { bytes: p.data, sha: begin!.sha, arrivedAt: this.#now(), siteId: site });
      this.#stored(call, begin!.id, false);
      done = true;
    };

    call.on('data', (req: UploadRequestInit) => {
      if (done) return;
      if (req.begin != null) {
        const b = req.begin;
        const id = ulidToString(b.blockId ?? new Uint8Array(16));
        const size = Number(b.size ?? 0);
        const offset = Number(b.offset ?? 0);
        const sha = Buffer.from(b.sha256 ?? []).toString('hex');
        this.log.begins.push({ id, offset });
        this.events.emit('begin', { id, offset });
        const refused = this.refuse.get(id);
        if (refused !== undefined) return end(refused);
        if (b.siteId !== site) return end({ code: status.PERMISSION_DENIED, details: `DW_INGEST_SITE_MISMATCH: expected site ${site}, found ${b.siteId}` });
        if (size > this.maxBlockBytes) return end({ code: status.INVALID_ARGUMENT, details: `DW_INGEST_TOO_LARGE: expected at most ${this.maxBlockBytes} bytes, found ${size}` });
        const have = this.state.blocks.get(id);
        if (have !== undefined) {
          if (have.sha !== sha) return end({ code: status.ALREADY_EXISTS, details: `DW_INGEST_CONFLICT: expected the bytes of stored block ${id}, found others` });
          done = true;
          this.#stored(call, id, true);
          return;
        }
        const p = this.state.partials.get(id);
        if (offset === 0) this.state.partials.set(id, { data: Buffer.alloc(0), size, sha });
        else if (p === undefined || p.data.length !== offset || p.sha !== sha) {
          return end({ code: status.FAILED_PRECONDITION, details: `DW_INGEST_BAD_OFFSET: expected offset 0 or ${p?.data.length ?? 0}, found ${offset}`, resumeOffset: p?.data.length ?? 0 });
        }
        begin = { id, size, sha };
        if (size === offset && !this.holdUploads) finish();
        return;
      }
      if (req.chunk == null || begin === undefined) return end({ code: status.INVALID_ARGUMENT, details: 'DW_INGEST_PROTOCOL: expected Begin first, found a chunk' });
      if (this.holdUploads) return;
      const p = this.state.partials.get(begin.id)!;
      let data = Buffer.from(req.chunk.data ?? []);
      this.log.chunkSizes.push(data.length);
      if (Number(req.chunk.offset ?? 0) !== p.data.length) {
        return end({ code: status.INVALID_ARGUMENT, details: `DW_INGEST_PROTOCOL: expected a chunk at ${p.data.length}, found ${Number(req.chunk.offset ?? 0)}` });
      }
      if (data.length > this.maxChunkBytes || p.data.length + data.length > p.size) {
        return end({ code: status.INVALID_ARGUMENT, details: `DW_INGEST_PROTOCOL: expected a chunk of at most ${this.maxChunkBytes} bytes within the block, found ${data.length}` });
      }
      if (this.corruptNextChunk && data.length > 0) {
        this.corruptNextChunk = false;
        data = Buffer.from(data);
        data[0] = data[0]! ^ 1;
      }
      if (cut !== undefined && callBytes + data.length > cut) {
        const keep = cut - callBytes;
        this.state.partials.set(begin.id, { ...p, data: Buffer.concat([p.data, data.subarray(0, keep)]) });
        this.events.emit('cut', { id: begin.id, offset: p.data.length + keep });
        return end({ code: status.UNAVAILABLE, details: 'connection cut by the test' });
      }
      callBytes += data.length;
      const next = { ...p, data: Buffer.concat([p.data, data]) };
      this.state.partials.set(begin.id, next);
      call.write({ progress: { offset: next.data.length } });
      if (next.data.length === next.size) finish();
    });
    call.on('end', () => {
      if (!done && !this.holdUploads) end({ code: status.INVALID_ARGUMENT, details: 'DW_INGEST_TRUNCATED: expected the whole block, found the stream ended early' });
    });
  }

  #stored(call: Duplex, id: string, duplicate: boolean): void {
    this.log.acked.push({ id, duplicate });
    call.write({ stored: { duplicate, arrivedAt: this.state.blocks.get(id)!.arrivedAt } });
    call.end();
    this.events.emit('stored', { id, duplicate });
  }
}

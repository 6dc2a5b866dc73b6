// A small raw gRPC client of the ingest service for the aggregator's tests: it can send any
// message (or raw bytes that are no protobuf at all), with any token, and it reports every
// response and the final status with its trailers. Not the shipper: no retries, no policy.
import { createHash } from 'node:crypto';
import { Client, credentials as grpcCredentials, Metadata, status as Status, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  AUTHORIZATION_METADATA, ingestService, type HeartbeatRequestInit, type HeartbeatResponseInit, type HelloRequestInit, type HelloResponseInit,
  type UploadRequestInit, type UploadResponseInit,
} from '../../proto/index.js';

export interface IngestClientOptions {
  /** The CA to trust, or 'insecure' for plaintext. */
  readonly ca: Buffer | 'insecure';
  /** The token sent when a call does not give its own; undefined: none. */
  readonly token?: string;
}

/** A unary call's outcome. */
export interface UnaryResult<T> {
  readonly response: T | undefined;
  readonly status: StatusObject;
}

/** An open Upload call. */
export interface UploadStream {
  /** Sends a message, or raw bytes as the message body (a custom serializer passes them through). */
  send(message: UploadRequestInit | Buffer): void;
  /** Half-closes: no more messages. */
  end(): void;
  /** Cancels the call (as a cut connection would end it). */
  cancel(): void;
  readonly responses: UploadResponseInit[];
  /** Resolves with the next response (already received or still to come), or undefined when the call ended first. */
  nextResponse(): Promise<UploadResponseInit | undefined>;
  /** Resolves with the response that satisfies `match`, or undefined when the call ended first. */
  waitFor(match: (r: UploadResponseInit) => boolean): Promise<UploadResponseInit | undefined>;
  /** The final status, with its trailers in `metadata`. */
  readonly status: Promise<StatusObject>;
}

/** The outcome of a whole upload. */
export interface UploadResult {
  readonly responses: UploadResponseInit[];
  readonly status: StatusObject;
  /** The last Progress offset seen, or undefined. */
  readonly lastProgress: number | undefined;
  /** The Stored message, when one came. */
  readonly stored: { duplicate: boolean; arrivedAt: number } | undefined;
}

const uploadSerialize = ingestService.upload.requestSerialize;

function metadataFor(token: string | undefined): Metadata {
  const m = new Metadata();
  if (token !== undefined) m.set(AUTHORIZATION_METADATA, `Bearer ${token}`);
  return m;
}

/** SHA-256 of a block, as Begin carries it. */
export function sha256Of(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** A test client bound to one aggregator address. */
export class IngestClient {
  readonly #client: Client;
  readonly #token: string | undefined;

  constructor(address: string, options: IngestClientOptions) {
    const creds = options.ca === 'insecure' ? grpcCredentials.createInsecure() : grpcCredentials.createSsl(options.ca);
    // Large enough for any test message (the server's limits are what the tests exercise); the
    // test certificate names localhost and 127.0.0.1, and SNI takes the name (an IP is deprecated there).
    this.#client = new Client(address, creds, {
      'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20,
      ...(options.ca === 'insecure' ? {} : { 'grpc.ssl_target_name_override': 'localhost' }),
    });
    this.#token = options.token;
  }

  #unary<Req, Res>(method: typeof ingestService.hello | typeof ingestService.heartbeat, request: Req | Buffer, token: string | undefined | null): Promise<UnaryResult<Res>> {
    return new Promise((resolve) => {
      let response: Res | undefined;
      const call = this.#client.makeUnaryRequest<Req | Buffer, Res>(
        method.path,
        (v) => (Buffer.isBuffer(v) ? v : (method.requestSerialize as (m: Req) => Buffer)(v)),
        (b) => method.responseDeserialize(b) as Res,
        request,
        metadataFor(token === null ? undefined : token ?? this.#token),
        { deadline: Date.now() + 30_000 },
        (err, value) => {
          if (err === null) response = value;
        },
      );
      call.on('status', (status: StatusObject) => resolve({ response, status }));
    });
  }

  /** Calls Hello; `token` null sends none, undefined the client's default. */
  hello(request: HelloRequestInit | Buffer, token?: string | null): Promise<UnaryResult<HelloResponseInit>> {
    return this.#unary(ingestService.hello, request, token);
  }

  heartbeat(request: HeartbeatRequestInit | Buffer, token?: string | null): Promise<UnaryResult<HeartbeatResponseInit>> {
    return this.#unary(ingestService.heartbeat, request, token);
  }

  /** Opens an Upload call; `token` null sends none. */
  openUpload(token?: string | null): UploadStream {
    const call: ClientDuplexStream<UploadRequestInit | Buffer, UploadResponseInit> = this.#client.makeBidiStreamRequest(
      ingestService.upload.path,
      (v: UploadRequestInit | Buffer) => (Buffer.isBuffer(v) ? v : uploadSerialize(v)),
      (b: Buffer) => ingestService.upload.responseDeserialize(b),
      metadataFor(token === null ? undefined : token ?? this.#token),
      { deadline: Date.now() + 60_000 },
    );
    const responses: UploadResponseInit[] = [];
    const waiters: { match: (r: UploadResponseInit) => boolean; resolve: (r: UploadResponseInit | undefined) => void }[] = [];
    let ended = false;
    call.on('data', (r: UploadResponseInit) => {
      responses.push(r);
      for (const w of waiters.filter((x) => x.match(r))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    });
    call.on('error', () => undefined); // the status event carries it
    const status = new Promise<StatusObject>((resolve) => call.on('status', (s: StatusObject) => {
      ended = true;
      for (const w of waiters.splice(0)) w.resolve(undefined);
      resolve(s);
    }));
    let seen = 0;
    const waitFor = (match: (r: UploadResponseInit) => boolean, from = 0): Promise<UploadResponseInit | undefined> => {
      const found = responses.slice(from).find(match);
      if (found !== undefined) return Promise.resolve(found);
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    };
    return {
      send: (m) => {
        call.write(m);
      },
      end: () => call.end(),
      cancel: () => call.cancel(),
      responses,
      nextResponse: async () => {
        const index = seen;
        const r = await waitFor(() => true, index);
        if (r !== undefined) seen = responses.indexOf(r, index) + 1;
        return r;
      },
      waitFor: (match) => waitFor(match),
      status,
    };
  }

  /**
   * Uploads `bytes` as block `blockId` of `siteId`: Begin at `offset`, then chunks of
   * `chunkBytes` to the end, then half-closes; resolves with everything the server said.
   */
  async upload(args: {
    readonly siteId: string; readonly blockId: Uint8Array; readonly bytes: Uint8Array; readonly chunkBytes?: number; readonly offset?: number;
    readonly token?: string | null; readonly sha256?: Uint8Array; readonly size?: number; readonly stopAt?: number;
  }): Promise<UploadResult> {
    const stream = this.openUpload(args.token);
    const offset = args.offset ?? 0;
    stream.send({ begin: { siteId: args.siteId, blockId: args.blockId, size: args.size ?? args.bytes.length, sha256: args.sha256 ?? sha256Of(args.bytes), offset } });
    const step = args.chunkBytes ?? (1 << 20);
    const end = args.stopAt ?? args.bytes.length;
    for (let at = offset; at < end; at += step) stream.send({ chunk: { offset: at, data: args.bytes.subarray(at, Math.min(end, at + step)) } });
    stream.end();
    const status = await stream.status;
    const progress = stream.responses.filter((r) => r.progress != null).map((r) => Number(r.progress!.offset ?? 0));
    const s = stream.responses.find((r) => r.stored != null)?.stored;
    return {
      responses: stream.responses, status, lastProgress: progress.at(-1),
      stored: s == null ? undefined : { duplicate: s.duplicate === true, arrivedAt: Number(s.arrivedAt ?? 0) },
    };
  }

  close(): void {
    this.#client.close();
  }
}

/** A status's code name and details, for assertion messages. */
export function describeStatus(s: StatusObject): string {
  return `${Status[s.code]} ${JSON.stringify(s.details)}`;
}

/** A trailer's value, or undefined. */
export function trailer(s: StatusObject, name: string): string | undefined {
  const v = s.metadata?.get(name)[0];
  return v === undefined ? undefined : String(v);
}

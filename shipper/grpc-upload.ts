// One Upload call: Begin, then chunks in offset order through the bandwidth cap and the stream's
// backpressure, until the server answers Stored and ends the call. Every way it can end maps to
// a TransportResult; nothing throws.
import type { Client, ClientDuplexStream, Metadata } from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { parseUlid } from '../common/ulid.js';
import { ingestService, type UploadRequestInit, type UploadResponseInit } from '../proto/index.js';
import type { TokenBucket } from './bandwidth.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { abortedError, errorFromStatus, type CallContext } from './grpc-status.js';
import { failed, success, type TransportResult, type UploadBlock, type UploadOptions, type UploadResult } from './transport.js';

export interface UploadCallConfig {
  readonly client: Client;
  readonly target: string;
  readonly metadata: () => Metadata;
  readonly chunkBytes: number;
  readonly bucket: TokenBucket | undefined;
  /** Real milliseconds without a response or a flushed chunk before the call is given up (retryable). */
  readonly idleTimeoutMs: number;
}

type Call = ClientDuplexStream<UploadRequestInit, UploadResponseInit>;

/** Runs one Upload attempt of `block` from `fromOffset`. */
export function uploadOnce(cfg: UploadCallConfig, block: UploadBlock, fromOffset: number, opts: UploadOptions): Promise<TransportResult<UploadResult>> {
  const ctx: { -readonly [K in keyof CallContext]: CallContext[K] } = {
    method: 'Upload', target: cfg.target, blockId: block.id, fromOffset,
  };
  const size = block.bytes.length;
  const id = parseUlid(block.id);
  if (id === undefined || !(Number.isSafeInteger(fromOffset) && fromOffset >= 0 && fromOffset <= size)) {
    const found = id === undefined ? `block id ${JSON.stringify(block.id)}` : `offset ${fromOffset} for a block of ${size} bytes`;
    return Promise.resolve(failed(new ShipperError(ShipperErrorCode.InvalidOptions,
      `expected a ULID block id and an offset within the block, found ${found}`)));
  }
  if (opts.signal?.aborted) return Promise.resolve(failed(abortedError(ctx, opts.signal.reason)));

  return new Promise((resolve) => {
    const m = ingestService.upload;
    const call: Call = cfg.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, cfg.metadata(), {});
    const writer = new AbortController();
    let stored: UploadResult | undefined;
    let protocolError: ShipperError | undefined;
    let timedOut = false;
    let ended = false;
    let idle: ReturnType<typeof setTimeout> | undefined;

    const touch = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => {
        timedOut = true;
        call.cancel();
      }, cfg.idleTimeoutMs);
    };
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    touch();

    const settle = (r: TransportResult<UploadResult>): void => {
      ended = true;
      writer.abort();
      if (idle !== undefined) clearTimeout(idle);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };

    call.on('data', (msg: UploadResponseInit) => {
      touch();
      if (msg.progress != null) {
        const offset = Number(msg.progress.offset ?? 0);
        if (!(offset >= (ctx.lastProgress ?? fromOffset) && offset <= size)) {
          protocolError ??= new ShipperError(ShipperErrorCode.Protocol,
            `expected Progress offsets from ${ctx.lastProgress ?? fromOffset} up to ${size} for block ${block.id}, found ${offset}`);
          call.cancel();
          return;
        }
        ctx.lastProgress = offset;
        opts.onProgress?.(offset);
      } else if (msg.stored != null) {
        stored = { duplicate: msg.stored.duplicate === true, arrivedAt: Number(msg.stored.arrivedAt ?? 0) };
        // The center has the block: nothing more needs to be sent.
        writer.abort();
      }
    });
    // Every end arrives as one 'status' event; 'error' only repeats it.
    call.on('error', () => {});
    call.on('status', (s) => {
      // Stored is the durable acknowledgement; how the call ends after it does not change that.
      if (stored !== undefined) settle(success(stored));
      else if (opts.signal?.aborted === true) settle(failed(abortedError(ctx, opts.signal.reason)));
      else if (protocolError !== undefined) settle(failed(protocolError));
      else if (timedOut) {
        settle(failed(new ShipperError(ShipperErrorCode.Timeout,
          `expected progress on Upload of block ${block.id} at least every ${cfg.idleTimeoutMs} ms, found none (last stored offset ${ctx.lastProgress ?? fromOffset})`,
          { retryable: true, grpcStatus: s.code, resumeOffset: ctx.lastProgress ?? fromOffset })));
      } else if (s.code === Status.OK) {
        settle(failed(new ShipperError(ShipperErrorCode.Protocol,
          `expected a Stored message before Upload of block ${block.id} ended OK, found none (last Progress ${ctx.lastProgress ?? 'none'})`)));
      } else settle(failed(errorFromStatus(s, ctx)));
    });

    void writeChunks(call, cfg, block, id, fromOffset, writer.signal, touch, opts.onSent, () => ended);
  });
}

/** Begin, then the chunks; stops quietly once the call has ended or the writer is aborted. */
async function writeChunks(
  call: Call, cfg: UploadCallConfig, block: UploadBlock, id: Uint8Array, fromOffset: number,
  signal: AbortSignal, touch: () => void, onSent: ((n: number) => void) | undefined, ended: () => boolean,
): Promise<void> {
  const size = block.bytes.length;
  const drainOrStop = (): Promise<void> => new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
  const write = async (req: UploadRequestInit): Promise<boolean> => {
    if (ended() || signal.aborted) return false;
    const more = call.write(req, () => touch());
    if (!more) await drainOrStop();
    return !ended() && !signal.aborted;
  };
  try {
    const begin = { siteId: block.siteId, blockId: id, size, sha256: block.sha256, offset: fromOffset };
    if (!(await write({ begin }))) return;
    const bytes = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength);
    for (let offset = fromOffset; offset < size;) {
      const n = Math.min(cfg.chunkBytes, size - offset);
      if (cfg.bucket !== undefined) await cfg.bucket.take(n, signal);
      if (!(await write({ chunk: { offset, data: bytes.subarray(offset, offset + n) } }))) return;
      onSent?.(n);
      offset += n;
    }
  } catch {
    // The bandwidth wait was abandoned (Stored came early, or the call ended): the 'status'
    // handler reports how the call ended.
  } finally {
    // Half-close: after the last chunk, or early when the server already answered Stored.
    if (!ended()) call.end();
  }
}

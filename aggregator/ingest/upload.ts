// One Upload call: Begin, then chunks in offset order, answered with Progress after each chunk the
// storage holds and with Stored once the whole block is verified and durably committed. The
// block's bytes are held in memory until the last chunk (a resumed upload reloads the stored
// prefix); every chunk but the last is also appended to the storage's partial upload, so a cut
// connection or a restart resumes at the last Progress. See docs/format/ingest.md.
import { createHash, type Hash } from 'node:crypto';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ulidToString } from '../../common/ulid.js';
import type { UploadRequestInit, UploadResponseInit } from '../../proto/index.js';
import type { AdmissionTicket } from './admission.js';
import { authenticate, siteMismatch } from './auth.js';
import type { ActiveUpload, IngestContext } from './context.js';
import { asFailure, fail, IngestErrorCode, IngestFailure } from './errors.js';
import { MalformedMessage } from './messages.js';
import { checkHeaderPrefix, verifyBlock, type DeclaredBlock } from './verify.js';

export type UploadCall = ServerDuplexStream<UploadRequestInit | MalformedMessage, UploadResponseInit>;

/** Queued messages at which the call stops reading (and resumes below half of it). */
const HIGH_WATER = 8;
/** The smallest block frame: magic, version, header length, header CRC, payload CRC. */
const MIN_BLOCK_BYTES = 17;

/** Failures after which the bytes held are no use: the partial upload is discarded. */
const DISCARDING = new Set<string>([
  IngestErrorCode.ChecksumMismatch, IngestErrorCode.BlockInvalid, IngestErrorCode.HeaderMismatch, IngestErrorCode.SiteMismatch, IngestErrorCode.Conflict,
]);

type State = 'begin' | 'receiving' | 'committing' | 'done';

function toNumber(v: number | null | undefined): number {
  return typeof v === 'number' ? v : 0;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Serves one Upload call (the grpc-js handler). */
export function handleUpload(ctx: IngestContext, call: UploadCall): void {
  new UploadSession(ctx, call).start();
}

class UploadSession implements ActiveUpload {
  readonly #ctx: IngestContext;
  readonly #call: UploadCall;
  #state: State = 'begin';
  #site = '';
  #declared: DeclaredBlock | undefined;
  #ref: string | undefined;
  #chunks: Uint8Array[] = [];
  #received = 0;
  #stored = 0;
  #hash: Hash | undefined;
  #headerChecked = false;
  #ticket: AdmissionTicket | undefined;
  #startedAt = 0;
  readonly #queue: (UploadRequestInit | MalformedMessage)[] = [];
  #ended = false;
  #pumping: Promise<void> | undefined;
  #stopWith: IngestFailure | undefined;
  #idle: NodeJS.Timeout | undefined;
  readonly #done: Promise<void>;
  #markDone!: () => void;

  constructor(ctx: IngestContext, call: UploadCall) {
    this.#ctx = ctx;
    this.#call = call;
    this.#done = new Promise((resolve) => (this.#markDone = resolve));
  }

  start(): void {
    const auth = authenticate(this.#call.metadata, this.#ctx.credentials());
    if (auth instanceof IngestFailure) {
      this.#finish(auth);
      return;
    }
    this.#site = auth.site;
    this.#call.on('data', (m: UploadRequestInit | MalformedMessage) => {
      if (this.#state === 'done') return;
      this.#queue.push(m);
      if (this.#queue.length >= HIGH_WATER) this.#call.pause();
      this.#kick();
    });
    this.#call.on('end', () => {
      this.#ended = true;
      this.#kick();
    });
    this.#call.on('cancelled', () => {
      this.#ctx.logger.debug({ site: this.#site, block: this.#declared?.id, stored: this.#stored }, 'upload cancelled by the agent or the connection');
      void this.stop(fail(IngestErrorCode.Truncated, 'expected the upload to finish, found the call cancelled'), false);
    });
    this.#armIdle();
  }

  stop(failure: Error, answer = true): Promise<void> {
    if (this.#state === 'done') return this.#done;
    if (this.#state !== 'committing') {
      const f = asFailure(failure, this.#ctx.limits.pushbackMs);
      if (this.#pumping === undefined) this.#finish(f, answer);
      else this.#stopWith = f;
    }
    return this.#done;
  }

  #kick(): void {
    if (this.#pumping !== undefined || this.#state === 'done') return;
    if (this.#queue.length === 0 && !this.#ended) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#state !== 'done' && this.#stopWith !== undefined) this.#finish(this.#stopWith);
      else this.#kick();
    });
  }

  async #pump(): Promise<void> {
    while (this.#state !== 'done') {
      if (this.#stopWith !== undefined) return;
      const m = this.#queue.shift();
      try {
        if (m === undefined) {
          if (this.#ended) this.#onEnd();
          return;
        }
        if (this.#queue.length < HIGH_WATER / 2 && this.#call.isPaused()) this.#call.resume();
        this.#armIdle();
        await this.#onMessage(m);
      } catch (err) {
        await this.#fail(err);
      }
    }
  }

  async #onMessage(m: UploadRequestInit | MalformedMessage): Promise<void> {
    if (m instanceof MalformedMessage) {
      throw fail(IngestErrorCode.MalformedMessage, `expected an UploadRequest protobuf message, found ${m.bytes} bytes that do not parse (${m.reason})`);
    }
    if (m.begin != null) {
      if (this.#state !== 'begin') throw fail(IngestErrorCode.UnexpectedMessage, 'expected a chunk (Begin was already sent), found a second Begin');
      await this.#begin(m.begin);
    } else if (m.chunk != null) {
      if (this.#state === 'begin') throw fail(IngestErrorCode.UnexpectedMessage, 'expected a Begin first, found a chunk');
      if (this.#state === 'receiving') await this.#chunk(toNumber(m.chunk.offset), m.chunk.data ?? new Uint8Array(0));
    } else {
      throw fail(IngestErrorCode.UnexpectedMessage, 'expected an UploadRequest with a begin or a chunk, found neither');
    }
  }

  async #begin(b: NonNullable<UploadRequestInit['begin']>): Promise<void> {
    const { storage, limits } = this.#ctx;
    const site = this.#site;
    const siteId = b.siteId ?? '';
    if (siteId !== site) throw siteMismatch(site, siteId);
    const idBytes = b.blockId ?? new Uint8Array(0);
    if (idBytes.length !== 16) throw fail(IngestErrorCode.BadRequest, `expected block_id of 16 bytes (a ULID), found ${idBytes.length} bytes`);
    const size = toNumber(b.size);
    if (!Number.isSafeInteger(size) || size < MIN_BLOCK_BYTES) throw fail(IngestErrorCode.BadRequest, `expected size of at least ${MIN_BLOCK_BYTES} bytes (the smallest block), found ${size}`);
    if (size > limits.maxBlockBytes) throw fail(IngestErrorCode.BlockTooLarge, `expected a block of at most ${limits.maxBlockBytes} bytes (max_block_bytes), found size ${size}`);
    const sha = b.sha256 ?? new Uint8Array(0);
    if (sha.length !== 32) throw fail(IngestErrorCode.BadRequest, `expected sha256 of 32 bytes, found ${sha.length} bytes`);
    const offset = toNumber(b.offset);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) throw fail(IngestErrorCode.BadRequest, `expected offset from 0 to ${size - 1}, found ${offset}`);
    if (this.#ctx.closing()) throw fail(IngestErrorCode.ShuttingDown, 'expected a running aggregator, found it shutting down', { pushbackMs: limits.pushbackMs });

    const id = ulidToString(idBytes);
    const declared: DeclaredBlock = { site, id, size, sha256: hex(sha) };
    const ref = `${site}!${id}`;
    this.#declared = declared;
    // Claim the block before any await, so that of two uploads of it the newer always wins.
    const older = this.#ctx.uploads.get(ref);
    this.#ctx.uploads.set(ref, this);
    this.#ref = ref;
    if (older !== undefined) {
      await older.stop(fail(IngestErrorCode.Superseded, `expected one upload of block ${id} at a time, found a newer upload of it from this site`));
    }

    const held = await storage.getBlockMeta(site, id);
    if (held !== undefined) {
      if (held.sha256 === declared.sha256 && held.size === size) {
        this.#ctx.metrics?.blocks.inc({ result: 'duplicate' });
        this.#ctx.logger.debug({ site, block: id }, 'block already held: duplicate');
        this.#answerStored(true, held.arrivedAt);
        return;
      }
      throw this.#conflict(held.sha256, held.size);
    }

    const ticket = this.#ctx.admission.tryAcquire(site, size);
    if ('refused' in ticket) throw fail(IngestErrorCode.Busy, ticket.refused, { pushbackMs: limits.pushbackMs });
    this.#ticket = ticket;
    this.#startedAt = performance.now();
    this.#hash = createHash('sha256');

    const partial = await storage.getPartial(site, id);
    if (offset === 0) {
      if (partial !== undefined) await storage.discardPartial(site, id);
    } else {
      const same = partial !== undefined && partial.size === size && partial.sha256 === declared.sha256;
      const resumeAt = same ? partial.offset : 0;
      if (offset !== resumeAt) {
        throw fail(IngestErrorCode.ResumeOffset, `expected offset 0 or ${resumeAt} (the bytes held of block ${id}), found ${offset}`, { resumeOffset: resumeAt });
      }
      const prefix = await storage.readPartial(site, id);
      if (prefix === undefined || prefix.length !== offset) {
        throw fail(IngestErrorCode.ResumeOffset, `expected ${offset} bytes of block ${id} held, found ${prefix?.length ?? 0}`, { resumeOffset: prefix?.length ?? 0 });
      }
      this.#chunks.push(prefix);
      this.#hash.update(prefix);
      this.#received = this.#stored = offset;
      this.#checkHeader();
    }
    this.#state = 'receiving';
  }

  async #chunk(offset: number, data: Uint8Array): Promise<void> {
    const { storage, limits } = this.#ctx;
    const declared = this.#declared!;
    this.#ctx.metrics?.receivedBytes.inc(data.length);
    if (data.length > limits.maxChunkBytes) throw fail(IngestErrorCode.ChunkTooLarge, `expected a chunk of at most ${limits.maxChunkBytes} bytes (max_chunk_bytes), found ${data.length}`);
    if (offset !== this.#received) throw fail(IngestErrorCode.ChunkOffset, `expected a chunk at offset ${this.#received}, found ${offset}`);
    if (offset + data.length > declared.size) {
      throw fail(IngestErrorCode.ChunkOffset, `expected at most ${declared.size - offset} bytes at offset ${offset} (size ${declared.size}), found ${data.length}`);
    }
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#hash!.update(data);
    this.#received += data.length;
    if (!this.#headerChecked) this.#checkHeader();
    if (this.#received === declared.size) {
      await this.#commit();
      return;
    }
    const held = await storage.appendChunk(declared.site, declared.id, { size: declared.size, sha256: declared.sha256 }, offset, data, this.#ctx.clock.now());
    this.#stored = held.offset;
    this.#write({ progress: { offset: held.offset } });
  }

  #checkHeader(): void {
    const prefix = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    if (this.#chunks.length > 1) this.#chunks = [prefix];
    this.#headerChecked = checkHeaderPrefix(prefix, this.#declared!, this.#ctx.limits.decode);
  }

  async #commit(): Promise<void> {
    this.#state = 'committing';
    const declared = this.#declared!;
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, declared.size);
    this.#chunks = [];
    const summary = verifyBlock(bytes, this.#hash!.digest('hex'), declared, this.#ctx.limits.decode);
    const arrivedAt = this.#ctx.clock.now();
    const result = await this.#ctx.storage.putBlock(declared.site, declared.id, bytes, summary, arrivedAt);
    const metrics = this.#ctx.metrics;
    if (result.status === 'conflict') throw this.#conflict(result.meta.sha256, result.meta.size);
    metrics?.blocks.inc({ result: result.status });
    if (result.status === 'stored') {
      metrics?.storedBytes.inc(bytes.length);
      metrics?.samples.inc(summary.numSamples);
      metrics?.uploadDuration.observe((performance.now() - this.#startedAt) / 1000);
      this.#ctx.logger.debug({ site: declared.site, block: declared.id, bytes: bytes.length, samples: summary.numSamples, arrivedAt }, 'block stored');
    }
    this.#answerStored(result.status === 'duplicate', result.meta.arrivedAt);
  }

  #conflict(heldSha: string, heldSize: number): IngestFailure {
    const d = this.#declared!;
    this.#ctx.metrics?.blocks.inc({ result: 'conflict' });
    return fail(IngestErrorCode.Conflict,
      `expected block ${d.id} of site ${d.site} with the bytes held (SHA-256 ${heldSha}, ${heldSize} bytes), found other bytes (SHA-256 ${d.sha256}, ${d.size} bytes); the block stored first is kept`);
  }

  #onEnd(): void {
    if (this.#state === 'begin') throw fail(IngestErrorCode.Truncated, 'expected a Begin, found the stream ended without one');
    if (this.#state === 'receiving') {
      const d = this.#declared!;
      throw fail(IngestErrorCode.Truncated, `expected ${d.size} bytes of block ${d.id}, found the stream ended after ${this.#received}; ${this.#stored} are stored, resume there`, { resumeOffset: this.#stored });
    }
  }

  async #fail(err: unknown): Promise<void> {
    const failure = asFailure(err, this.#ctx.limits.pushbackMs);
    const d = this.#declared;
    const claimed = this.#ref !== undefined && this.#ctx.uploads.get(this.#ref) === this;
    if (d !== undefined && claimed && DISCARDING.has(failure.code)) {
      await this.#ctx.storage.discardPartial(d.site, d.id).catch((e: unknown) => {
        this.#ctx.logger.warn({ site: d.site, block: d.id, err: e instanceof Error ? e.message : String(e) }, 'could not discard a rejected partial upload; it stays until a new upload of the block');
      });
    }
    this.#finish(failure);
  }

  #answerStored(duplicate: boolean, arrivedAt: number): void {
    this.#write({ stored: { duplicate, arrivedAt } });
    this.#finish(undefined);
  }

  #write(message: UploadResponseInit): void {
    if (this.#call.cancelled || this.#call.destroyed || this.#call.writableEnded) return;
    this.#call.write(message);
  }

  #armIdle(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      const ms = this.#ctx.limits.uploadIdleTimeoutMs;
      if (this.#pumping !== undefined) this.#armIdle(); // a storage call is slow, not the agent
      else void this.stop(fail(IngestErrorCode.IdleTimeout, `expected a message within ${ms} ms, found none; ${this.#stored} bytes are stored, resume there`, { resumeOffset: this.#stored }));
    }, this.#ctx.limits.uploadIdleTimeoutMs);
    this.#idle.unref();
  }

  /** Ends the call: OK (failure undefined) or with the failure's status; releases everything held. */
  #finish(failure: IngestFailure | undefined, answer = true): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    if (this.#ticket !== undefined) this.#ctx.admission.release(this.#ticket);
    this.#ticket = undefined;
    if (this.#ref !== undefined && this.#ctx.uploads.get(this.#ref) === this) this.#ctx.uploads.delete(this.#ref);
    this.#queue.length = 0;
    if (failure !== undefined) {
      this.#ctx.metrics?.rejected.inc({ code: failure.code, method: 'Upload' });
      const level = failure.code === IngestErrorCode.Busy || failure.code === IngestErrorCode.Superseded ? 'debug' : failure.code === IngestErrorCode.Internal ? 'error' : 'warn';
      this.#ctx.logger[level]({ site: this.#site || undefined, block: this.#declared?.id, code: failure.code, reason: failure.message }, 'upload rejected');
    }
    const call = this.#call;
    if (answer && !call.cancelled && !call.destroyed && !call.writableEnded) {
      if (failure === undefined) call.end();
      else call.emit('error', failure.toServiceError());
    }
    this.#markDone();
  }
}

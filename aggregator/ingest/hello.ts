// Hello and Heartbeat: unary calls that record a site's contact (and its clock offset) and
// answer with the center's clock; Hello also says which of the agent's pending blocks the center
// holds whole or in part, and records the site's labels when they changed.
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { siteLabelProblems } from '../../common/site-labels.js';
import { ulidToString } from '../../common/ulid.js';
import type { HeartbeatRequestInit, HeartbeatResponseInit, HelloRequestInit, HelloResponseInit } from '../../proto/index.js';
import { authenticate, siteMismatch } from './auth.js';
import type { IngestContext } from './context.js';
import { asFailure, fail, IngestErrorCode, IngestFailure } from './errors.js';
import { MalformedMessage } from './messages.js';

/** The longest error code a heartbeat may carry. */
const MAX_ERROR_CODE_CHARS = 128;

function num(v: number | null | undefined): number {
  return typeof v === 'number' ? v : 0;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw fail(IngestErrorCode.BadRequest, `expected ${name} to be a whole number >= 0, found ${v}`);
  return v;
}

/** Authenticates, checks the site and parses; answers the failure itself and resolves undefined on failure. */
async function serve<Req extends { siteId?: string | null }, Res>(
  ctx: IngestContext, method: 'Hello' | 'Heartbeat', call: ServerUnaryCall<Req | MalformedMessage, Res>, callback: sendUnaryData<Res>,
  body: (site: string, request: Req) => Promise<Res>,
): Promise<void> {
  try {
    const auth = authenticate(call.metadata, ctx.credentials());
    if (auth instanceof IngestFailure) throw auth;
    const request = call.request;
    if (request instanceof MalformedMessage) {
      throw fail(IngestErrorCode.MalformedMessage, `expected a ${method}Request protobuf message, found ${request.bytes} bytes that do not parse (${request.reason})`);
    }
    const siteId = request.siteId ?? '';
    if (siteId !== auth.site) throw siteMismatch(auth.site, siteId);
    const response = await body(auth.site, request);
    ctx.metrics?.calls.inc({ method });
    callback(null, response);
  } catch (err) {
    const failure = asFailure(err, ctx.limits.pushbackMs);
    ctx.metrics?.rejected.inc({ code: failure.code, method });
    ctx.logger[failure.code === IngestErrorCode.Internal ? 'error' : 'warn']({ code: failure.code, reason: failure.message }, `${method.toLowerCase()} rejected`);
    callback(failure.toServiceError());
  }
}

/** Serves one Hello call. */
export function handleHello(ctx: IngestContext, call: ServerUnaryCall<HelloRequestInit | MalformedMessage, HelloResponseInit>, callback: sendUnaryData<HelloResponseInit>): void {
  void serve(ctx, 'Hello', call, callback, async (site, req) => {
    const at = ctx.clock.now();
    const ids = req.pendingBlockIds ?? [];
    if (ids.length > ctx.limits.maxHelloIds) throw fail(IngestErrorCode.BadRequest, `expected at most ${ctx.limits.maxHelloIds} pending_block_ids, found ${ids.length}`);
    const texts = ids.map((id, i) => {
      if (id.length !== 16) throw fail(IngestErrorCode.BadRequest, `expected pending_block_ids of 16 bytes (ULIDs), found ${id.length} bytes at index ${i}`);
      return ulidToString(id);
    });
    // protobufjs decodes a map into a plain object; a Hello without the field carries none: {}.
    const labels: Record<string, string> = { ...(req.siteLabels ?? {}) };
    const problems = siteLabelProblems(labels);
    if (problems.length > 0) throw fail(IngestErrorCode.BadRequest, `site_labels: ${problems.join('; ')}`);
    // Both calls are made in the turn that stamped `at`, so the storage counts `at` as pending
    // until both are durable (a known_at cut is never placed past a write still to come).
    const [, recorded] = await Promise.all([
      ctx.storage.recordContact(site, { kind: 'hello', at, agentTime: num(req.agentTime), agentVersion: (req.agentVersion ?? '').slice(0, 128) }),
      ctx.storage.recordSiteLabels(site, labels, at),
    ]);
    if (recorded.changed) ctx.logger.info({ site, labels: recorded.current.labels, arrivedAt: recorded.current.arrivedAt }, 'site labels changed');
    const metas = await ctx.storage.getBlockMetas(site, texts);
    const held: Uint8Array[] = [];
    const partialUploads: { blockId: Uint8Array; offset: number }[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (metas[i] !== undefined) {
        held.push(ids[i]!);
        continue;
      }
      const p = await ctx.storage.getPartial(site, texts[i]!);
      if (p !== undefined) partialUploads.push({ blockId: ids[i]!, offset: p.offset });
    }
    return { heldBlockIds: held, serverTime: ctx.clock.now(), partialUploads, maxChunkBytes: ctx.limits.maxChunkBytes, maxBlockBytes: ctx.limits.maxBlockBytes };
  });
}

/** Serves one Heartbeat call. */
export function handleHeartbeat(ctx: IngestContext, call: ServerUnaryCall<HeartbeatRequestInit | MalformedMessage, HeartbeatResponseInit>, callback: sendUnaryData<HeartbeatResponseInit>): void {
  void serve(ctx, 'Heartbeat', call, callback, async (site, req) => {
    const at = ctx.clock.now();
    const code = req.lastErrorCode ?? '';
    if (code.length > MAX_ERROR_CODE_CHARS) throw fail(IngestErrorCode.BadRequest, `expected last_error_code of at most ${MAX_ERROR_CODE_CHARS} characters, found ${code.length}`);
    await ctx.storage.recordContact(site, {
      kind: 'heartbeat', at, agentTime: num(req.agentTime),
      lastRttMs: nonNegative('last_rtt_ms', num(req.lastRttMs)),
      backlogBlocks: nonNegative('backlog_blocks', num(req.backlogBlocks)),
      backlogBytes: nonNegative('backlog_bytes', num(req.backlogBytes)),
      oldestUnshippedTime: nonNegative('oldest_unshipped_time', num(req.oldestUnshippedTime)),
      lastRoundTime: nonNegative('last_round_time', num(req.lastRoundTime)),
      lastErrorCode: code,
      lastErrorMessage: req.lastErrorMessage ?? '',
      agentStartTime: nonNegative('agent_start_time', num(req.agentStartTime)),
    });
    return { serverTime: ctx.clock.now() };
  });
}

// From a gRPC status to a ShipperError: which code, whether a retry may help, and the
// server's push-back and resume offset from the trailers.
import { status as Status, type Metadata } from '@grpc/grpc-js';
import { RESUME_OFFSET_TRAILER, RETRY_PUSHBACK_TRAILER } from '../proto/index.js';
import { ShipperError, ShipperErrorCode, GRPC_STATUS_NAMES } from './errors.js';

/** What a failed call ended with. */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata?: Metadata | undefined;
}

/** Which call failed, for the message: `Upload of block 01J…`. */
export interface CallContext {
  readonly method: 'Hello' | 'Upload' | 'Heartbeat';
  readonly target: string;
  readonly blockId?: string;
  /** Upload: where the attempt started, and the last Progress offset it saw. */
  readonly fromOffset?: number;
  readonly lastProgress?: number;
}

/** A non-negative integer trailer value; undefined when absent or not one. */
export function intTrailer(metadata: Metadata | undefined, key: string): number | undefined {
  const raw = metadata?.get(key)[0];
  if (raw === undefined) return undefined;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (!/^\d{1,15}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

const SERVER_CODE = /^(DW_[A-Z0-9_]+)\b/;

interface Mapping {
  readonly code: ShipperErrorCode;
  readonly retryable: boolean;
  readonly expected: string;
}

function mapping(s: CallStatus, pushbackMs: number | undefined, ctx: CallContext): Mapping {
  const call = ctx.blockId === undefined ? ctx.method : `${ctx.method} of block ${ctx.blockId}`;
  const answer = `the aggregator at ${ctx.target} to answer ${call}`;
  switch (s.code) {
    case Status.UNAVAILABLE:
      return { code: ShipperErrorCode.Unavailable, retryable: true, expected: answer };
    case Status.DEADLINE_EXCEEDED:
      return { code: ShipperErrorCode.Timeout, retryable: true, expected: `${answer} within its deadline` };
    case Status.RESOURCE_EXHAUSTED:
      // The protocol asks for a slow-down with the push-back trailer; without it, an Upload was
      // refused for its size (too large, a decompression bomb) and sending it again cannot help.
      if (pushbackMs === undefined && ctx.method === 'Upload') {
        return { code: ShipperErrorCode.Rejected, retryable: false, expected: `the aggregator to accept block ${ctx.blockId ?? ''}` };
      }
      return { code: ShipperErrorCode.PushedBack, retryable: true, expected: answer };
    case Status.ABORTED:
    case Status.CANCELLED:
      return { code: ShipperErrorCode.ServerAborted, retryable: true, expected: `${answer} to the end` };
    case Status.UNKNOWN:
    case Status.INTERNAL:
      return { code: ShipperErrorCode.TransportFailed, retryable: true, expected: `${answer} to the end` };
    case Status.FAILED_PRECONDITION:
      if (ctx.method !== 'Upload') break;
      return {
        code: ShipperErrorCode.ResumeMismatch, retryable: true,
        expected: `the aggregator to hold block ${ctx.blockId ?? ''} up to offset ${ctx.fromOffset ?? 0}`,
      };
    case Status.DATA_LOSS:
      return { code: ShipperErrorCode.ChecksumMismatch, retryable: false, expected: `the aggregator to receive block ${ctx.blockId ?? ''} intact` };
    case Status.ALREADY_EXISTS:
      return { code: ShipperErrorCode.Conflict, retryable: false, expected: `the aggregator to hold block ${ctx.blockId ?? ''} with these bytes or not at all` };
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
      return { code: ShipperErrorCode.Rejected, retryable: false, expected: `the aggregator to accept ${ctx.blockId === undefined ? `the ${ctx.method} request` : `block ${ctx.blockId}`}` };
    case Status.UNAUTHENTICATED:
      return { code: ShipperErrorCode.Unauthenticated, retryable: false, expected: `the aggregator at ${ctx.target} to accept this site's credential` };
    case Status.PERMISSION_DENIED:
      return { code: ShipperErrorCode.PermissionDenied, retryable: false, expected: `the credential to be this site's` };
  }
  // UNIMPLEMENTED, NOT_FOUND, FAILED_PRECONDITION outside Upload: not this protocol.
  return { code: ShipperErrorCode.Protocol, retryable: false, expected: `the aggregator at ${ctx.target} to implement driftwatch.ingest.v1 ${ctx.method}` };
}

/** The ShipperError for a failed call, with the trailers' push-back and resume offset. */
export function errorFromStatus(s: CallStatus, ctx: CallContext): ShipperError {
  const pushbackMs = intTrailer(s.metadata, RETRY_PUSHBACK_TRAILER);
  const m = mapping(s, pushbackMs, ctx);
  const name = GRPC_STATUS_NAMES[s.code] ?? String(s.code);
  const serverCode = SERVER_CODE.exec(s.details)?.[1];
  let resumeOffset: number | undefined;
  if (ctx.method === 'Upload') {
    resumeOffset = s.code === Status.FAILED_PRECONDITION
      ? (intTrailer(s.metadata, RESUME_OFFSET_TRAILER) ?? 0)
      : (ctx.lastProgress ?? ctx.fromOffset);
  }
  const details = s.details === '' ? '' : `: ${s.details}`;
  return new ShipperError(m.code, `expected ${m.expected}, found ${name}${details}`, {
    retryable: m.retryable, grpcStatus: s.code,
    ...(serverCode === undefined ? {} : { serverCode }),
    ...(pushbackMs === undefined ? {} : { pushbackMs }),
    ...(resumeOffset === undefined ? {} : { resumeOffset }),
  });
}

/** The failure of a call abandoned because the caller's signal fired. */
export function abortedError(ctx: CallContext, reason?: unknown): ShipperError {
  const call = ctx.blockId === undefined ? ctx.method : `${ctx.method} of block ${ctx.blockId}`;
  return new ShipperError(ShipperErrorCode.Aborted, `expected ${call} to finish, found it abandoned (the caller's signal fired)`, {
    ...(reason === undefined ? {} : { cause: reason }),
    ...(ctx.method === 'Upload' ? { resumeOffset: ctx.lastProgress ?? ctx.fromOffset ?? 0 } : {}),
  });
}

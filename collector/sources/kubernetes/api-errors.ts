// Turning what @kubernetes/client-node throws into SourceErrors with stable codes.
import { ApiException } from '@kubernetes/client-node';
import { errorMessage } from '../../../common/errors.js';
import { SourceError, SourceErrorCode } from '../errors.js';

/** One request the source makes, for messages: verb, resource (`deployments.apps`) and scope. */
export interface RequestDescription {
  readonly verb: 'list' | 'watch';
  readonly resource: string;
  /** undefined: every namespace (or a cluster-scoped kind). */
  readonly namespace?: string;
}

/** `list deployments.apps in namespace "pos"`, `list nodes`, `watch events in all namespaces`. */
export function describeRequest(r: RequestDescription, clusterScoped = false): string {
  if (r.namespace !== undefined) return `${r.verb} ${r.resource} in namespace ${JSON.stringify(r.namespace)}`;
  return clusterScoped ? `${r.verb} ${r.resource}` : `${r.verb} ${r.resource} in all namespaces`;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT',
  'EPIPE', 'ENETDOWN', 'EHOSTDOWN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The HTTP status of a failed request, when the server answered one. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The `message` of a Kubernetes Status body (a 403's "... cannot list resource ..."), if any. */
export function statusMessage(body: unknown): string | undefined {
  let v = body;
  if (typeof body === 'string') {
    try {
      v = JSON.parse(body);
    } catch {
      return body.length > 0 ? body.slice(0, 300) : undefined;
    }
  }
  const m = (v as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (err as { type?: unknown } | null)?.type === 'aborted';
}

/**
 * The SourceError for a failed request. `aborted` says whether the request's signal fired (the
 * collection deadline passed or the agent is stopping); that wins over whatever the aborted
 * request threw. Never throws.
 */
export function toSourceError(err: unknown, what: string, server: string, aborted: boolean, timeoutMs?: number): SourceError {
  if (err instanceof SourceError) return err;
  if (aborted || isAbort(err)) {
    const within = timeoutMs === undefined ? '' : ` within ${timeoutMs} ms`;
    return new SourceError(SourceErrorCode.Timeout, `expected an answer to ${what} from ${server}${within}, found none before the deadline`, { cause: err });
  }
  const status = httpStatus(err);
  if (status !== undefined) {
    const detail = statusMessage(err instanceof ApiException ? err.body : undefined);
    const suffix = detail === undefined ? '' : `: ${detail}`;
    if (status === 401) {
      return new SourceError(SourceErrorCode.PermissionDenied, `${server} refused to ${what}: 401 Unauthorized (the token or client certificate was not accepted)${suffix}`, { cause: err });
    }
    if (status === 403) {
      return new SourceError(SourceErrorCode.PermissionDenied, `${server} refused to ${what}: 403 Forbidden (grant get, list and watch, see docs/sources/kubernetes.md#rbac)${suffix}`, { cause: err });
    }
    return new SourceError(SourceErrorCode.BadResponse, `expected ${what} at ${server} to succeed, found HTTP ${status}${suffix}`, { cause: err });
  }
  if (err instanceof SyntaxError || /media ?type|content-type/i.test(errorMessage(err))) {
    return new SourceError(SourceErrorCode.BadResponse, `expected JSON from ${what} at ${server}, found a body that does not parse: ${errorMessage(err)}`, { cause: err });
  }
  const code = systemCode(err);
  if (code !== undefined && /CERT|^ERR_TLS|^ERR_SSL|^UNABLE_TO_/.test(code)) {
    return new SourceError(SourceErrorCode.Failed, `expected a trusted TLS certificate from ${server} for ${what}, found ${code}: ${errorMessage(err)}`, { cause: err });
  }
  if (code !== undefined && (UNREACHABLE_CODES.has(code) || code.startsWith('ERR_SOCKET'))) {
    return new SourceError(SourceErrorCode.Unreachable, `expected the API server at ${server} to answer ${what}, found ${code}: ${errorMessage(err)}`, { cause: err });
  }
  if ((err as { type?: unknown } | null)?.type === 'system') {
    return new SourceError(SourceErrorCode.Unreachable, `expected the API server at ${server} to answer ${what}, found: ${errorMessage(err)}`, { cause: err });
  }
  return new SourceError(SourceErrorCode.Failed, `${what} at ${server} failed: ${errorMessage(err)}`, { cause: err });
}

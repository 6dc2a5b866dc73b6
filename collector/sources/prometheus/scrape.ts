// One HTTP GET of an exposition endpoint with Node's fetch: bounded in time by an abort signal
// and in size by maxBytes (counted on the decoded body, so a compressed bomb stops early too).
import { SourceError, SourceErrorCode, isTimeoutReason } from '../errors.js';

export interface ScrapeOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxBytes: number;
  /** Time left for the whole request, ms. */
  readonly budgetMs: number;
  /** The collection's signal (deadline or agent stop). */
  readonly signal: AbortSignal;
  /** `now() >= deadline` by the injected clock: tells a deadline abort from a stop. */
  readonly deadlinePassed: () => boolean;
}

export interface ScrapeResult {
  readonly text: string;
  readonly contentType: string;
}

/** Exposition formats driftwatch reads, the text format first. */
export const ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Up to `limit` bytes of a body as text, for an error message; the rest is discarded. */
async function bodySnippet(res: Response, limit = 200): Promise<string> {
  try {
    const reader = res.body?.getReader();
    if (reader === undefined) return '';
    const { value } = await reader.read();
    await reader.cancel().catch(() => {});
    const text = value === undefined ? '' : Buffer.from(value.subarray(0, limit)).toString('utf8');
    return text.replace(/\s+/g, ' ').trim();
  } catch {
    return '';
  }
}

/**
 * Fetches `url`. Rejects with SourceError: DW_SOURCE_UNREACHABLE (refused, no route, no such
 * host, connection reset), DW_SOURCE_TIMEOUT (the budget ran out, or the signal aborted at the
 * deadline), DW_SOURCE_FAILED (aborted because the agent stops), DW_SOURCE_PERMISSION_DENIED
 * (401, 403), DW_SOURCE_BAD_RESPONSE (another non-2xx status, a body that is not UTF-8),
 * DW_SOURCE_TOO_LARGE (more than maxBytes; reading stops there).
 */
export async function scrape(o: ScrapeOptions): Promise<ScrapeResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException('scrape deadline', 'TimeoutError')), o.budgetMs);
  const signal = AbortSignal.any([o.signal, timeout.signal]);
  const aborted = (err: unknown): SourceError => {
    if (timeout.signal.aborted || o.deadlinePassed() || isTimeoutReason(o.signal.reason)) {
      return new SourceError(SourceErrorCode.Timeout, `expected ${o.url} to answer within ${o.budgetMs}ms, found no complete answer by the deadline`, { where: o.url, cause: err });
    }
    const reason: unknown = o.signal.reason;
    return new SourceError(SourceErrorCode.Failed, `expected to finish scraping ${o.url}, found the collection aborted (${reason instanceof Error ? reason.message : String(reason)})`, { where: o.url, cause: err });
  };
  const failed = (err: unknown): SourceError => {
    if (err instanceof SourceError) return err;
    if (signal.aborted) return aborted(err);
    const code = causeCode(err);
    const detail = `${code ?? (err as Error)?.message ?? String(err)}`;
    if (code !== undefined && UNREACHABLE_CODES.has(code)) {
      return new SourceError(SourceErrorCode.Unreachable, `expected a connection to ${o.url}, found ${detail}`, { where: o.url, cause: err });
    }
    if (code !== undefined && code.startsWith('HPE_')) {
      return new SourceError(SourceErrorCode.BadResponse, `expected an HTTP response from ${o.url}, found one that does not parse (${detail})`, { where: o.url, cause: err });
    }
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new SourceError(SourceErrorCode.Timeout, `expected ${o.url} to answer, found ${detail}`, { where: o.url, cause: err });
    }
    const cause = (err as { cause?: unknown })?.cause;
    const more = cause instanceof Error ? `: ${cause.message}` : '';
    return new SourceError(SourceErrorCode.Failed, `expected to scrape ${o.url}, found ${(err as Error)?.message ?? String(err)}${more}`, { where: o.url, cause: err });
  };
  try {
    const res = await fetch(o.url, { headers: { accept: ACCEPT, 'user-agent': 'driftwatch-agent', ...o.headers }, signal, redirect: 'follow' });
    if (res.status === 401 || res.status === 403) {
      const snippet = await bodySnippet(res);
      throw new SourceError(SourceErrorCode.PermissionDenied, `expected ${o.url} to allow the scrape, found HTTP ${res.status} ${res.statusText}${snippet === '' ? '' : `: ${snippet}`}`, { where: o.url });
    }
    if (res.status < 200 || res.status > 299) {
      const snippet = await bodySnippet(res);
      throw new SourceError(SourceErrorCode.BadResponse, `expected HTTP 2xx from ${o.url}, found ${res.status} ${res.statusText}${snippet === '' ? '' : `: ${snippet}`}`, { where: o.url });
    }
    const tooLarge = (found: string): SourceError => new SourceError(SourceErrorCode.TooLarge, `expected at most ${o.maxBytes} bytes (maxBytes) from ${o.url}, found ${found}`, { where: o.url });
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (!encoded && declared > o.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(`Content-Length ${declared}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    while (reader !== undefined) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > o.maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(`more (stopped reading at ${size} bytes)`);
      }
      chunks.push(value);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      throw new SourceError(SourceErrorCode.BadResponse, `expected a UTF-8 exposition body from ${o.url}, found bytes that are not UTF-8`, { where: o.url });
    }
    return { text, contentType: res.headers.get('content-type') ?? '' };
  } catch (err) {
    throw failed(err);
  } finally {
    clearTimeout(timer);
  }
}


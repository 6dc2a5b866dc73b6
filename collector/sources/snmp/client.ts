// A promise-shaped SNMP client over one net-snmp session, bounded by a deadline and an abort
// signal, with net-snmp's errors mapped onto the source error catalog.
import snmp from 'net-snmp';
import type { Session, User, Varbind } from 'net-snmp';
import { SourceError, SourceErrorCode, isTimeoutReason } from '../errors.js';

export type { Varbind };

/** What the collection needs from an SNMP agent. A fake implements it in the unit tests. */
export interface SnmpClient {
  /** One value per OID, in order; undefined where the agent has no such object or instance. */
  get(oids: readonly string[]): Promise<(Varbind | undefined)[]>;
  /** The varbinds under `oid` in OID order, at most `maxRows`; `truncated` when more were there. */
  walk(oid: string, maxRows: number): Promise<{ varbinds: Varbind[]; truncated: boolean }>;
  /** Closes the socket; pending requests fail. Idempotent. */
  close(): void;
}

export interface SnmpClientOptions {
  host: string;
  port: number;
  ipv6: boolean;
  /** Shown in messages: the configured target. */
  target: string;
  retries: number;
  /** When the collection must be done, in ms from now. */
  budgetMs: number;
  signal: AbortSignal;
  /** `now() >= deadline` by the injected clock: tells a deadline abort from a stop. */
  deadlinePassed: () => boolean;
  credentials:
    | { version: '2c'; community: string }
    | { version: '3'; user: User; context: string };
}

/** Varbinds per get request: small enough for any agent's PDU size. */
const GET_CHUNK = 16;
const MAX_REPETITIONS = 25;

const PERMISSION_STATUSES = new Set([snmp.ErrorStatus.NoAccess, snmp.ErrorStatus.AuthorizationError]);

/**
 * Opens a UDP session. Every request shares one budget: when it runs out, or `signal` aborts,
 * the session is closed and the pending request rejects with DW_SOURCE_TIMEOUT (or
 * DW_SOURCE_FAILED for an abort before the deadline). Call `close` when done.
 */
export function openSnmpClient(o: SnmpClientOptions): SnmpClient {
  const attempts = o.retries + 1;
  // Each attempt gets an equal share of 90% of the budget: the last retry still fits, and
  // net-snmp's own timeout (the more telling message) comes before ours.
  const attemptMs = Math.max(50, Math.floor((o.budgetMs * 0.9) / attempts));
  const common = {
    port: o.port,
    retries: o.retries,
    timeout: attemptMs,
    transport: o.ipv6 ? ('udp6' as const) : ('udp4' as const),
    // A walk that does not move forward is an agent bug: fail it instead of looping.
    backwardsGetNexts: false,
  };
  const session: Session = o.credentials.version === '2c'
    ? snmp.createSession(o.host, o.credentials.community, { ...common, version: snmp.Version2c })
    : snmp.createV3Session(o.host, o.credentials.user, { ...common, context: o.credentials.context });

  let closed = false;
  let stopped: SourceError | undefined;
  let undecodable: Error | undefined;
  // net-snmp emits undecodable datagrams as 'error' (and would crash the process without a listener).
  session.on('error', (e: unknown) => {
    undecodable = e instanceof Error ? e : new Error(String(e));
  });

  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      session.close();
    } catch {
      // already closed by net-snmp after a socket error
    }
  };
  const stop = (byDeadline: boolean): void => {
    if (stopped !== undefined) return;
    stopped = byDeadline || o.deadlinePassed()
      ? new SourceError(SourceErrorCode.Timeout, `expected ${o.target} to answer within ${o.budgetMs}ms, found the deadline passed`, { where: o.target })
      : new SourceError(SourceErrorCode.Failed, `expected to finish collecting from ${o.target}, found the collection aborted (${abortReason(o.signal)})`, { where: o.target });
    close();
  };
  const timer = setTimeout(() => stop(true), o.budgetMs);
  const onAbort = (): void => stop(isTimeoutReason(o.signal.reason));
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener('abort', onAbort, { once: true });

  const fail = (err: unknown, what: string): SourceError => {
    if (stopped !== undefined) return stopped;
    return mapSnmpError(err, what, o, attemptMs, undecodable);
  };

  const getChunk = (oids: string[]): Promise<(Varbind | undefined)[]> => new Promise((resolve, reject) => {
    if (stopped !== undefined) return reject(stopped);
    session.get(oids, (err, varbinds) => {
      if (err !== null) return reject(fail(err, `get ${oids.join(' ')}`));
      if (varbinds === undefined || varbinds.length !== oids.length) {
        return reject(new SourceError(SourceErrorCode.BadResponse, `expected ${oids.length} varbinds from ${o.target}, found ${varbinds?.length ?? 0}`, { where: o.target }));
      }
      resolve(varbinds.map((vb) => (snmp.isVarbindError(vb) || vb.type === snmp.ObjectType.Null ? undefined : vb)));
    });
  });

  return {
    async get(oids) {
      const out: (Varbind | undefined)[] = [];
      for (let i = 0; i < oids.length; i += GET_CHUNK) out.push(...await getChunk(oids.slice(i, i + GET_CHUNK)));
      return out;
    },
    walk(oid, maxRows) {
      return new Promise((resolve, reject) => {
        if (stopped !== undefined) return reject(stopped);
        const varbinds: Varbind[] = [];
        let truncated = false;
        session.subtree(oid, MAX_REPETITIONS, (batch) => {
          for (const vb of batch) {
            if (snmp.isVarbindError(vb)) continue;
            if (varbinds.length >= maxRows) {
              truncated = true;
              return true;
            }
            varbinds.push(vb);
          }
          return false;
        }, (err) => {
          if (err !== null) return reject(fail(err, `walk ${oid}`));
          resolve({ varbinds, truncated });
        });
      });
    },
    close() {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      close();
    },
  };
}

function mapSnmpError(err: unknown, what: string, o: SnmpClientOptions, attemptMs: number, undecodable: Error | undefined): SourceError {
  const where = o.target;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof snmp.RequestTimedOutError) {
    if (undecodable !== undefined) {
      return new SourceError(SourceErrorCode.BadResponse, `expected SNMP messages from ${o.target}, found undecodable datagrams (${undecodable.message})`, { where, cause: undecodable });
    }
    const hint = o.credentials.version === '2c'
      ? 'a down or unreachable agent, a wrong community (v2c agents do not answer one) and lost datagrams look the same over UDP'
      : 'a down or unreachable agent, a wrong privKey (the agent cannot decrypt) and lost datagrams look the same over UDP';
    return new SourceError(SourceErrorCode.Timeout, `expected an answer to ${what} from udp:${o.host}:${o.port} within ${attemptMs}ms x ${o.retries + 1} attempts, found none (${hint})`, { where, cause: err });
  }
  if (err instanceof snmp.ResponseInvalidError) {
    const code = err.code;
    if (code === snmp.ResponseInvalidCode.EAuthFailure || code === snmp.ResponseInvalidCode.ECouldNotDecrypt) {
      const user = o.credentials.version === '3' ? o.credentials.user.name : '';
      return new SourceError(SourceErrorCode.PermissionDenied, `expected ${o.target} to accept SNMPv3 user ${JSON.stringify(user)}, found: ${message}`, { where, cause: err });
    }
    return new SourceError(SourceErrorCode.BadResponse, `expected a valid response to ${what} from ${o.target}, found: ${message}`, { where, cause: err });
  }
  if (err instanceof snmp.RequestFailedError) {
    const status = snmp.ErrorStatus[err.status] ?? String(err.status);
    if (PERMISSION_STATUSES.has(err.status)) {
      return new SourceError(SourceErrorCode.PermissionDenied, `expected ${o.target} to allow ${what}, found error-status ${status} (${message})`, { where, cause: err });
    }
    return new SourceError(SourceErrorCode.BadResponse, `expected error-status noError for ${what} from ${o.target}, found ${status} (${message})`, { where, cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNREFUSED', 'EADDRNOTAVAIL', 'EHOSTDOWN'].includes(code)) {
    return new SourceError(SourceErrorCode.Unreachable, `expected to send to ${o.target}, found ${code} (${message})`, { where, cause: err });
  }
  return new SourceError(SourceErrorCode.Failed, `expected ${what} on ${o.target} to complete, found: ${message}`, { where, cause: err });
}


function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : String(r);
}

// The agent's HTTP listener on node:http: GET /metrics (the prom-client registry) and
// GET /healthz (200 when the store is open and the loop runs, 503 with the reason otherwise).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage } from '../../common/errors.js';
import { parseListen } from './config-schema.js';
import { AgentError, AgentErrorCode } from './errors.js';

/** The agent's health as /healthz reports it. */
export interface AgentHealth {
  readonly ok: boolean;
  /** Why not, or what it is doing: `running`, `starting`, `stopping`, `no round since …`. */
  readonly reason: string;
}

export interface AgentHttpOptions {
  /** `host:port`; port 0 picks a free port (see `port` on the result). */
  readonly listen: string;
  readonly registry: Registry;
  readonly health: () => AgentHealth;
}

/** A listening server. */
export interface AgentHttp {
  readonly host: string;
  readonly port: number;
  /** Stops accepting and closes idle connections; resolves when closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the listener. Rejects with AgentError DW_AGENT_HTTP_LISTEN_FAILED when the address
 * cannot be bound (in use, not local, no permission).
 */
export async function startAgentHttp(options: AgentHttpOptions): Promise<AgentHttp> {
  const address = parseListen(options.listen);
  if (address === undefined) throw new AgentError(AgentErrorCode.HttpListenFailed, `expected host:port to listen on, found ${JSON.stringify(options.listen)}`);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${errorMessage(err)}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const h = options.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${h.ok ? 'ok' : 'unhealthy'}: ${h.reason}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AgentError(AgentErrorCode.HttpListenFailed,
      `expected to listen on ${options.listen}, found ${errorMessage(err)}`, { cause: err })));
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: bound.address,
    port: bound.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

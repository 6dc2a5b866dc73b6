// The aggregator's HTTP listener (fastify): its own routes, plus any plugins the caller adds —
// the fleet API and the Prometheus query API arrive that way (issue 5).
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { errorMessage } from '../../common/errors.js';
import { formatListen, parseListen } from '../../common/listen.js';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import { ApiError, ApiErrorCode } from './errors.js';
import { FLEET_ROUTES, fleetRoutes, type FleetRoutesOptions } from './fleet-routes.js';
import { healthRoutes, metricsRoutes, type HealthStatus } from './routes.js';

export interface AggregatorHttpOptions {
  /** `host:port`; port 0 picks a free port. */
  readonly listen: string;
  readonly registry: Registry;
  readonly health: () => HealthStatus;
  readonly ready: () => HealthStatus;
  /** The fleet API (/fleet/v1/*); without it those paths answer 404 DW_API_NOT_FOUND saying it is not enabled. */
  readonly fleet?: FleetRoutesOptions;
  /** More routes, registered after the aggregator's own. */
  readonly plugins?: readonly FastifyPluginAsync[];
}

export interface AggregatorHttp {
  readonly app: FastifyInstance;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and closes connections; idempotent. */
  close(): Promise<void>;
}

/** Starts the listener. Rejects with DW_AGGREGATOR_HTTP_LISTEN_FAILED when the address cannot be bound. */
export async function startAggregatorHttp(options: AggregatorHttpOptions): Promise<AggregatorHttp> {
  const address = parseListen(options.listen);
  if (address === undefined) throw new AggregatorError(AggregatorErrorCode.HttpListenFailed, `expected host:port to listen on, found ${JSON.stringify(options.listen)}`);
  // Query parameters are strings checked by the routes' schemas: nothing coerced, unknown
  // parameters refused rather than dropped, every problem reported, with the value found.
  const app = Fastify({ logger: false, forceCloseConnections: true, ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, verbose: true } } });
  await app.register(metricsRoutes(options.registry));
  await app.register(healthRoutes(options.health, options.ready));
  if (options.fleet !== undefined) await app.register(fleetRoutes(options.fleet));
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  app.setNotFoundHandler(async (req, reply) => {
    if (req.url.startsWith('/fleet/')) {
      const err = new ApiError(ApiErrorCode.NotFound, options.fleet === undefined
        ? `expected the fleet API, found it not enabled on this aggregator (GET ${req.url.split('?')[0]})`
        : `expected GET ${FLEET_ROUTES.join(', ')}, found ${req.method} ${req.url.split('?')[0]}`);
      return reply.code(err.status).send(err.body());
    }
    return reply.code(404).type('text/plain; charset=utf-8').send(`not found: ${req.method} ${req.url}; try /metrics, /healthz or /readyz${options.fleet === undefined ? '' : ' or /fleet/v1/'}\n`);
  });
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new AggregatorError(AggregatorErrorCode.HttpListenFailed, `expected to listen on ${options.listen}, found ${errorMessage(err)}`, { cause: err });
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  let closing: Promise<void> | undefined;
  return {
    app,
    host: address.host,
    port,
    url: `http://${formatListen({ host: address.host === '0.0.0.0' ? '127.0.0.1' : address.host, port })}`,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}

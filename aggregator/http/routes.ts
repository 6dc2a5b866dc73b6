// The aggregator's own HTTP routes: /metrics, /healthz, /readyz. Each is a fastify plugin, so
// that the fleet API (issue 5) registers beside them on the same instance.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

/** A health answer: ok, and why not (or what it is doing). */
export interface HealthStatus {
  readonly ok: boolean;
  readonly reason: string;
}

/** GET /metrics: the prom-client registry in the Prometheus text format. */
export function metricsRoutes(registry: Registry): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', async (_req, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  };
}

/**
 * GET /healthz (the process is alive and its storage open: 200, else 503) and GET /readyz (it
 * accepts uploads: 200; while starting or shutting down: 503). The body says why.
 */
export function healthRoutes(health: () => HealthStatus, ready: () => HealthStatus): FastifyPluginAsync {
  return async (app) => {
    const answer = (status: () => HealthStatus) => async (_req: unknown, reply: FastifyReply) => {
      const h = status();
      return reply.code(h.ok ? 200 : 503).type('text/plain; charset=utf-8').send(`${h.ok ? 'ok' : 'unavailable'}: ${h.reason}\n`);
    };
    app.get('/healthz', answer(health));
    app.get('/readyz', answer(ready));
  };
}

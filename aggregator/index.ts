// The aggregator: ingest (gRPC), its storage, its HTTP listener. See docs/aggregator.md.
export { startAggregator, type Aggregator, type AggregatorOptions, type CredentialSource } from './aggregator.js';
export { AggregatorError, AggregatorErrorCode } from './errors.js';
export { silentLogger, type AggregatorLogger } from './logger.js';
export { createAggregatorMetrics, type AggregatorGaugeSources, type AggregatorMetrics } from './metrics.js';
export { startAggregatorHttp, type AggregatorHttp, type AggregatorHttpOptions } from './http/server.js';
export { healthRoutes, metricsRoutes, type HealthStatus } from './http/routes.js';
export * from './ingest/index.js';
export * from './storage/index.js';
export {
  AGGREGATOR_CONFIG_ENV, AGGREGATOR_OVERRIDES, DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_LISTEN, DEFAULT_PARTIAL_TTL, LOG_LEVELS, aggregatorCrossFieldProblems,
  loadAggregatorConfig, parseAggregatorConfig, type AggregatorConfig,
} from './config.js';

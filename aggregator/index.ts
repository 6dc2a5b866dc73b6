// The aggregator: ingest (gRPC), its storage, its HTTP listener. See docs/aggregator.md.
export {
  startAggregator, type Aggregator, type AggregatorOptions, type CredentialSource, type FleetApi, type FleetDeps, type FleetFactory, type FleetSettings,
} from './aggregator.js';
export {
  createFleetService, FLEET_INDEX_SNAPSHOT_FILE, reindex, writeSnapshotFile, type FleetService, type FleetServiceOptions, type PolicySettings, type ReindexResult,
} from './fleet/index.js';
export { AggregatorError, AggregatorErrorCode } from './errors.js';
export { silentLogger, type AggregatorLogger } from './logger.js';
export { createAggregatorMetrics, type AggregatorGaugeSources, type AggregatorMetrics } from './metrics.js';
export { startAggregatorHttp, type AggregatorHttp, type AggregatorHttpOptions } from './http/server.js';
export { healthRoutes, metricsRoutes, type HealthStatus } from './http/routes.js';
export { FLEET_ROUTES, fleetRoutes, type FleetReports, type FleetRoutesOptions, type SiteQuery } from './http/fleet-routes.js';
export { API_ERROR_STATUS, ApiError, ApiErrorCode, FLEET_ERROR_API_CODES, isApiErrorCode, type ApiErrorBody } from './http/errors.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './http/fleet-params.js';
export { MAX_SELECTOR_CHARS } from './http/schemas.js';
export type {
  WireDriftRow, WireEvidence, WireFreshness, WirePage, WireSealCoverage, WireSiteDetail, WireSiteReport, WireSiteRow, WireStaleRow, WireTime,
  WireUpgradeRow, WireUpgradesPage,
} from './http/wire.js';
export * from './ingest/index.js';
export * from './storage/index.js';
export {
  AGGREGATOR_CONFIG_ENV, AGGREGATOR_OVERRIDES, DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_LISTEN, DEFAULT_PARTIAL_TTL, LOG_LEVELS, aggregatorCrossFieldProblems,
  loadAggregatorConfig, parseAggregatorConfig, type AggregatorConfig,
} from './config.js';

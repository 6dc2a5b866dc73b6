// The shipper component's public surface: ship sealed blocks from the edge store to the
// aggregator over gRPC. See docs/shipper.md.
export { createShipper, DEFAULT_RETRY_REJECTED_AFTER } from './shipper.js';
export type { HeartbeatOptions, Shipper, ShipperOptions, ShipperStatus } from './shipper.js';
export { MAX_HELLO_IDS } from './sync.js';
export type { SyncOutcome, SyncSkip, SyncSummary } from './sync.js';
export { createWake } from './run.js';
export { createShippingCompanion } from './companion.js';
export type { ShippingCompanion, ShippingCompanionOptions } from './companion.js';
export type { ShipperRunOptions, ShipperWake } from './run.js';
export type { LastError, ShipperLogger } from './context.js';
export type {
  ShipperBlockElsewhere, ShipperBlockInfo, ShipperMarkResult, ShipperReadResult, ShipperStore, ShipperStoreStats,
} from './store.js';
export { failed, success } from './transport.js';
export type {
  CallOptions, HeartbeatInfo, HeartbeatResult, HelloInfo, HelloResult, IngestTransport, RetryEvent, TransportResult,
  UploadBlock, UploadOptions, UploadResult,
} from './transport.js';
export { createGrpcTransport, createIngestClients, DEFAULT_CALL_TIMEOUTS, DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES, type IngestClients } from './grpc-transport.js';
export type { CallTimeouts, GrpcTls, GrpcTransportOptions } from './grpc-transport.js';
export { backoffDelay, DEFAULT_RETRY_POLICY, withRetry } from './retry.js';
export { errorFromStatus, type CallContext } from './grpc-status.js';
export type { RetryDeps, RetryPolicy } from './retry.js';
export { formatBandwidth, parseBandwidth, TokenBucket } from './bandwidth.js';
export type { TokenBucketOptions } from './bandwidth.js';
export { createShipperMetrics } from './metrics.js';
export type { ShipperMetrics } from './metrics.js';
export {
  DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_SYNC_INTERVAL, MIN_SHIPPING_INTERVAL, parseShippingConfig, resolveShipping,
  shippingConfigProblems, shippingConfigSchema, TOKEN_ENV,
} from './config.js';
export type { ResolvedShipping, ShippingConfig, ShippingEnv } from './config.js';
export { GRPC_STATUS_NAMES, isShipperError, ShipperError, ShipperErrorCode } from './errors.js';
export type { ShipperErrorDetails } from './errors.js';

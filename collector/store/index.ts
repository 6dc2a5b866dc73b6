// The edge store's public surface: open a store, append rounds, seal, compact, and the
// shipper's list/pin/read/mark-shipped. See docs/store.md.
export { openEdgeStore } from './store.js';
export type { EdgeStore, EdgeStoreStats, ListUnshippedOptions } from './store.js';
export type { EdgeStoreOptions, StoreWarning } from './options.js';
export type { StoreDb } from './context.js';
export { DEFAULT_BLOCK_DURATION, DEFAULT_COMPACTION_MAX_FLOAT_SAMPLES, DEFAULT_COMPACTION_WINDOWS, DEFAULT_DISK_BUDGET, DEFAULT_MAX_BLOCK_SPAN } from './options.js';
export type { BlockInfo } from './block-info.js';
export type { BlockElsewhere, ListOrder, MarkShippedResult, ReadBlockResult } from './shipping.js';
export type { CompactionResult } from './compact.js';
export type { StoreCounters } from './store-meta.js';
export { StoreError, StoreErrorCode } from './errors.js';

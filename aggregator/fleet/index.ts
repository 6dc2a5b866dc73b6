// The fleet's answers: the merge index over the stored blocks, and the drift, upgrades, stale and
// sites reports computed from it. See docs/reports.md.
export type * from './types.js';
export { FleetError, FleetErrorCode } from './errors.js';
export { parseSiteSelector } from './selector.js';
export { DEFAULT_FLOAT_SERIES, DEFAULT_FLOAT_SERIES_ID, type FloatSeriesFilter } from './block-changes.js';
export { FleetIndex, type BlockArrival, type FleetIndexCounters, type FleetIndexOptions, type FleetIndexStats, type FleetIndexWarning } from './merge-index.js';
export {
  encodeSnapshot, encodeSnapshotBuffer, FLEET_SNAPSHOT_END, FLEET_SNAPSHOT_MAGIC, FLEET_SNAPSHOT_VERSION, snapshotBlocker, snapshotMeta, type SnapshotContactsMeta, type SnapshotMeta,
} from './snapshot.js';
export { bufferSource, decodeSnapshot, fileSource, readSnapshot, type DecodedSnapshot, type SnapshotReadOptions, type SnapshotSource } from './snapshot-read.js';
export {
  FLEET_INDEX_SNAPSHOT_FILE, loadSnapshotFile, writeSnapshotFile, type LoadedSnapshot, type LoadSnapshotOptions, type SnapshotRejection,
} from './snapshot-file.js';
export type { AddBlockResult } from './site-data.js';
export { catchUp, reindex, type BlockSource, type CatchUpOptions, type CatchUpResult, type ReindexResult } from './catch-up.js';
export { ContactIndex, catchUpContacts, DEFAULT_CONTACT_RESOLUTION_MS, type ContactIndexOptions, type ContactSource, type ContactState } from './contacts.js';
export {
  SiteLabelIndex, catchUpSiteLabels, loadSiteLabels, staticSiteLabels, type SiteLabelChangeReader, type SiteLabelHistoryReader, type SiteLabelRecord, type SiteLabelSource,
} from './labels.js';
export type { FleetInputs } from './query.js';
export { driftReport } from './drift.js';
export { staleReport } from './stale.js';
export { sitesReport, siteDetail } from './sites.js';
export { upgradesReport, MAX_EVIDENCE } from './upgrades.js';
export { CRASH_RESTARTS, LOW_DISK_BYTES, LOW_DISK_SHARE, LOW_MEMORY_SHARE } from './upgrade-evidence.js';
export { createFleetMetrics, type FleetGaugeSources, type FleetMetrics } from './metrics.js';
export { describePolicySettings, openPolicies, type OpenedPolicies, type PolicySettings } from './policies.js';
export {
  createFleetService, DEFAULT_CATCH_UP_INTERVAL, DEFAULT_COMMIT_DELAY, DEFAULT_QUERY_WAIT, DEFAULT_SNAPSHOT_INTERVAL, type FleetService, type FleetServiceOptions,
  type FleetSnapshotOptions,
} from './service.js';

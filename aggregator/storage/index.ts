// The aggregator's storage: the interface, its level implementation, and the pieces another
// implementation would share (contact records, group commit). See docs/aggregator.md.
export type {
  AggregatorStorage, BlockMeta, BlockSummary, ClockOffset, ContactHistoryRecord, ContactReport, HeartbeatReport, HelloReport, HistoryRange,
  KnownAtOptions, ListBlocksOptions, PartialTarget, PartialUpload, PutBlockResult, RecordSiteLabelsResult, SiteContact, SiteLabels, StorageStats,
} from './storage.js';
export { openLevelStorage, type LevelStorageOptions } from './level-storage.js';
export { DEFAULT_GROUP_COMMIT, GroupCommit, type BatchObserver, type BatchOp, type GroupCommitOptions } from './group-commit.js';
export {
  CLOCK_OFFSET_WINDOW_MS, HISTORY_PERIOD_MS, MAX_ERROR_MESSAGE_CHARS, historyDue, measureOffset, nextClockOffset, nextContact,
} from './contact.js';
export type { StorageWarning } from './level-context.js';

// The fleet reports' error catalog (docs/reports.md#errors). Every error a caller of the merge
// index or the reports can meet carries one of these codes and says what was expected and found.
import { DriftwatchError } from '../../common/errors.js';

export const FleetErrorCode = {
  /** A site selector that is not Kubernetes label-selector syntax; points at the character. */
  BadSelector: 'DW_FLEET_BAD_SELECTOR',
  /** A query parameter out of range: `at`/`knownAt` not a time, `offset`/`limit` not counts. */
  BadQuery: 'DW_FLEET_BAD_QUERY',
  /** A site the center does not know of (no block, no contact) by the query's knownAt. */
  UnknownSite: 'DW_FLEET_UNKNOWN_SITE',
  /** An upgrades query naming a policy revision that is not in the history (by knownAt). */
  UnknownRevision: 'DW_FLEET_UNKNOWN_REVISION',
  /** An upgrades query naming a policy the revision did not change an expected value of. */
  UnknownPolicy: 'DW_FLEET_UNKNOWN_POLICY',
  /** A query whose knownAt is past what the index has caught up with: its answer could still change. */
  NotIndexed: 'DW_FLEET_NOT_INDEXED',
  /** (for developers) blocks given to the index out of arrival order. */
  ArrivalOrder: 'DW_FLEET_ARRIVAL_ORDER',
  /** (logged) an index snapshot that is not one, is truncated, or fails its checksum: moved aside, the index is rebuilt. */
  SnapshotCorrupt: 'DW_FLEET_SNAPSHOT_CORRUPT',
  /** (logged) an index snapshot of another format version (or a platform that cannot read one): not used, the index is rebuilt. */
  SnapshotUnsupported: 'DW_FLEET_SNAPSHOT_UNSUPPORTED',
  /** (logged) an index snapshot written with other index options, for another store, or ahead of the clock: not used, the index is rebuilt. */
  SnapshotMismatch: 'DW_FLEET_SNAPSHOT_MISMATCH',
} as const;

export type FleetErrorCode = (typeof FleetErrorCode)[keyof typeof FleetErrorCode];

/** An error of the merge index or a report: `code` from FleetErrorCode. */
export class FleetError extends DriftwatchError {
  declare readonly code: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'FleetError';
  }
}

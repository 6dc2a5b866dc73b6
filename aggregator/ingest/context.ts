// What the ingest handlers share: storage, credentials, clock, limits, admission, the uploads in
// progress, metrics and the logger.
import type { Clock } from '../../common/clock.js';
import type { AggregatorLogger } from '../logger.js';
import type { AggregatorMetrics } from '../metrics.js';
import type { AggregatorStorage } from '../storage/index.js';
import type { Admission } from './admission.js';
import type { Credentials } from './credentials.js';
import type { IngestLimits } from './limits.js';

/** An upload in progress that a newer upload of the same block, or shutdown, can end. */
export interface ActiveUpload {
  /**
   * Ends the upload with `failure` unless it is committing (then lets the commit finish), and
   * resolves once it no longer touches the storage.
   */
  stop(failure: Error): Promise<void>;
}

export interface IngestContext {
  readonly storage: AggregatorStorage;
  /** The credentials in force (reloadable: read on every call). */
  readonly credentials: () => Credentials;
  /** Arrival times and server times come from here. */
  readonly clock: Clock;
  readonly limits: IngestLimits;
  readonly admission: Admission;
  /** Uploads in progress by `<site>!<block id>`. */
  readonly uploads: Map<string, ActiveUpload>;
  readonly metrics: AggregatorMetrics | undefined;
  readonly logger: AggregatorLogger;
  /** True once shutdown began: new uploads are refused with UNAVAILABLE and a push-back. */
  readonly closing: () => boolean;
}

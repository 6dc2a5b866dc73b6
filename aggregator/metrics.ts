// The aggregator's own metrics (driftwatch_aggregator_*), created in one place on the registry
// the caller gives, served on /metrics. See docs/aggregator.md, "Metrics".
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Live values the gauges read when scraped. */
export interface AggregatorGaugeSources {
  activeUploads(): number;
  bufferedBytes(): number;
  sitesKnown(): number;
  partialUploads(): number;
}

export interface AggregatorMetrics {
  /** Blocks by outcome: stored (new), duplicate (already held), conflict (held with other bytes). */
  readonly blocks: Counter<'result'>;
  /** Rejected calls by DW_INGEST_* code and method. */
  readonly rejected: Counter<'code' | 'method'>;
  /** Bytes of blocks stored (new blocks only). */
  readonly storedBytes: Counter;
  /** Chunk bytes received, whatever became of them. */
  readonly receivedBytes: Counter;
  /** Samples in blocks stored (new blocks only), from their headers. */
  readonly samples: Counter;
  /** Time from Begin to the durable commit of an upload that stored a block. */
  readonly uploadDuration: Histogram;
  /** Hellos and heartbeats answered. */
  readonly calls: Counter<'method'>;
  /** Commits carried by each synced batch. */
  readonly commitBatchSize: Histogram;
  /** Time to write and fsync one batch. */
  readonly commitDuration: Histogram;
  /** Points the gauges at live values (undefined: report nothing). */
  setSources(sources: AggregatorGaugeSources | undefined): void;
}

/** Registers the aggregator's metrics on `registry`. Call once per registry (names are unique there). */
export function createAggregatorMetrics(registry: Registry): AggregatorMetrics {
  let sources: AggregatorGaugeSources | undefined;
  const registers = [registry];
  const gauge = (name: string, help: string, read: (s: AggregatorGaugeSources) => number): void => {
    new Gauge({
      name, help, registers,
      collect() {
        if (sources === undefined) this.reset();
        else this.set(read(sources));
      },
    });
  };
  gauge('driftwatch_aggregator_ingest_active_uploads', 'Uploads in progress (past Begin, not yet stored or failed).', (s) => s.activeUploads());
  gauge('driftwatch_aggregator_ingest_buffered_bytes', 'Declared bytes of the uploads in progress, held in memory to be verified.', (s) => s.bufferedBytes());
  gauge('driftwatch_aggregator_sites_known', 'Sites with a stored block or a recorded hello or heartbeat.', (s) => s.sitesKnown());
  gauge('driftwatch_aggregator_ingest_partial_uploads', 'Blocks held in part, resumable.', (s) => s.partialUploads());
  const blocks = new Counter({ name: 'driftwatch_aggregator_ingest_blocks_total', help: 'Uploads that ended with a block held, by result: stored, duplicate, conflict.', labelNames: ['result'] as const, registers });
  for (const result of ['stored', 'duplicate', 'conflict']) blocks.inc({ result }, 0);
  return {
    blocks,
    rejected: new Counter({ name: 'driftwatch_aggregator_ingest_rejected_total', help: 'Calls that failed, by DW_INGEST_* code and method.', labelNames: ['code', 'method'] as const, registers }),
    storedBytes: new Counter({ name: 'driftwatch_aggregator_ingest_stored_bytes_total', help: 'Bytes of new blocks stored.', registers }),
    receivedBytes: new Counter({ name: 'driftwatch_aggregator_ingest_received_bytes_total', help: 'Chunk bytes received.', registers }),
    samples: new Counter({ name: 'driftwatch_aggregator_ingest_samples_total', help: 'Samples in new blocks stored (from their headers).', registers }),
    uploadDuration: new Histogram({
      name: 'driftwatch_aggregator_ingest_upload_duration_seconds', help: 'Time from Begin to the durable commit of uploads that stored a block.', registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    }),
    calls: new Counter({ name: 'driftwatch_aggregator_ingest_calls_total', help: 'Hello and Heartbeat calls answered OK, by method.', labelNames: ['method'] as const, registers }),
    commitBatchSize: new Histogram({
      name: 'driftwatch_aggregator_storage_commit_batch_commits', help: 'Commits (blocks, contact records) carried by each synced batch of the group commit.', registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    }),
    commitDuration: new Histogram({
      name: 'driftwatch_aggregator_storage_commit_duration_seconds', help: 'Time to write and fsync one batch.', registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    }),
    setSources(s) {
      sources = s;
    },
  };
}

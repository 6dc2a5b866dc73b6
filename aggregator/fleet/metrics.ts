// The fleet service's metrics (driftwatch_aggregator_fleet_*), created in one place on the
// aggregator's registry, served on /metrics. See docs/aggregator.md, "Metrics".
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FleetIndexStats } from './merge-index.js';

/** Live values the gauges read when scraped. */
export interface FleetGaugeSources {
  stats(): FleetIndexStats;
  /** The arrival time every report can answer for (ms; -1 before the first catch-up). */
  indexedThrough(): number;
  /** The aggregator's clock (ms). */
  now(): number;
}

export interface FleetMetrics {
  /** One catch-up of the index, contacts and labels (seconds), by trigger. */
  readonly catchUpDuration: Histogram<'trigger'>;
  /** Blocks read by catch-ups. */
  readonly catchUpBlocks: Counter;
  /** Catch-ups that failed (retried at the next trigger). */
  readonly catchUpFailures: Counter;
  /** The start (seconds): loading the snapshot and catching up, or the reindex; 0 until it finished. */
  readonly startupReindex: Gauge;
  /** Blocks the start took from the snapshot (`snapshot`) and read from the store (`store`). */
  readonly startupBlocks: Gauge<'source'>;
  /** Snapshot loads at start by outcome: `loaded`, `missing`, or why it was not used (SnapshotRejection). */
  readonly snapshotLoads: Counter<'outcome'>;
  /** Snapshot writes by outcome (`ok`, `failed`). */
  readonly snapshotWrites: Counter<'outcome'>;
  /** The last snapshot written: how long it took (seconds). */
  readonly snapshotWriteSeconds: Gauge;
  /** The size of the last snapshot written or loaded (bytes). */
  readonly snapshotBytes: Gauge;
  /** The watermark of the last snapshot written or loaded (seconds since the epoch). */
  readonly snapshotIndexedThrough: Gauge;
  /** Report queries by report and outcome (`ok`, or the error code). */
  readonly queries: Counter<'report' | 'outcome'>;
  /** Time to answer a report, catch-up on demand included. */
  readonly queryDuration: Histogram<'report'>;
  /** Points the gauges at live values (undefined: report nothing). */
  setSources(sources: FleetGaugeSources | undefined): void;
}

/** Registers the fleet metrics on `registry`. Call once per registry (names are unique there). */
export function createFleetMetrics(registry: Registry): FleetMetrics {
  let sources: FleetGaugeSources | undefined;
  const registers = [registry];
  // One stats() per scrape serves every index gauge.
  let scraped: { at: number; stats: FleetIndexStats } | undefined;
  const stats = (s: FleetGaugeSources): FleetIndexStats => {
    const now = performance.now();
    if (scraped === undefined || now - scraped.at > 100) scraped = { at: now, stats: s.stats() };
    return scraped.stats;
  };
  const gauge = (name: string, help: string, read: (s: FleetGaugeSources) => number): void => {
    new Gauge({
      name, help, registers,
      collect() {
        if (sources === undefined) this.reset();
        else this.set(read(sources));
      },
    });
  };
  gauge('driftwatch_aggregator_fleet_index_sites', 'Sites with a block in the fleet index.', (s) => stats(s).sites);
  gauge('driftwatch_aggregator_fleet_index_series', '(site, series) pairs held by the fleet index.', (s) => stats(s).siteSeries);
  gauge('driftwatch_aggregator_fleet_index_bytes', 'Bytes of the fleet index\'s per-site typed arrays (value intervals and round runs); strings, events and block records come on top.',
    (s) => stats(s).typedArrayBytes);
  gauge('driftwatch_aggregator_fleet_index_blocks', 'Blocks indexed (duplicates and skipped ones not included).', (s) => stats(s).blocks);
  gauge('driftwatch_aggregator_fleet_index_skipped_blocks', 'Stored blocks the index skipped: they did not decode, named another site, or could not be read.', (s) => stats(s).skippedBlocks);
  gauge('driftwatch_aggregator_fleet_indexed_through_timestamp_seconds', 'The arrival time the reports can answer for: the default known_at.', (s) => Math.max(0, s.indexedThrough()) / 1000);
  gauge('driftwatch_aggregator_fleet_catchup_lag_seconds', 'The aggregator\'s clock minus the arrival time the reports can answer for.',
    (s) => (s.indexedThrough() < 0 ? 0 : Math.max(0, s.now() - s.indexedThrough()) / 1000));
  return {
    catchUpDuration: new Histogram({
      name: 'driftwatch_aggregator_fleet_catchup_duration_seconds', help: 'One catch-up of the fleet index, contacts and labels with the store, by trigger (start, commit, interval, query).',
      labelNames: ['trigger'] as const, registers, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600, 3600],
    }),
    catchUpBlocks: new Counter({ name: 'driftwatch_aggregator_fleet_catchup_blocks_total', help: 'Stored blocks read into the fleet index.', registers }),
    catchUpFailures: new Counter({ name: 'driftwatch_aggregator_fleet_catchup_failures_total', help: 'Catch-ups of the fleet index that failed; the next trigger retries.', registers }),
    startupReindex: new Gauge({
      name: 'driftwatch_aggregator_fleet_startup_reindex_seconds', help: 'How long the start of the fleet index took: loading the snapshot and catching up, or the reindex of the stored blocks (0 until it finished).', registers,
    }),
    startupBlocks: new Gauge({
      name: 'driftwatch_aggregator_fleet_startup_blocks', help: 'Blocks the start of the fleet index took from the snapshot (source="snapshot") and read from the store (source="store").',
      labelNames: ['source'] as const, registers,
    }),
    snapshotLoads: new Counter({
      name: 'driftwatch_aggregator_fleet_snapshot_loads_total', help: 'Fleet index snapshot loads at start by outcome: loaded, missing, or why it was not used (corrupt, unsupported_version, options_mismatch, store_mismatch, clock_behind, unreadable).',
      labelNames: ['outcome'] as const, registers,
    }),
    snapshotWrites: new Counter({ name: 'driftwatch_aggregator_fleet_snapshot_writes_total', help: 'Fleet index snapshot writes by outcome (ok, failed).', labelNames: ['outcome'] as const, registers }),
    snapshotWriteSeconds: new Gauge({ name: 'driftwatch_aggregator_fleet_snapshot_write_seconds', help: 'How long the last fleet index snapshot took to write.', registers }),
    snapshotBytes: new Gauge({ name: 'driftwatch_aggregator_fleet_snapshot_bytes', help: 'The size of the last fleet index snapshot written or loaded.', registers }),
    snapshotIndexedThrough: new Gauge({
      name: 'driftwatch_aggregator_fleet_snapshot_indexed_through_timestamp_seconds', help: 'The watermark of the last fleet index snapshot written or loaded: a start catches up from there.', registers,
    }),
    queries: new Counter({ name: 'driftwatch_aggregator_fleet_queries_total', help: 'Report queries by report and outcome (ok, or the error code).', labelNames: ['report', 'outcome'] as const, registers }),
    queryDuration: new Histogram({
      name: 'driftwatch_aggregator_fleet_query_duration_seconds', help: 'Time to answer a report query, a catch-up on demand included.',
      labelNames: ['report'] as const, registers, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    setSources(s) {
      sources = s;
    },
  };
}

// The shipper's own metrics (driftwatch_shipper_*), created in one place on the registry the
// command builds.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ShipperStoreStats } from './store.js';

/** The shipper's metrics. Backlog gauges read the store's stats when scraped. */
export interface ShipperMetrics {
  /** Blocks the center acknowledged, by how: `stored`, `duplicate` (it had them), `held` (Hello said so). */
  readonly blocksShipped: Counter<'result'>;
  /** Block bytes handed to the connection (after the bandwidth cap), resent bytes included. */
  readonly bytesSent: Counter;
  /** Retries by the DW_SHIP_* code of the failure before them. */
  readonly retries: Counter<'code'>;
  /** Failed calls and skipped blocks by DW_SHIP_* code (every failed attempt, retried or not). */
  readonly errors: Counter<'code'>;
  /** Heartbeats by result: `ok` or `failed`. */
  readonly heartbeats: Counter<'result'>;
  /** The center's clock minus the agent's, as the last Hello or Heartbeat measured it. */
  readonly clockOffset: Gauge;
  /** When the last sync that reached the center finished (unix seconds). */
  readonly lastSyncSuccess: Gauge;
  /** Points the backlog gauges at a store's stats (undefined: none). */
  setStore(stats: (() => ShipperStoreStats) | undefined, now: () => number): void;
}

/** Registers the shipper's metrics on `registry`. Call once per registry (names must be unique there). */
export function createShipperMetrics(registry: Registry): ShipperMetrics {
  const registers = [registry];
  let stats: (() => ShipperStoreStats) | undefined;
  let now: () => number = () => Date.now();
  const backlog = (name: string, help: string, read: (s: ShipperStoreStats, now: number) => number): void => {
    new Gauge({
      name, help, registers,
      collect() {
        if (stats === undefined) this.reset();
        else this.set(read(stats(), now()));
      },
    });
  };
  backlog('driftwatch_shipper_backlog_blocks', 'Sealed blocks the center has not acknowledged.', (s) => s.unshippedBlocks);
  backlog('driftwatch_shipper_backlog_bytes', 'Bytes of the sealed blocks the center has not acknowledged.', (s) => s.unshippedBytes);
  backlog('driftwatch_shipper_backlog_age_seconds', 'Age of the oldest unacknowledged block\'s first time (0: no backlog).',
    (s, t) => (s.oldestUnshippedMinT === undefined ? 0 : Math.max(0, (t - s.oldestUnshippedMinT) / 1000)));
  return {
    blocksShipped: new Counter({ name: 'driftwatch_shipper_blocks_shipped_total', help: 'Blocks the center acknowledged, by result (stored, duplicate, held).', labelNames: ['result'] as const, registers }),
    bytesSent: new Counter({ name: 'driftwatch_shipper_bytes_sent_total', help: 'Block bytes sent to the center, resent bytes included.', registers }),
    retries: new Counter({ name: 'driftwatch_shipper_retries_total', help: 'Calls retried, by the DW_SHIP_* code of the failure before.', labelNames: ['code'] as const, registers }),
    errors: new Counter({ name: 'driftwatch_shipper_errors_total', help: 'Failed calls and skipped blocks, by DW_SHIP_* code.', labelNames: ['code'] as const, registers }),
    heartbeats: new Counter({ name: 'driftwatch_shipper_heartbeats_total', help: 'Heartbeats sent, by result (ok, failed).', labelNames: ['result'] as const, registers }),
    clockOffset: new Gauge({ name: 'driftwatch_shipper_clock_offset_seconds', help: 'The center\'s clock minus the agent\'s, measured by the last Hello or Heartbeat.', registers }),
    lastSyncSuccess: new Gauge({ name: 'driftwatch_shipper_last_sync_success_timestamp_seconds', help: 'When the last sync that reached the center finished.', registers }),
    setStore(s, n) {
      stats = s;
      now = n;
    },
  };
}

// The agent's own metrics (driftwatch_agent_*), created in one place on the registry the
// command builds, served on /metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EdgeStoreStats } from '../store/index.js';

/** The agent's metrics. Store gauges read `store()` when scraped (stats() is cheap). */
export interface AgentMetrics {
  readonly roundDuration: Histogram;
  readonly sourceErrors: Counter<'source' | 'code'>;
  readonly rounds: Counter;
  readonly roundsMissed: Counter;
  readonly blocksSealed: Counter;
  /** Points the store gauges at a store's stats (undefined: the store is not open). */
  setStore(stats: (() => EdgeStoreStats) | undefined): void;
}

/** Registers the agent's metrics on `registry`. Call once per registry (names must be unique there). */
export function createAgentMetrics(registry: Registry): AgentMetrics {
  let stats: (() => EdgeStoreStats) | undefined;
  const registers = [registry];
  const storeGauge = (name: string, help: string, read: (s: EdgeStoreStats) => number): void => {
    new Gauge({
      name, help, registers,
      collect() {
        if (stats === undefined) this.reset();
        else this.set(read(stats()));
      },
    });
  };
  storeGauge('driftwatch_agent_store_stored_bytes', 'Logical bytes the edge store holds (blocks, quarantined blocks, head); retention keeps it within the disk budget.', (s) => s.storedBytes);
  storeGauge('driftwatch_agent_store_unshipped_blocks', 'Sealed blocks not yet shipped to the center.', (s) => s.unshippedBlocks);
  storeGauge('driftwatch_agent_store_quarantined_blocks', 'Blocks in quarantine (failed to decode), kept for diagnosis.', (s) => s.quarantinedBlocks);
  storeGauge('driftwatch_agent_store_disk_budget_bytes', 'The edge store\'s disk budget.', (s) => s.diskBudget);
  return {
    roundDuration: new Histogram({
      name: 'driftwatch_agent_round_duration_seconds', help: 'Time from a round\'s start to its durable append in the store.', registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    sourceErrors: new Counter({ name: 'driftwatch_agent_source_errors_total', help: 'Failed collections by source and DW_SOURCE_* code.', labelNames: ['source', 'code'] as const, registers }),
    rounds: new Counter({ name: 'driftwatch_agent_rounds_total', help: 'Rounds sampled and appended to the store.', registers }),
    roundsMissed: new Counter({ name: 'driftwatch_agent_rounds_missed_total', help: 'Aligned rounds skipped because the process was suspended or a round overran (recorded as agent_gap events).', registers }),
    blocksSealed: new Counter({ name: 'driftwatch_agent_blocks_sealed_total', help: 'Blocks sealed from the head by this process.', registers }),
    setStore(s) {
      stats = s;
    },
  };
}

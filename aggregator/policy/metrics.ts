// The policy sources' metrics (driftwatch_aggregator_policy_*), created in one place on the
// registry the aggregator command builds.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReloadResult } from './source.js';

/** What a policy source reports after each reload. */
export interface PolicyMetrics {
  reloaded(source: 'directory' | 'git', result: ReloadResult): void;
}

/** Registers the policy metrics on `registry`. Call once per registry (names must be unique there). */
export function createPolicyMetrics(registry: Registry): PolicyMetrics {
  const registers = [registry];
  const reloads = new Counter({
    name: 'driftwatch_aggregator_policy_reloads_total',
    help: 'Completed policy reloads by source kind and outcome (changed, unchanged, invalid, failed).',
    labelNames: ['source', 'outcome'] as const, registers,
  });
  const rejected = new Counter({
    name: 'driftwatch_aggregator_policy_rejected_total',
    help: 'Policy sets (a directory\'s content, a git commit) rejected as invalid; the previous revision stayed in force.',
    labelNames: ['source'] as const, registers,
  });
  const revisions = new Counter({
    name: 'driftwatch_aggregator_policy_revisions_total',
    help: 'Policy revisions added to the history.',
    labelNames: ['source'] as const, registers,
  });
  const inForce = new Gauge({
    name: 'driftwatch_aggregator_policy_revision_effective_timestamp_seconds',
    help: 'When the latest policy revision took effect (its effectiveAt).',
    labelNames: ['source'] as const, registers,
  });
  return {
    reloaded(source, r) {
      reloads.inc({ source, outcome: r.outcome });
      if (r.rejected.length > 0) rejected.inc({ source }, r.rejected.length);
      if (r.added.length > 0) revisions.inc({ source }, r.added.length);
      if (r.inForce !== undefined) inForce.set({ source }, r.inForce.effectiveAt / 1000);
    },
  };
}

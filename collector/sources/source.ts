// The one interface every source implements: collect within a deadline → series values and events.
import type { Clock } from '../../common/clock.js';
import type { BlockEvent, Sample } from '../../proto/index.js';

/** What a source found in one collection. */
export interface SourceResult {
  /**
   * Series values. Names follow kube-state-metrics and node_exporter where those have one;
   * string series carry their value as the value. A series a source cannot see this time is
   * left out (absent), never repeated from an earlier collection.
   */
  readonly samples: Sample[];
  /** Things that happened (Kubernetes warning events, a reboot seen by the host source, ...). */
  readonly events: BlockEvent[];
}

/** What a collection gets from the sampler. */
export interface CollectContext {
  /** Aborted when the deadline passes or the agent stops: stop work and release sockets. */
  readonly signal: AbortSignal;
  /** The round's time (ms since the epoch): the `t` the samples will be stored at. */
  readonly roundTime: number;
  /** When the collection must be finished, by `now()`. */
  readonly deadline: number;
  /** The injected clock. */
  readonly now: () => number;
}

/**
 * A source: one configured thing to sample (a Kubernetes cluster, this host, a router, an
 * exporter, a command). `collect` rejects (or throws) with a DriftwatchError whose code names the
 * failure (`DW_SOURCE_*`, see docs/errors.md) when the target is down, times out, answers
 * garbage or refuses permission; the sampler turns that into a `source_error` event and
 * `driftwatch_source_up{source} 0`, and the other sources go on. A source must honour `signal`.
 * `collect` is never called again before the previous call settled. `close` releases
 * connections and watches; no `collect` follows it.
 */
export interface Source {
  /** The instance name from the config (`k8s`, `router-1`, `node`): the `source` label. */
  readonly name: string;
  /** The kind: kubernetes, host, snmp, prometheus, exec. */
  readonly kind: string;
  collect(ctx: CollectContext): Promise<SourceResult>;
  close?(): Promise<void>;
}

/** A structured logger (pino's shape): fields first, then a lowercase message. */
export interface SourceLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** What the agent gives every source factory. */
export interface SourceDeps {
  readonly clock: Clock;
  readonly logger: SourceLogger;
}

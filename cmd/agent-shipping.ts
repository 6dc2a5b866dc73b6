// The agent's shipping: the shipper run beside the collector loop on the agent's store, when the
// config has a `shipping:` section. The collector and the shipper do not know each other; this
// is where they meet (docs/shipper.md, "In the agent").
import type { Registry } from 'prom-client';
import type { AgentCompanion, AgentLogger, ConfigSection } from '../collector/agent/index.js';
import type { Clock } from '../common/clock.js';
import { seededRandom, type Random } from '../common/random.js';
import { systemTimers, type Timers } from '../common/timers.js';
import {
  createGrpcTransport, createShipper, createShippingCompanion, resolveShipping, shippingConfigProblems, shippingConfigSchema, withRetry,
  type ShippingConfig, type ShippingEnv,
} from '../shipper/index.js';

/** How long the agent keeps trying to ship its last block on stop before it closes the store. */
export const FINAL_SYNC_MS = 5_000;

/** The `shipping:` section, for loadAgentConfig's `sections`. */
export function shippingSection(env: ShippingEnv): ConfigSection {
  return { schema: shippingConfigSchema, problems: (raw) => shippingConfigProblems(raw, env) };
}

export interface AgentShippingOptions {
  readonly config: ShippingConfig;
  readonly env: ShippingEnv;
  readonly siteId: string;
  readonly siteLabels: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly timers?: Timers;
  readonly logger: AgentLogger;
  readonly registry?: Registry;
  readonly version: string;
  /** Jitter of the retries; default crypto-seeded. */
  readonly random?: Random;
  /** How long to keep trying on stop; default FINAL_SYNC_MS. */
  readonly finalSyncMs?: number;
}

/**
 * Resolves the section (reads the token and CA files: DW_SHIP_* errors) and returns the
 * companion that runs the shipper: its loop from the store's opening, a wake on every sealed
 * block, and on stop one last sync of at most finalSyncMs before the store closes.
 */
export async function createAgentShipping(o: AgentShippingOptions): Promise<AgentCompanion & { readonly description: string }> {
  const resolved = await resolveShipping(o.config, o.env);
  for (const w of resolved.warnings) o.logger.warn({}, w);
  const timers = o.timers;
  const inner = createGrpcTransport({ ...resolved.transport, clock: o.clock, ...(timers === undefined ? {} : { timers }) });
  const random = o.random ?? seededRandom(Math.floor(Math.random() * 2 ** 31));
  const transport = withRetry(inner, resolved.retry, { clock: o.clock, timers: timers ?? systemTimers(o.clock), random });
  const companion = createShippingCompanion({
    transport, run: resolved.run, logger: o.logger, finalSyncMs: o.finalSyncMs ?? FINAL_SYNC_MS,
    shipper: (store) => {
      o.logger.info({ aggregator: resolved.description }, 'shipping to the aggregator');
      return createShipper({
        store, transport, siteId: o.siteId, clock: o.clock, logger: o.logger, agentVersion: o.version, agentStartTime: o.clock.now(),
        ...(o.registry === undefined ? {} : { registry: o.registry }),
        ...(timers === undefined ? {} : { timers }),
        siteLabels: o.siteLabels,
      });
    },
  });
  return { description: resolved.description, ...companion };
}


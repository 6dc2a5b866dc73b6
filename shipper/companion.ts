// The shipper beside an agent's round loop: run from the moment the store opens, woken by every
// sealed block, stopped — after one last sync when asked for — before the store closes. The
// shape is the collector's AgentCompanion (which the shipper does not import); the agent
// (cmd/agent-shipping.ts) and the fleet simulator (simulator/fleet.ts) both run it.
import { errorMessage } from '../common/errors.js';
import type { ShipperLogger } from './context.js';
import { createWake, type ShipperRunOptions } from './run.js';
import type { Shipper } from './shipper.js';
import type { ShipperStore } from './store.js';
import type { IngestTransport } from './transport.js';

export interface ShippingCompanionOptions {
  /** Makes the shipper once the store is open. */
  readonly shipper: (store: ShipperStore) => Shipper;
  /** The shipper's transport: closed on stop. */
  readonly transport: IngestTransport;
  /** The run loop's intervals. */
  readonly run: Omit<ShipperRunOptions, 'wake' | 'lastRoundTime'>;
  readonly logger: ShipperLogger;
  /** On stop, one last sync of at most this many ms before the store closes. Default: none. */
  readonly finalSyncMs?: number;
  /** Called on every sealed block, before the shipper is woken. */
  readonly onSealed?: () => void;
}

/** An AgentCompanion (structurally) that runs a shipper on the agent's store. */
export interface ShippingCompanion {
  start(store: ShipperStore, agent: { lastRoundTime(): number | undefined }): void;
  sealed(): void;
  stop(): Promise<void>;
}

export function createShippingCompanion(o: ShippingCompanionOptions): ShippingCompanion {
  const wake = createWake();
  const loop = new AbortController();
  let running: Promise<void> | undefined;
  let shipper: Shipper | undefined;
  return {
    start(store, agent) {
      shipper = o.shipper(store);
      running = shipper.run(loop.signal, { ...o.run, wake, lastRoundTime: () => agent.lastRoundTime() }).catch((err: unknown) => {
        o.logger.error({ err: errorMessage(err) }, 'the shipper loop failed; blocks stay in the store and ship on the next start');
      });
    },
    sealed() {
      o.onSealed?.();
      wake.notify();
    },
    async stop() {
      loop.abort(new Error('agent stopping'));
      await running;
      if (shipper !== undefined && o.finalSyncMs !== undefined) {
        try {
          const s = await shipper.sync(AbortSignal.timeout(o.finalSyncMs));
          o.logger.info({ outcome: s.outcome, shipped: s.shipped.length }, 'last sync before stopping');
        } catch (err) {
          o.logger.warn({ err: errorMessage(err) }, 'last sync before stopping failed; the blocks ship on the next start');
        }
      }
      o.transport.close();
    },
  };
}

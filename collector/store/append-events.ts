// Events that belong to no round (the agent stopping between rounds): stored as pending events
// in one synced batch, taken by the next sealed block with their own times.
import type { BlockEvent } from '../../proto/index.js';
import { writeBatch, type StoreContext } from './context.js';
import { StoreError, StoreErrorCode } from './errors.js';
import { pendingEventOp } from './events.js';
import { checkEvents, MAX_PROBLEMS } from './validate-round.js';

/**
 * Validates `events` and stores them durably as pending events. Throws DW_STORE_INVALID_EVENTS
 * listing the first problems (nothing written); an empty list writes nothing.
 */
export async function appendPendingEvents(ctx: StoreContext, events: readonly BlockEvent[]): Promise<void> {
  const problems: string[] = [];
  const copies = checkEvents(events, 'events', problems);
  if (problems.length > 0) {
    throw new StoreError(StoreErrorCode.InvalidEvents, `events: ${problems.slice(0, MAX_PROBLEMS).join('; ')}`, 'appendEvents');
  }
  if (copies.length === 0) return;
  const made = copies.map((e) => pendingEventOp(ctx, e, true));
  await writeBatch(ctx, made.map((m) => m.op));
  ctx.pendingEvents.push(...made.map((m) => m.pending));
}

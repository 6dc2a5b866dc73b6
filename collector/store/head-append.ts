// Appending a round: validate and plan it against the head, seal the head first if the round
// cannot join it, then write the round's delta record (and any new series definitions) in one
// synced batch, and apply the plan to the head once that is durable.
import type { Round } from '../../proto/index.js';
import type { BlockInfo } from './block-info.js';
import { warn, writeBatch, type StoreContext } from './context.js';
import { encodeHeadDelta, encodeSeriesDef } from './head-codec.js';
import { headRoundKey, seriesDefKey } from './keys.js';
import { sealHead } from './seal.js';

/** Approximate bytes of a key and value as stored (LevelDB's own overhead not counted). */
function opBytes(key: string, value: Uint8Array): number {
  return key.length + value.length;
}

/**
 * Appends `round` durably. Returns the block sealed on the way (the round crossed the head's
 * block end, stepped back in time, or changed a series' type), if any. Throws
 * DW_STORE_INVALID_ROUND, with nothing written, for a round that cannot be stored.
 */
export async function appendToHead(ctx: StoreContext, round: Round): Promise<BlockInfo | undefined> {
  const { head } = ctx;
  let planned = head.plan(round);
  if (ctx.lastAppendedT !== undefined && round.t <= ctx.lastAppendedT) {
    warn(ctx, { t: round.t, lastT: ctx.lastAppendedT }, 'round time stepped back: sealed the head and started a new one; blocks may overlap in time');
  }
  let sealed: BlockInfo | undefined;
  if (planned.kind === 'seal') {
    sealed = await sealHead(ctx, planned.reason);
    planned = head.plan(round);
    // An empty head takes any valid round; a head the seal could not empty is a bug.
    if (planned.kind === 'seal') throw new Error(`store: the head still refuses the round at t=${round.t} after sealing it (${planned.reason})`);
  }
  const plan = planned.plan;
  const key = headRoundKey(round.t);
  const record = encodeHeadDelta(plan.delta, (ref) => head.previous(ref));
  const ops: { type: 'put'; key: string; value: Uint8Array }[] = plan.newDefs.map((def) => ({ type: 'put', key: seriesDefKey(def.ref), value: encodeSeriesDef(def) }));
  ops.push({ type: 'put', key, value: record });
  await writeBatch(ctx, ops);
  const sizes = ops.map((op) => opBytes(op.key, op.value));
  head.commit(plan, sizes.pop()!, sizes);
  ctx.lastAppendedT = round.t;
  return sealed;
}

// Appending a round: validate, seal the head first if the round cannot join it, then write the
// round's delta record (and any new series definitions) in one synced batch.
import type { Round } from '../../proto/index.js';
import type { BlockInfo } from './block-info.js';
import { warn, writeBatch, type StoreContext } from './context.js';
import { encodeHeadDelta, encodeSeriesDef } from './head-codec.js';
import { headRoundKey, seriesDefKey } from './keys.js';
import { sealHead } from './seal.js';
import { validateRound } from './validate-round.js';

/** Approximate bytes of a key and value as stored (LevelDB's own overhead not counted). */
function opBytes(key: string, value: Uint8Array): number {
  return key.length + value.length;
}

/**
 * Appends `round` durably. Returns the block sealed on the way (the round crossed the head's
 * block end, stepped back in time, or changed a series' type), if any.
 */
export async function appendToHead(ctx: StoreContext, round: Round): Promise<BlockInfo | undefined> {
  const keys = validateRound(round);
  const { head } = ctx;
  const reason = head.sealReason(round, keys);
  if (ctx.lastAppendedT !== undefined && round.t <= ctx.lastAppendedT) {
    warn(ctx, { t: round.t, lastT: ctx.lastAppendedT }, 'round time stepped back: sealed the head and started a new one; blocks may overlap in time');
  }
  const sealed = reason === undefined ? undefined : await sealHead(ctx, reason);
  const plan = head.plan(round, keys);
  const key = headRoundKey(round.t);
  const record = encodeHeadDelta(plan.delta, (ref) => head.last.get(ref));
  const ops: { type: 'put'; key: string; value: Uint8Array }[] = plan.newDefs.map((def) => ({ type: 'put', key: seriesDefKey(def.ref), value: encodeSeriesDef(def) }));
  ops.push({ type: 'put', key, value: record });
  await writeBatch(ctx, ops);
  const sizes = ops.map((op) => opBytes(op.key, op.value));
  head.commit(plan, sizes.pop()!, sizes);
  ctx.lastAppendedT = round.t;
  return sealed;
}

// Rebuilding the head on open: load the series definitions, then apply every head record in
// time order. The first record that does not decode or does not fit is quarantined together
// with every record after it (their deltas depend on it), with a data_dropped event.
import { warn, type StoreContext } from './context.js';
import { decodeHeadDelta, decodeSeriesDef, HeadRecordError } from './head-codec.js';
import { HEAD_PREFIX, headRoundTime, prefixRange, SERIES_PREFIX } from './keys.js';
import { quarantineHeadFrom } from './quarantine.js';

/** Replays the stored head into `ctx.head`. Returns the number of rounds replayed. */
export async function replayHead(ctx: StoreContext): Promise<number> {
  const { head } = ctx;
  for await (const [key, value] of ctx.db.iterator(prefixRange(SERIES_PREFIX))) {
    const ref = parseInt(key.slice(SERIES_PREFIX.length), 16);
    try {
      head.loadDef(decodeSeriesDef(ref, value), key.length + value.length);
    } catch (err) {
      if (!(err instanceof HeadRecordError)) throw err;
      // A round that uses it will not replay and is quarantined below.
      warn(ctx, { ref, err: err.message }, 'unreadable series definition skipped');
    }
  }
  let bad: { t: number; message: string } | undefined;
  for await (const [key, value] of ctx.db.iterator(prefixRange(HEAD_PREFIX))) {
    const t = headRoundTime(key);
    let result: string | undefined;
    try {
      result = head.replay(t, decodeHeadDelta(value, (ref) => head.previous(ref)), key.length + value.length);
    } catch (err) {
      if (!(err instanceof HeadRecordError)) throw err;
      result = err.message;
    }
    if (typeof result === 'string') {
      bad = { t, message: result };
      break;
    }
  }
  if (bad !== undefined) await quarantineHeadFrom(ctx, bad.t, 'corrupt_head', bad.message);
  return head.roundCount;
}

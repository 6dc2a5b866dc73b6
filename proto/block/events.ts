import { BlockErrorCode, BlockFormatError } from './errors.js';
import { canonicalLabels } from './labels.js';
import type { BlockEvent } from './types.js';

function isTime(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
}

/** Validates an event given to the builder or encoder and returns its canonical copy. */
export function checkEvent(e: BlockEvent, where: string): BlockEvent {
  const bad = (what: string, found: unknown): never => {
    throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected ${what}, found ${JSON.stringify(found)}`, where);
  };
  if (!isTime(e.t)) bad('an event time in whole milliseconds >= 0', e.t);
  if (typeof e.kind !== 'string' || e.kind === '') bad('a non-empty event kind', e.kind);
  if (typeof e.reason !== 'string') bad('a string event reason', e.reason);
  if (typeof e.message !== 'string') bad('a string event message', e.message);
  if (typeof e.labels !== 'object' || e.labels === null) bad('event labels as an object', e.labels);
  for (const [k, v] of Object.entries(e.labels)) if (typeof v !== 'string' || k === '') bad(`event label ${JSON.stringify(k)} with a string value`, v);
  if (!isTime(e.rangeMinT) || !isTime(e.rangeMaxT) || e.rangeMinT > e.rangeMaxT) bad('0 <= rangeMinT <= rangeMaxT', [e.rangeMinT, e.rangeMaxT]);
  if (!isTime(e.count)) bad('an event count >= 0', e.count);
  return { t: e.t, kind: e.kind, reason: e.reason, message: e.message, labels: canonicalLabels(e.labels), rangeMinT: e.rangeMinT, rangeMaxT: e.rangeMaxT, count: e.count };
}

/** Sorts events by time, keeping the order of equal times. */
export function sortEvents(events: BlockEvent[]): BlockEvent[] {
  return events.map((e, i) => ({ e, i })).sort((a, b) => a.e.t - b.e.t || a.i - b.i).map((x) => x.e);
}

/** A "data_dropped" event with defaults filled in. */
export function dataDroppedEvent(t: number, rangeMinT: number, rangeMaxT: number, rounds: number, reason: string, message: string): BlockEvent {
  return { t, kind: 'data_dropped', reason, message, labels: {}, rangeMinT, rangeMaxT, count: rounds };
}

// Events the store itself records (data_dropped) and keeps under `e!` until the next seal.
import type { BlockEvent } from '../../proto/index.js';
import { dataDroppedEvent, unionSealRanges } from '../../proto/index.js';
import type { BatchOp, PendingEvent, StoreContext } from './context.js';
import { pendingEventKey } from './keys.js';
import { decodeJsonRecord, encodeJsonRecord, isObject } from './json-record.js';


/** Why data was dropped at the edge: the `reason` of a data_dropped event. */
export type DropReason = 'disk_budget' | 'corrupt_block' | 'corrupt_head' | 'unencodable_head';

/** A data_dropped event recorded at `t` for `rounds` rounds in [rangeMinT, rangeMaxT]. */
export function droppedEvent(t: number, reason: DropReason, rangeMinT: number, rangeMaxT: number, rounds: number, message: string,
  labels: Record<string, string> = {}): BlockEvent {
  return { ...dataDroppedEvent(t, rangeMinT, rangeMaxT, rounds, reason, message), labels };
}

/**
 * The op that stores `event` for the next seal, and its pending entry once the op is durable.
 * `appended`: an event given to appendEvents, stored as `{"appended": event}`, which keeps its
 * time in the sealed block; the store's own events are stored bare and moved into the rounds' range.
 */
export function pendingEventOp(ctx: StoreContext, event: BlockEvent, appended = false): { op: BatchOp; pending: PendingEvent } {
  const key = pendingEventKey(ctx.nextEventSeq++);
  return { op: { type: 'put', key, value: encodeJsonRecord(appended ? { appended: event } : event) }, pending: { key, event, ...(appended ? { appended } : {}) } };
}

function isEvent(e: unknown): e is BlockEvent {
  return isObject(e) && typeof e.t === 'number' && typeof e.kind === 'string';
}

/** Parses a stored pending event; undefined when it is not one. */
export function decodePendingEvent(bytes: Uint8Array): { event: BlockEvent; appended: boolean } | undefined {
  const v = decodeJsonRecord(bytes, (x): x is BlockEvent | { appended: BlockEvent } => isEvent(x) || (isObject(x) && isEvent(x.appended)));
  if (v === undefined) return undefined;
  return 'appended' in v && isEvent(v.appended) ? { event: v.appended, appended: true } : { event: v as BlockEvent, appended: false };
}

/** The lowest rangeMinT among data_dropped events, or undefined. */
export function lowestDroppedMinT(events: readonly BlockEvent[]): number | undefined {
  let min: number | undefined;
  for (const e of events) if (e.kind === 'data_dropped' && (min === undefined || e.rangeMinT < min)) min = e.rangeMinT;
  return min;
}

/** The seal indexes named by the data_dropped events among `events` (their `seal_ranges` labels), normalised. */
export function droppedSealRanges(events: readonly BlockEvent[]): number[] {
  const lists: number[][] = [];
  for (const e of events) {
    const text = e.kind === 'data_dropped' ? e.labels.seal_ranges : undefined;
    if (text === undefined) continue;
    const pairs: number[] = [];
    for (const part of text.split(',')) {
      const m = /^(\d+)-(\d+)$/.exec(part);
      if (m !== null) pairs.push(Number(m[1]), Number(m[2]));
    }
    lists.push(pairs);
  }
  return unionSealRanges(...lists);
}

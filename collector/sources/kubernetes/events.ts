// Kubernetes warning events as block events, and the bounded buffer that holds them between
// collections.
import type { BlockEvent } from '../../../proto/index.js';
import { at, labels, str } from './samples.js';

/** The `kind` of every event this source reports. */
export const EVENT_KIND = 'kubernetes';
/** Longest event message kept. */
const MAX_MESSAGE = 1024;

function millis(v: unknown): number | undefined {
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isFinite(t) && t >= 0 ? t : undefined;
  }
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v);
    return Number.isFinite(t) && t >= 0 ? t : undefined;
  }
  return undefined;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** A warning event and the key of this occurrence (the same key is never reported twice). */
export interface Occurrence {
  readonly key: string;
  readonly event: BlockEvent;
}

/**
 * The block event for a core/v1 Event (typed from a list, or raw JSON from a watch), or
 * undefined when it is not a Warning. Time: the latest of the event's own times that is set
 * (series.lastObservedTime, lastTimestamp, eventTime, firstTimestamp, creationTimestamp), else
 * `now`. Count: the event's running count (series.count or count), at least 1.
 */
export function toOccurrence(obj: unknown, now: number): Occurrence | undefined {
  if (str(obj, 'type') !== 'Warning') return undefined;
  const t = millis(at(obj, 'series', 'lastObservedTime')) ?? millis(at(obj, 'lastTimestamp')) ?? millis(at(obj, 'eventTime'))
    ?? millis(at(obj, 'firstTimestamp')) ?? millis(at(obj, 'metadata', 'creationTimestamp')) ?? Math.max(0, Math.trunc(now));
  const count = positiveInt(at(obj, 'series', 'count')) ?? positiveInt(at(obj, 'count')) ?? 1;
  const message = str(obj, 'message') ?? '';
  const event: BlockEvent = {
    t,
    kind: EVENT_KIND,
    reason: str(obj, 'reason') ?? '',
    message: message.length <= MAX_MESSAGE ? message : message.slice(0, MAX_MESSAGE),
    labels: labels({
      namespace: str(obj, 'involvedObject', 'namespace') ?? str(obj, 'metadata', 'namespace'),
      object_kind: str(obj, 'involvedObject', 'kind'),
      object_name: str(obj, 'involvedObject', 'name'),
    }),
    rangeMinT: 0,
    rangeMaxT: 0,
    count,
  };
  const id = str(obj, 'metadata', 'uid') ?? `${str(obj, 'metadata', 'namespace') ?? ''}/${str(obj, 'metadata', 'name') ?? ''}`;
  return { key: `${id}@${count}@${t}`, event };
}

/**
 * Warning events received since the last drain, oldest first, at most `capacity`: beyond that
 * the oldest are dropped and counted, and the next drain reports how many in one event. An
 * occurrence already taken (same event, count and time, as after a re-list) is not taken again.
 */
export class EventBuffer {
  readonly #capacity: number;
  readonly #seenLimit: number;
  #ring: (BlockEvent | undefined)[];
  #head = 0;
  #size = 0;
  #dropped = 0;
  #droppedMinT = Number.POSITIVE_INFINITY;
  #droppedMaxT = 0;
  readonly #seen = new Set<string>();

  constructor(capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`expected a positive buffer capacity, found ${capacity}`);
    this.#capacity = capacity;
    this.#seenLimit = capacity * 2;
    this.#ring = new Array<BlockEvent | undefined>(capacity);
  }

  /** Events waiting for the next drain. */
  get size(): number {
    return this.#size;
  }

  /** Takes an occurrence unless it was taken before. */
  push(o: Occurrence): void {
    if (this.#seen.has(o.key)) return;
    this.#seen.add(o.key);
    if (this.#seen.size > this.#seenLimit) {
      // Sets iterate in insertion order: forget the oldest keys.
      const it = this.#seen.values();
      for (let n = this.#seen.size - this.#seenLimit; n > 0; n--) this.#seen.delete(it.next().value as string);
    }
    this.add(o.event);
  }

  /** Adds an event of the source's own (a notice), without de-duplication. */
  add(e: BlockEvent): void {
    if (this.#size === this.#capacity) {
      const old = this.#ring[this.#head]!;
      this.#dropped++;
      this.#droppedMinT = Math.min(this.#droppedMinT, old.t);
      this.#droppedMaxT = Math.max(this.#droppedMaxT, old.t);
      this.#ring[this.#head] = e;
      this.#head = (this.#head + 1) % this.#capacity;
      return;
    }
    this.#ring[(this.#head + this.#size) % this.#capacity] = e;
    this.#size++;
  }

  /**
   * Removes and returns every buffered event, oldest first, preceded by one `EventsDropped`
   * event (count = events dropped, message with their time range) when some were dropped.
   */
  drain(now: number): BlockEvent[] {
    const out: BlockEvent[] = [];
    if (this.#dropped > 0) {
      const from = new Date(this.#droppedMinT).toISOString();
      const to = new Date(this.#droppedMaxT).toISOString();
      out.push({
        t: Math.max(0, Math.trunc(now)), kind: EVENT_KIND, reason: 'EventsDropped',
        message: `dropped the ${this.#dropped} oldest warning events (from ${from} to ${to}): more than ${this.#capacity} arrived between two collections`,
        labels: {}, rangeMinT: 0, rangeMaxT: 0, count: this.#dropped,
      });
    }
    for (let i = 0; i < this.#size; i++) {
      const j = (this.#head + i) % this.#capacity;
      out.push(this.#ring[j]!);
      this.#ring[j] = undefined;
    }
    this.#head = 0;
    this.#size = 0;
    this.#dropped = 0;
    this.#droppedMinT = Number.POSITIVE_INFINITY;
    this.#droppedMaxT = 0;
    return out;
  }
}

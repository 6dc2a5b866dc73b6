// Everything the merge index holds about one site: the rounds its data covers (with when each
// first arrived), its series as value intervals, its events, and the blocks held. Blocks are
// added in arrival order; a round already held is never added twice, so a compacted block that
// replaces blocks held (or a block held again inside a compaction) is not counted twice.
import { ulidToString } from '../../common/ulid.js';
import type { Block, BlockEvent } from '../../proto/index.js';
import { blockChanges, type FloatSeriesFilter } from './block-changes.js';
import type { SeriesTable, StringTable } from './interning.js';
import { RoundRuns, toRuns } from './round-runs.js';
import { SiteSeries, type SpliceRun } from './site-series.js';

/** An event as the index holds it: with when it first arrived. */
export interface SiteEvent extends BlockEvent {
  /** Arrival time of the block that first brought it. */
  readonly arrived: number;
}

/** A block held, as the index keeps it. */
export interface HeldBlock {
  readonly id: string;
  readonly arrivedAt: number;
  readonly minT: number;
  readonly maxT: number;
  readonly level: number;
  readonly replaces: readonly string[];
  /** Seal ranges (first, last pairs), or undefined for blocks from before they existed. */
  readonly sealRanges: readonly number[] | undefined;
  /** The highest seal index held, or 0. */
  readonly sealMax: number;
  /** The edge store that wrote it (ULID text), or '' when the header does not say. */
  readonly store: string;
  /** Keys of the block's events (all of them), for compactions that replace it. */
  readonly eventKeys: readonly string[];
}

/** What adding a block did. */
export interface AddBlockResult {
  readonly status: 'indexed' | 'duplicate';
  /** Rounds that were new. */
  readonly newRounds: number;
  /** Rounds already held (a compaction of blocks held, a block sent again). */
  readonly heldRounds: number;
  /** Rounds inside the span of rounds held, off their grid (overlapping blocks after an edge clock step-back): not merged. */
  readonly shadowedRounds: number;
  readonly newEvents: number;
}

/** The identity of an event, for telling a repeat from a new one. */
export function eventKey(e: BlockEvent): string {
  const labels = Object.keys(e.labels).sort().map((k) => [k, e.labels[k]]);
  return JSON.stringify([e.t, e.kind, e.reason, e.message, labels, e.rangeMinT, e.rangeMaxT, e.count]);
}

function compareEvents(a: SiteEvent & { key: string }, b: SiteEvent & { key: string }): number {
  return a.t - b.t || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Everything a SiteData holds but its memo: what an index snapshot keeps of a site (snapshot.ts). */
export interface SiteDataState {
  readonly site: string;
  readonly runs: RoundRuns;
  readonly series: SiteSeries;
  readonly events: (SiteEvent & { key: string })[];
  readonly blocks: readonly HeldBlock[];
  readonly firstArrived: number;
  readonly lastArrived: number;
  readonly latestT: number;
  readonly shadowedRounds: number;
}

export class SiteData {
  series: SiteSeries = SiteSeries.EMPTY;
  /** Sorted by time, then by key: the same order whatever the arrival order. */
  events: (SiteEvent & { key: string })[] = [];
  /** Blocks in arrival order (then id). */
  readonly blocks: HeldBlock[] = [];
  readonly #byId = new Map<string, HeldBlock>();
  /** Block ids named in a held block's `replaces`, with the latest that names them. */
  readonly replacedBy = new Map<string, string>();
  firstArrived = Infinity;
  lastArrived = -Infinity;
  /** The latest time any block held reaches (rounds and events). */
  latestT = -Infinity;
  shadowedRounds = 0;
  /** Memo of computations over everything held; cleared by every block. */
  memo = new Map<string, unknown>();

  constructor(readonly site: string, readonly runs = new RoundRuns()) {}

  /**
   * A site as a snapshot held it: `blocks` in arrival order (then id), as `add` left them; the
   * ids they replace are derived from them, as `add` records them.
   */
  static restore(state: SiteDataState): SiteData {
    const d = new SiteData(state.site, state.runs);
    d.series = state.series;
    d.events = state.events;
    for (const b of state.blocks) {
      d.blocks.push(b);
      d.#byId.set(b.id, b);
      for (const r of b.replaces) d.replacedBy.set(r, b.id);
    }
    d.firstArrived = state.firstArrived;
    d.lastArrived = state.lastArrived;
    d.latestT = state.latestT;
    d.shadowedRounds = state.shadowedRounds;
    return d;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** The number of blocks that had arrived by `knownAt` (a prefix of `blocks`). */
  blocksBy(knownAt: number): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.blocks[mid]!.arrivedAt <= knownAt) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds a decoded block that arrived at `arrivedAt`, not before any block added so far. A
   * block already held is a `duplicate` and changes nothing.
   */
  add(id: string, arrivedAt: number, block: Block, seriesTable: SeriesTable, values: StringTable, keepFloat: FloatSeriesFilter): AddBlockResult {
    if (this.#byId.has(id)) return { status: 'duplicate', newRounds: 0, heldRounds: 0, shadowedRounds: 0, newEvents: 0 };
    const h = block.header;
    const sealRanges = h.sealRanges !== undefined && h.sealRanges.length > 0 ? [...h.sealRanges] : undefined;
    const replaces = h.replaces.map((r) => ulidToString(r));
    const rec: HeldBlock = {
      id, arrivedAt, minT: h.minT, maxT: h.maxT, level: h.level, replaces, sealRanges,
      sealMax: sealRanges === undefined ? 0 : sealRanges[sealRanges.length - 1]!,
      store: h.storeId === undefined ? '' : ulidToString(h.storeId),
      eventKeys: block.data.events.map(eventKey),
    };
    const newEvents = this.#addEvents(rec, arrivedAt, block.data.events);
    const rounds = this.#addRounds(arrivedAt, block, seriesTable, values, keepFloat);
    this.blocks.push(rec);
    this.#byId.set(id, rec);
    for (const r of replaces) this.replacedBy.set(r, id);
    this.firstArrived = Math.min(this.firstArrived, arrivedAt);
    this.lastArrived = Math.max(this.lastArrived, arrivedAt);
    this.latestT = Math.max(this.latestT, h.maxT);
    this.memo = new Map();
    return { status: 'indexed', ...rounds, newEvents };
  }

  /**
   * Events of the block not already held through a block it replaces (a compaction carries its
   * inputs' events) or that replaces it; repeats are counted as a multiset.
   */
  #addEvents(rec: HeldBlock, arrivedAt: number, events: readonly BlockEvent[]): number {
    if (events.length === 0 || this.replacedBy.has(rec.id)) return 0;
    const inputs = rec.replaces.filter((r) => this.#byId.has(r));
    // Only the outermost held inputs: an input that another held input replaces is inside it.
    const outer = inputs.filter((x) => !inputs.some((y) => y !== x && this.#byId.get(y)!.replaces.includes(x)));
    const held = new Map<string, number>();
    for (const id of outer) for (const k of this.#byId.get(id)!.eventKeys) held.set(k, (held.get(k) ?? 0) + 1);
    const added: (SiteEvent & { key: string })[] = [];
    for (let i = 0; i < events.length; i++) {
      const key = rec.eventKeys[i]!;
      const n = held.get(key) ?? 0;
      if (n > 0) {
        held.set(key, n - 1);
        continue;
      }
      added.push({ ...events[i]!, arrived: arrivedAt, key });
    }
    if (added.length > 0) this.events = [...this.events, ...added].sort(compareEvents);
    return added.length;
  }

  #addRounds(arrivedAt: number, block: Block, seriesTable: SeriesTable, values: StringTable, keepFloat: FloatSeriesFilter): Omit<AddBlockResult, 'status' | 'newEvents'> {
    const rounds = block.data.rounds;
    const splices: SpliceRun[] = [];
    let heldRounds = 0;
    let shadowed = 0;
    let runStart = -1;
    let runNext: number | undefined;
    const close = (end: number): void => {
      if (runStart >= 0) splices.push({ a: runStart, b: end, next: runNext });
      runStart = -1;
    };
    for (let k = 0; k < rounds.length; k++) {
      const t = rounds[k]!;
      const where = this.runs.classify(t);
      if (where !== 'outside') {
        close(k - 1);
        if (where === 'round') heldRounds++;
        else shadowed++;
        continue;
      }
      // A held round between the previous new round and this one starts a new splice.
      if (runStart >= 0 && runNext !== undefined && runNext < t) close(k - 1);
      if (runStart < 0) runStart = k;
      runNext = this.runs.firstAfter(t);
    }
    close(rounds.length - 1);
    this.shadowedRounds += shadowed;
    let newRounds = 0;
    if (splices.length > 0) {
      const changes = blockChanges(block.data, seriesTable, values, keepFloat);
      this.series = this.series.splice(changes, rounds, splices);
      for (const s of splices) {
        newRounds += s.b - s.a + 1;
        for (const [first, step, count] of toRuns(rounds.subarray(s.a, s.b + 1))) this.runs.insert(first, step, count, arrivedAt);
      }
    }
    return { newRounds, heldRounds, shadowedRounds: shadowed };
  }
}

// The merge index: every site's stored blocks merged into value intervals per series, the rounds
// covered with when each first arrived, events, and the blocks held — in memory, rebuilt from the
// stored blocks (the source of truth) by `reindex` and kept up to date by `catchUp`.
import { decodeBlock, type Block } from '../../proto/index.js';
import { DEFAULT_FLOAT_SERIES, DEFAULT_FLOAT_SERIES_ID, type FloatSeriesFilter } from './block-changes.js';
import { FleetError, FleetErrorCode } from './errors.js';
import { SeriesTable, StringTable } from './interning.js';
import { SiteData, type AddBlockResult } from './site-data.js';

/** The arrival of a block: the fields of the storage's BlockMeta the index needs. */
export interface BlockArrival {
  readonly site: string;
  /** ULID text. */
  readonly id: string;
  /** When the center durably stored it (its clock, ms). */
  readonly arrivedAt: number;
}

/** Told about blocks the index skipped (they do not decode, or name another site). */
export type FleetIndexWarning = (fields: Readonly<Record<string, unknown>>, message: string) => void;

export interface FleetIndexOptions {
  /** Default: ignored. */
  readonly onWarning?: FleetIndexWarning;
  /**
   * For blocks without seal indexes: the longest gap between blocks that still counts as
   * contiguous coverage. Default 2 minutes.
   */
  readonly gapToleranceMs?: number;
  /** Which float series to keep (see DEFAULT_FLOAT_SERIES); string series are always kept. */
  readonly floatSeries?: FloatSeriesFilter;
  /**
   * Names `floatSeries` for index snapshots (snapshot.ts): a snapshot is only loaded into an index
   * with the same name. Default: DEFAULT_FLOAT_SERIES_ID with the default filter; none with
   * another filter — such an index is neither written to nor loaded from a snapshot.
   */
  readonly floatSeriesId?: string;
}

/** What an index holds besides its sites and tables, as a snapshot restores it (FleetIndex.restoreState). */
export interface FleetIndexCounters {
  readonly indexedThrough: number;
  readonly lastArrival: number;
  readonly lastBlock: BlockArrival | undefined;
  readonly blocks: number;
  readonly duplicateBlocks: number;
  readonly skippedBlocks: number;
}

/** Counters of an index. */
export interface FleetIndexStats {
  readonly sites: number;
  readonly blocks: number;
  readonly duplicateBlocks: number;
  /** Blocks that could not be used: they did not decode, or named another site. */
  readonly skippedBlocks: number;
  /** (site, series) pairs held. */
  readonly siteSeries: number;
  readonly changePoints: number;
  readonly roundRuns: number;
  readonly events: number;
  /** Distinct series and string values across the fleet. */
  readonly distinctSeries: number;
  readonly distinctValues: number;
  readonly shadowedRounds: number;
  /** Bytes of the per-site typed arrays (intervals and round runs). */
  readonly typedArrayBytes: number;
}

/**
 * The merge index. Blocks must be added in arrival order (then by site and id): `catchUp` and
 * `reindex` do so. Not thread-safe, but reports only read: a report in progress is not disturbed
 * by blocks added meanwhile (what it reads is replaced, never changed in place).
 */
export class FleetIndex {
  readonly series = new SeriesTable();
  readonly values = new StringTable();
  readonly gapToleranceMs: number;
  /** The float-series filter's name for snapshots, or undefined (see FleetIndexOptions.floatSeriesId). */
  readonly floatSeriesId: string | undefined;
  readonly #sites = new Map<string, SiteData>();
  readonly #onWarning: FleetIndexWarning;
  readonly #keepFloat: FloatSeriesFilter;
  #sortedSites: string[] | undefined;
  #indexedThrough = -1;
  #lastArrival = -1;
  #lastBlock: BlockArrival | undefined;
  #blocks = 0;
  #duplicates = 0;
  #skipped = 0;

  constructor(options: FleetIndexOptions = {}) {
    this.#onWarning = options.onWarning ?? (() => {});
    this.gapToleranceMs = options.gapToleranceMs ?? 120_000;
    this.#keepFloat = options.floatSeries ?? DEFAULT_FLOAT_SERIES;
    this.floatSeriesId = options.floatSeriesId ?? (this.#keepFloat === DEFAULT_FLOAT_SERIES ? DEFAULT_FLOAT_SERIES_ID : undefined);
  }

  /**
   * The arrival time through which the index holds every stored block: queries with a knownAt at
   * or below it are answered from everything that had arrived by then. -1 before any catch-up.
   */
  get indexedThrough(): number {
    return this.#indexedThrough;
  }

  /** The arrival time of the last block added (not skipped), or -1. At most `indexedThrough` between catch-ups. */
  get lastArrival(): number {
    return this.#lastArrival;
  }

  /** The last block added (not skipped), or undefined. */
  get lastBlock(): BlockArrival | undefined {
    return this.#lastBlock;
  }

  /** Blocks given to the index: indexed, duplicates and skipped. */
  get blocksGiven(): number {
    return this.#blocks + this.#duplicates + this.#skipped;
  }

  /** Records that every block that arrived by `t` is indexed (catchUp calls it). Never moves back. */
  markIndexedThrough(t: number): void {
    if (t > this.#indexedThrough) this.#indexedThrough = t;
  }

  /**
   * Adds a decoded block. Throws DW_FLEET_ARRIVAL_ORDER when `arrival.arrivedAt` is before a
   * block already added, or at or before the index's watermark (it would change answers
   * already given). A block held already is a `duplicate`.
   */
  addBlock(arrival: BlockArrival, block: Block): AddBlockResult {
    if (arrival.arrivedAt < this.#lastArrival || arrival.arrivedAt <= this.#indexedThrough) {
      throw new FleetError(FleetErrorCode.ArrivalOrder,
        `expected blocks in arrival order after ${Math.max(this.#lastArrival, this.#indexedThrough)}, found ${arrival.site}/${arrival.id} arrived at ${arrival.arrivedAt}`);
    }
    this.#lastArrival = arrival.arrivedAt;
    this.#lastBlock = { site: arrival.site, id: arrival.id, arrivedAt: arrival.arrivedAt };
    let site = this.#sites.get(arrival.site);
    if (site === undefined) {
      site = new SiteData(arrival.site);
      this.#sites.set(arrival.site, site);
      this.#sortedSites = undefined;
    }
    const r = site.add(arrival.id, arrival.arrivedAt, block, this.series, this.values, this.#keepFloat);
    if (r.status === 'duplicate') this.#duplicates++;
    else this.#blocks++;
    if (r.shadowedRounds > 0) {
      this.#onWarning({ site: arrival.site, block: arrival.id, rounds: r.shadowedRounds },
        'block overlaps rounds held off their time grid (an edge clock step-back?): its overlapping rounds were not merged');
    }
    return r;
  }

  /**
   * Decodes and adds a stored block. A block that does not decode, or whose header names
   * another site, is skipped with a warning and counted (never fatal); returns undefined then.
   */
  addBlockBytes(arrival: BlockArrival, bytes: Uint8Array): AddBlockResult | undefined {
    let block: Block;
    try {
      block = decodeBlock(bytes);
    } catch (err) {
      this.#skipped++;
      this.#onWarning({ site: arrival.site, block: arrival.id, err: (err as Error).message }, 'stored block does not decode: skipped by the index');
      return undefined;
    }
    if (block.header.siteId !== arrival.site) {
      this.#skipped++;
      this.#onWarning({ site: arrival.site, block: arrival.id, headerSite: block.header.siteId }, 'stored block names another site: skipped by the index');
      return undefined;
    }
    return this.addBlock(arrival, block);
  }

  /** Counts a stored block that could not be read (catchUp). */
  countSkipped(arrival: BlockArrival, why: string): void {
    this.#skipped++;
    this.#onWarning({ site: arrival.site, block: arrival.id, err: why }, 'stored block cannot be read: skipped by the index');
  }

  /**
   * Fills an empty index with what a snapshot held (snapshot.ts): its sites (the tables, interned
   * beforehand in id order, are the index's own) and counters. Throws DW_FLEET_ARRIVAL_ORDER when
   * the index already holds a block.
   */
  restoreState(sites: readonly SiteData[], counters: FleetIndexCounters): void {
    if (this.#sites.size > 0 || this.blocksGiven > 0 || this.#indexedThrough >= 0) {
      throw new FleetError(FleetErrorCode.ArrivalOrder, `expected an empty index to restore a snapshot into, found ${this.#sites.size} sites and watermark ${this.#indexedThrough}`);
    }
    for (const s of sites) this.#sites.set(s.site, s);
    this.#sortedSites = undefined;
    this.#indexedThrough = counters.indexedThrough;
    this.#lastArrival = counters.lastArrival;
    this.#lastBlock = counters.lastBlock;
    this.#blocks = counters.blocks;
    this.#duplicates = counters.duplicateBlocks;
    this.#skipped = counters.skippedBlocks;
  }

  /** The site's data, or undefined when no block of it is held. */
  site(site: string): SiteData | undefined {
    return this.#sites.get(site);
  }

  /** Every site with a block held, sorted. */
  sites(): readonly string[] {
    this.#sortedSites ??= [...this.#sites.keys()].sort();
    return this.#sortedSites;
  }

  stats(): FleetIndexStats {
    let siteSeries = 0;
    let changePoints = 0;
    let roundRuns = 0;
    let events = 0;
    let shadowedRounds = 0;
    let typedArrayBytes = 0;
    for (const s of this.#sites.values()) {
      siteSeries += s.series.count;
      changePoints += s.series.t.length;
      roundRuns += s.runs.n;
      events += s.events.length;
      shadowedRounds += s.shadowedRounds;
      typedArrayBytes += s.series.bytes() + s.runs.bytes();
    }
    return {
      sites: this.#sites.size, blocks: this.#blocks, duplicateBlocks: this.#duplicates, skippedBlocks: this.#skipped, siteSeries, changePoints, roundRuns, events,
      distinctSeries: this.series.size, distinctValues: this.values.size, shadowedRounds, typedArrayBytes,
    };
  }
}

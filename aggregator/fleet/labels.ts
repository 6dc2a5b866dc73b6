// Site labels as the reports read them: the labels in force for a site as known at a time (the
// agent reports them in its hello; the center keeps each change with its arrival time).
import type { Labels } from '../policy/index.js';

/** What the reports ask about labels. */
export interface SiteLabelSource {
  /** The labels of `site` as known at `knownAt`; undefined when none had arrived (the reports use `{}`). */
  siteLabels(site: string, knownAt: number): Labels | undefined;
}

/** One change of a site's labels, as the storage keeps it. */
export interface SiteLabelRecord {
  readonly site: string;
  readonly labels: Labels;
  /** When the hello that reported them arrived (center clock). */
  readonly arrivedAt: number;
}

/** The part of the storage that holds label history (the AggregatorStorage's label records). */
export interface SiteLabelHistoryReader {
  listSites(): Promise<string[]>;
  siteLabelHistory(site: string): Promise<readonly SiteLabelRecord[]>;
}

/** Label history in memory. */
export class SiteLabelIndex implements SiteLabelSource {
  readonly #sites = new Map<string, SiteLabelRecord[]>();
  #indexedThrough = -1;

  /** Label changes that arrived by this time are all held (catchUpSiteLabels); -1 before. */
  get indexedThrough(): number {
    return this.#indexedThrough;
  }

  /** Never moves back. */
  markIndexedThrough(t: number): void {
    if (t > this.#indexedThrough) this.#indexedThrough = t;
  }

  /** Records a change; changes of one site must come in arrival order (an older one is ignored). */
  record(r: SiteLabelRecord): void {
    let l = this.#sites.get(r.site);
    if (l === undefined) this.#sites.set(r.site, (l = []));
    const last = l[l.length - 1];
    if (last !== undefined && r.arrivedAt < last.arrivedAt) return;
    l.push(r);
  }

  siteLabels(site: string, knownAt: number): Labels | undefined {
    const l = this.#sites.get(site);
    if (l === undefined) return undefined;
    let found: Labels | undefined;
    for (const r of l) {
      if (r.arrivedAt > knownAt) break;
      found = r.labels;
    }
    return found;
  }
}

/** Labels that are always in force, for tests and fixed fleets. */
export function staticSiteLabels(labels: Readonly<Record<string, Labels>>): SiteLabelSource {
  return { siteLabels: (site) => labels[site] };
}

/** A SiteLabelIndex with every site's label history read from the storage. */
export async function loadSiteLabels(reader: SiteLabelHistoryReader): Promise<SiteLabelIndex> {
  const index = new SiteLabelIndex();
  for (const site of await reader.listSites()) for (const r of await reader.siteLabelHistory(site)) index.record(r);
  return index;
}

/** The part of the storage label catch-up reads (both in memory in the level storage). */
export interface SiteLabelChangeReader {
  listSiteLabels(options?: { knownAt?: number }): Promise<readonly SiteLabelRecord[]>;
  siteLabelHistory(site: string): Promise<readonly SiteLabelRecord[]>;
}

/**
 * Adds the label changes that arrived after the index's watermark and by `now` (the caller keeps
 * `now` below any write not yet durable: storage.oldestPendingArrival()), then moves the
 * watermark to `now`. Reads the history of the sites whose latest change is newer than the
 * watermark only. Resolves to the number of changes added; rejects with the storage's errors.
 */
export async function catchUpSiteLabels(index: SiteLabelIndex, storage: SiteLabelChangeReader, options: { now: number }): Promise<number> {
  const from = index.indexedThrough;
  const cut = options.now;
  if (cut <= from) return 0;
  let n = 0;
  for (const latest of await storage.listSiteLabels()) {
    if (latest.arrivedAt <= from) continue;
    for (const r of await storage.siteLabelHistory(latest.site)) {
      if (r.arrivedAt <= from || r.arrivedAt > cut) continue;
      index.record(r);
      n++;
    }
  }
  index.markIndexedThrough(cut);
  return n;
}

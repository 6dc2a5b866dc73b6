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

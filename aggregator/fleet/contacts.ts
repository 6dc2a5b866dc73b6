// Site contacts as the reports read them: the latest hello or heartbeat that had arrived by a
// time, from the storage's contact history (keyed by arrival time, so an answer as of a time
// never changes). Held in memory, thinned: see ContactIndexOptions.resolutionMs.
import type { AggregatorStorage, ContactHistoryRecord } from '../storage/index.js';

/** A site's contact as of a time. */
export interface ContactState {
  readonly kind: 'hello' | 'heartbeat';
  /** When it arrived (center clock). */
  readonly at: number;
  readonly backlogBlocks: number | undefined;
  readonly backlogBytes: number | undefined;
  /** The agent's last round (agent clock), from a heartbeat. */
  readonly lastRoundTime: number | undefined;
  /** '' when the agent's last upload succeeded; undefined for a hello. */
  readonly lastErrorCode: string | undefined;
}

/** What the reports ask about contacts. */
export interface ContactSource {
  /** The latest contact of `site` that had arrived by `asOf`, or undefined. */
  lastContact(site: string, asOf: number): ContactState | undefined;
  /** Sites with a contact, in any order. */
  sites(): Iterable<string>;
}

export interface ContactIndexOptions {
  /**
   * Keep at most one contact per site per this many ms, plus every one whose error code or
   * backlog (none / some) differs from the last kept. The last contact as of a time is then
   * exact to this resolution. Default 5 minutes. The decision depends only on contacts before,
   * so an answer as of a time never changes.
   */
  readonly resolutionMs?: number;
}

/** ContactIndexOptions.resolutionMs by default: 5 minutes. */
export const DEFAULT_CONTACT_RESOLUTION_MS = 300_000;

class SiteContacts {
  at: number[] = [];
  states: ContactState[] = [];
}

/** Contacts in memory, fed from the storage's contact history (catchUpContacts) or directly (add). */
export class ContactIndex implements ContactSource {
  readonly #sites = new Map<string, SiteContacts>();
  readonly #resolution: number;
  #indexedThrough = -1;
  #kept = 0;

  constructor(options: ContactIndexOptions = {}) {
    this.#resolution = options.resolutionMs ?? DEFAULT_CONTACT_RESOLUTION_MS;
  }

  /** ContactIndexOptions.resolutionMs in force (a snapshot of another resolution is not used). */
  get resolutionMs(): number {
    return this.#resolution;
  }

  /** Contacts held (restored from a snapshot or kept by add): it changes exactly when what the index holds does. */
  get kept(): number {
    return this.#kept;
  }

  /** Every site's held contacts, sites in sorted order (the snapshot). The arrays are the index's own: read them, never change them. */
  *entries(): Generator<{ readonly site: string; readonly at: readonly number[]; readonly states: readonly ContactState[] }, void, undefined> {
    for (const site of [...this.#sites.keys()].sort()) {
      const s = this.#sites.get(site)!;
      yield { site, at: s.at, states: s.states };
    }
  }

  /**
   * Replaces what the index holds by a snapshot's (entries() of an index of the same resolution:
   * per site the arrival times, strictly ascending, and their states) and sets the watermark.
   * An index restored so and then caught up holds exactly what one caught up from nothing does:
   * add's decision depends only on the site's last held contact.
   */
  restoreState(sites: Iterable<{ readonly site: string; readonly at: number[]; readonly states: ContactState[] }>, indexedThrough: number): void {
    this.#sites.clear();
    this.#kept = 0;
    for (const { site, at, states } of sites) {
      const s = new SiteContacts();
      s.at = at;
      s.states = states;
      this.#sites.set(site, s);
      this.#kept += at.length;
    }
    this.#indexedThrough = indexedThrough;
  }

  /** Contacts that arrived by this time are all held. */
  get indexedThrough(): number {
    return this.#indexedThrough;
  }

  markIndexedThrough(t: number): void {
    if (t > this.#indexedThrough) this.#indexedThrough = t;
  }

  /** Adds a history record; records of one site must come in arrival order (older ones are ignored). */
  add(r: ContactHistoryRecord): void {
    let s = this.#sites.get(r.site);
    if (s === undefined) this.#sites.set(r.site, (s = new SiteContacts()));
    const n = s.at.length;
    const last = s.states[n - 1];
    if (last !== undefined) {
      if (r.at <= last.at) return;
      const due = r.at - last.at >= this.#resolution
        || (r.lastErrorCode ?? '') !== (last.lastErrorCode ?? '')
        || ((r.backlogBlocks ?? 0) > 0) !== ((last.backlogBlocks ?? 0) > 0)
        || r.kind !== last.kind;
      if (!due) return;
    }
    this.#kept++;
    s.at.push(r.at);
    s.states.push({
      kind: r.kind, at: r.at, backlogBlocks: r.backlogBlocks, backlogBytes: r.backlogBytes, lastRoundTime: r.lastRoundTime, lastErrorCode: r.lastErrorCode,
    });
  }

  lastContact(site: string, asOf: number): ContactState | undefined {
    const s = this.#sites.get(site);
    if (s === undefined) return undefined;
    let lo = 0;
    let hi = s.at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s.at[mid]! <= asOf) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : s.states[lo - 1];
  }

  sites(): Iterable<string> {
    return this.#sites.keys();
  }
}

/**
 * Reads the contact history that arrived after the index's watermark, up to `now` minus
 * `graceMs` (default 5 s: a contact is stamped before it is durable; 0 when `now` is already
 * below the storage's oldestPendingArrival(), which counts contacts), for every site the
 * storage knows. With `getContact` (the site's latest contact, in memory in the level storage),
 * sites whose last contact is not newer than the watermark are skipped unread. Rejects with the
 * storage's errors.
 */
export async function catchUpContacts(
  index: ContactIndex, storage: Pick<AggregatorStorage, 'listSites' | 'contactHistory'> & Partial<Pick<AggregatorStorage, 'getContact'>>,
  options: { now: number; graceMs?: number },
): Promise<number> {
  const cut = options.now - (options.graceMs ?? 5_000);
  if (cut <= index.indexedThrough) return 0;
  let n = 0;
  for (const site of await storage.listSites()) {
    if (storage.getContact !== undefined) {
      // lastContactAt is the latest of every contact's arrival: nothing newer is in the history.
      const last = await storage.getContact(site);
      if (last === undefined || last.lastContactAt <= index.indexedThrough) continue;
    }
    for (const r of await storage.contactHistory(site, { from: index.indexedThrough + 1, to: cut })) {
      index.add(r);
      n++;
    }
  }
  index.markIndexedThrough(cut);
  return n;
}

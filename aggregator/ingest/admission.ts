// Admission of uploads: caps on uploads in progress (in all, per site) and on the bytes they
// buffer. A refused upload is answered RESOURCE_EXHAUSTED with a push-back; the caps protect
// every other site from one site's (or a crowd's) load.
import type { IngestLimits } from './limits.js';

/** A held slot; release it exactly once. */
export interface AdmissionTicket {
  readonly site: string;
  readonly bytes: number;
}

export class Admission {
  readonly #limits: IngestLimits;
  readonly #perSite = new Map<string, number>();
  #active = 0;
  #bytes = 0;

  constructor(limits: IngestLimits) {
    this.#limits = limits;
  }

  /** Uploads in progress. */
  get active(): number {
    return this.#active;
  }

  /** Declared bytes of the uploads in progress. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** A ticket, or why not (the `expected …, found …` part of a DW_INGEST_BUSY message). */
  tryAcquire(site: string, bytes: number): AdmissionTicket | { readonly refused: string } {
    const l = this.#limits;
    const mine = this.#perSite.get(site) ?? 0;
    if (this.#active >= l.maxConcurrentUploads) return { refused: `expected fewer than ${l.maxConcurrentUploads} uploads in progress, found ${this.#active}` };
    if (mine >= l.maxUploadsPerSite) return { refused: `expected fewer than ${l.maxUploadsPerSite} uploads in progress for this site, found ${mine}` };
    if (this.#active > 0 && this.#bytes + bytes > l.maxBufferedBytes) {
      return { refused: `expected at most ${l.maxBufferedBytes} bytes of uploads in progress, found ${this.#bytes} and ${bytes} more asked for` };
    }
    this.#active++;
    this.#bytes += bytes;
    this.#perSite.set(site, mine + 1);
    return { site, bytes };
  }

  release(ticket: AdmissionTicket): void {
    this.#active--;
    this.#bytes -= ticket.bytes;
    const n = (this.#perSite.get(ticket.site) ?? 1) - 1;
    if (n <= 0) this.#perSite.delete(ticket.site);
    else this.#perSite.set(ticket.site, n);
  }
}

// The aggregator's storage: the narrow interface ingest (and, with issue 5, the merge index)
// works through, so that an embedded store and a distributed engine can both implement it.
// One implementation today: level-storage.ts. test/aggregator/storage/storage-contract.ts holds
// the suite every implementation must pass.

/** What a block's header says, as the storage keeps it beside the bytes. */
export interface BlockSummary {
  /** SHA-256 of the block's bytes, lowercase hex. The caller computes it; the storage trusts it. */
  readonly sha256: string;
  readonly minT: number;
  readonly maxT: number;
  readonly sequence: number;
  readonly level: number;
  /** Block ids (ULID text) this block replaces at the edge (compaction), transitively. */
  readonly replaces: readonly string[];
  readonly createdAt: number;
  readonly numRounds: number;
  readonly numSeries: number;
  readonly numSamples: number;
  readonly numEvents: number;
  readonly numStringSeries: number;
  readonly numStringSamples: number;
}

/** A stored block's record. */
export interface BlockMeta extends BlockSummary {
  readonly site: string;
  /** The block id, ULID text (26 characters). */
  readonly id: string;
  /** Bytes of the block. */
  readonly size: number;
  /** When the center durably stored it first (ms, the aggregator's clock): `known_at` in reports. */
  readonly arrivedAt: number;
}

/**
 * The outcome of `putBlock`: `stored` (new), `duplicate` (held with the same SHA-256; nothing
 * written) or `conflict` (held with another SHA-256; the original kept). `meta` is the record
 * now held: the new one, or the original.
 */
export type PutBlockResult =
  | { readonly status: 'stored'; readonly meta: BlockMeta }
  | { readonly status: 'duplicate'; readonly meta: BlockMeta }
  | { readonly status: 'conflict'; readonly meta: BlockMeta };

/** The options of `listBlocks`. */
export interface ListBlocksOptions {
  /** Only blocks that had arrived by this time (arrivedAt <= arrivedBy): the `known_at` cut. */
  readonly arrivedBy?: number;
  /** Only blocks that arrived after this time (arrivedAt > arrivedAfter): catching up an index. */
  readonly arrivedAfter?: number;
}

/** A block held in part: what an upload may resume from. */
export interface PartialUpload {
  /** Bytes held, from the block's start, without gaps. */
  readonly offset: number;
  /** The whole block's declared size and SHA-256 (hex), from the upload that began it. */
  readonly size: number;
  readonly sha256: string;
  /** When the last chunk was appended (the storage's own clock of the caller's `now`). */
  readonly updatedAt: number;
}

/** The declared identity of a partial upload. */
export interface PartialTarget {
  readonly size: number;
  readonly sha256: string;
}

/** What a Hello tells the center about a site. */
export interface HelloReport {
  readonly kind: 'hello';
  /** When the center received it (its clock). */
  readonly at: number;
  /** The agent's clock when it sent it. */
  readonly agentTime: number;
  readonly agentVersion: string;
}

/** What a Heartbeat tells the center about a site. */
export interface HeartbeatReport {
  readonly kind: 'heartbeat';
  readonly at: number;
  readonly agentTime: number;
  /** Round trip of the agent's previous answered call (ms); 0: unknown. */
  readonly lastRttMs: number;
  readonly backlogBlocks: number;
  readonly backlogBytes: number;
  /** 0: none. */
  readonly oldestUnshippedTime: number;
  /** 0: none yet. */
  readonly lastRoundTime: number;
  /** '' when the agent's last upload succeeded. */
  readonly lastErrorCode: string;
  readonly lastErrorMessage: string;
  /** 0: unknown. */
  readonly agentStartTime: number;
}

export type ContactReport = HelloReport | HeartbeatReport;

/**
 * The clock-offset estimate of a site: `offsetMs` ≈ center clock − agent clock (add it to an
 * agent time to get center time), within ± `rttMs / 2` when the round trip is known.
 */
export interface ClockOffset {
  readonly offsetMs: number;
  /** The round trip of the sample the estimate comes from; undefined when unknown (a Hello). */
  readonly rttMs: number | undefined;
  /** When that sample arrived (center clock). */
  readonly measuredAt: number;
}

/** A site's latest contact, as the center knows it now. */
export interface SiteContact {
  readonly site: string;
  readonly firstSeenAt: number;
  readonly lastContactAt: number;
  readonly lastHelloAt: number | undefined;
  readonly lastHeartbeatAt: number | undefined;
  /** The agent's clock at the last contact. */
  readonly agentTime: number;
  readonly agentVersion: string | undefined;
  readonly agentStartTime: number | undefined;
  readonly backlogBlocks: number | undefined;
  readonly backlogBytes: number | undefined;
  readonly oldestUnshippedTime: number | undefined;
  readonly lastRoundTime: number | undefined;
  /** From the last heartbeat: '' when uploads succeed. */
  readonly lastErrorCode: string | undefined;
  readonly lastErrorMessage: string | undefined;
  readonly clockOffset: ClockOffset | undefined;
}

/**
 * One record of a site's contact history, keyed by arrival time: at most one a minute per site,
 * plus one whenever the error code changes or the agent restarted.
 */
export interface ContactHistoryRecord {
  readonly site: string;
  readonly kind: 'hello' | 'heartbeat';
  readonly at: number;
  readonly agentTime: number;
  readonly backlogBlocks: number | undefined;
  readonly backlogBytes: number | undefined;
  readonly oldestUnshippedTime: number | undefined;
  readonly lastRoundTime: number | undefined;
  readonly lastErrorCode: string | undefined;
  readonly lastErrorMessage: string | undefined;
  readonly agentStartTime: number | undefined;
  readonly clockOffsetMs: number | undefined;
}

/** The range of `contactHistory`, both ends inclusive (arrival times). */
export interface HistoryRange {
  readonly from?: number;
  readonly to?: number;
}

/**
 * A site's labels as the center knows them from one arrival on: one record of the site's label
 * history, written when a hello reported labels that differ from the latest ones held.
 */
export interface SiteLabels {
  readonly site: string;
  /** The labels, names sorted. */
  readonly labels: Readonly<Record<string, string>>;
  /** When the hello that reported them arrived (center clock): they are in force for any `knownAt` from then on, until the next change. Never decreases within a site. */
  readonly arrivedAt: number;
}

/** The cut of the label readers: only what had arrived by `knownAt` (arrivedAt <= knownAt). Default: everything held. */
export interface KnownAtOptions {
  readonly knownAt?: number;
}

/** The outcome of `recordSiteLabels`: whether it recorded a change, and the labels now in force. */
export interface RecordSiteLabelsResult {
  readonly changed: boolean;
  readonly current: SiteLabels;
}

/** Counters of a storage, for metrics and tests. */
export interface StorageStats {
  /** Sites with a contact record or a block. */
  readonly sites: number;
  /** Partial uploads held. */
  readonly partialUploads: number;
  /** Synced batches written by the group commit, and the commits they carried. */
  readonly commitBatches: number;
  readonly commits: number;
}

/**
 * The aggregator's storage. Site ids follow common/site-id.ts; block ids are ULID text. Every
 * method rejects with DW_AGGREGATOR_STORE_CLOSED after `close()`, and with
 * DW_AGGREGATOR_STORE_INVALID_ARGUMENT for a bad site id, block id or size. Nothing is visible
 * to readers before the write that made it is durable.
 */
export interface AggregatorStorage {
  /**
   * Stores a whole, verified block, idempotently, and deletes any partial upload of it — one
   * atomic, synced write shared with concurrent commits (group commit); resolves after it is
   * durable. `duplicate` and `conflict` write nothing (a conflict keeps the original).
   * Concurrent calls for the same block are serialised: exactly one is `stored`.
   */
  putBlock(site: string, id: string, bytes: Uint8Array, summary: BlockSummary, arrivedAt: number): Promise<PutBlockResult>;
  /** The record of a held block, or undefined. */
  getBlockMeta(site: string, id: string): Promise<BlockMeta | undefined>;
  /** `getBlockMeta` for many ids at once, in the same order. */
  getBlockMetas(site: string, ids: readonly string[]): Promise<(BlockMeta | undefined)[]>;
  /** A held block's bytes, or undefined. */
  readBlock(site: string, id: string): Promise<Uint8Array | undefined>;
  /**
   * Records of held blocks: of one site (by block id) or of all (by site, then id), filtered by
   * arrival. A consistent snapshot as of the call.
   */
  listBlocks(site?: string, options?: ListBlocksOptions): AsyncIterable<BlockMeta>;
  /**
   * The earliest arrival time (`arrivedAt`, a contact's `at`) of a `putBlock`, `recordSiteLabels`
   * or `recordContact` not yet settled, or undefined: a `known_at` cut below it is final (no
   * block, label change or contact stamped at or before it can still appear). A call counts as
   * pending from the moment it is made — before it awaits anything — so a caller that stamps the
   * time from its clock and calls in the same turn leaves no gap for a reader to fall into.
   */
  oldestPendingArrival(): number | undefined;

  /** The partial upload of a block, or undefined. */
  getPartial(site: string, id: string): Promise<PartialUpload | undefined>;
  /** The bytes held of a partial upload (`offset` bytes), or undefined. */
  readPartial(site: string, id: string): Promise<Uint8Array | undefined>;
  /**
   * Appends `data` at `offset` to the partial upload of `target` (creating it at offset 0).
   * Written without fsync: it survives a process kill; after a power loss the offset reported
   * is what survived. Rejects with DW_AGGREGATOR_STORE_OFFSET_MISMATCH when `offset` is not the
   * held offset, the target differs from the partial's, or the data runs past `target.size`.
   */
  appendChunk(site: string, id: string, target: PartialTarget, offset: number, data: Uint8Array, now: number): Promise<PartialUpload>;
  /** Forgets a partial upload. Does nothing when there is none. */
  discardPartial(site: string, id: string): Promise<void>;
  /** Every partial upload, with its site and block id. */
  listPartials(): Promise<(PartialUpload & { readonly site: string; readonly id: string })[]>;

  /**
   * Records a hello or heartbeat: updates the site's contact record and clock-offset estimate,
   * and appends to its history when due (thinning: see ContactHistoryRecord). Durable when it
   * resolves. Resolves to the updated contact record.
   */
  recordContact(site: string, report: ContactReport): Promise<SiteContact>;
  /** A site's contact record, or undefined when it never called. */
  getContact(site: string): Promise<SiteContact | undefined>;
  /** Every known site (a contact record, a block or a label record), sorted. */
  listSites(): Promise<string[]>;
  /** A site's contact history in arrival order, within `range`. */
  contactHistory(site: string, range?: HistoryRange): Promise<ContactHistoryRecord[]>;

  /**
   * Records the labels a site reported (a hello) at `arrivedAt`: appends them to the site's label
   * history when they differ from the latest held (any order of names; `{}` is a set too: the
   * site reports no labels), else writes nothing. `arrivedAt` is raised to the latest record's
   * when the clock went back, so a site's history is in arrival order. Durable when it resolves.
   * Rejects with DW_AGGREGATOR_STORE_INVALID_ARGUMENT for a bad site id, arrival time or label set
   * (common/site-labels.ts).
   */
  recordSiteLabels(site: string, labels: Readonly<Record<string, string>>, arrivedAt: number): Promise<RecordSiteLabelsResult>;
  /** The labels in force for a site by `knownAt`: the latest change that had arrived by then, or undefined (none had). */
  siteLabels(site: string, options?: KnownAtOptions): Promise<SiteLabels | undefined>;
  /** `siteLabels` of every site that had reported labels by `knownAt`, sorted by site. */
  listSiteLabels(options?: KnownAtOptions): Promise<SiteLabels[]>;
  /** Every change of a site's labels, oldest first (the audit trail of `siteLabels`). */
  siteLabelHistory(site: string): Promise<SiteLabels[]>;

  stats(): StorageStats;
  /** Waits for pending commits, then closes. Idempotent. */
  close(): Promise<void>;
}

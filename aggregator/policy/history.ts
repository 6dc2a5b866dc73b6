// Every policy revision with the event time it took effect (effectiveAt) and the time the
// aggregator learned of it (loadedAt), so drift at event time T, as known at K, is judged
// against the revision that was in force at T among those learned by K. Append-only: what was
// once in force stays recorded (the audit trail), and invalid policy sets are kept as rejections.
import { deepFreeze } from './freeze.js';
import { PolicyError, PolicyErrorCode } from './errors.js';
import { historyDocumentSchema, checkPolicies } from './history-codec.js';
import type { PolicyRevision, RejectedRevision } from './types.js';

/** Which revisions a query may see. */
export interface KnownAtOptions {
  /** Only revisions (and rejections) learned at or before this time (ms); all when undefined. */
  readonly knownAt?: number;
}

export const HISTORY_FORMAT = 'driftwatch-policy-history';
export const HISTORY_VERSION = 1;

function byEffect(a: PolicyRevision, b: PolicyRevision): number {
  return a.effectiveAt - b.effectiveAt || a.seq - b.seq;
}

function visible(loadedAt: number, opts: KnownAtOptions | undefined): boolean {
  return opts?.knownAt === undefined || loadedAt <= opts.knownAt;
}

/** The revision history of one policy source. */
export class PolicyHistory {
  /** Sorted by (effectiveAt, seq): the order revisions take effect in. */
  #revisions: PolicyRevision[] = [];
  #rejected: RejectedRevision[] = [];
  #nextSeq = 1;

  /**
   * Records a revision and returns it with its `seq` (the next number: seq orders revisions
   * with equal effectiveAt, the later added winning). Throws DW_POLICY_HISTORY_CONFLICT when a
   * git commit is already recorded, or when effectiveAt or loadedAt is not a finite time.
   */
  add(revision: Omit<PolicyRevision, 'seq'>): PolicyRevision {
    if (!Number.isFinite(revision.effectiveAt) || !Number.isFinite(revision.loadedAt)) {
      throw new PolicyError(PolicyErrorCode.HistoryConflict, `expected finite effectiveAt and loadedAt, found ${revision.effectiveAt} and ${revision.loadedAt}`);
    }
    if (revision.source.kind === 'git' && this.has(revision.id)) {
      throw new PolicyError(PolicyErrorCode.HistoryConflict, `expected each commit once in the history, found ${revision.id} again`);
    }
    const r: PolicyRevision = Object.freeze({ ...revision, seq: this.#nextSeq++ });
    this.#revisions.push(r);
    this.#revisions.sort(byEffect);
    return r;
  }

  /** Records a policy set that failed validation. It is never in force. */
  reject(rejection: RejectedRevision): void {
    this.#rejected.push(Object.freeze({ ...rejection }));
  }

  /** Revisions in the order they take effect (effectiveAt, then seq), as known at `knownAt`. */
  revisions(opts?: KnownAtOptions): readonly PolicyRevision[] {
    return this.#revisions.filter((r) => visible(r.loadedAt, opts));
  }

  /** Rejected policy sets in the order they were recorded, as known at `knownAt`. */
  rejected(opts?: KnownAtOptions): readonly RejectedRevision[] {
    return this.#rejected.filter((r) => visible(r.loadedAt, opts));
  }

  /** True when a revision or a rejection with this id is recorded. */
  has(id: string): boolean {
    return this.#revisions.some((r) => r.id === id) || this.#rejected.some((r) => r.id === id);
  }

  /** The revision with this seq, or undefined. */
  bySeq(seq: number): PolicyRevision | undefined {
    return this.#revisions.find((r) => r.seq === seq);
  }

  /**
   * The revision in force at event time `t`: the latest by (effectiveAt, seq) with
   * effectiveAt ≤ t, among those learned by `knownAt`. Undefined before the first.
   */
  inForceAt(t: number, opts?: KnownAtOptions): PolicyRevision | undefined {
    for (let i = this.#revisions.length - 1; i >= 0; i--) {
      const r = this.#revisions[i]!;
      if (r.effectiveAt <= t && visible(r.loadedAt, opts)) return r;
    }
    return undefined;
  }

  /** The latest revision known at `knownAt` (whatever its effective time); undefined when none. */
  latest(opts?: KnownAtOptions): PolicyRevision | undefined {
    return this.inForceAt(Number.POSITIVE_INFINITY, opts);
  }

  /** The revision `revision` replaced: the one in force just before it, as known at `knownAt`. */
  previous(revision: PolicyRevision, opts?: KnownAtOptions): PolicyRevision | undefined {
    for (let i = this.#revisions.length - 1; i >= 0; i--) {
      const r = this.#revisions[i]!;
      if (byEffect(r, revision) < 0 && visible(r.loadedAt, opts)) return r;
    }
    return undefined;
  }

  /** The history as JSON text, for the aggregator's store. `deserialize` reads it back. */
  serialize(): string {
    const bySeq = [...this.#revisions].sort((a, b) => a.seq - b.seq);
    // Through the schema, so keys come out in one order whatever order they were built in.
    return JSON.stringify(historyDocumentSchema.parse({
      format: HISTORY_FORMAT, version: HISTORY_VERSION, nextSeq: this.#nextSeq, revisions: bySeq, rejected: this.#rejected,
    }));
  }

  /**
   * Reads a serialized history. Throws DW_POLICY_HISTORY_CORRUPT when the text is not one, is of
   * an unknown version, or holds a policy this build cannot check (a series matcher, regex or
   * semver range that does not parse).
   */
  static deserialize(text: string): PolicyHistory {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected a policy history in JSON, found text that does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const head = raw as { format?: unknown; version?: unknown } | null;
    if (typeof head !== 'object' || head === null || head.format !== HISTORY_FORMAT) {
      throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected a document with format ${JSON.stringify(HISTORY_FORMAT)}, found ${JSON.stringify(head?.format ?? null)}`);
    }
    if (head.version !== HISTORY_VERSION) {
      throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected policy history version ${HISTORY_VERSION}, found ${JSON.stringify(head.version)}`);
    }
    const parsed = historyDocumentSchema.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new PolicyError(PolicyErrorCode.HistoryCorrupt,
        `expected a valid policy history, found ${parsed.error.issues.length} problem(s), the first at ${first.path.map(String).join('.') || '(top level)'}: ${first.message}`);
    }
    const doc = parsed.data;
    const h = new PolicyHistory();
    let maxSeq = 0;
    const seqs = new Set<number>();
    for (const r of doc.revisions) {
      const why = checkPolicies(r.policies);
      if (why !== undefined) throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected revision ${r.id} (seq ${r.seq}) to hold valid policies, found ${why}`);
      if (seqs.has(r.seq)) throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected each seq once, found ${r.seq} again`);
      seqs.add(r.seq);
      maxSeq = Math.max(maxSeq, r.seq);
      h.#revisions.push(deepFreeze(r as PolicyRevision));
    }
    if (doc.nextSeq <= maxSeq) throw new PolicyError(PolicyErrorCode.HistoryCorrupt, `expected nextSeq above every seq (${maxSeq}), found ${doc.nextSeq}`);
    h.#revisions.sort(byEffect);
    h.#rejected = doc.rejected.map((r) => deepFreeze(r as RejectedRevision));
    h.#nextSeq = doc.nextSeq;
    return h;
  }
}


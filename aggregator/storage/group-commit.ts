// Group commit: concurrent commits share one synced batch. A commit waits at most `maxDelayMs`
// for company, or less once `maxCommits` are pending or `maxBytes` are queued; one batch is
// written at a time, and each commit resolves only after its batch's fsync.

/** One operation of an atomic batch. */
export type BatchOp = { readonly type: 'put'; readonly key: string; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: string };

export interface GroupCommitOptions {
  /** The longest a commit waits for others to join its batch. Default 2 ms; 0: the next turn of the event loop. */
  readonly maxDelayMs: number;
  /** A batch is written at once when this many commits are pending. Default 128. */
  readonly maxCommits: number;
  /** ... or when their values add up to this many bytes. Default 16 MiB. */
  readonly maxBytes: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = Object.freeze({ maxDelayMs: 2, maxCommits: 128, maxBytes: 16 << 20 });

/** Writes one batch durably (fsync) or rejects. */
export type WriteBatch = (ops: BatchOp[]) => Promise<void>;

/** Told after every batch: commits it carried, operations, and how long the write took. */
export type BatchObserver = (batch: { readonly commits: number; readonly ops: number; readonly bytes: number; readonly ms: number }) => void;

interface Pending {
  readonly ops: readonly BatchOp[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Batches commits; see the file comment. */
export class GroupCommit {
  readonly #write: WriteBatch;
  readonly #options: GroupCommitOptions;
  readonly #observe: BatchObserver | undefined;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #writing: Promise<void> | undefined;
  #batches = 0;
  #commits = 0;

  constructor(write: WriteBatch, options: Partial<GroupCommitOptions> = {}, observe?: BatchObserver) {
    this.#write = write;
    this.#options = { ...DEFAULT_GROUP_COMMIT, ...options };
    this.#observe = observe;
  }

  /** Batches written, and the commits they carried. */
  get batches(): number {
    return this.#batches;
  }

  get commits(): number {
    return this.#commits;
  }

  /**
   * Queues `ops` for the next batch; resolves once that batch is durable, rejects with the
   * write's error (every commit of a failed batch rejects). Operations of one commit are never
   * split across batches; batches are written in order, so a later commit of a key wins.
   */
  commit(ops: readonly BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ops, resolve, reject });
      for (const op of ops) if (op.type === 'put') this.#pendingBytes += op.value.length + op.key.length;
      this.#schedule();
    });
  }

  /** Resolves when every commit queued so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#writing !== undefined) {
      if (this.#writing === undefined) this.#flush();
      await this.#writing?.catch(() => undefined);
    }
  }

  #full(): boolean {
    return this.#pending.length >= this.#options.maxCommits || this.#pendingBytes >= this.#options.maxBytes;
  }

  #schedule(): void {
    if (this.#writing !== undefined) return; // the write in flight flushes what gathered when it ends
    if (this.#full()) {
      this.#flush();
      return;
    }
    if (this.#timer !== undefined) return;
    const fire = (): void => {
      this.#timer = undefined;
      if (this.#writing === undefined) this.#flush();
    };
    this.#timer = this.#options.maxDelayMs <= 0 ? setImmediate(fire) : setTimeout(fire, this.#options.maxDelayMs);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }

  #flush(): void {
    this.#clearTimer();
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    const ops: BatchOp[] = [];
    for (const p of batch) for (const op of p.ops) ops.push(op);
    const t0 = performance.now();
    this.#writing = this.#write(ops).then(
      () => {
        this.#batches++;
        this.#commits += batch.length;
        try {
          this.#observe?.({ commits: batch.length, ops: ops.length, bytes, ms: performance.now() - t0 });
        } catch {
          // An observer's failure is not the commit's.
        }
        for (const p of batch) p.resolve();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => {
      this.#writing = undefined;
      // What gathered during the write goes next, without waiting again: it already waited.
      if (this.#pending.length > 0) this.#flush();
    });
  }
}

// Policies from a local git repository (kept current by a fetch job, or the GitOps repository
// itself), read with isomorphic-git: pure JavaScript, so the aggregator needs no git binary.
// Every commit on the ref's first-parent history that changed the policy subdirectory is a
// revision, effective from its committer date — the time the change landed on that branch (for a
// merge, the merge commit's date, not the date of the branch's own commits).
import * as fs from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readBlob, readCommit, readTree, resolveRef } from 'isomorphic-git';
import { errorMessage } from '../../common/errors.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './errors.js';
import { PolicyHistory } from './history.js';
import { MAX_POLICY_FILE_BYTES, parsePolicySet, type PolicyFile } from './parse.js';
import { ReloadDriver, type PolicySource, type PolicySourceOptions, type ReloadResult } from './source.js';
import type { PolicyRevision, RejectedRevision, RevisionSource } from './types.js';

export interface GitPolicySourceOptions extends PolicySourceOptions {
  /** The repository: a work tree (with `.git/`) or a bare repository. */
  readonly repository: string;
  /** The ref whose history is read: `main`, `refs/remotes/origin/main`, `HEAD` (default). */
  readonly ref?: string;
  /** The policy directory inside the repository (`policies`, `fleet/policies`); the root when empty (default). */
  readonly subdirectory?: string;
}

/** The state of the first-parent chain at one commit. */
interface ChainPoint {
  /** The policy subdirectory's tree at this commit; null when it does not exist. */
  readonly tree: string | null;
  /** The effective time of the latest change at or before this commit. */
  readonly effectiveAt: number;
}

const NO_CHANGE_YET: ChainPoint = { tree: null, effectiveAt: Number.NEGATIVE_INFINITY };

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'NotFoundError' || code === 'ObjectTypeError';
}

/**
 * Creates a git policy source; nothing is read before `start()` (or `reload()`). Each reload
 * resolves the ref and walks the first-parent history back to the commits it already knows,
 * oldest first: a commit whose policy subdirectory differs from its parent's becomes a revision
 * (id = the commit sha, effectiveAt = its committer date, raised to the previous change's
 * effectiveAt should the dates go backwards, loadedAt = now), or, when invalid, a rejection —
 * the revision before it then stays in force from its time on. A commit already in the history
 * (continued from the store) keeps its loadedAt. A commit that removes the subdirectory is a
 * revision with no policies. A missing repository or ref makes the reload `failed`
 * (DW_POLICY_SOURCE_UNREADABLE).
 */
export function createGitPolicySource(opts: GitPolicySourceOptions): PolicySource {
  const repository = resolve(opts.repository);
  const ref = opts.ref ?? 'HEAD';
  const subdirectory = (opts.subdirectory ?? '').replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, '');
  const history = opts.history ?? new PolicyHistory();
  const cache = {};
  const processed = new Map<string, ChainPoint>();
  let gitdir: string | undefined;
  let lastHead: string | undefined;

  async function findGitdir(): Promise<string> {
    if (gitdir !== undefined) return gitdir;
    const dotGit = join(repository, '.git');
    const s = await stat(dotGit).catch(() => undefined);
    const candidate = s?.isDirectory() ? dotGit : repository;
    await stat(join(candidate, 'HEAD')).catch((err) => {
      throw new PolicyError(PolicyErrorCode.SourceUnreadable, `expected a git repository (a work tree with .git/ or a bare repository), found none: ${errorMessage(err)}`, { where: repository, cause: err });
    });
    gitdir = candidate;
    return gitdir;
  }

  async function subtreeOf(dir: string, commitTree: string): Promise<string | null> {
    if (subdirectory === '') return commitTree;
    try {
      return (await readTree({ fs, gitdir: dir, oid: commitTree, filepath: subdirectory, cache })).oid;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async function readPolicyTree(dir: string, tree: string): Promise<{ files: PolicyFile[]; problems: PolicyProblem[] }> {
    const files: PolicyFile[] = [];
    const problems: PolicyProblem[] = [];
    const decoder = new TextDecoder('utf-8', { fatal: true });
    async function walk(oid: string, prefix: string): Promise<void> {
      const { tree: entries } = await readTree({ fs, gitdir: dir, oid, cache });
      for (const e of entries) {
        if (e.path.startsWith('.')) continue;
        const path = prefix === '' ? e.path : `${prefix}/${e.path}`;
        if (e.type === 'tree') {
          await walk(e.oid, path);
          continue;
        }
        // Regular files only: not symlinks (120000) or submodules.
        if (e.type !== 'blob' || e.mode === '120000' || !/\.ya?ml$/.test(e.path)) continue;
        const { blob } = await readBlob({ fs, gitdir: dir, oid: e.oid, cache });
        if (blob.length > MAX_POLICY_FILE_BYTES) {
          problems.push({ code: PolicyErrorCode.FileTooLarge, file: path, path: '', message: `expected a policy file of at most ${MAX_POLICY_FILE_BYTES} bytes, found ${blob.length}` });
          continue;
        }
        try {
          files.push({ path, text: decoder.decode(blob) });
        } catch {
          problems.push({ code: PolicyErrorCode.FileUnreadable, file: path, path: '', message: 'expected UTF-8 text, found bytes that are not UTF-8' });
        }
      }
    }
    await walk(tree, '');
    return { files, problems };
  }

  const driver = new ReloadDriver('git', opts, () => history.latest(), async (_trigger, at): Promise<Omit<ReloadResult, 'trigger' | 'at'>> => {
    let dir: string;
    let head: string;
    try {
      dir = await findGitdir();
      head = await resolveRef({ fs, gitdir: dir, ref });
    } catch (err) {
      const error = err instanceof PolicyError ? err
        : new PolicyError(PolicyErrorCode.SourceUnreadable, `expected the ref ${JSON.stringify(ref)} in the git repository, found ${errorMessage(err)}`, { where: repository, cause: err });
      return { outcome: 'failed', added: [], rejected: [], error, inForce: history.latest() };
    }
    if (head === lastHead) return { outcome: 'unchanged', added: [], rejected: [], inForce: history.latest() };

    // Walk back along first parents to a commit already processed (or the root).
    const pending: { oid: string; committedAt: number; tree: string | null }[] = [];
    let base = NO_CHANGE_YET;
    for (let oid: string | undefined = head; oid !== undefined;) {
      const known = processed.get(oid);
      if (known !== undefined) {
        base = known;
        break;
      }
      const { commit } = await readCommit({ fs, gitdir: dir, oid, cache });
      pending.push({ oid, committedAt: commit.committer.timestamp * 1000, tree: await subtreeOf(dir, commit.tree) });
      oid = commit.parent[0];
    }
    pending.reverse();

    const added: PolicyRevision[] = [];
    const rejected: RejectedRevision[] = [];
    let prev = base;
    for (const c of pending) {
      let point: ChainPoint = { tree: c.tree, effectiveAt: prev.effectiveAt };
      if (c.tree !== prev.tree) {
        const effectiveAt = Math.max(c.committedAt, prev.effectiveAt);
        point = { tree: c.tree, effectiveAt };
        if (!history.has(c.oid)) {
          const source: RevisionSource = Object.freeze({ kind: 'git', repository, ref, subdirectory, commit: c.oid, committedAt: c.committedAt });
          const read = c.tree === null ? { files: [], problems: [] } : await readPolicyTree(dir, c.tree);
          const parsed = parsePolicySet(read.files);
          const problems = [...read.problems, ...parsed.problems];
          if (problems.length === 0) {
            added.push(history.add({ id: c.oid, source, effectiveAt, loadedAt: at, files: parsed.files, policies: parsed.policies }));
          } else {
            const rejection: RejectedRevision = { id: c.oid, source, effectiveAt, loadedAt: at, problems };
            history.reject(rejection);
            rejected.push(rejection);
          }
        }
      }
      processed.set(c.oid, point);
      prev = point;
    }
    lastHead = head;
    const inForce = history.latest();
    if (added.length > 0) return { outcome: 'changed', added, rejected, inForce };
    if (rejected.length > 0) {
      const last = rejected[rejected.length - 1]!;
      return { outcome: 'invalid', added, rejected, inForce, error: PolicyError.invalid(last.problems, `commit ${last.id}`) };
    }
    return { outcome: 'unchanged', added, rejected, inForce };
  });

  return {
    kind: 'git',
    history,
    get stats() {
      return driver.stats;
    },
    start: () => driver.start(() => {
      const dir = gitdir ?? join(repository, '.git');
      // A new commit or fetch rewrites a ref under refs/, packed-refs or HEAD in the git directory.
      return [{ path: dir, recursive: false }, { path: join(dir, 'refs'), recursive: true }];
    }),
    reload: () => driver.reload('explicit'),
    nextReload: () => driver.nextReload(),
    onReload: (listener) => driver.onReload(listener),
    reloadingSince: () => driver.runningSince,
    close: () => driver.close(),
  };
}

// Policies from a directory of YAML files (a ConfigMap mount, a checkout kept current by
// something else). Every reload reads the whole set: the revision is the set of files, its id
// their content hash, its effective time the load time. All or nothing: one invalid file rejects
// the whole set and the previous revision stays in force.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './errors.js';
import { PolicyHistory } from './history.js';
import { MAX_POLICY_FILE_BYTES, parsePolicySet, policySetHash, type PolicyFile } from './parse.js';
import { ReloadDriver, type PolicySource, type PolicySourceOptions, type ReloadResult } from './source.js';
import type { RevisionSource } from './types.js';

export interface DirectoryPolicySourceOptions extends PolicySourceOptions {
  /** The directory; `*.yaml` and `*.yml` files in it and below are policy files (names starting with `.` are skipped). */
  readonly dir: string;
}

const MAX_DEPTH = 8;

interface ReadResult {
  readonly files: PolicyFile[];
  /** Files that exist but could not be read or are too large: problems of the set. */
  readonly problems: PolicyProblem[];
  /** Hashes of the files with problems, so an unreadable file still changes the content hash. */
  readonly extraHashes: { path: string; sha256: string }[];
}

async function readPolicyDir(root: string): Promise<ReadResult> {
  const out: ReadResult = { files: [], problems: [], extraHashes: [] };
  async function walk(dir: string, depth: number): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue; // dotfiles, editors' swap files, a ConfigMap's ..data
      const full = join(dir, e.name);
      const rel = relative(root, full).split(sep).join('/');
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let size = -1;
      if (e.isSymbolicLink() || isFile) {
        try {
          const s = await stat(full);
          isDir = s.isDirectory();
          isFile = s.isFile();
          size = s.size;
        } catch {
          continue; // a dangling symlink is not a policy file
        }
      }
      if (isDir) {
        if (depth < MAX_DEPTH) await walk(full, depth + 1);
        continue;
      }
      if (!isFile || !/\.ya?ml$/.test(e.name)) continue;
      if (size > MAX_POLICY_FILE_BYTES) {
        out.problems.push({ code: PolicyErrorCode.FileTooLarge, file: rel, path: '', message: `expected a policy file of at most ${MAX_POLICY_FILE_BYTES} bytes, found ${size}` });
        out.extraHashes.push({ path: rel, sha256: `size:${size}` });
        continue;
      }
      try {
        out.files.push({ path: rel, text: await readFile(full, 'utf8') });
      } catch (err) {
        out.problems.push({ code: PolicyErrorCode.FileUnreadable, file: rel, path: '', message: `expected a readable file, found ${errorMessage(err)}` });
        out.extraHashes.push({ path: rel, sha256: `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}` });
      }
    }
  }
  await walk(root, 0);
  return out;
}

/**
 * Creates a directory policy source; nothing is read before `start()` (or `reload()`).
 * A reload whose directory is missing or unreadable is `failed` (DW_POLICY_SOURCE_UNREADABLE);
 * one with any invalid file is `invalid` (DW_POLICY_INVALID, every problem listed) and is
 * recorded once as a rejection; identical content reloads as `unchanged`. An empty directory is
 * a valid set with no policies.
 */
export function createDirectoryPolicySource(opts: DirectoryPolicySourceOptions): PolicySource {
  const dir = resolve(opts.dir);
  const history = opts.history ?? new PolicyHistory();
  const source: RevisionSource = Object.freeze({ kind: 'directory', path: dir });
  // The content hash last seen invalid, when no valid revision was loaded since.
  let lastRejected: { id: string; error: PolicyError } | undefined;
  {
    const latestRevision = history.latest();
    const rejections = history.rejected();
    const lastRejection = rejections[rejections.length - 1];
    if (lastRejection !== undefined && (latestRevision === undefined || lastRejection.loadedAt >= latestRevision.loadedAt)) {
      lastRejected = { id: lastRejection.id, error: PolicyError.invalid(lastRejection.problems, `the policy directory ${dir}`) };
    }
  }

  const driver = new ReloadDriver('directory', opts, () => history.latest(), async (_trigger, at): Promise<Omit<ReloadResult, 'trigger' | 'at'>> => {
    let read: ReadResult;
    try {
      const s = await stat(dir);
      if (!s.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      read = await readPolicyDir(dir);
    } catch (err) {
      const error = new PolicyError(PolicyErrorCode.SourceUnreadable, `expected a readable policy directory, found ${errorMessage(err)}`, { where: dir, cause: err });
      return { outcome: 'failed', added: [], rejected: [], error, inForce: history.latest() };
    }
    const parsed = parsePolicySet(read.files);
    const problems = [...read.problems, ...parsed.problems];
    const id = policySetHash([...parsed.files, ...read.extraHashes]);
    const inForce = history.latest();
    if (problems.length === 0) {
      lastRejected = undefined;
      if (inForce !== undefined && inForce.id === id) return { outcome: 'unchanged', added: [], rejected: [], inForce };
      const revision = history.add({ id, source, effectiveAt: at, loadedAt: at, files: parsed.files, policies: parsed.policies });
      return { outcome: 'changed', added: [revision], rejected: [], inForce: history.latest() };
    }
    if (lastRejected?.id === id) return { outcome: 'unchanged', added: [], rejected: [], error: lastRejected.error, inForce };
    const error = PolicyError.invalid(problems, `the policy directory ${dir}`);
    const rejection = { id, source, effectiveAt: at, loadedAt: at, problems };
    history.reject(rejection);
    lastRejected = { id, error };
    return { outcome: 'invalid', added: [], rejected: [rejection], error, inForce };
  });

  return {
    kind: 'directory',
    history,
    get stats() {
      return driver.stats;
    },
    start: () => driver.start(() => [{ path: dir, recursive: true }]),
    reload: () => driver.reload('explicit'),
    nextReload: () => driver.nextReload(),
    onReload: (listener) => driver.onReload(listener),
    reloadingSince: () => driver.runningSince,
    close: () => driver.close(),
  };
}

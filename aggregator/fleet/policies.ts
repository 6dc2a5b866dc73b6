// The aggregator's policy source, built from its settings (a directory or a git repository),
// continuing the history kept in the data directory so that a restart never re-learns a revision
// with a later loadedAt. See docs/aggregator.md, "Policies".
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import type { AggregatorLogger } from '../logger.js';
import {
  createDirectoryPolicySource, createGitPolicySource, createPolicyMetrics, loadPolicyHistoryFile, POLICY_HISTORY_FILE, savePolicyHistoryFile,
  type PolicyHistory, type PolicySource, type PolicySourceOptions,
} from '../policy/index.js';

/** How often, and whether on file-system events, a source reloads (docs/policies.md#reloading). */
interface ReloadSettings {
  /** Reload on file-system events. Default true. */
  readonly watch?: boolean;
  /** Reload this often in any case (ms); 0 turns polling off. Default 30 s. */
  readonly pollIntervalMs?: number;
}

/** Where the desired state comes from: a directory of YAML files, or a git repository. */
export type PolicySettings =
  | (ReloadSettings & { readonly dir: string })
  | (ReloadSettings & { readonly git: { readonly repository: string; readonly ref?: string; readonly subdirectory?: string } });

/** A policy source ready to start, and how to keep its history. */
export interface OpenedPolicies {
  readonly source: PolicySource;
  /** Writes the source's history to the data directory, durably. */
  persist(history: PolicyHistory): Promise<void>;
  /** The file the history is kept in. */
  readonly file: string;
}

/** What the source is, in words, for logs. */
export function describePolicySettings(settings: PolicySettings): string {
  if ('dir' in settings) return `directory ${settings.dir}`;
  const g = settings.git;
  return `git repository ${g.repository} at ${g.ref ?? 'HEAD'}${g.subdirectory ? `, subdirectory ${g.subdirectory}` : ''}`;
}

/**
 * Reads the stored history (`<dataDir>/policy-history.json`; a corrupt one is moved aside with a
 * warning and a new history starts) and builds the source that continues it, not started, its
 * metrics on `registry`. Rejects with DW_POLICY_SOURCE_UNREADABLE when the stored history exists
 * but cannot be read.
 */
export async function openPolicies(settings: PolicySettings, deps: { dataDir: string; clock: Clock; logger: AggregatorLogger; registry: Registry }): Promise<OpenedPolicies> {
  const file = join(deps.dataDir, POLICY_HISTORY_FILE);
  const loaded = await loadPolicyHistoryFile(file, deps.clock.now());
  if (loaded.status === 'corrupt') {
    deps.logger.warn({ file, movedTo: loaded.movedTo, code: loaded.error.code, err: loaded.error.message },
      'stored policy history is corrupt: moved aside, a new history starts (answers about the past may lack the revisions it held)');
  } else if (loaded.status === 'loaded') {
    deps.logger.info({ file, revisions: loaded.history.revisions().length }, 'policy history continued from the data directory');
  }
  const common: PolicySourceOptions = {
    history: loaded.history,
    clock: deps.clock,
    logger: deps.logger,
    metrics: createPolicyMetrics(deps.registry),
    ...(settings.watch === undefined ? {} : { watch: settings.watch }),
    ...(settings.pollIntervalMs === undefined ? {} : { pollInterval: settings.pollIntervalMs }),
  };
  const source = 'dir' in settings
    ? createDirectoryPolicySource({ ...common, dir: settings.dir })
    : createGitPolicySource({ ...common, repository: settings.git.repository, ref: settings.git.ref ?? 'HEAD', subdirectory: settings.git.subdirectory ?? '' });
  return { source, file, persist: (history) => savePolicyHistoryFile(file, history) };
}

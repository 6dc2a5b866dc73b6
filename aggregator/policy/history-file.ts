// The policy history kept beside the aggregator's store (`<dataDir>/policy-history.json`), so a
// restarted aggregator continues its history instead of re-reading its source as new: the
// revisions it had learned keep their `loadedAt`, and answers as of an earlier `known_at` stay
// the same. Written durably: a temporary file, fsync, rename, fsync of the directory.
import { readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileDurably } from '../../common/durable-file.js';
import { errorMessage } from '../../common/errors.js';
import { PolicyError, PolicyErrorCode } from './errors.js';
import { PolicyHistory } from './history.js';

/** The file's name in the data directory. */
export const POLICY_HISTORY_FILE = 'policy-history.json';

/** What loading found. */
export type LoadedHistory =
  | { readonly status: 'loaded'; readonly history: PolicyHistory }
  | { readonly status: 'missing'; readonly history: PolicyHistory }
  /** The file did not hold a history: moved aside to `movedTo`, a new history started. */
  | { readonly status: 'corrupt'; readonly history: PolicyHistory; readonly error: PolicyError; readonly movedTo: string };

/**
 * Reads the history at `file`. A missing file is a new history. A file that is not one
 * (DW_POLICY_HISTORY_CORRUPT) is never used: it is renamed to `<file>.corrupt-<now>` and a new
 * history starts — the caller logs it. Rejects with DW_POLICY_SOURCE_UNREADABLE when the file
 * exists but cannot be read or moved.
 */
export async function loadPolicyHistoryFile(file: string, now: number): Promise<LoadedHistory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', history: new PolicyHistory() };
    throw new PolicyError(PolicyErrorCode.SourceUnreadable, `expected a readable policy history file, found ${errorMessage(err)}`, { where: file, cause: err });
  }
  try {
    return { status: 'loaded', history: PolicyHistory.deserialize(text) };
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const movedTo = join(dirname(file), `${basename(file)}.corrupt-${now}`);
    try {
      await rename(file, movedTo);
    } catch (moveErr) {
      throw new PolicyError(PolicyErrorCode.SourceUnreadable, `expected to move the corrupt policy history aside to ${movedTo}, found ${errorMessage(moveErr)}`, { where: file, cause: moveErr });
    }
    return { status: 'corrupt', history: new PolicyHistory(), error: err, movedTo };
  }
}

/** Writes `history` to `file` durably (temporary file, fsync, rename, fsync of the directory). Rejects with the file system's error. */
export async function savePolicyHistoryFile(file: string, history: PolicyHistory): Promise<void> {
  await writeFileDurably(file, history.serialize());
}

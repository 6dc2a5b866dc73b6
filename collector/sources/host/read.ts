// Reading the host's files under the configured root, with their failures as source errors.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../common/errors.js';
import { SourceError, SourceErrorCode } from '../errors.js';

/** The path of host path `p` (absolute, as on the host) under `root`. */
export function underRoot(root: string, p: string): string {
  return root === '/' ? p : join(root, p);
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

/** The source error for a failed read or stat of `path`. */
export function fileError(path: string, err: unknown): SourceError {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') {
    return new SourceError(SourceErrorCode.PermissionDenied, `${path}: expected a readable file, found permission denied (${code})`, { cause: err });
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SourceError(SourceErrorCode.Failed, `${path}: expected a file, found nothing there`, { cause: err });
  }
  if (code === 'ABORT_ERR' || (err instanceof Error && err.name === 'AbortError')) {
    return new SourceError(SourceErrorCode.Timeout, `${path}: expected to read it before the deadline, found the read aborted`, { cause: err });
  }
  return new SourceError(SourceErrorCode.Failed, `${path}: expected a readable file, found ${errorMessage(err)}`, { cause: err });
}

/** Reads a file the host source cannot do without: any failure is a SourceError. */
export async function readRequired(root: string, p: string, signal: AbortSignal): Promise<string> {
  const path = underRoot(root, p);
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    throw fileError(path, err);
  }
}

/**
 * Reads an optional file: undefined when it does not exist. Permission denied is still an error
 * (the file is there and the agent was meant to read it).
 */
export async function readOptional(root: string, p: string, signal: AbortSignal): Promise<string | undefined> {
  const path = underRoot(root, p);
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fileError(path, err);
  }
}

/** The names in a directory that match `pattern`, sorted; empty when the directory does not exist. */
export async function listOptional(root: string, dir: string, pattern: RegExp): Promise<string[]> {
  const path = underRoot(root, dir);
  try {
    return (await readdir(path)).filter((n) => pattern.test(n)).sort();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw fileError(path, err);
  }
}

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root, whether this runs from the sources or from dist/. */
export const repoRoot: string = (() => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  // here is <root>/dist/test/helpers/ when compiled.
  return here.includes('/dist/test/') ? join(here, '..', '..', '..') : join(here, '..', '..');
})();

/** A path under test/fixtures/. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}

// Allow and deny lists of metric names and simple globs.

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * A predicate on metric names: true when a name matches an `allow` entry and no `deny` entry.
 * Names are matched whole; `*` matches any run of characters, `?` one. Results are cached per
 * name (an exporter repeats the same few hundred names every scrape); the cache is bounded.
 */
export function nameFilter(allow: readonly string[], deny: readonly string[]): (name: string) => boolean {
  const exact = new Set(allow.filter((p) => !/[*?]/.test(p)));
  const allowGlobs = allow.filter((p) => /[*?]/.test(p)).map(globToRegExp);
  const denyExact = new Set(deny.filter((p) => !/[*?]/.test(p)));
  const denyGlobs = deny.filter((p) => /[*?]/.test(p)).map(globToRegExp);
  const cache = new Map<string, boolean>();
  return (name) => {
    let ok = cache.get(name);
    if (ok !== undefined) return ok;
    ok = (exact.has(name) || allowGlobs.some((r) => r.test(name))) && !denyExact.has(name) && !denyGlobs.some((r) => r.test(name));
    if (cache.size >= 10_000) cache.clear();
    cache.set(name, ok);
    return ok;
  };
}

// Seal ranges: which blocks sealed from an edge store's head a block holds, as (first, last)
// pairs of seal indexes (BlockHeader.sealRanges). The edge unions them when it compacts; the
// center unions what it holds to find the indexes it is missing.

/** The union of seal-range lists, normalised: ascending, disjoint, adjacent ranges joined. */
export function unionSealRanges(...lists: readonly (readonly number[] | undefined)[]): number[] {
  const pairs: [number, number][] = [];
  for (const l of lists) {
    if (l === undefined) continue;
    for (let i = 0; i + 1 < l.length; i += 2) pairs.push([l[i]!, l[i + 1]!]);
  }
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [first, last] of pairs) {
    const n = out.length;
    if (n > 0 && first <= out[n - 1]! + 1) {
      if (last > out[n - 1]!) out[n - 1] = last;
    } else {
      out.push(first, last);
    }
  }
  return out;
}

/** The indexes in 1..upTo that `ranges` (normalised) does not cover, as (first, last) pairs. */
export function missingSealRanges(ranges: readonly number[], upTo: number): number[] {
  const out: number[] = [];
  let next = 1;
  for (let i = 0; i + 1 < ranges.length && next <= upTo; i += 2) {
    const first = ranges[i]!;
    if (first > next) out.push(next, Math.min(first - 1, upTo));
    next = Math.max(next, ranges[i + 1]! + 1);
  }
  if (next <= upTo) out.push(next, upTo);
  return out;
}

// Site label history in the level store: `l!<site>!<arrivedAt>!<n>`, one record per change,
// written through the group commit (synced) and mirrored in memory once durable.
import { sameSiteLabels, siteLabelProblems, sortedSiteLabels } from '../../common/site-labels.js';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import type { BatchOp } from './group-commit.js';
import { LABELS_PREFIX, labelsKey, prefixRange } from './keys.js';
import { knownSiteOps } from './level-contacts.js';
import type { LevelContext, SiteLabelsState } from './level-context.js';
import { decodeSiteLabels, encodeRecord } from './records.js';
import type { RecordSiteLabelsResult, SiteLabels } from './storage.js';

/** Loads every site's label history into memory (key order: by site, then arrival). */
export async function loadSiteLabels(ctx: LevelContext): Promise<void> {
  for await (const [key, value] of ctx.db.iterator(prefixRange(LABELS_PREFIX))) {
    const rest = key.slice(LABELS_PREFIX.length);
    const parts = rest.split('!');
    const site = parts[0]!;
    let state = ctx.labels.get(site);
    if (state === undefined) ctx.labels.set(site, (state = { records: [], n: 0 }));
    // Counted even when corrupt, so that no new record ever takes its key.
    const n = parseInt(parts[2] ?? '', 16);
    if (Number.isSafeInteger(n)) state.n = Math.max(state.n, n + 1);
    const r = decodeSiteLabels(value);
    if (r === undefined || r.site !== site || parts.length !== 3) {
      ctx.warn({ site, key }, 'corrupt site labels record skipped; the labels before it stay in force until the next change');
      continue;
    }
    state.records.push(r);
  }
}

/** Throws DW_AGGREGATOR_STORE_INVALID_ARGUMENT unless `labels` is a valid label set. */
export function checkLabels(labels: unknown): void {
  const problems = siteLabelProblems(labels);
  if (problems.length > 0) throw new AggregatorError(AggregatorErrorCode.StoreInvalidArgument, problems.join('; '), { problems });
}

/** recordSiteLabels' body (under the site's lock). */
export async function recordSiteLabels(ctx: LevelContext, site: string, labels: Readonly<Record<string, string>>, at: number): Promise<RecordSiteLabelsResult> {
  const state: SiteLabelsState = ctx.labels.get(site) ?? { records: [], n: 0 };
  const latest = state.records.at(-1);
  if (latest !== undefined && sameSiteLabels(latest.labels, labels)) return { changed: false, current: latest };
  const record: SiteLabels = { site, labels: sortedSiteLabels(labels), arrivedAt: Math.max(at, latest?.arrivedAt ?? 0) };
  const ops: BatchOp[] = [{ type: 'put', key: labelsKey(site, record.arrivedAt, state.n), value: encodeRecord(record) }, ...knownSiteOps(ctx, site, at)];
  // Pending (oldestPendingArrival) from the call on, at `at` ≤ record.arrivedAt: LevelStorage.#stamped.
  await ctx.group.commit(ops);
  state.n++;
  state.records.push(record);
  ctx.labels.set(site, state);
  if (!ctx.sites.has(site)) ctx.sites.set(site, at);
  return { changed: true, current: record };
}

/** The latest record that had arrived by `knownAt` (binary search; records are in arrival order). */
export function labelsAt(records: readonly SiteLabels[], knownAt: number | undefined): SiteLabels | undefined {
  if (knownAt === undefined) return records.at(-1);
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.arrivedAt <= knownAt) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : records[lo - 1];
}

// Site contact records and their history in the level store: `s!<site>` the latest, `h!` the
// thinned history, `k!` the known sites. Written through the group commit (synced).
import type { BatchOp } from './group-commit.js';
import { historyKey, historyPrefix, hex14, KNOWN_SITE_PREFIX, knownSiteKey, prefixRange, SITE_PREFIX, siteKey } from './keys.js';
import { historyDue, historyRecord, nextContact } from './contact.js';
import type { HistoryTail, LevelContext } from './level-context.js';
import { decodeContact, decodeHistory, decodeKnownSite, encodeRecord } from './records.js';
import type { ContactHistoryRecord, ContactReport, HistoryRange, SiteContact } from './storage.js';

/** Loads the known sites and every contact record into memory. */
export async function loadContacts(ctx: LevelContext): Promise<void> {
  for await (const [key, value] of ctx.db.iterator(prefixRange(KNOWN_SITE_PREFIX))) {
    const site = key.slice(KNOWN_SITE_PREFIX.length);
    const r = decodeKnownSite(value);
    if (r === undefined) ctx.warn({ site, key }, 'corrupt known-site record; the site stays known with an unknown first-seen time');
    ctx.sites.set(site, r?.firstSeenAt ?? 0);
  }
  for await (const [key, value] of ctx.db.iterator(prefixRange(SITE_PREFIX))) {
    const site = key.slice(SITE_PREFIX.length);
    const c = decodeContact(value);
    if (c === undefined) {
      ctx.warn({ site, key }, 'corrupt site contact record skipped; the next hello or heartbeat rewrites it');
      continue;
    }
    ctx.contacts.set(site, c);
    if (!ctx.sites.has(site)) ctx.sites.set(site, c.firstSeenAt);
  }
}

/** The op that makes `site` known, when it is not yet. */
export function knownSiteOps(ctx: LevelContext, site: string, at: number): BatchOp[] {
  return ctx.sites.has(site) ? [] : [{ type: 'put', key: knownSiteKey(site), value: encodeRecord({ firstSeenAt: at }) }];
}

/** The site's last history records, read from disk on first use. */
async function historyTail(ctx: LevelContext, site: string): Promise<HistoryTail> {
  const cached = ctx.history.get(site);
  if (cached !== undefined) return cached;
  const tail: HistoryTail = { last: undefined, lastHeartbeat: undefined, n: 0 };
  // Newest first; a heartbeat is never far back (a hello at most once a minute between them).
  for await (const [key, value] of ctx.db.iterator({ ...prefixRange(historyPrefix(site)), reverse: true, limit: 64 })) {
    const r = decodeHistory(value);
    if (r === undefined) {
      ctx.warn({ site, key }, 'corrupt contact history record skipped');
      continue;
    }
    if (tail.last === undefined) {
      tail.last = r;
      tail.n = parseInt(key.slice(key.lastIndexOf('!') + 1), 16) + 1;
    }
    if (r.kind === 'heartbeat') {
      tail.lastHeartbeat = r;
      break;
    }
  }
  ctx.history.set(site, tail);
  return tail;
}

/** recordContact's body (under the site's lock). */
export async function recordContact(ctx: LevelContext, site: string, report: ContactReport): Promise<SiteContact> {
  const next = nextContact(site, ctx.contacts.get(site), report);
  const record = historyRecord(next, report);
  const tail = await historyTail(ctx, site);
  const due = historyDue(tail.last, tail.lastHeartbeat, record);
  const ops: BatchOp[] = [{ type: 'put', key: siteKey(site), value: encodeRecord(next) }, ...knownSiteOps(ctx, site, report.at)];
  if (due) ops.push({ type: 'put', key: historyKey(site, record.at, tail.n), value: encodeRecord(record) });
  await ctx.group.commit(ops);
  ctx.contacts.set(site, next);
  if (!ctx.sites.has(site)) ctx.sites.set(site, report.at);
  if (due) {
    tail.n++;
    tail.last = record;
    if (record.kind === 'heartbeat') tail.lastHeartbeat = record;
  }
  return next;
}

/** contactHistory's body. */
export async function contactHistory(ctx: LevelContext, site: string, range: HistoryRange): Promise<ContactHistoryRecord[]> {
  const prefix = historyPrefix(site);
  const out: ContactHistoryRecord[] = [];
  const gte = range.from === undefined ? prefix : prefix + hex14(Math.max(0, range.from));
  const lt = range.to === undefined ? `${prefix}~` : `${prefix}${hex14(Math.max(0, range.to))}~`;
  if (range.to !== undefined && range.to < 0) return out;
  for await (const [key, value] of ctx.db.iterator({ gte, lt })) {
    const r = decodeHistory(value);
    if (r === undefined) ctx.warn({ site, key }, 'corrupt contact history record skipped');
    else out.push(r);
  }
  return out;
}

// The upgrades report: for a policy revision that changed expected values, where each selected
// site stands — converged (when), in progress, failed, unknown — with the reason its evidence
// points to and the evidence itself.
import { changedExpectations, check, type ExpectationChange, type PolicyRevision } from '../policy/index.js';
import { ABSENT } from './block-changes.js';
import type { ContactState } from './contacts.js';
import { FleetError, FleetErrorCode } from './errors.js';
import { compareText, contactCut, freshness, pageOf, pageWindow, prepare, siteMemo, type FleetInputs, type QueryContext, type SiteContext } from './query.js';
import type { SiteView } from './site-view.js';
import type { Evidence, UpgradeQuery, UpgradeReason, UpgradeRow, UpgradesPage, UpgradeStatus, UpgradeSummary } from './types.js';
import { findings, REASON_PRIORITY, rolloutState, scopeOf, type Finding } from './upgrade-evidence.js';

/** At most this many pieces of evidence per row: the latest ones. */
export const MAX_EVIDENCE = 40;

interface Target {
  readonly change: ExpectationChange;
  /** Local series indexes of the site the changed expectation selects. */
  readonly series: number[];
}

function upgradeChanges(prev: PolicyRevision | undefined, rev: PolicyRevision): ExpectationChange[] {
  return changedExpectations(prev, rev).filter((c) => c.change !== 'removed');
}

/** The revision the query follows, the one before it, and its changes; undefined when none changed a value by `at`. */
function chooseRevision(ctx: QueryContext, wanted: string | undefined): { rev: PolicyRevision; changes: ExpectationChange[] } | undefined {
  const history = ctx.inputs.policies;
  const known = history.revisions({ knownAt: ctx.knownAt });
  if (wanted !== undefined) {
    const seq = /^seq:(\d+)$/.exec(wanted);
    const matching = known.filter((r) => (seq === null ? r.id === wanted : r.seq === Number(seq[1])));
    if (matching.length === 0) {
      throw new FleetError(FleetErrorCode.UnknownRevision,
        `expected a policy revision id or seq:N known by knownAt ${ctx.knownAt} (${known.length} known), found ${JSON.stringify(wanted)}`);
    }
    // A directory revert repeats an earlier id: the latest in force by `at`, else the latest.
    const rev = [...matching].reverse().find((r) => r.effectiveAt <= ctx.at) ?? matching[matching.length - 1]!;
    if (rev.effectiveAt > ctx.at) {
      throw new FleetError(FleetErrorCode.BadQuery, `expected at at or after revision ${rev.id}'s effective time ${rev.effectiveAt}, found ${ctx.at}`);
    }
    return { rev, changes: upgradeChanges(history.previous(rev, { knownAt: ctx.knownAt }), rev) };
  }
  for (let i = known.length - 1; i >= 0; i--) {
    const rev = known[i]!;
    if (rev.effectiveAt > ctx.at) continue;
    const changes = upgradeChanges(history.previous(rev, { knownAt: ctx.knownAt }), rev);
    if (changes.length > 0) return { rev, changes };
  }
  return undefined;
}

function contactText(c: ContactState): string {
  const parts = [`last ${c.kind} from the agent`];
  if (c.backlogBlocks !== undefined) parts.push(`backlog ${c.backlogBlocks} block(s), ${c.backlogBytes ?? 0} bytes`);
  if (c.lastRoundTime !== undefined) parts.push(`last round at ${new Date(c.lastRoundTime).toISOString()}`);
  if (c.lastErrorCode !== undefined && c.lastErrorCode !== '') parts.push(`upload error ${c.lastErrorCode}`);
  return parts.join('; ');
}

/** The earliest time from which series `i` has satisfied `check` without interruption up to dataT, no earlier than `from`. */
function satisfiedSince(view: SiteView, i: number, ok: (kind: number, value: number) => boolean, dataT: number, from: number): number {
  const s = view.data.series;
  let r: number | undefined = dataT;
  let since = dataT;
  while (r !== undefined) {
    const c = s.changeAt(i, r);
    if (c < 0 || !ok(s.kind[c]!, s.value[c]!)) break;
    since = view.firstDataAtOrAfter(s.t[c]!)!;
    if (since <= from) return from;
    r = view.lastDataAt(since - 1);
  }
  return Math.max(since, from);
}

function stateEvidence(view: SiteView, key: string, i: number, from: number, to: number): Evidence[] {
  const out: Evidence[] = [];
  const changes = view.changes(i, from, to);
  for (let k = 1; k < changes.length; k++) {
    const a = changes[k - 1]!;
    const b = changes[k]!;
    out.push({ t: b.t, kind: 'state', text: `${key}: ${view.text(a) ?? '(absent)'} → ${view.text(b) ?? '(absent)'}` });
  }
  return out;
}

function byTime(a: Evidence, b: Evidence): number {
  return a.t - b.t || compareText(a.kind, b.kind) || compareText(a.text, b.text);
}

function finish(evidence: readonly Evidence[]): readonly Evidence[] {
  const seen = new Set<string>();
  const unique = evidence.filter((e) => {
    const k = `${e.t}\u0000${e.kind}\u0000${e.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  unique.sort(byTime);
  return unique.length > MAX_EVIDENCE ? unique.slice(unique.length - MAX_EVIDENCE) : unique;
}

/** A site's standing on one policy's change; `row()` builds the report row (only the page's are built). */
interface Judgement {
  readonly status: UpgradeStatus;
  row(): UpgradeRow;
}

/** One site's standing on one policy's changed expectations. */
function judge(ctx: QueryContext, s: SiteContext, rev: PolicyRevision, policy: string, changes: readonly ExpectationChange[], memoKey: string): Judgement {
  const t0 = rev.effectiveAt;
  let deadlineMs = 0;
  for (const c of changes) deadlineMs = Math.max(deadlineMs, c.expectation!.upgradeDeadline);
  const deadline = t0 + deadlineMs;
  const row = (status: UpgradeStatus, reason: UpgradeReason, evidence: readonly Evidence[], convergedAt?: number): Judgement => ({
    status,
    row: () => ({
      ...freshness(ctx, s), policy, revision: rev.id, revisionEffectiveAt: t0, deadline, status, reason, ...(convergedAt === undefined ? {} : { convergedAt }), evidence,
    }),
  });
  const view = s.view;
  const dataT = view?.lastDataAt(ctx.at);
  const contact = ctx.inputs.contacts.lastContact(s.site, contactCut(ctx));

  // No data since the change: the network (dark) or a backlog (the agent calls in, data lags).
  if (view === undefined || dataT === undefined || dataT < t0) {
    const evidence: Evidence[] = [];
    if (dataT !== undefined) evidence.push({ t: dataT, kind: 'state', text: 'last data held from the site' });
    if (contact !== undefined) evidence.push({ t: contact.at, kind: 'contact', text: contactText(contact) });
    return row('unknown', contact !== undefined && contact.at > t0 ? 'no_data_backlogged' : 'no_data_dark', finish(evidence));
  }

  const a = siteMemo(ctx, s, memoKey, () => assess(ctx, view, rev, changes, dataT));
  if (a.converged) return row('converged', 'converged', a.evidence, a.convergedAt);
  if (a.cause === 'rolled_back') return row('failed', 'rolled_back', a.evidence);
  if (ctx.at < deadline) return row('in_progress', a.cause ?? 'within_deadline', a.evidence);
  return row('failed', a.cause ?? 'deadline_passed', a.evidence);
}

/** What a site's data says about a change, whatever the deadline: converged (when), or the cause the evidence points to. */
interface Assessment {
  readonly converged: boolean;
  readonly convergedAt: number;
  readonly cause: UpgradeReason | undefined;
  readonly evidence: readonly Evidence[];
}

function assess(ctx: QueryContext, view: SiteView, rev: PolicyRevision, changes: readonly ExpectationChange[], dataT: number): Assessment {
  const t0 = rev.effectiveAt;
  const table = ctx.inputs.index.series;
  const targets: Target[] = changes.map((change) => {
    const series: number[] = [];
    for (const gid of ctx.cache.matching(change.expectation!)) {
      const i = view.seriesIndex(gid);
      if (i >= 0 && view.presentBy(i, dataT)) series.push(i);
    }
    return { change, series };
  });
  const evidence: Evidence[] = [];
  let converged = true;
  let convergedAt = t0;
  let rolledBack = false;
  for (const { change, series } of targets) {
    const e = change.expectation!;
    if (series.length === 0) {
      converged = false;
      evidence.push({ t: dataT, kind: 'state', text: `no series matches ${e.series.text}` });
      continue;
    }
    for (const i of series) {
      const key = table.keys[view.data.series.ids[i]!]!;
      evidence.push(...stateEvidence(view, key, i, t0, dataT));
      const now = view.valueAt(i, dataT);
      const ok = ctx.cache.check(e, now).ok;
      if (ok) {
        const since = satisfiedSince(view, i, (kind, value) => ctx.cache.check(e, { kind, value }).ok, dataT, t0);
        convergedAt = Math.max(convergedAt, since);
        continue;
      }
      converged = false;
      evidence.push({ t: dataT, kind: 'state', text: `${key} is ${view.text(now) === undefined ? '(absent)' : JSON.stringify(view.text(now))}, expected ${ctx.cache.check(e, now).expectedText}` });
      // A roll back: the new value was reached after the change, and the old one is back.
      const before = change.before;
      if (before !== undefined && now.kind !== ABSENT) {
        const value = view.checkable(now)!;
        const reached = view.changes(i, t0, dataT).some((c) => c.t >= t0 && ctx.cache.check(e, c).ok);
        if (reached && check(before.expected, value).ok) rolledBack = true;
      }
    }
  }
  if (converged) {
    // An image the workload asks for is not yet one it runs: the rollout must be complete too.
    for (const { change } of targets) {
      const rollout = rolloutState(view, scopeOf(change.expectation!), dataT);
      if (rollout === undefined) continue;
      evidence.push({ t: rollout.since, kind: 'state', text: rollout.text });
      if (rollout.complete) convergedAt = Math.max(convergedAt, rollout.since);
      else converged = false;
    }
  }
  if (converged) return { converged, convergedAt, cause: undefined, evidence: finish(evidence) };

  const found: Finding[] = findings(view, t0, ctx.at, targets.map((t) => scopeOf(t.change.expectation!)));
  for (const f of found) evidence.push(f.evidence);
  const reasons = new Set<UpgradeReason>(found.map((f) => f.reason));
  if (rolledBack) reasons.add('rolled_back');
  return { converged: false, convergedAt, cause: REASON_PRIORITY.find((r) => reasons.has(r)), evidence: finish(evidence) };
}

/**
 * The upgrades report for one revision (UpgradeQuery.revision; default the latest in force at
 * `at` that changed or added an expected value): one row per selected site and per policy of
 * the revision with such a change that applies to the site. Rows sorted by site, then policy.
 * Throws DW_FLEET_UNKNOWN_REVISION for a revision not known by knownAt, DW_FLEET_BAD_QUERY
 * when `at` is before the revision took effect, and the errors of checkQuery.
 */
export function upgradesReport(inputs: FleetInputs, query: UpgradeQuery): UpgradesPage {
  const ctx = prepare(inputs, query);
  const chosen = chooseRevision(ctx, query.revision);
  const summary: Record<UpgradeStatus, number> = { converged: 0, in_progress: 0, failed: 0, unknown: 0 };
  const rows: UpgradeRow[] = [];
  let total = 0;
  if (chosen !== undefined) {
    const byPolicy = new Map<string, ExpectationChange[]>();
    for (const c of chosen.changes) {
      let l = byPolicy.get(c.policy);
      if (l === undefined) byPolicy.set(c.policy, (l = []));
      l.push(c);
    }
    const { from, to } = pageWindow(ctx);
    const policies = [...byPolicy.keys()].sort().filter((p) => query.policy === undefined || p === query.policy);
    if (query.policy !== undefined && policies.length === 0) {
      throw new FleetError(FleetErrorCode.UnknownPolicy,
        `expected a policy whose expected values revision ${chosen.rev.id} changed (${[...byPolicy.keys()].sort().join(', ')}), found ${JSON.stringify(query.policy)}`);
    }
    const memoKeys = new Map(policies.map((p) => [p, `${ctx.policyKey}|upgrade|${chosen.rev.seq}|${p}`]));
    for (const s of ctx.sites) {
      const applying = new Set(ctx.cache.policies(chosen.rev, s.labels).map((p) => p.name));
      for (const p of policies) {
        if (!applying.has(p)) continue;
        const j = judge(ctx, s, chosen.rev, p, byPolicy.get(p)!, memoKeys.get(p)!);
        summary[j.status]++;
        if (total >= from && total < to) rows.push(j.row());
        total++;
      }
    }
  }
  const out: UpgradeSummary = summary;
  return {
    ...pageOf(ctx, rows, total),
    revision: chosen?.rev.id, revisionSeq: chosen?.rev.seq, revisionEffectiveAt: chosen?.rev.effectiveAt, summary: out,
  };
}

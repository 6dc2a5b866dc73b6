// The demo's answer, in words, from the aggregator's own reports as its fleet API serves them:
// how many sites updated, which did not and why (with the evidence), what the late arrivals
// changed, what drifts and which sites went quiet. Pure functions of the fetched reports, so
// what the demo prints is what any client of the API would read.
import type { WireDriftRow, WireEvidence, WireStaleRow, WireUpgradeRow, WireUpgradesPage } from '../aggregator/index.js';
import { formatDuration } from '../common/units.js';

/** What each upgrade reason means, for a reader who has not read docs/reports.md. */
export const REASON_TEXT: Readonly<Record<string, string>> = {
  converged: 'updated',
  within_deadline: 'still within the deadline',
  no_data_dark: 'no data and no contact since before the change: the network (the site is dark)',
  no_data_backlogged: 'the agent calls in but its data has not arrived: a backlog',
  image_pull_error: 'the new image could not be pulled',
  crash_loop: 'the new version crash-loops',
  rolled_back: 'the new version failed and was rolled back',
  resource_exhaustion: 'the node ran out of disk or memory',
  gitops_error: 'the GitOps agent reports an error',
  deadline_passed: 'not updated by the deadline, no cause found in its data',
};

/** `Wed 2026-11-11 09:00 UTC`. */
export function when(text: string | null): string {
  if (text === null) return 'never';
  const d = new Date(text);
  return `${d.toUTCString().slice(0, 3)} ${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function shortDuration(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** Cut from the middle: error chains end with their root cause (`…: dial tcp …: i/o timeout`). */
function clipMiddle(s: string, n: number): string {
  if (s.length <= n) return s;
  const head = Math.floor(n * 0.4);
  return `${s.slice(0, head)} … ${s.slice(s.length - (n - head - 3))}`;
}

/**
 * The evidence lines worth showing for a row, in time order: the first event of each kind of
 * event (the first pull error says more than its hundredth back-off), then the latest state or
 * contact that tells where things stand.
 */
function keyEvidence(row: WireUpgradeRow, n: number): WireEvidence[] {
  const firstOfKind = new Map<string, WireEvidence>();
  for (const e of row.evidence) if (e.kind === 'event' && !firstOfKind.has(e.text.split(':')[0]!)) firstOfKind.set(e.text.split(':')[0]!, e);
  const events = [...firstOfKind.values()].slice(0, n - 1);
  const states = row.evidence.filter((e) => e.kind !== 'event' && (/ is |rose|last data/.test(e.text) || e.kind === 'contact'));
  const picked = [...events, ...states.slice(-(n - events.length))];
  const chosen = picked.length > 0 ? picked : row.evidence.slice(-n);
  return [...new Set(chosen)].sort((a, b) => Date.parse(a.t) - Date.parse(b.t)).slice(0, n);
}

/** The upgrade answer: who updated, who did not and why. */
export function upgradeAnswer(page: WireUpgradesPage, rows: readonly WireUpgradeRow[], policyText: string): string[] {
  const out: string[] = [];
  const s = page.summary;
  const total = s.converged + s.in_progress + s.failed + s.unknown;
  out.push(`Policy revision of ${when(page.revisionEffectiveAt)} (${policyText}):`);
  const converged = rows.filter((r) => r.status === 'converged' && r.convergedAt !== null);
  const delays = converged.map((r) => Date.parse(r.convergedAt!) - Date.parse(r.revisionEffectiveAt)).sort((a, b) => a - b);
  const median = delays.length === 0 ? undefined : delays[Math.floor(delays.length / 2)]!;
  out.push(`  ${s.converged} of ${total} sites updated${median === undefined ? '' : ` (half of them within ${shortDuration(median)} of the change)`}.`);
  const not = rows.filter((r) => r.status !== 'converged');
  if (not.length === 0) return out;
  out.push(`  ${not.length} did not:`);
  const width = Math.max(...not.map((r) => r.site.length));
  for (const r of not) {
    out.push(`    ${r.site.padEnd(width)}  ${r.status.padEnd(8)}${r.reason}: ${REASON_TEXT[r.reason] ?? r.reason}`);
    for (const e of keyEvidence(r, 3)) out.push(`    ${' '.repeat(width)}    ${when(e.t).slice(4, 20)}  ${e.kind.padEnd(7)} ${clipMiddle(e.text, 140)}`);
  }
  return out;
}

/** Sites whose answer changed because their blocks arrived late: unknown as known then, converged now. */
export function lateAnswer(then: readonly WireUpgradeRow[], now: readonly WireUpgradeRow[], knownThen: string): string[] {
  const before = new Map(then.map((r) => [`${r.site}\u0000${r.policy}`, r]));
  const changed = now.filter((r) => r.status === 'converged' && before.get(`${r.site}\u0000${r.policy}`)?.status === 'unknown');
  if (changed.length === 0) return [];
  const out = [`Late arrivals (known at ${when(knownThen)} vs now):`];
  for (const r of changed) {
    const b = before.get(`${r.site}\u0000${r.policy}`)!;
    out.push(`  ${r.site}: then ${b.reason} (last data ${when(b.lastDataT)}); now updated at ${when(r.convergedAt)}, from blocks that arrived later`);
  }
  return out;
}

/** Drift grouped by policy and series: how many sites, which ones (up to five). */
export function driftSummary(rows: readonly WireDriftRow[]): string[] {
  const groups = new Map<string, { policy: string; series: string; expected: string; sites: Map<string, string | null> }>();
  for (const r of rows) {
    const k = `${r.policy}\u0000${r.series.replace(/\{.*\}$/, '')}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { policy: r.policy, series: r.series.replace(/\{.*\}$/, ''), expected: r.expected, sites: new Map() }));
    g.sites.set(r.site, r.actual);
  }
  const sites = new Set(rows.map((r) => r.site));
  const out = [`Drift now: ${rows.length} series at ${sites.size} sites differ from their policy.`];
  for (const g of [...groups.values()].sort((a, b) => b.sites.size - a.sites.size || (a.policy < b.policy ? -1 : 1))) {
    const list = [...g.sites].slice(0, 5).map(([s, v]) => `${s} (${v === null ? 'absent' : clip(v, 48)})`).join(', ');
    out.push(`  ${g.policy}: ${g.series}, expected ${clip(g.expected, 40)}: ${g.sites.size} site${g.sites.size === 1 ? '' : 's'}: ${list}${g.sites.size > 5 ? ', …' : ''}`);
  }
  return out;
}

/** Stale sites: dark (no contact) or backlogged, with their last data and contact. */
export function staleSummary(rows: readonly WireStaleRow[], now: number): string[] {
  const out = [`Stale now: ${rows.length} site${rows.length === 1 ? '' : 's'} without data for longer than their policy allows.`];
  for (const r of rows) {
    const quiet = r.lastDataT === null ? 'no data ever' : `no data for ${formatDuration(Math.floor((now - Date.parse(r.lastDataT)) / 3_600_000) * 3_600_000)}`;
    out.push(`  ${r.site}  ${r.state.padEnd(10)} ${quiet}; last data ${when(r.lastDataT)}, last contact ${when(r.lastContactAt)}`);
  }
  return out;
}

// How `driftwatch report` prints a report: an aligned terminal table under the fleet line (times
// absolute and relative to now), CSV (RFC 4180: a header row, quoted fields, CRLF), or the API's
// JSON. Pure functions of the report and `now`, so the outputs have golden tests.
import type {
  WireDriftRow, WireEvidence, WirePage, WireSiteRow, WireStaleRow, WireUpgradeRow, WireUpgradesPage,
} from '../aggregator/index.js';
import { formatDuration } from '../common/units.js';

export type ReportKind = 'drift' | 'upgrades' | 'stale' | 'sites';
export type AnyRow = WireDriftRow | WireUpgradeRow | WireStaleRow | WireSiteRow;

/** A whole report as fetched (every page, or up to --limit rows). */
export interface FetchedReport {
  readonly kind: ReportKind;
  /** The first page's body with the rows of every page fetched; `next` is null when every row was. */
  readonly body: WirePage<AnyRow>;
  /** The policy asked for (upgrades). */
  readonly policy?: string;
}

function upgradesPage(r: FetchedReport): WireUpgradesPage | undefined {
  return r.kind === 'upgrades' && 'summary' in r.body ? (r.body as WireUpgradesPage) : undefined;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `3h ago`, `in 5m`, `now`: the largest whole unit (s, m, h up to 48 h, then d). */
export function relativeTime(t: number, now: number): string {
  const d = now - t;
  const a = Math.abs(d);
  if (a < SECOND) return 'now';
  const text = a < MINUTE ? `${Math.floor(a / SECOND)}s` : a < HOUR ? `${Math.floor(a / MINUTE)}m` : a < 48 * HOUR ? `${Math.floor(a / HOUR)}h` : `${Math.floor(a / DAY)}d`;
  return d > 0 ? `${text} ago` : `in ${text}`;
}

/** RFC 3339 UTC, without the milliseconds when they are 0: `2025-11-20T12:00:00Z`. */
export function absoluteTime(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** A time cell: `2025-11-20T09:00:00Z (3h ago)`; `-` for none. */
function timeCell(text: string | null, now: number, none = '-'): string {
  if (text === null) return none;
  const t = Date.parse(text);
  return `${absoluteTime(t)} (${relativeTime(t, now)})`;
}

function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '-' : keys.map((k) => `${k}=${labels[k]}`).join(',');
}

interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row, now: number) => string;
  readonly right?: boolean;
}

const freshnessColumns: Column<AnyRow>[] = [
  { header: 'LAST DATA', cell: (r, now) => timeCell(r.lastDataT, now, 'no data') },
  { header: 'COMPLETE THROUGH', cell: (r, now) => timeCell(r.completeThrough, now) },
];

const driftColumns: Column<WireDriftRow>[] = [
  { header: 'SITE', cell: (r) => r.site },
  { header: 'SERIES', cell: (r) => r.series },
  { header: 'EXPECTED', cell: (r) => r.expected },
  { header: 'ACTUAL', cell: (r) => r.actual ?? '(absent)' },
  { header: 'SINCE', cell: (r, now) => timeCell(r.since, now) },
  { header: 'POLICY', cell: (r) => `${r.policy}@${r.revision}` },
  ...freshnessColumns,
];

const upgradeColumns: Column<WireUpgradeRow>[] = [
  { header: 'SITE', cell: (r) => r.site },
  { header: 'POLICY', cell: (r) => `${r.policy}@${r.revision}` },
  { header: 'STATUS', cell: (r) => r.status.replace('_', ' ') },
  { header: 'REASON', cell: (r) => r.reason.replace(/_/g, ' ') },
  { header: 'CONVERGED', cell: (r, now) => timeCell(r.convergedAt, now) },
  { header: 'DEADLINE', cell: (r, now) => timeCell(r.deadline, now) },
  ...freshnessColumns,
];

const staleColumns: Column<WireStaleRow>[] = [
  { header: 'SITE', cell: (r) => r.site },
  { header: 'STATE', cell: (r) => r.state },
  { header: 'STALE AFTER', cell: (r) => formatDuration(r.staleAfterMs), right: true },
  { header: 'LAST CONTACT', cell: (r, now) => timeCell(r.lastContactAt, now, 'never') },
  ...freshnessColumns,
  { header: 'BACKLOG', cell: (r) => (r.backlogBlocks === null ? '-' : `${r.backlogBlocks} blocks${r.backlogBytes === null ? '' : `, ${bytes(r.backlogBytes)}`}`), right: true },
];

const siteColumns: Column<WireSiteRow>[] = [
  { header: 'SITE', cell: (r) => r.site },
  { header: 'LABELS', cell: (r) => labelsText(r.labels) },
  { header: 'DRIFT', cell: (r) => String(r.driftCount), right: true },
  { header: 'LAST CONTACT', cell: (r, now) => timeCell(r.lastContactAt, now, 'never') },
  ...freshnessColumns,
];

const COLUMNS: Record<ReportKind, Column<never>[]> = {
  drift: driftColumns as Column<never>[],
  upgrades: upgradeColumns as Column<never>[],
  stale: staleColumns as Column<never>[],
  sites: siteColumns as Column<never>[],
};

const NONE: Record<ReportKind, string> = {
  drift: 'no drift in the data held',
  upgrades: 'no upgrades: no policy revision changed expected values for these sites',
  stale: 'no stale sites',
  sites: 'no sites',
};

/** The most evidence lines printed under one upgrade row. */
const MAX_EVIDENCE_LINES = 5;

function evidenceLines(evidence: readonly WireEvidence[], now: number): string[] {
  const shown = evidence.slice(-MAX_EVIDENCE_LINES);
  const lines = shown.map((e) => `    ${timeCell(e.t, now)}  ${e.kind.padEnd(7)}  ${e.text}`);
  if (evidence.length > shown.length) lines.unshift(`    … ${evidence.length - shown.length} earlier (--output json lists all)`);
  return lines;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** The lines above the table: what was asked, the fleet line. */
function heading(r: FetchedReport, now: number): string[] {
  const b = r.body;
  const asked = [`${r.kind} at ${timeCell(b.at, now)}`, `known at ${timeCell(b.knownAt, now)}`];
  if (b.selector !== null) asked.push(`selector ${b.selector}`);
  if (r.policy !== undefined) asked.push(`policy ${r.policy}`);
  const f = b.fleet;
  const lines = [asked.join(', '), `${plural(f.sites, 'site')}, ${f.sitesCompleteThroughAt.toLocaleString('en-US')} complete through at (${f.sitesWithData.toLocaleString('en-US')} with any data by then)`];
  const u = upgradesPage(r);
  if (u !== undefined) {
    lines.push(u.revision === null
      ? 'no policy revision changed an expected value by at'
      : `revision ${u.revision}${u.revisionSeq === null ? '' : ` (seq ${u.revisionSeq})`}, in force from ${timeCell(u.revisionEffectiveAt, now)}`);
  }
  return lines;
}

function footer(r: FetchedReport): string {
  const b = r.body;
  const shown = b.rows.length;
  const what = r.kind === 'sites' ? 'site' : r.kind === 'stale' ? 'stale site' : r.kind === 'upgrades' ? 'upgrade row' : 'drifting series';
  const many = r.kind === 'drift' ? 'drifting series' : `${what}s`;
  let text = shown === b.total ? plural(b.total, what, many) : `${shown.toLocaleString('en-US')} of ${plural(b.total, what, many)} shown (--limit)`;
  const u = upgradesPage(r);
  if (u !== undefined) {
    const s = u.summary;
    text += `${shown === b.total ? ':' : '; of all:'} ${s.converged} converged, ${s.in_progress} in progress, ${s.failed} failed, ${s.unknown} unknown`;
  }
  return text;
}

/** The terminal table: the heading, aligned columns (two spaces apart), evidence under unconverged upgrades, a footer. */
export function renderTable(r: FetchedReport, now: number): string {
  const columns = COLUMNS[r.kind] as Column<AnyRow>[];
  const out = heading(r, now);
  out.push('');
  if (r.body.rows.length === 0) {
    out.push(NONE[r.kind]);
    return `${out.join('\n')}\n`;
  }
  const cells = r.body.rows.map((row) => columns.map((c) => c.cell(row, now)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (columns[i]!.right === true ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  out.push(line(columns.map((c) => c.header)));
  r.body.rows.forEach((row, i) => {
    out.push(line(cells[i]!));
    if (r.kind === 'upgrades') {
      const u = row as WireUpgradeRow;
      if (u.status !== 'converged') out.push(...evidenceLines(u.evidence, now));
    }
  });
  out.push('', footer(r));
  return `${out.join('\n')}\n`;
}

/** RFC 4180: a field with `"`, `,`, CR or LF is quoted, its quotes doubled. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const CSV_FIELDS: Record<ReportKind, readonly string[]> = {
  drift: ['site', 'series', 'expected', 'actual', 'since', 'policy', 'revision', 'lastDataT', 'completeThrough', 'lastContactAt'],
  upgrades: ['site', 'policy', 'revision', 'revisionEffectiveAt', 'status', 'reason', 'convergedAt', 'deadline', 'lastDataT', 'completeThrough', 'lastContactAt', 'evidence'],
  stale: ['site', 'state', 'staleAfterMs', 'lastContactAt', 'lastDataT', 'completeThrough', 'backlogBlocks', 'backlogBytes'],
  sites: ['site', 'labels', 'driftCount', 'lastContactAt', 'lastDataT', 'completeThrough'],
};

function csvValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return String(v);
}

/**
 * CSV: a header row (the JSON field names, then `at` and `knownAt`, so a row keeps its query's
 * cut), one row per report row; null as an empty field; labels and evidence as JSON; CRLF.
 */
export function renderCsv(r: FetchedReport): string {
  const fields = CSV_FIELDS[r.kind];
  const lines = [[...fields, 'at', 'knownAt'].join(',')];
  for (const row of r.body.rows) {
    const rec = row as unknown as Record<string, unknown>;
    lines.push([...fields.map((f) => csvField(csvValue(rec[f]))), r.body.at, r.body.knownAt].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** JSON: the API's body (every page's rows in one), two-space indented. */
export function renderJson(r: FetchedReport): string {
  return `${JSON.stringify(r.body, null, 2)}\n`;
}

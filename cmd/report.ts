// `driftwatch report drift|upgrades|stale|sites`: asks a running aggregator's fleet API
// (docs/api.md) and prints the report as a table, CSV or JSON. Every page is fetched (at and
// known_at pinned by the first answer, so the pages are one answer) unless --limit caps the rows.
// See docs/cli.md.
import { MAX_PAGE_LIMIT, type WirePage } from '../aggregator/index.js';
import { DriftwatchError, errorMessage } from '../common/errors.js';
import { parseTimeParam, TIME_PARAM_EXPECTED } from '../common/rfc3339.js';
import { parseDuration } from '../common/units.js';
import type { CliIo } from './cli.js';
import { renderCsv, renderJson, renderTable, type AnyRow, type FetchedReport, type ReportKind } from './report-render.js';

/** Where the aggregator's HTTP API is when neither --aggregator nor the environment says. */
export const DEFAULT_AGGREGATOR_URL = 'http://127.0.0.1:9470';
/** The environment variable naming the aggregator's URL. */
export const AGGREGATOR_URL_ENV = 'DRIFTWATCH_AGGREGATOR_URL';
const DEFAULT_TIMEOUT_MS = 30_000;

const KINDS: readonly ReportKind[] = ['drift', 'upgrades', 'stale', 'sites'];
const OUTPUTS = ['table', 'json', 'csv'] as const;
type Output = (typeof OUTPUTS)[number];

const USAGE = `usage: driftwatch report drift|upgrades|stale|sites [--at T] [--known-at T] [--selector S] [--revision R] [--policy P]
                        [--output table|json|csv] [--limit N] [--aggregator URL] [--timeout 30s]`;

const HELP = `${USAGE}

Asks the aggregator's fleet API (docs/api.md) for a report and prints it (docs/cli.md).
  drift            series that differ from their policy's expected value, and since when
  upgrades         per site and policy revision: converged, in progress, failed or unknown, why, and the evidence
  stale            sites without data for longer than their threshold: dark or backlogged
  sites            every site: labels, last contact, completeness, drift count
  --at T           event time: the state as of T (default: --known-at)
  --known-at T     arrival cutoff: only what had arrived by T (default: now); pin it to repeat an answer
                   T: RFC 3339 with a zone (2025-11-20T12:00:00Z) or milliseconds since the epoch
  --selector S     a label selector on site labels: region=eu,tier!=lab, region in (eu-north,eu-west), !legacy
  --revision R     upgrades only: the policy revision to follow (an id or seq:N; default: the latest that changed an expected value by --at)
  --policy P       upgrades only: one policy's upgrades
  --output F       table (default), json (the API's body, every page in one) or csv (RFC 4180)
  --limit N        at most N rows (default: all, fetched ${MAX_PAGE_LIMIT} a page)
  --aggregator URL the aggregator's HTTP address (default ${DEFAULT_AGGREGATOR_URL}, or ${AGGREGATOR_URL_ENV})
  --timeout D      how long one request may take (default 30s)
Exit codes: 0 done; 2 bad flags or a request the API refused (4xx); 1 the aggregator unreachable, not ready or failing.
`;

/** An error that exits with 1 (the aggregator's side) rather than 2 (the user's input). */
class ReportError extends DriftwatchError {
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number) {
    super(code, message);
    this.exitCode = exitCode;
  }
}

function usageError(found: string): DriftwatchError {
  return new ReportError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length).replace(/\s+/g, ' ')}, found ${found}`, 2);
}

function badFlag(flag: string, expected: string, value: string): DriftwatchError {
  return new ReportError('DW_CLI_USAGE', `expected ${flag} to be ${expected}, found ${JSON.stringify(value)}`, 2);
}

export interface ReportArgs {
  readonly kind: ReportKind;
  readonly at?: string;
  readonly knownAt?: string;
  readonly selector?: string;
  readonly policy?: string;
  readonly revision?: string;
  readonly output: Output;
  readonly limit?: number;
  readonly aggregator: URL;
  readonly timeoutMs: number;
}

const FLAGS = ['at', 'known-at', 'selector', 'revision', 'policy', 'output', 'limit', 'aggregator', 'timeout'] as const;
type Flag = (typeof FLAGS)[number];

/** Parses the command line; throws DW_CLI_USAGE (exit 2) for anything wrong, saying what was expected and found. */
export function parseReportArgs(args: readonly string[], env: NodeJS.ProcessEnv): ReportArgs | 'help' {
  const flags: Partial<Record<Flag, string>> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (!a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a === '-o' ? '--output' : a);
    const name = m?.[1] as Flag | undefined;
    if (m === null || name === undefined || !FLAGS.includes(name)) throw usageError(`the option ${JSON.stringify(a)}`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw usageError(`${a} without a value`);
    if (flags[name] !== undefined) throw usageError(`--${name} given twice`);
    flags[name] = value;
  }
  if (positional.length !== 1) throw usageError(positional.length === 0 ? 'no report named' : `${positional.length} arguments (${positional.map((p) => JSON.stringify(p)).join(' ')})`);
  const kind = positional[0] as ReportKind;
  if (!KINDS.includes(kind)) throw badFlag('the report', KINDS.join(', '), positional[0]!);
  for (const f of ['at', 'known-at'] as const) {
    const v = flags[f];
    if (v !== undefined && parseTimeParam(v) === undefined) throw badFlag(`--${f}`, TIME_PARAM_EXPECTED, v);
  }
  if (flags.policy !== undefined && kind !== 'upgrades') throw usageError(`--policy with report ${kind} (it filters upgrades only)`);
  if (flags.revision !== undefined && kind !== 'upgrades') throw usageError(`--revision with report ${kind} (it chooses the upgrades' revision only)`);
  const output = (flags.output ?? 'table') as Output;
  if (!OUTPUTS.includes(output)) throw badFlag('--output', OUTPUTS.join(', '), flags.output!);
  let limit: number | undefined;
  if (flags.limit !== undefined) {
    limit = /^[0-9]+$/.test(flags.limit) ? Number(flags.limit) : NaN;
    if (!(Number.isSafeInteger(limit) && limit >= 1)) throw badFlag('--limit', 'a whole number of rows of at least 1', flags.limit);
  }
  const timeoutMs = flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(flags.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw badFlag('--timeout', 'a duration such as 30s or 2m', flags.timeout!);
  const urlText = flags.aggregator ?? (env[AGGREGATOR_URL_ENV] || DEFAULT_AGGREGATOR_URL);
  const source = flags.aggregator !== undefined ? '--aggregator' : env[AGGREGATOR_URL_ENV] ? AGGREGATOR_URL_ENV : 'the default aggregator';
  let aggregator: URL;
  try {
    aggregator = new URL(urlText);
  } catch {
    throw badFlag(source, 'an http:// or https:// URL such as http://aggregator.example:9470', urlText);
  }
  if (aggregator.protocol !== 'http:' && aggregator.protocol !== 'https:') throw badFlag(source, 'an http:// or https:// URL such as http://aggregator.example:9470', urlText);
  return {
    kind, output, aggregator, timeoutMs,
    ...(flags.at === undefined ? {} : { at: flags.at }), ...(flags['known-at'] === undefined ? {} : { knownAt: flags['known-at'] }),
    ...(flags.selector === undefined ? {} : { selector: flags.selector }), ...(flags.policy === undefined ? {} : { policy: flags.policy }),
    ...(flags.revision === undefined ? {} : { revision: flags.revision }), ...(limit === undefined ? {} : { limit }),
  };
}

function isPage(v: unknown): v is WirePage<AnyRow> {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  const fleet = p.fleet as Record<string, unknown> | undefined;
  return typeof p.at === 'string' && typeof p.knownAt === 'string' && typeof p.total === 'number' && typeof p.offset === 'number' && Array.isArray(p.rows)
    && typeof fleet === 'object' && fleet !== null && typeof fleet.sites === 'number' && typeof fleet.sitesCompleteThroughAt === 'number';
}

/** GET one page; throws ReportError for an unreachable aggregator, an API error or an answer that is not a page. */
async function getPage(url: URL, timeoutMs: number, fetchImpl: typeof fetch): Promise<WirePage<AnyRow>> {
  const where = `${url.origin}${url.pathname}`;
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const found = (err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause?.message ?? cause?.code ?? errorMessage(err);
    throw new ReportError('DW_CLI_AGGREGATOR_UNREACHABLE', `expected an aggregator answering at ${url.origin}, found ${found}`, 1);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof e?.code === 'string' && typeof e.message === 'string') {
      throw new ReportError(e.code, `${e.message} (HTTP ${res.status} from ${where})`, res.status >= 400 && res.status < 500 ? 2 : 1);
    }
    throw new ReportError('DW_CLI_BAD_RESPONSE', `expected a fleet API answer from ${where}, found HTTP ${res.status} ${JSON.stringify(text.slice(0, 200))}`, 1);
  }
  if (!isPage(body)) throw new ReportError('DW_CLI_BAD_RESPONSE', `expected a report page as JSON from ${where}, found ${JSON.stringify(text.slice(0, 200))}`, 1);
  return body;
}

/**
 * Fetches the report: the first page with the flags given, then the following pages with `at`
 * and `known_at` pinned to the first answer's, until every row (or --limit rows) arrived.
 */
export async function fetchReport(a: ReportArgs, fetchImpl: typeof fetch = fetch): Promise<FetchedReport> {
  const rows: AnyRow[] = [];
  const want = a.limit ?? Infinity;
  let first: WirePage<AnyRow> | undefined;
  let last: WirePage<AnyRow> | undefined;
  for (;;) {
    const url = new URL(`/fleet/v1/${a.kind}`, a.aggregator);
    const q = url.searchParams;
    if (first === undefined) {
      if (a.at !== undefined) q.set('at', a.at);
      if (a.knownAt !== undefined) q.set('known_at', a.knownAt);
    } else {
      q.set('at', first.at);
      q.set('known_at', first.knownAt);
    }
    if (a.selector !== undefined) q.set('selector', a.selector);
    if (a.revision !== undefined) q.set('revision', a.revision);
    if (a.policy !== undefined) q.set('policy', a.policy);
    q.set('limit', String(Math.min(MAX_PAGE_LIMIT, want - rows.length)));
    if (rows.length > 0) q.set('offset', String(rows.length));
    const page = await getPage(url, a.timeoutMs, fetchImpl);
    first ??= page;
    last = page;
    rows.push(...page.rows.slice(0, want - rows.length));
    if (page.next === null || page.rows.length === 0 || rows.length >= want) break;
  }
  const complete = rows.length >= last.total;
  const body: WirePage<AnyRow> = {
    ...first, limit: a.limit ?? last.total, rows, total: last.total, fleet: first.fleet,
    next: complete ? null : `/fleet/v1/${a.kind}?${new URLSearchParams({
      at: first.at, known_at: first.knownAt, ...(a.selector === undefined ? {} : { selector: a.selector }),
      ...(a.revision === undefined ? {} : { revision: a.revision }), ...(a.policy === undefined ? {} : { policy: a.policy }), offset: String(rows.length),
    }).toString()}`,
  };
  return { kind: a.kind, body, ...(a.policy === undefined ? {} : { policy: a.policy }) };
}

export interface ReportDeps {
  readonly env: NodeJS.ProcessEnv;
  /** For the relative times of the table. */
  readonly now: () => number;
  readonly fetch?: typeof fetch;
}

/**
 * Runs `driftwatch report …` and returns the exit code: 0, 2 for bad flags or a request the API
 * refused (its DW_API_* code printed), 1 for an unreachable aggregator (DW_CLI_AGGREGATOR_UNREACHABLE),
 * an API failure (5xx) or an answer that is not the fleet API's (DW_CLI_BAD_RESPONSE).
 */
export async function runReport(args: readonly string[], io: CliIo, deps: ReportDeps): Promise<number> {
  try {
    const parsed = parseReportArgs(args, deps.env);
    if (parsed === 'help') {
      io.stdout.write(HELP);
      return 0;
    }
    const report = await fetchReport(parsed, deps.fetch);
    const text = parsed.output === 'json' ? renderJson(report) : parsed.output === 'csv' ? renderCsv(report) : renderTable(report, deps.now());
    io.stdout.write(text);
    return 0;
  } catch (err) {
    if (err instanceof ReportError) {
      io.stderr.write(`driftwatch: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** The `report` command. */
export function reportCommand(args: string[], io: CliIo): Promise<number> {
  return runReport(args, io, { env: process.env, now: () => Date.now() });
}

// What a benchmark case reports, and how run.ts prints it: an aligned table for people and one
// JSON line per case for machines.

/** One figure of a case. `goal` is shown beside it and checked: `<= x` or `>= x` in the same unit. */
export interface Figure {
  /** Stable machine name (the JSON key): camelCase. */
  readonly key: string;
  /** What a person reads in the table. */
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly goal?: { readonly op: '<=' | '>='; readonly value: number };
  /** Digits after the point in the table. Default: chosen from the magnitude. */
  readonly digits?: number;
}

export interface CaseResult {
  /** e.g. `block-codec/sites=1/strings=2000/floats=200/hours=24`. */
  readonly name: string;
  readonly figures: readonly Figure[];
  /** Free-form notes printed under the table (what was measured, caveats). */
  readonly notes?: readonly string[];
  /** Extra machine-readable context (seed, iterations, sizes). */
  readonly context?: Readonly<Record<string, number | string | boolean>>;
}

export interface BenchCase {
  readonly name: string;
  run(options: RunOptions): Promise<CaseResult>;
}

export interface RunOptions {
  /** Timed iterations for throughput figures. */
  readonly iterations: number;
  /** Progress lines (to stderr). */
  readonly log: (line: string) => void;
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-quantile (0..1) of a non-empty list, nearest rank. */
export function quantile(xs: readonly number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1));
  return s[i]!;
}

function formatValue(f: Figure): string {
  const v = f.value;
  if (!Number.isFinite(v)) return String(v);
  const digits = f.digits ?? (Math.abs(v) >= 1000 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 4);
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** True, false, or undefined when the figure has no goal. */
export function meetsGoal(f: Figure): boolean | undefined {
  if (f.goal === undefined) return undefined;
  return f.goal.op === '<=' ? f.value <= f.goal.value : f.value >= f.goal.value;
}

/** The human table of one case. */
export function formatTable(result: CaseResult): string {
  const rows = result.figures.map((f) => {
    const ok = meetsGoal(f);
    const goal = f.goal === undefined ? '' : `${f.goal.op} ${formatValue({ ...f, value: f.goal.value })}`;
    return [f.label, formatValue(f), f.unit, goal, ok === undefined ? '' : ok ? 'ok' : 'MISSED'];
  });
  const header = ['figure', 'value', 'unit', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells
    .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
  const out = [`## ${result.name}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const n of result.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

/** The machine-readable line of one case: `{"case": name, figures by key, goals, context}`. */
export function formatJson(result: CaseResult, at: Date): string {
  const figures: Record<string, number> = {};
  const units: Record<string, string> = {};
  const goals: Record<string, string> = {};
  for (const f of result.figures) {
    figures[f.key] = f.value;
    units[f.key] = f.unit;
    if (f.goal !== undefined) goals[f.key] = `${f.goal.op} ${f.goal.value}`;
  }
  return JSON.stringify({ case: result.name, at: at.toISOString(), node: process.version, figures, units, goals, context: result.context ?? {} });
}

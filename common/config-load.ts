// Loading a component's config in layers: a YAML file, then environment variables over it, then
// flags over those, then defaults for what none of them set; validated with one schema, every
// problem reported at once with where it came from, then frozen. Only cmd/ reads process.env
// and argv: they come in as arguments here. The agent and the aggregator both load through it.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { configErrorMap, formatPath, problemsOf, withFound, type ConfigProblem } from './config-issues.js';
import { errorMessage } from './errors.js';

/** A setting that an environment variable and a flag may override. */
export interface ConfigOverride {
  /** Its path in the config. */
  readonly path: readonly string[];
  /** The flag, without its dashes. */
  readonly flag: string;
  readonly env: string;
  /** A flag that takes no value (`--insecure`): present means "true". */
  readonly boolean?: boolean;
}

/** What a config is built from. */
export interface ConfigSources {
  /** The file's path, for messages and for `loadLayeredConfig`; undefined: flags and env only. */
  readonly file?: string;
  /** Environment variables (only those named by the overrides are read). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flags by name without dashes (`data-dir`), as given on the command line. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** How one component's config is checked, and the errors it throws. */
export interface LayeredConfigSpec<T> {
  readonly schema: z.ZodType<T>;
  readonly overrides: readonly ConfigOverride[];
  /** Rules across fields, checked on the raw config so they are reported with every other problem. */
  readonly crossFieldProblems?: (raw: unknown) => ConfigProblem[];
  /** The component's DW_*_CONFIG_INVALID error, with one line per problem. */
  readonly invalid: (message: string, problems: readonly string[]) => Error;
  /** The component's DW_*_CONFIG_UNREADABLE error. */
  readonly unreadable: (message: string, cause: unknown) => Error;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets `value` at `path` in `root`, creating mappings on the way; false when a non-mapping is in the way. */
function setAt(root: Record<string, unknown>, path: readonly string[], value: string): boolean {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    if (!isRecord(next)) return false;
    node = next;
  }
  node[path[path.length - 1]!] = value;
  return true;
}

/** Freezes `v` and everything reachable from it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** Where in the file a path is: the node at the path, or its nearest ancestor there. */
function positionOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): { line: number; col: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) return lines.linePos(range[0]);
  }
  return undefined;
}

/**
 * Builds a config from the file's `text` (may be empty), `sources.env` and `sources.flags`:
 * file, then env, then flags, then the schema's defaults. Returns a deeply frozen config.
 * Throws `spec.invalid(...)` listing every problem at once — YAML syntax errors with line and
 * column; schema problems as `path: expected …, found …` with where the value came from.
 */
export function parseLayeredConfig<T>(text: string, sources: ConfigSources, spec: LayeredConfigSpec<T>): T {
  const name = sources.file ?? '(flags and environment)';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      const what = lowerFirst(e.message.split(' at line ')[0]!.split('\n')[0]!);
      return `line ${pos.line}, column ${pos.col}: expected valid YAML, found a syntax error: ${what} (${e.code})`;
    });
    throw spec.invalid(`${name}: ${problems.length} YAML syntax error${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, problems);
  }

  const problems: string[] = [];
  let raw: unknown = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (!isRecord(raw)) {
    problems.push(`(top level): expected a mapping of settings, found ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`);
    raw = {};
  }
  const root = raw as Record<string, unknown>;
  const origin = new Map<string, string>();
  for (const layer of ['env', 'flag'] as const) {
    for (const o of spec.overrides) {
      const value = layer === 'env' ? sources.env?.[o.env] : sources.flags?.[o.flag];
      if (value === undefined) continue;
      const from = layer === 'env' ? o.env : `--${o.flag}`;
      if (setAt(root, o.path, value)) origin.set(formatPath(o.path), from);
      else problems.push(`${formatPath(o.path)} (from ${from}): expected ${formatPath(o.path.slice(0, -1))} to be a mapping in ${name}, found something else`);
    }
  }

  const parsed = spec.schema.safeParse(root, { error: configErrorMap });
  const found: ConfigProblem[] = [...(parsed.success ? [] : problemsOf(parsed.error)), ...(spec.crossFieldProblems?.(root) ?? [])];
  const located = found.map((p) => {
    const at = formatPath(p.path);
    const from = origin.get(at);
    const pos = from === undefined ? positionOf(doc, lines, p.path) : undefined;
    const where = from !== undefined ? ` (from ${from})` : pos !== undefined && sources.file !== undefined ? ` (line ${pos.line}, column ${pos.col})` : '';
    return { text: `${at}: ${withFound(p.message, root, p.path)}${where}`, order: pos === undefined ? Infinity : pos.line * 1e6 + pos.col };
  });
  located.sort((a, b) => a.order - b.order);
  problems.push(...located.map((l) => l.text));
  if (problems.length > 0 || !parsed.success) {
    throw spec.invalid(`${name}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, problems);
  }
  return deepFreeze(parsed.data);
}

/**
 * Reads `sources.file` (when given) and builds the config (see parseLayeredConfig). Throws
 * `spec.unreadable(...)` when the file is missing or cannot be read.
 */
export async function loadLayeredConfig<T>(sources: ConfigSources, spec: LayeredConfigSpec<T>): Promise<T> {
  let text = '';
  if (sources.file !== undefined) {
    try {
      text = await readFile(sources.file, 'utf8');
    } catch (err) {
      throw spec.unreadable(`expected a readable YAML config file at ${sources.file}, found ${describeReadError(err)}`, err);
    }
  }
  return parseLayeredConfig(text, sources, spec);
}

/** What a failed read found, in words: `nothing there`, `a directory`, `permission denied (EACCES)`. */
export function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'nothing there'
    : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})`
      : code === 'EISDIR' ? 'a directory'
        : errorMessage(err);
}

// Loading the agent config: the YAML file, then environment variables over it, then flags over
// those (defaults fill what none of them set); validated with one schema, every problem at
// once, then frozen. Only cmd/ reads process.env and argv: they come in as arguments here.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { errorMessage } from '../../common/errors.js';
import { agentConfigFileSchema, crossFieldProblems, resolveSchedule, type AgentConfig, type AgentConfigFile } from './config-schema.js';
import { configErrorMap, formatPath, problemsOf, withFound, type ConfigProblem } from './config-issues.js';
import { AgentError, AgentErrorCode } from './errors.js';

/** A setting that an environment variable and a flag may override. */
export interface ConfigOverride {
  /** Its path in the config. */
  readonly path: readonly string[];
  /** The flag, without its dashes. */
  readonly flag: string;
  readonly env: string;
}

/** Every overridable setting; flags win over env, env over the file. */
export const CONFIG_OVERRIDES: readonly ConfigOverride[] = [
  { path: ['site', 'id'], flag: 'site-id', env: 'DRIFTWATCH_SITE_ID' },
  { path: ['interval'], flag: 'interval', env: 'DRIFTWATCH_INTERVAL' },
  { path: ['store', 'dir'], flag: 'store-dir', env: 'DRIFTWATCH_STORE_DIR' },
  { path: ['store', 'diskBudget'], flag: 'disk-budget', env: 'DRIFTWATCH_DISK_BUDGET' },
  { path: ['http', 'listen'], flag: 'listen', env: 'DRIFTWATCH_HTTP_LISTEN' },
  { path: ['log', 'level'], flag: 'log-level', env: 'DRIFTWATCH_LOG_LEVEL' },
  { path: ['shipping', 'aggregator'], flag: 'aggregator', env: 'DRIFTWATCH_AGGREGATOR' },
];

/**
 * A top-level config section that another component owns (the shipper's `shipping:`): its
 * schema and the rules its schema cannot say. Validated in the same pass as the rest, so every
 * problem of the file is reported at once.
 */
export interface ConfigSection {
  readonly schema: z.ZodType;
  /** Problems of the raw section (paths relative to it); called only when the section is present. */
  readonly problems?: (raw: unknown) => readonly { readonly path: readonly (string | number)[]; readonly message: string }[];
}

/** The environment variable naming the config file when `--config` is not given. */
export const CONFIG_PATH_ENV = 'DRIFTWATCH_CONFIG';

/** What the config is built from, besides the file's text. */
export interface ConfigSources {
  /** The file's path, for messages. */
  readonly file: string;
  /** Environment variables (only those in CONFIG_OVERRIDES are read). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flags by name without dashes (`store-dir`), as given on the command line. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Sections owned by other components, by their top-level key. Without one, its key is unknown. */
  readonly sections?: Readonly<Record<string, ConfigSection>>;
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

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function syntaxError(file: string, doc: Document, lines: LineCounter): AgentError {
  const problems = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    const text = lowerFirst(e.message.split(' at line ')[0]!.split('\n')[0]!);
    return `line ${pos.line}, column ${pos.col}: expected valid YAML, found a syntax error: ${text} (${e.code})`;
  });
  return new AgentError(AgentErrorCode.ConfigInvalid,
    `${file}: ${problems.length} YAML syntax error${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, { problems });
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
 * Builds the agent config from the file's text, `sources.env` and `sources.flags`: file, then
 * env, then flags, then defaults for what is still unset. Returns a deeply frozen config.
 * Throws AgentError DW_AGENT_CONFIG_INVALID listing every problem at once — YAML syntax errors
 * with their line and column; schema problems as `path: expected …, found …`, with where the
 * value came from (a line in the file, an env variable or a flag).
 */
export function parseAgentConfig(text: string, sources: ConfigSources): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw syntaxError(sources.file, doc, lines);

  const problems: string[] = [];
  let raw: unknown = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (!isRecord(raw)) {
    problems.push(`(top level): expected a mapping of settings, found ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`);
    raw = {};
  }
  const root = raw as Record<string, unknown>;
  // Where each overridden value came from, by path.
  const origin = new Map<string, string>();
  for (const layer of ['env', 'flag'] as const) {
    for (const o of CONFIG_OVERRIDES) {
      const value = layer === 'env' ? sources.env?.[o.env] : sources.flags?.[o.flag];
      if (value === undefined) continue;
      const from = layer === 'env' ? o.env : `--${o.flag}`;
      if (setAt(root, o.path, value)) origin.set(formatPath(o.path), from);
      else problems.push(`${formatPath(o.path)} (from ${from}): expected ${formatPath(o.path.slice(0, -1))} to be a mapping in ${sources.file}, found something else`);
    }
  }

  const sections = Object.entries(sources.sections ?? {});
  const schema = sections.length === 0 ? agentConfigFileSchema
    : agentConfigFileSchema.extend(Object.fromEntries(sections.map(([key, s]) => [key, s.schema.optional()])));
  const parsed = schema.safeParse(root, { error: configErrorMap });
  const found: ConfigProblem[] = [...(parsed.success ? [] : problemsOf(parsed.error)), ...crossFieldProblems(root)];
  for (const [key, s] of sections) {
    if (root[key] === undefined || s.problems === undefined) continue;
    for (const p of s.problems(root[key])) found.push({ path: [key, ...p.path], message: p.message });
  }
  // In file order; problems with env or flag values after those.
  const located = found.map((p) => {
    const at = formatPath(p.path);
    const from = origin.get(at);
    const pos = from === undefined ? positionOf(doc, lines, p.path) : undefined;
    const where = from !== undefined ? ` (from ${from})` : pos !== undefined ? ` (line ${pos.line}, column ${pos.col})` : '';
    return { text: `${at}: ${withFound(p.message, root, p.path)}${where}`, order: pos === undefined ? Infinity : pos.line * 1e6 + pos.col };
  });
  located.sort((a, b) => a.order - b.order);
  problems.push(...located.map((l) => l.text));
  if (problems.length > 0 || !parsed.success) {
    throw new AgentError(AgentErrorCode.ConfigInvalid,
      `${sources.file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, { problems });
  }
  const data = parsed.data as Record<string, unknown>;
  const parsedSections = Object.fromEntries(sections.filter(([key]) => data[key] !== undefined).map(([key]) => [key, data[key]]));
  return deepFreeze(resolveSchedule(parsed.data as AgentConfigFile, parsedSections));
}

/**
 * Reads the config file at `sources.file` and builds the config (see parseAgentConfig).
 * Throws AgentError DW_AGENT_CONFIG_UNREADABLE when the file is missing or cannot be read.
 */
export async function loadAgentConfig(sources: ConfigSources): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(sources.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'nothing there'
      : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})`
        : code === 'EISDIR' ? 'a directory'
          : errorMessage(err);
    throw new AgentError(AgentErrorCode.ConfigUnreadable, `expected a readable YAML config file at ${sources.file}, found ${found}`, { cause: err });
  }
  return parseAgentConfig(text, sources);
}

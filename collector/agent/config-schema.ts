// The agent's config: one strict schema, defaults beside it. The sources are the union of every
// source kind's own schema (collector/sources/registry.ts). See docs/agent.md.
import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../../common/config-schema.js';
import { formatDuration } from '../../common/units.js';
import { isValidLabelName } from '../../proto/index.js';
import { DEFAULT_BLOCK_DURATION, DEFAULT_DISK_BUDGET, DEFAULT_MAX_BLOCK_SPAN } from '../store/index.js';
import { siteLabelProblems } from '../../common/site-labels.js';
import { sourceConfigSchema, type SourceConfig } from '../sources/registry.js';

/** Default round interval: 15 s. */
export const DEFAULT_INTERVAL = 15_000;
/** The shortest round interval accepted. */
export const MIN_INTERVAL = 1_000;
/** Default HTTP listener for /metrics and /healthz; `""` disables it. */
export const DEFAULT_LISTEN = '127.0.0.1:9465';
/** A source's default timeout is 80% of its interval, at most this. */
export const MAX_DEFAULT_TIMEOUT = 10_000;
/** Log levels (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export { parseListen, type ListenAddress } from '../../common/listen.js';
import { parseListen } from '../../common/listen.js';

const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const siteSchema = z.strictObject({
  id: z.string().max(256).regex(SITE_ID, { error: (iss) => `expected a site id of letters, digits, ".", "_" and "-" starting with a letter or digit, found ${JSON.stringify(iss.input)}` }),
  labels: z.record(
    z.string().refine(isValidLabelName, { error: 'expected a label name such as region or tier (letters, digits, "_")' }),
    z.string(),
  ).default({}),
});

/** A duration field with a rule of its own on the parsed milliseconds. */
function durationWith(rule: (ms: number) => boolean, expected: string) {
  return durationSchema.refine(rule, { error: (iss) => `expected ${expected}, found ${formatDuration(iss.input as number)}` });
}

const storeSchema = z.strictObject({
  /** The edge store's directory (LevelDB), created when missing. */
  dir: z.string().min(1),
  diskBudget: byteSizeSchema.refine((b) => b > 0, { error: 'expected a positive size such as 512MiB, found 0' }).default(DEFAULT_DISK_BUDGET),
  blockDuration: durationWith((ms) => ms > 0 && DEFAULT_MAX_BLOCK_SPAN % ms === 0, 'a duration that divides 24h, such as 5m, 15m or 1h')
    .default(DEFAULT_BLOCK_DURATION),
});

const httpSchema = z.strictObject({
  listen: z.string().refine((v) => v === '' || parseListen(v) !== undefined, {
    error: (iss) => `expected host:port such as 127.0.0.1:9465, [::1]:9465 or :9465, or "" to disable, found ${JSON.stringify(iss.input)}`,
  }).default(DEFAULT_LISTEN),
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

/** The config file's schema (each field's own rules; crossFieldProblems checks the rest). */
export const agentConfigFileSchema = z.strictObject({
  site: siteSchema,
  interval: durationWith((ms) => ms >= MIN_INTERVAL, `at least ${formatDuration(MIN_INTERVAL)}`).default(DEFAULT_INTERVAL),
  store: storeSchema,
  http: httpSchema.prefault({}),
  log: logSchema.prefault({}),
  sources: z.array(sourceConfigSchema).min(1),
});

/** The parsed config file, before the per-source schedule is resolved. */
export type AgentConfigFile = z.infer<typeof agentConfigFileSchema>;

/** A source's config with its schedule resolved: `interval` and `timeout` always set (ms). */
export type ScheduledSourceConfig = SourceConfig & { readonly interval: number; readonly timeout: number };

/** A validated agent config, every default filled in, durations in ms and sizes in bytes. Frozen. */
export interface AgentConfig {
  readonly site: { readonly id: string; readonly labels: Readonly<Record<string, string>> };
  readonly interval: number;
  readonly store: { readonly dir: string; readonly diskBudget: number; readonly blockDuration: number };
  /** `listen` is `""` when the HTTP listener is disabled. */
  readonly http: { readonly listen: string };
  readonly log: { readonly level: (typeof LOG_LEVELS)[number] };
  readonly sources: readonly ScheduledSourceConfig[];
  /**
   * Sections other components define (`shipping:`, by the shipper), validated with the rest and
   * handed over parsed; absent when the file has none. See ConfigSection.
   */
  readonly sections: Readonly<Record<string, unknown>>;
}

/** A source's timeout when none is configured: 80% of its interval, at most 10 s. */
export function defaultTimeout(interval: number): number {
  return Math.min(Math.floor(interval * 0.8), MAX_DEFAULT_TIMEOUT);
}

/** A problem found across fields: its path in the config and what was expected and found. */
export interface CrossFieldProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

function parsedOr<T>(schema: z.ZodType<T>, value: unknown, fallback: T): T | undefined {
  if (value === undefined) return fallback;
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The rules between fields — unique source names, source intervals that are multiples of the
 * agent's, timeouts within the interval, blocks at least one round long — checked on the raw
 * config piece by piece, so that they are reported together with every other problem. A rule
 * whose pieces do not parse is skipped (the schema reports those).
 */
export function crossFieldProblems(raw: unknown): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  if (!isRecord(raw)) return problems;
  const labels = isRecord(raw.site) && isRecord(raw.site.labels) ? raw.site.labels : undefined;
  if (labels !== undefined) {
    // The limits the center holds site labels to (names and types are the schema's).
    for (const message of siteLabelProblems(labels)) {
      if (/^expected at most|to be at most|without control characters/.test(message)) problems.push({ path: ['site', 'labels'], message });
    }
  }
  const interval = parsedOr(durationSchema, raw.interval, DEFAULT_INTERVAL);
  const store = isRecord(raw.store) ? raw.store : {};
  const blockDuration = parsedOr(durationSchema, store.blockDuration, DEFAULT_BLOCK_DURATION);
  if (interval !== undefined && interval > 0 && blockDuration !== undefined && blockDuration > 0 && blockDuration < interval) {
    problems.push({ path: ['store', 'blockDuration'], message: `expected at least the interval (${formatDuration(interval)}), found ${formatDuration(blockDuration)}` });
  }
  if (!Array.isArray(raw.sources)) return problems;
  const seen = new Map<string, number>();
  raw.sources.forEach((s: unknown, i: number) => {
    if (!isRecord(s)) return;
    if (typeof s.name === 'string') {
      const first = seen.get(s.name);
      if (first !== undefined) problems.push({ path: ['sources', i, 'name'], message: `expected a name no other source has, found ${JSON.stringify(s.name)} again (sources.${first}.name)` });
      else seen.set(s.name, i);
    }
    if (interval === undefined || interval <= 0) return;
    const own = parsedOr(durationSchema, s.interval, interval);
    if (own === undefined) return;
    if (own <= 0 || own % interval !== 0) {
      problems.push({ path: ['sources', i, 'interval'], message: `expected a multiple of the agent's interval (${formatDuration(interval)}), found ${formatDuration(own)}` });
      return;
    }
    const timeout = parsedOr(durationSchema, s.timeout, undefined);
    if (s.timeout !== undefined && timeout !== undefined && (timeout <= 0 || timeout > own)) {
      problems.push({ path: ['sources', i, 'timeout'], message: `expected a positive duration of at most the source's interval (${formatDuration(own)}), found ${formatDuration(timeout)}` });
    }
  });
  return problems;
}

/** The config with each source's interval and timeout resolved (call after validation). */
export function resolveSchedule(c: AgentConfigFile, sections: Readonly<Record<string, unknown>> = {}): AgentConfig {
  const sources = c.sources.map((s): ScheduledSourceConfig => {
    const interval = s.interval ?? c.interval;
    return { ...s, interval, timeout: s.timeout ?? defaultTimeout(interval) };
  });
  return { ...c, sources, sections };
}

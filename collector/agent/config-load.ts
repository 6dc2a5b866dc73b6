// Loading the agent config: the YAML file, then environment variables over it, then flags over
// those (defaults fill what none of them set); validated with one schema, every problem at
// once, then frozen — the layering every component's config shares (common/config-load.ts).
// Only cmd/ reads process.env and argv: they come in as arguments here.
import type { z } from 'zod';
import {
  deepFreeze, loadLayeredConfig, parseLayeredConfig, type ConfigOverride, type ConfigSources as LayeredSources, type LayeredConfigSpec,
} from '../../common/config-load.js';
import type { ConfigProblem } from '../../common/config-issues.js';
import { agentConfigFileSchema, crossFieldProblems, resolveSchedule, type AgentConfig, type AgentConfigFile } from './config-schema.js';
import { AgentError, AgentErrorCode } from './errors.js';

export type { ConfigOverride };

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
export interface ConfigSources extends LayeredSources {
  /** The file's path, for messages. */
  readonly file: string;
  /** Sections owned by other components, by their top-level key. Without one, its key is unknown. */
  readonly sections?: Readonly<Record<string, ConfigSection>>;
}

/** The agent's spec for the shared layered loader: its schema (with the sections), rules and errors. */
function agentSpec(sources: ConfigSources): LayeredConfigSpec<Record<string, unknown>> {
  const sections = Object.entries(sources.sections ?? {});
  const schema = sections.length === 0 ? agentConfigFileSchema
    : agentConfigFileSchema.extend(Object.fromEntries(sections.map(([key, s]) => [key, s.schema.optional()])));
  return {
    schema: schema as unknown as z.ZodType<Record<string, unknown>>,
    overrides: CONFIG_OVERRIDES,
    crossFieldProblems: (raw) => {
      const found: ConfigProblem[] = crossFieldProblems(raw);
      const root = typeof raw === 'object' && raw !== null ? raw as Record<string, unknown> : {};
      for (const [key, s] of sections) {
        if (root[key] === undefined || s.problems === undefined) continue;
        for (const p of s.problems(root[key])) found.push({ path: [key, ...p.path], message: p.message });
      }
      return found;
    },
    invalid: (message, problems) => new AgentError(AgentErrorCode.ConfigInvalid, message, { problems }),
    unreadable: (message, cause) => new AgentError(AgentErrorCode.ConfigUnreadable, message, { cause }),
  };
}

/** The parsed file with its sections split off, the schedule resolved, frozen. */
function finish(data: Record<string, unknown>, sources: ConfigSources): AgentConfig {
  const keys = Object.keys(sources.sections ?? {}).filter((key) => data[key] !== undefined);
  const parsedSections = Object.fromEntries(keys.map((key) => [key, data[key]]));
  return deepFreeze(resolveSchedule(data as AgentConfigFile, parsedSections));
}

/**
 * Builds the agent config from the file's text, `sources.env` and `sources.flags`: file, then
 * env, then flags, then defaults for what is still unset. Returns a deeply frozen config.
 * Throws AgentError DW_AGENT_CONFIG_INVALID listing every problem at once — YAML syntax errors
 * with their line and column; schema problems as `path: expected …, found …`, with where the
 * value came from (a line in the file, an env variable or a flag).
 */
export function parseAgentConfig(text: string, sources: ConfigSources): AgentConfig {
  return finish(parseLayeredConfig(text, sources, agentSpec(sources)), sources);
}

/**
 * Reads the config file at `sources.file` and builds the config (see parseAgentConfig).
 * Throws AgentError DW_AGENT_CONFIG_UNREADABLE when the file is missing or cannot be read.
 */
export async function loadAgentConfig(sources: ConfigSources): Promise<AgentConfig> {
  return finish(await loadLayeredConfig(sources, agentSpec(sources)), sources);
}

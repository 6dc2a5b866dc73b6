// The aggregator's config (`driftwatch aggregator --config aggregator.yaml`, or flags): one
// strict schema with its defaults beside it; file, then env, then flags; every problem reported
// at once with where it came from; then frozen. See docs/aggregator.md, "Configuration".
import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../common/config-schema.js';
import type { ConfigProblem } from '../common/config-issues.js';
import { loadLayeredConfig, parseLayeredConfig, type ConfigOverride, type ConfigSources, type LayeredConfigSpec } from '../common/config-load.js';
import { isLoopbackHost, parseListen } from '../common/listen.js';
import { AggregatorError, AggregatorErrorCode } from './errors.js';
import { DEFAULT_INGEST_LIMITS } from './ingest/limits.js';
import { DEFAULT_GROUP_COMMIT } from './storage/index.js';
import { DEFAULT_CATCH_UP_INTERVAL, DEFAULT_SNAPSHOT_INTERVAL } from './fleet/index.js';
import { DEFAULT_POLL_INTERVAL } from './policy/index.js';

/** Default gRPC listener: every interface, port 7443. */
export const DEFAULT_GRPC_LISTEN = ':7443';
/** Default HTTP listener (/metrics, /healthz, /readyz): loopback, port 9470. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:9470';
/** Default time partial uploads are kept untouched before they are discarded. */
export const DEFAULT_PARTIAL_TTL = 7 * 24 * 3_600_000;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every overridable setting: flags win over env, env over the file. */
export const AGGREGATOR_OVERRIDES: readonly ConfigOverride[] = [
  { path: ['dataDir'], flag: 'data-dir', env: 'DRIFTWATCH_AGGREGATOR_DATA_DIR' },
  { path: ['grpc', 'listen'], flag: 'grpc-listen', env: 'DRIFTWATCH_AGGREGATOR_GRPC_LISTEN' },
  { path: ['grpc', 'tls', 'cert'], flag: 'tls-cert', env: 'DRIFTWATCH_AGGREGATOR_TLS_CERT' },
  { path: ['grpc', 'tls', 'key'], flag: 'tls-key', env: 'DRIFTWATCH_AGGREGATOR_TLS_KEY' },
  { path: ['grpc', 'tls', 'clientCa'], flag: 'tls-client-ca', env: 'DRIFTWATCH_AGGREGATOR_TLS_CLIENT_CA' },
  { path: ['grpc', 'insecure'], flag: 'insecure', env: 'DRIFTWATCH_AGGREGATOR_INSECURE', boolean: true },
  { path: ['http', 'listen'], flag: 'http-listen', env: 'DRIFTWATCH_AGGREGATOR_HTTP_LISTEN' },
  { path: ['credentials'], flag: 'credentials', env: 'DRIFTWATCH_AGGREGATOR_CREDENTIALS' },
  { path: ['policies', 'dir'], flag: 'policies', env: 'DRIFTWATCH_AGGREGATOR_POLICIES' },
  { path: ['log', 'level'], flag: 'log-level', env: 'DRIFTWATCH_AGGREGATOR_LOG_LEVEL' },
];

/** The environment variable naming the config file when `--config` is not given. */
export const AGGREGATOR_CONFIG_ENV = 'DRIFTWATCH_AGGREGATOR_CONFIG';

const listenSchema = (example: string) => z.string().refine((v) => parseListen(v) !== undefined, {
  error: (iss) => `expected host:port such as ${example}, [::1]:${example.split(':').at(-1)} or :${example.split(':').at(-1)}, found ${JSON.stringify(iss.input)}`,
});

/** true/false, also as the strings an env variable or a flag carries. */
const booleanSchema = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const sizeAtLeast = (min: number) => byteSizeSchema.refine((b) => b >= min, { error: (iss) => `expected at least ${min} bytes, found ${String(iss.input)}` });

const durationAtLeast = (min: number) => durationSchema.refine((ms) => ms >= min, { error: (iss) => `expected at least ${min} ms, found ${String(iss.input)}` });

const limitsSchema = z.strictObject({
  maxBlockBytes: sizeAtLeast(1024).default(DEFAULT_INGEST_LIMITS.maxBlockBytes),
  maxChunkBytes: sizeAtLeast(1024).refine((b) => b <= 64 << 20, { error: 'expected at most 64MiB' }).default(DEFAULT_INGEST_LIMITS.maxChunkBytes),
  maxConcurrentUploads: positiveInt(100_000).default(DEFAULT_INGEST_LIMITS.maxConcurrentUploads),
  maxUploadsPerSite: positiveInt(1000).default(DEFAULT_INGEST_LIMITS.maxUploadsPerSite),
  maxBufferedBytes: sizeAtLeast(1024).default(DEFAULT_INGEST_LIMITS.maxBufferedBytes),
  pushback: durationAtLeast(1).default(DEFAULT_INGEST_LIMITS.pushbackMs),
  uploadIdleTimeout: durationAtLeast(1000).default(DEFAULT_INGEST_LIMITS.uploadIdleTimeoutMs),
  maxHelloIds: positiveInt(1_000_000).default(DEFAULT_INGEST_LIMITS.maxHelloIds),
  partialTtl: durationAtLeast(60_000).default(DEFAULT_PARTIAL_TTL),
});

/** Where the desired state comes from (docs/policies.md): exactly one of `dir` and `git` (a cross-field rule). */
const policiesSchema = z.strictObject({
  /** A directory of policy YAML files. */
  dir: z.string().min(1).optional(),
  /** A local git repository: the ref's first-parent history, one subdirectory. */
  git: z.strictObject({
    repository: z.string().min(1),
    ref: z.string().min(1).default('HEAD'),
    subdirectory: z.string().default(''),
  }).optional(),
  /** Reload on file-system events. */
  watch: booleanSchema.default(true),
  /** Reload this often in any case; 0 turns polling off. */
  pollInterval: durationSchema.default(DEFAULT_POLL_INTERVAL),
});

const schema = z.strictObject({
  /** The data directory (created when missing). */
  dataDir: z.string().min(1),
  grpc: z.strictObject({
    listen: listenSchema('0.0.0.0:7443').default(DEFAULT_GRPC_LISTEN),
    tls: z.strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      clientCa: z.string().min(1).optional(),
    }).optional(),
    insecure: booleanSchema.default(false),
  }).prefault({}),
  http: z.strictObject({
    listen: listenSchema('127.0.0.1:9470').default(DEFAULT_HTTP_LISTEN),
  }).prefault({}),
  /** The site credentials file (docs/security.md). */
  credentials: z.string().min(1),
  limits: limitsSchema.prefault({}),
  groupCommit: z.strictObject({
    maxDelay: durationSchema.refine((ms) => ms <= 1000, { error: 'expected at most 1s' }).default(DEFAULT_GROUP_COMMIT.maxDelayMs),
    maxCommits: positiveInt(100_000).default(DEFAULT_GROUP_COMMIT.maxCommits),
  }).prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  /** The desired state; none: drift and upgrades find no expectations. */
  policies: policiesSchema.optional(),
  fleet: z.strictObject({
    /** Catch the fleet index up with the store at least this often (it also does so shortly after each commit). */
    catchUpInterval: durationAtLeast(10).refine((ms) => ms <= 3_600_000, { error: 'expected at most 1h' }).default(DEFAULT_CATCH_UP_INTERVAL),
    /** Keep the index in <dataDir>/fleet-index.snapshot (loaded at start, written on close and every snapshotInterval). */
    snapshots: booleanSchema.default(true),
    /** Snapshot the index this often (aggregator clock) when blocks were added or contacts kept; 0: only after a start that read blocks or contact history, and on close. */
    snapshotInterval: durationSchema.refine((ms) => ms === 0 || ms >= 1000, { error: (iss) => `expected 0 (on close only) or at least 1000 ms, found ${String(iss.input)}` })
      .default(DEFAULT_SNAPSHOT_INTERVAL),
  }).prefault({}),
});

/** A validated aggregator config: defaults filled in, durations in ms, sizes in bytes. Frozen. */
export type AggregatorConfig = z.output<typeof schema>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rules across fields: TLS or insecure (not both, not neither), insecure only on loopback, chunks within blocks, one policy source. */
export function aggregatorCrossFieldProblems(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!isRecord(raw)) return problems;
  const grpc = isRecord(raw.grpc) ? raw.grpc : {};
  const insecure = booleanSchema.safeParse(grpc.insecure ?? false);
  const tls = grpc.tls;
  if (insecure.success && insecure.data) {
    if (tls !== undefined) problems.push({ path: ['grpc', 'insecure'], message: 'expected either grpc.tls or grpc.insecure: true, found both' });
    const listen = typeof grpc.listen === 'string' ? parseListen(grpc.listen) : parseListen(DEFAULT_GRPC_LISTEN);
    if (listen !== undefined && !isLoopbackHost(listen.host)) {
      problems.push({ path: ['grpc', 'listen'], message: `expected a loopback address (127.0.0.1, [::1], localhost) with grpc.insecure: true, found ${JSON.stringify(grpc.listen ?? DEFAULT_GRPC_LISTEN)}` });
    }
  } else if (insecure.success && tls === undefined) {
    problems.push({ path: ['grpc', 'tls'], message: 'expected grpc.tls with cert and key files (or grpc.insecure: true on loopback for a demo), found neither' });
  }
  if (isRecord(raw.policies)) {
    const { dir, git } = raw.policies;
    if (dir !== undefined && git !== undefined) problems.push({ path: ['policies'], message: 'expected either policies.dir or policies.git, found both' });
    if (dir === undefined && git === undefined) problems.push({ path: ['policies'], message: 'expected policies.dir (a directory of policy files) or policies.git (a repository), found neither' });
  }
  const limits = isRecord(raw.limits) ? raw.limits : {};
  const block = limits.maxBlockBytes === undefined ? DEFAULT_INGEST_LIMITS.maxBlockBytes : byteSizeSchema.safeParse(limits.maxBlockBytes).data;
  const chunk = limits.maxChunkBytes === undefined ? DEFAULT_INGEST_LIMITS.maxChunkBytes : byteSizeSchema.safeParse(limits.maxChunkBytes).data;
  if (block !== undefined && chunk !== undefined && chunk > block) {
    problems.push({ path: ['limits', 'maxChunkBytes'], message: `expected at most limits.maxBlockBytes (${block} bytes), found ${chunk} bytes` });
  }
  return problems;
}

const spec: LayeredConfigSpec<AggregatorConfig> = {
  schema: schema as unknown as z.ZodType<AggregatorConfig>,
  overrides: AGGREGATOR_OVERRIDES,
  crossFieldProblems: aggregatorCrossFieldProblems,
  invalid: (message, problems) => new AggregatorError(AggregatorErrorCode.ConfigInvalid, message, { problems }),
  unreadable: (message, cause) => new AggregatorError(AggregatorErrorCode.ConfigUnreadable, message, { cause }),
};

/**
 * Builds the config from the file's text (may be empty), env and flags. Throws
 * DW_AGGREGATOR_CONFIG_INVALID listing every problem as `path: expected …, found …` with where
 * it came from.
 */
export function parseAggregatorConfig(text: string, sources: ConfigSources): AggregatorConfig {
  return parseLayeredConfig(text, sources, spec);
}

/** Reads `sources.file` (when given) and builds the config. Throws DW_AGGREGATOR_CONFIG_UNREADABLE or _INVALID. */
export function loadAggregatorConfig(sources: ConfigSources): Promise<AggregatorConfig> {
  return loadLayeredConfig(sources, spec);
}

// `driftwatch aggregator [--config aggregator.yaml] [flags]`: the center's aggregator — ingest and
// the fleet reports. The one place that reads argv and env for it, builds its logger and
// prom-client registry, reads the TLS files, and handles SIGINT/SIGTERM (stop) and SIGHUP (reload
// the site credentials and the policies). See docs/aggregator.md.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  AGGREGATOR_CONFIG_ENV, AGGREGATOR_OVERRIDES, AggregatorError, AggregatorErrorCode, loadAggregatorConfig, startAggregator, type AggregatorConfig,
  type PolicySettings, type TlsMaterial,
} from '../aggregator/index.js';
import { describeReadError } from '../common/config-load.js';
import { DriftwatchError, errorMessage } from '../common/errors.js';
import type { CliIo } from './cli.js';

const USAGE = `usage: driftwatch aggregator [--config <aggregator.yaml>] [--data-dir DIR] [--grpc-listen HOST:PORT]
                             [--http-listen HOST:PORT] [--tls-cert FILE --tls-key FILE | --insecure]
                             [--credentials FILE] [--policies DIR] [--log-level info]
       driftwatch aggregator credentials add|list|revoke ... (see --help)
       driftwatch aggregator reindex --data-dir DIR`;

const HELP = `${USAGE}

Receives sealed blocks from the sites' agents over gRPC, stores them durably, and answers the fleet
reports (drift, upgrades, stale, sites) over HTTP from an index it keeps in memory: at start loaded
from its snapshot in the data directory and caught up with what was stored since, or rebuilt from
the stored blocks when there is none (docs/aggregator.md).
  --config FILE          the YAML config (or ${AGGREGATOR_CONFIG_ENV}); flags alone are enough too
${AGGREGATOR_OVERRIDES.map((o) => `  --${`${o.flag}${o.boolean === true ? '' : ' VALUE'}`.padEnd(21)}overrides ${o.path.join('.')} (env ${o.env})`).join('\n')}
Precedence: flags, then environment variables, then the file, then defaults.
Without policies (policies.dir or policies.git), drift and upgrades find no expectations.
SIGINT/SIGTERM stop it cleanly; SIGHUP re-reads the credentials file and the policies.

Site credentials (docs/security.md):
  driftwatch aggregator credentials add --site ID --credentials FILE     a new token for a site, printed once
  driftwatch aggregator credentials list --credentials FILE              sites and their key ids
  driftwatch aggregator credentials revoke --site ID --key KEYID --credentials FILE

Verification:
  driftwatch aggregator reindex --data-dir DIR   rebuild the fleet index from the stored blocks (of a stopped aggregator), print blocks, sites, time;
                                                 writes a fresh index snapshot (DIR/fleet-index.snapshot) for the next start
`;

function usageError(found: string): DriftwatchError {
  const first = USAGE.split('\n').slice(0, 3).join(' ').slice('usage: '.length).replace(/\s+/g, ' ');
  return new DriftwatchError('DW_CLI_USAGE', `expected ${first}, found ${found}`);
}

interface Args {
  readonly config: string | undefined;
  readonly flags: Record<string, string>;
  readonly help: boolean;
}

function parseArgs(args: readonly string[]): Args {
  const byFlag = new Map(AGGREGATOR_OVERRIDES.map((o) => [o.flag, o]));
  const flags: Record<string, string> = {};
  let config: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    const name = m?.[1];
    if (m === null || name === undefined || (name !== 'config' && !byFlag.has(name))) throw usageError(JSON.stringify(a));
    const boolean = byFlag.get(name)?.boolean === true;
    const value = m[2] ?? (boolean ? 'true' : args[++i]);
    if (value === undefined) throw usageError(`${a} without a value`);
    if (name === 'config') {
      if (config !== undefined) throw usageError(`${a} given twice`);
      config = value;
      continue;
    }
    if (name in flags) throw usageError(`${a} given twice`);
    flags[name] = value;
  }
  return { config, flags, help };
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.TlsInvalid, `expected a readable PEM ${what} file at ${path}, found ${describeReadError(err)}`, { cause: err });
  }
}

async function tlsOf(config: AggregatorConfig): Promise<TlsMaterial | 'insecure'> {
  const tls = config.grpc.tls;
  if (config.grpc.insecure || tls === undefined) return 'insecure';
  const material = { cert: await readPem(tls.cert, 'certificate'), key: await readPem(tls.key, 'private key') };
  return tls.clientCa === undefined ? material : { ...material, clientCa: await readPem(tls.clientCa, 'client CA certificate') };
}

/** The policy source of the config (the schema lets exactly one of dir and git through), or undefined. */
function policySettings(config: AggregatorConfig): PolicySettings | undefined {
  const p = config.policies;
  if (p === undefined) return undefined;
  const reload = { watch: p.watch, pollIntervalMs: p.pollInterval };
  if (p.dir !== undefined) return { dir: p.dir, ...reload };
  if (p.git !== undefined) return { git: { repository: p.git.repository, ref: p.git.ref, subdirectory: p.git.subdirectory }, ...reload };
  return undefined;
}

/**
 * The `aggregator` command. Resolves to 0 after SIGINT/SIGTERM once it stopped cleanly. Throws a
 * DriftwatchError (exit 2): DW_CLI_USAGE, DW_AGGREGATOR_CONFIG_*, _TLS_INVALID,
 * _CREDENTIALS_*, _STORE_*, _*_LISTEN_FAILED.
 */
export async function aggregatorCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const file = parsed.config ?? (process.env[AGGREGATOR_CONFIG_ENV] || undefined);
  const config = await loadAggregatorConfig({ file, env: process.env, flags: parsed.flags });
  const tls = await tlsOf(config);

  const policies = policySettings(config);

  const logger = pino({ level: config.log.level, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, io.stdout);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const l = config.limits;
  const aggregator = await startAggregator({
    dataDir: config.dataDir,
    grpcListen: config.grpc.listen,
    httpListen: config.http.listen,
    tls,
    credentials: { file: config.credentials },
    logger,
    registry,
    limits: {
      maxBlockBytes: l.maxBlockBytes, maxChunkBytes: l.maxChunkBytes, maxConcurrentUploads: l.maxConcurrentUploads, maxUploadsPerSite: l.maxUploadsPerSite,
      maxBufferedBytes: l.maxBufferedBytes, pushbackMs: l.pushback, uploadIdleTimeoutMs: l.uploadIdleTimeout, maxHelloIds: l.maxHelloIds,
    },
    partialTtlMs: l.partialTtl,
    groupCommit: { maxDelayMs: config.groupCommit.maxDelay, maxCommits: config.groupCommit.maxCommits },
    fleet: {
      catchUpIntervalMs: config.fleet.catchUpInterval, snapshots: config.fleet.snapshots, snapshotIntervalMs: config.fleet.snapshotInterval,
      ...(policies === undefined ? {} : { policies }),
    },
  });
  logger.info({ configFile: file, dataDir: config.dataDir, grpc: aggregator.grpcAddress, http: aggregator.httpAddress }, 'aggregator listening');
  const fleet = aggregator.fleet!;
  // The reports answer (and /readyz turns 200) once the index started: its snapshot loaded and caught up, or a reindex.
  fleet.whenReady().then(
    () => logger.info({ indexedThrough: fleet.indexedThrough(), reason: fleet.ready().reason }, 'fleet reports ready'),
    () => undefined,
  );

  let stop!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  const onHup = (): void => {
    aggregator.reloadCredentials().catch((err: unknown) => logger.error({ code: (err as { code?: string }).code, err: errorMessage(err) }, 'credentials reload failed; the previous credentials stay in force'));
    // The outcome is logged by the policy source (loaded, rejected, unreadable).
    fleet.reloadPolicies().catch((err: unknown) => logger.warn({ code: (err as { code?: string }).code, err: errorMessage(err) }, 'policy reload on SIGHUP failed'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  try {
    const signal = await stopped;
    logger.info({ signal }, 'signal received, stopping: uploads in progress stay resumable');
    await aggregator.close();
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    logger.flush();
  }
}

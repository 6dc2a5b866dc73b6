// `driftwatch agent --config agent.yaml [--rounds N] [flags]`: the edge agent. The one place
// that reads argv and env for it, builds its logger and its prom-client registry, and handles
// SIGINT/SIGTERM. See docs/agent.md.
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  CONFIG_OVERRIDES, CONFIG_PATH_ENV, createAgent, createAgentMetrics, createScheduledSources, loadAgentConfig, startAgentHttp, type AgentHttp,
} from '../collector/agent/index.js';
import { systemClock } from '../common/clock.js';
import { DriftwatchError } from '../common/errors.js';
import type { ShippingConfig } from '../shipper/index.js';
import { createAgentShipping, shippingSection } from './agent-shipping.js';
import type { CliIo } from './cli.js';

import { packageVersion } from './version.js';
/** prom-client's event-loop delay sampling period for nodejs_eventloop_lag_*. */
export const EVENT_LOOP_PRECISION_MS = 100;

const USAGE = `usage: driftwatch agent --config <agent.yaml> [--rounds N] [--site-id ID] [--interval 15s]
                        [--store-dir DIR] [--disk-budget 1GiB] [--listen HOST:PORT] [--log-level info]`;

const HELP = `${USAGE}

Samples this site's sources every interval into the edge store (docs/agent.md).
  --config FILE        the YAML config (or ${CONFIG_PATH_ENV})
  --rounds N           run N rounds, flush the store and exit (default: until SIGINT/SIGTERM)
${CONFIG_OVERRIDES.map((o) => `  --${`${o.flag} VALUE`.padEnd(19)}overrides ${o.path.join('.')} (env ${o.env})`).join('\n')}
Precedence: flags, then environment variables, then the file, then defaults.
`;

interface AgentArgs {
  readonly config: string | undefined;
  readonly rounds: number | undefined;
  readonly flags: Record<string, string>;
  readonly help: boolean;
}

function usageError(found: string): DriftwatchError {
  return new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length).replace(/\s+/g, ' ')}, found ${found}`);
}

function parseArgs(args: readonly string[]): AgentArgs {
  const known = new Set(['config', 'rounds', ...CONFIG_OVERRIDES.map((o) => o.flag)]);
  const flags: Record<string, string> = {};
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    if (m === null || !known.has(m[1]!)) throw usageError(JSON.stringify(a));
    const value = m[2] ?? args[++i];
    if (value === undefined) throw usageError(`${a} without a value`);
    if (m[1]! in flags) throw usageError(`${a} given twice`);
    flags[m[1]!] = value;
  }
  let rounds: number | undefined;
  if (flags.rounds !== undefined) {
    rounds = Number(flags.rounds);
    if (!Number.isSafeInteger(rounds) || rounds < 1) throw usageError(`--rounds ${JSON.stringify(flags.rounds)} (expected a whole number of at least 1)`);
  }
  const { config, rounds: _r, ...overrides } = flags;
  return { config, rounds, flags: overrides, help };
}


/**
 * The `agent` command. Resolves to 0 after `--rounds` rounds or a SIGINT/SIGTERM (the round in
 * flight finished, the store flushed, the sources closed). Throws a DriftwatchError (exit 2)
 * on a usage error, an invalid or unreadable config (DW_AGENT_CONFIG_*), a listener that
 * cannot bind, or a store that cannot be opened (DW_STORE_*).
 */
export async function agentCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const file = parsed.config ?? process.env[CONFIG_PATH_ENV];
  if (file === undefined || file === '') throw usageError(`no --config and no ${CONFIG_PATH_ENV}`);
  const config = await loadAgentConfig({ file, env: process.env, flags: parsed.flags, sections: { shipping: shippingSection(process.env) } });

  const version = packageVersion();
  const logger = pino({
    level: config.log.level,
    base: { site: config.site.id },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, io.stdout);
  const registry = new Registry();
  // Event-loop delay sampled every 100 ms, not prom-client's 10 ms: the 10 ms timer alone costs
  // about 0.2% of a core on an idle agent (docs/benchmarks.md, agent-footprint).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  const metrics = createAgentMetrics(registry);
  const clock = systemClock;
  const shippingConfig = config.sections.shipping as ShippingConfig | undefined;
  const companion = shippingConfig === undefined ? undefined : await createAgentShipping({
    config: shippingConfig, env: process.env, siteId: config.site.id, siteLabels: config.site.labels, clock, logger, registry, version,
  });
  if (companion === undefined) logger.info({}, 'no shipping section in the config: blocks stay in the store (docs/shipper.md)');
  const sources = createScheduledSources(config, { clock, logger });
  const agent = createAgent({ config, sources, clock, logger, metrics, version, ...(companion === undefined ? {} : { companion }) });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'signal received, finishing the round in flight, then flushing the store');
      agent.stop(signal);
    } else {
      logger.warn({ signal }, 'second signal, aborting the collections still running');
      agent.stop(signal, { hard: true });
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let http: AgentHttp | undefined;
  try {
    if (config.http.listen !== '') {
      http = await startAgentHttp({ listen: config.http.listen, registry, health: () => agent.health() });
      logger.info({ address: http.host, port: http.port }, 'http listening for /metrics and /healthz');
    }
    logger.info({ version, configFile: file, rounds: parsed.rounds }, 'agent starting');
    await agent.run(parsed.rounds === undefined ? {} : { rounds: parsed.rounds });
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await http?.close();
    logger.flush();
  }
}

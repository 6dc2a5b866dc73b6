import { DriftwatchError, errorMessage } from '../common/errors.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type Command = (args: string[], io: CliIo) => Promise<number>;

const USAGE = `usage: driftwatch <command> [options]

commands:
  agent --config <file>     run the edge agent (--rounds N to stop after N rounds)
  aggregator                run the aggregator: ingest (gRPC), fleet API and /metrics (HTTP)
  aggregator credentials    add, list or revoke a site's ingest token
  report <kind>             drift, upgrades, stale or sites, from an aggregator's fleet API
  demo                      run the demo: a simulated fleet of 500 shops through a week (see README)
  simulate --scenario <f>   run a fleet scenario against a real aggregator (docs/simulator.md)
  block inspect <path>      print a block's header and statistics (--json for JSON)
  version                   print the version
`;

const commands: Record<string, () => Promise<Command>> = {
  version: async () => async (_args, io) => {
    io.stdout.write('driftwatch 0.1.0\n');
    return 0;
  },
  'block inspect': async () => (await import('./block-inspect.js')).blockInspectCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
};

/** Registers a subcommand (name may hold a space: "block inspect"). */
export function registerCommand(name: string, load: () => Promise<Command>): void {
  commands[name] = load;
}

/**
 * Runs the CLI and returns the exit code: 0 on success, 1 when the command ran and found a
 * problem, 2 on a usage or input error. Errors are printed as `driftwatch: CODE: message`,
 * never as a stack trace.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    io.stdout.write(USAGE);
    return first === undefined ? 2 : 0;
  }
  const two = second === undefined ? undefined : `${first} ${second}`;
  const name = two !== undefined && two in commands ? two : first;
  const load = commands[name];
  if (load === undefined) {
    io.stderr.write(`driftwatch: DW_CLI_UNKNOWN_COMMAND: expected one of ${Object.keys(commands).sort().join(', ')}, found ${JSON.stringify(first)}\n`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof DriftwatchError) {
      io.stderr.write(`driftwatch: ${err.code}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`driftwatch: DW_CLI_INTERNAL: ${errorMessage(err)}\n`);
    return 1;
  }
}

// The driftwatch command: dispatches to a subcommand. Only cmd/ reads argv and env.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

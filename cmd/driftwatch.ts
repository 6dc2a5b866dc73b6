// The driftwatch command: dispatches to a subcommand. Only cmd/ reads argv and env.
import { registerCommand, runCli } from './cli.js';

registerCommand('aggregator', async () => (await import('./aggregator.js')).aggregatorCommand);
registerCommand('aggregator credentials', async () => (await import('./aggregator-credentials.js')).credentialsCommand);
registerCommand('aggregator reindex', async () => (await import('./aggregator-reindex.js')).reindexCommand);
registerCommand('report', async () => (await import('./report.js')).reportCommand);
registerCommand('simulate', async () => (await import('./simulate.js')).simulateCommand);

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

// The exec source: a command that prints JSON, for everything else — firmware tools, PLC
// gateways (docs/sources/exec.md).
import { collectionBudget } from '../errors.js';
import type { Source, SourceDeps } from '../source.js';
import type { ExecConfig } from './config.js';
import { parseOutput } from './output.js';
import { runCommand } from './run.js';

export { execConfigSchema, type ExecConfig } from './config.js';

/**
 * An exec source for a config parsed by `execConfigSchema`. Each `collect` runs the command once
 * (no shell, its own process group, a small environment) within `min(ctx.deadline, now +
 * timeout)` and returns the series and events it printed. Rejects with a SourceError: see
 * run.ts (spawn, exit, deadline, size) and output.ts (the document). A command that must stop is
 * killed with its whole process group, SIGTERM then SIGKILL after `killGrace`; the rejection
 * does not wait for that, `close` does.
 */
export function createExecSource(config: ExecConfig, deps: SourceDeps): Source {
  const program = config.command[0]!;
  const dying = new Set<Promise<void>>();
  return {
    name: config.name,
    kind: 'exec',
    async collect(ctx) {
      const { deadline, budgetMs } = collectionBudget(ctx, config.timeout, `run ${program}`, program);
      const { stdout, stderrTail } = await runCommand({
        command: config.command,
        env: config.env,
        cwd: config.cwd,
        maxBytes: config.maxBytes,
        killGraceMs: config.killGrace,
        budgetMs,
        signal: ctx.signal,
        deadlinePassed: () => ctx.now() >= deadline,
        onKill: (gone) => {
          dying.add(gone);
          void gone.then(() => dying.delete(gone));
        },
      });
      if (stderrTail.trim() !== '') {
        deps.logger.debug({ source: config.name, command: program, stderr: stderrTail.trim().slice(-500) }, 'command wrote to stderr');
      }
      return parseOutput(stdout, program, ctx.roundTime);
    },
    /** Waits until every process group this source had to kill is gone. */
    async close() {
      await Promise.all([...dying]);
    },
  };
}

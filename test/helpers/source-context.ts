// Shared bits of the source tests: a collect context and a logger that keeps what it got.
import type { CollectContext, SourceDeps } from '../../collector/sources/source.js';
import { systemClock } from '../../common/clock.js';

export interface LoggedLine {
  readonly level: 'warn' | 'info' | 'debug';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** SourceDeps with the system clock and a logger that records every line. */
export function testDeps(): SourceDeps & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const log = (level: LoggedLine['level']) => (fields: Record<string, unknown>, message: string): void => {
    lines.push({ level, fields, message });
  };
  return { clock: systemClock, logger: { warn: log('warn'), info: log('info'), debug: log('debug') }, lines };
}

/** A context whose deadline is `budgetMs` from now (wall clock), with its own abort controller. */
export function testContext(budgetMs: number, roundTime = Date.now()): CollectContext & { controller: AbortController } {
  const controller = new AbortController();
  const now = Date.now();
  return { signal: controller.signal, roundTime, deadline: now + budgetMs, now: () => Date.now(), controller };
}

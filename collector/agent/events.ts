// The events the agent itself records: its start, its stop, and the gaps a suspended process
// leaves. They go into the round they are attached to and ship with it.
import { formatDuration } from '../../common/units.js';
import type { BlockEvent } from '../../proto/index.js';

/** A span for people: `9m52s`, `2h0m5s`, `850ms`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (rest >= size || parts.length > 0) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  parts.push(`${rest}s`);
  return parts.join('');
}

/** Event kinds of the agent. */
export const AgentEventKind = {
  Start: 'agent_start',
  Stop: 'agent_stop',
  Gap: 'agent_gap',
} as const;

/** Why the agent stopped: the `reason` of agent_stop. */
export type StopReason = 'rounds_done' | 'signal' | 'error';

/** The agent started at `t` with `version`; labels carry the version and the interval. */
export function agentStartEvent(t: number, version: string, interval: number, sources: number): BlockEvent {
  return {
    t, kind: AgentEventKind.Start, reason: 'started',
    message: `driftwatch agent ${version} started: ${sources} source${sources === 1 ? '' : 's'} every ${formatDuration(interval)}`,
    labels: { version, interval: formatDuration(interval) }, rangeMinT: 0, rangeMaxT: 0, count: 0,
  };
}

/** The agent stops at `t` for `reason` (`detail`: the signal, or the error). */
export function agentStopEvent(t: number, version: string, reason: StopReason, detail: string, rounds: number): BlockEvent {
  return {
    t, kind: AgentEventKind.Stop, reason,
    message: `driftwatch agent ${version} stopping (${detail}) after ${rounds} round${rounds === 1 ? '' : 's'}`,
    labels: { version }, rangeMinT: 0, rangeMaxT: 0, count: rounds,
  };
}

/** The slots firstMissed..lastMissed (inclusive, `missed` rounds) were not sampled; seen at `t`. */
export function agentGapEvent(t: number, firstMissed: number, lastMissed: number, missed: number, interval: number): BlockEvent {
  return {
    t, kind: AgentEventKind.Gap, reason: 'suspended',
    message: `missed ${missed} round${missed === 1 ? '' : 's'} from ${new Date(firstMissed).toISOString()} to ${new Date(lastMissed).toISOString()}: `
      + `the agent woke ${humanDuration(t - firstMissed)} after the planned round (process suspended or stalled, or the clock stepped forward); resuming at the next aligned round`,
    labels: { interval: formatDuration(interval) }, rangeMinT: firstMissed, rangeMaxT: lastMissed, count: missed,
  };
}

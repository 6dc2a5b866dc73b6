// Reboot detection from sysUpTime: the agent's uptime in hundredths of a second, which starts
// again from 0 when the device (or only its SNMP agent) restarts, and wraps after 2^32 ticks.
import type { BlockEvent } from '../../../proto/index.js';

const WRAP = 2 ** 32;

export interface UptimeObservation {
  /** sysUpTime, hundredths of a second. */
  readonly ticks: number;
  /** The round time it was read at, ms. */
  readonly t: number;
}

/**
 * Whether going from `prev` to `next` is a restart: sysUpTime went back, and not because it
 * wrapped (a wrap is recognised when the elapsed wall time carries the old value past 2^32 to
 * within a minute, or half the elapsed time, of the new one).
 */
export function isRestart(prev: UptimeObservation, next: UptimeObservation): boolean {
  if (next.ticks >= prev.ticks) return false;
  const elapsedTicks = Math.max(0, (next.t - prev.t) / 10);
  const expected = prev.ticks + elapsedTicks;
  if (expected >= WRAP) {
    const tolerance = Math.max(6000, elapsedTicks / 2);
    if (Math.abs(next.ticks - (expected - WRAP)) <= tolerance) return false;
  }
  return true;
}

/** The `reboot` event for a restart seen at `next.t`. */
export function rebootEvent(target: string, prev: UptimeObservation, next: UptimeObservation): BlockEvent {
  const bootedAt = new Date(next.t - next.ticks * 10).toISOString();
  return {
    t: next.t,
    kind: 'reboot',
    reason: 'SysUpTimeWentBack',
    message: `sysUpTime of ${target} went back from ${prev.ticks / 100}s to ${next.ticks / 100}s: the device or its SNMP agent restarted at about ${bootedAt}`,
    labels: { target },
    rangeMinT: 0,
    rangeMaxT: 0,
    count: 0,
  };
}

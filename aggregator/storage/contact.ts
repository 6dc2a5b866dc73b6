// Site contact records: how a hello or heartbeat changes a site's record, its clock-offset
// estimate and its thinned history. Pure functions, shared by every storage implementation.
import type { ClockOffset, ContactHistoryRecord, ContactReport, SiteContact } from './storage.js';

/** How long a clock-offset sample stays the estimate before a newer one replaces it anyway: 1 h. */
export const CLOCK_OFFSET_WINDOW_MS = 3_600_000;
/** At most one history record per site per this period, unless the error or the agent's start changes: 1 min. */
export const HISTORY_PERIOD_MS = 60_000;
/** Longer error messages are cut to this many characters (with a trailing `…`). */
export const MAX_ERROR_MESSAGE_CHARS = 1024;

/**
 * The offset one contact measures: the center's receive time minus the agent's send time, minus
 * half the round trip when the agent reported one (the request's one-way delay, assuming a
 * symmetric path).
 */
export function measureOffset(report: ContactReport): ClockOffset {
  const rtt = report.kind === 'heartbeat' && report.lastRttMs > 0 ? report.lastRttMs : undefined;
  return { offsetMs: Math.round(report.at - report.agentTime - (rtt ?? 0) / 2), rttMs: rtt, measuredAt: report.at };
}

/**
 * The minimum-RTT filter (as NTP's clock filter): the estimate is the sample with the smallest
 * round trip seen within the last CLOCK_OFFSET_WINDOW_MS. A new sample replaces the estimate when
 * its round trip is no larger (unknown counts as larger than any known), or when the estimate is
 * older than the window, so a clock that steps is followed within an hour.
 */
export function nextClockOffset(prev: ClockOffset | undefined, sample: ClockOffset): ClockOffset {
  if (prev === undefined) return sample;
  if (sample.measuredAt - prev.measuredAt > CLOCK_OFFSET_WINDOW_MS) return sample;
  const a = sample.rttMs ?? Infinity;
  const b = prev.rttMs ?? Infinity;
  return a <= b ? sample : prev;
}

function cut(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS ? message : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
}

/** The site's contact record after `report`. */
export function nextContact(site: string, prev: SiteContact | undefined, report: ContactReport): SiteContact {
  const clockOffset = nextClockOffset(prev?.clockOffset, measureOffset(report));
  const base: SiteContact = prev ?? {
    site, firstSeenAt: report.at, lastContactAt: report.at, lastHelloAt: undefined, lastHeartbeatAt: undefined, agentTime: report.agentTime,
    agentVersion: undefined, agentStartTime: undefined, backlogBlocks: undefined, backlogBytes: undefined, oldestUnshippedTime: undefined,
    lastRoundTime: undefined, lastErrorCode: undefined, lastErrorMessage: undefined, clockOffset: undefined,
  };
  const common = { ...base, lastContactAt: Math.max(base.lastContactAt, report.at), agentTime: report.agentTime, clockOffset };
  if (report.kind === 'hello') {
    return { ...common, lastHelloAt: report.at, agentVersion: report.agentVersion === '' ? base.agentVersion : report.agentVersion };
  }
  return {
    ...common,
    lastHeartbeatAt: report.at,
    backlogBlocks: report.backlogBlocks,
    backlogBytes: report.backlogBytes,
    oldestUnshippedTime: report.oldestUnshippedTime === 0 ? undefined : report.oldestUnshippedTime,
    lastRoundTime: report.lastRoundTime === 0 ? undefined : report.lastRoundTime,
    lastErrorCode: report.lastErrorCode,
    lastErrorMessage: cut(report.lastErrorMessage),
    agentStartTime: report.agentStartTime === 0 ? base.agentStartTime : report.agentStartTime,
  };
}

/** The history record of a contact (what the contact record said right after it). */
export function historyRecord(contact: SiteContact, report: ContactReport): ContactHistoryRecord {
  const hb = report.kind === 'heartbeat';
  return {
    site: contact.site,
    kind: report.kind,
    at: report.at,
    agentTime: report.agentTime,
    backlogBlocks: hb ? report.backlogBlocks : undefined,
    backlogBytes: hb ? report.backlogBytes : undefined,
    oldestUnshippedTime: hb ? contact.oldestUnshippedTime : undefined,
    lastRoundTime: hb ? contact.lastRoundTime : undefined,
    lastErrorCode: hb ? report.lastErrorCode : undefined,
    lastErrorMessage: hb ? contact.lastErrorMessage : undefined,
    agentStartTime: hb && report.agentStartTime !== 0 ? report.agentStartTime : undefined,
    clockOffsetMs: contact.clockOffset?.offsetMs,
  };
}

/**
 * Whether `next` goes into the history after `last` (the site's latest history record): always
 * the first; then once HISTORY_PERIOD_MS has passed, or at once when a heartbeat's error code
 * differs from the last heartbeat recorded, or the agent's start time changed (a restart).
 */
export function historyDue(last: ContactHistoryRecord | undefined, lastHeartbeat: ContactHistoryRecord | undefined, next: ContactHistoryRecord): boolean {
  if (last === undefined) return true;
  if (next.at - last.at >= HISTORY_PERIOD_MS) return true;
  if (next.kind !== 'heartbeat') return false;
  if (lastHeartbeat === undefined) return true;
  if ((next.lastErrorCode ?? '') !== (lastHeartbeat.lastErrorCode ?? '')) return true;
  return next.agentStartTime !== undefined && lastHeartbeat.agentStartTime !== undefined && next.agentStartTime !== lastHeartbeat.agentStartTime;
}

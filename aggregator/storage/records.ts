// The level store's JSON records and their shape checks. A record that fails its check is
// reported as corrupt (counted, skipped), never used.
import { siteLabelProblems } from '../../common/site-labels.js';
import type { BlockMeta, ContactHistoryRecord, SiteContact, SiteLabels } from './storage.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The store layout version this build writes and reads. */
export const STORE_FORMAT = 1;

export interface StoreMetaRecord {
  readonly format: number;
  readonly createdAt: number;
}

/** What a partial upload's `p!` record holds (the offset comes from its chunks). */
export interface PartialRecord {
  readonly size: number;
  readonly sha256: string;
  readonly startedAt: number;
  /** When the last chunk was written. */
  readonly updatedAt: number;
}

export function encodeRecord(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function optNum(v: unknown): boolean {
  return v === undefined || v === null || num(v);
}

function optStr(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

/** JSON has no undefined: absent optional fields come back as undefined, never null. */
function undef<T>(v: T | null | undefined): T | undefined {
  return v === null ? undefined : v;
}

export function decodeStoreMeta(bytes: Uint8Array): StoreMetaRecord | undefined {
  const v = parse(bytes);
  return isObject(v) && num(v.format) && num(v.createdAt) ? { format: v.format, createdAt: v.createdAt } : undefined;
}

const META_NUMBERS = ['size', 'arrivedAt', 'minT', 'maxT', 'sequence', 'level', 'createdAt', 'numRounds', 'numSeries', 'numSamples', 'numEvents', 'numStringSeries', 'numStringSamples'] as const;

export function decodeBlockMeta(bytes: Uint8Array): BlockMeta | undefined {
  const v = parse(bytes);
  if (!isObject(v) || typeof v.site !== 'string' || typeof v.id !== 'string' || typeof v.sha256 !== 'string') return undefined;
  if (!META_NUMBERS.every((k) => num(v[k]))) return undefined;
  if (!Array.isArray(v.replaces) || !v.replaces.every((r) => typeof r === 'string')) return undefined;
  return v as unknown as BlockMeta;
}

export function decodePartial(bytes: Uint8Array): PartialRecord | undefined {
  const v = parse(bytes);
  if (!isObject(v) || !num(v.size) || typeof v.sha256 !== 'string' || !num(v.startedAt)) return undefined;
  return { size: v.size, sha256: v.sha256, startedAt: v.startedAt, updatedAt: num(v.updatedAt) ? v.updatedAt : v.startedAt };
}

export function decodeKnownSite(bytes: Uint8Array): { firstSeenAt: number } | undefined {
  const v = parse(bytes);
  return isObject(v) && num(v.firstSeenAt) ? { firstSeenAt: v.firstSeenAt } : undefined;
}

export function decodeContact(bytes: Uint8Array): SiteContact | undefined {
  const v = parse(bytes);
  if (!isObject(v) || typeof v.site !== 'string' || !num(v.firstSeenAt) || !num(v.lastContactAt) || !num(v.agentTime)) return undefined;
  const nums = ['lastHelloAt', 'lastHeartbeatAt', 'agentStartTime', 'backlogBlocks', 'backlogBytes', 'oldestUnshippedTime', 'lastRoundTime'] as const;
  if (!nums.every((k) => optNum(v[k])) || !optStr(v.agentVersion) || !optStr(v.lastErrorCode) || !optStr(v.lastErrorMessage)) return undefined;
  const o = v.clockOffset;
  if (o !== undefined && o !== null && !(isObject(o) && num(o.offsetMs) && optNum(o.rttMs) && num(o.measuredAt))) return undefined;
  return {
    site: v.site, firstSeenAt: v.firstSeenAt, lastContactAt: v.lastContactAt, agentTime: v.agentTime,
    lastHelloAt: undef(v.lastHelloAt as number | null), lastHeartbeatAt: undef(v.lastHeartbeatAt as number | null),
    agentVersion: undef(v.agentVersion as string | null), agentStartTime: undef(v.agentStartTime as number | null),
    backlogBlocks: undef(v.backlogBlocks as number | null), backlogBytes: undef(v.backlogBytes as number | null),
    oldestUnshippedTime: undef(v.oldestUnshippedTime as number | null), lastRoundTime: undef(v.lastRoundTime as number | null),
    lastErrorCode: undef(v.lastErrorCode as string | null), lastErrorMessage: undef(v.lastErrorMessage as string | null),
    clockOffset: isObject(o) ? { offsetMs: o.offsetMs as number, rttMs: undef(o.rttMs as number | null), measuredAt: o.measuredAt as number } : undefined,
  };
}

export function decodeHistory(bytes: Uint8Array): ContactHistoryRecord | undefined {
  const v = parse(bytes);
  if (!isObject(v) || typeof v.site !== 'string' || (v.kind !== 'hello' && v.kind !== 'heartbeat') || !num(v.at) || !num(v.agentTime)) return undefined;
  const nums = ['backlogBlocks', 'backlogBytes', 'oldestUnshippedTime', 'lastRoundTime', 'agentStartTime', 'clockOffsetMs'] as const;
  if (!nums.every((k) => optNum(v[k])) || !optStr(v.lastErrorCode) || !optStr(v.lastErrorMessage)) return undefined;
  return {
    site: v.site, kind: v.kind, at: v.at, agentTime: v.agentTime,
    backlogBlocks: undef(v.backlogBlocks as number | null), backlogBytes: undef(v.backlogBytes as number | null),
    oldestUnshippedTime: undef(v.oldestUnshippedTime as number | null), lastRoundTime: undef(v.lastRoundTime as number | null),
    lastErrorCode: undef(v.lastErrorCode as string | null), lastErrorMessage: undef(v.lastErrorMessage as string | null),
    agentStartTime: undef(v.agentStartTime as number | null), clockOffsetMs: undef(v.clockOffsetMs as number | null),
  };
}

export function decodeSiteLabels(bytes: Uint8Array): SiteLabels | undefined {
  const v = parse(bytes);
  if (!isObject(v) || typeof v.site !== 'string' || !num(v.arrivedAt) || siteLabelProblems(v.labels).length > 0) return undefined;
  return { site: v.site, arrivedAt: v.arrivedAt, labels: v.labels as Record<string, string> };
}

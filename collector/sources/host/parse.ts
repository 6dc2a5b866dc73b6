// Parsers for the files the host source reads. Each throws a SourceError DW_SOURCE_BAD_RESPONSE
// saying what it expected and what it found when a file is not what the kernel writes.
import { SourceError, SourceErrorCode } from '../errors.js';

/** The CPU modes of /proc/stat's cpu lines, in column order (guest time is inside user and nice). */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture. */
const USER_HZ = 100;

function bad(file: string, expected: string, found: string): SourceError {
  return new SourceError(SourceErrorCode.BadResponse, `${file}: expected ${expected}, found ${found}`);
}

function excerpt(text: string): string {
  const line = text.split('\n', 1)[0]!;
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
}

/** `KEY=value` lines of os-release(5), quotes and backslash escapes removed. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m === null) continue; // os-release(5): lines that are not assignments are ignored
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    out.set(m[1]!, value);
  }
  return out;
}

/** CPU seconds by mode from /proc/stat: summed over CPUs, and per CPU; and the boot time. */
export interface CpuStat {
  /** Seconds per mode, in CPU_MODES order, summed over every CPU. */
  readonly total: readonly number[];
  /** Per CPU (by its number as text), seconds per mode. */
  readonly perCpu: ReadonlyMap<string, readonly number[]>;
  /** `btime`: the boot time in seconds since the epoch, when present. */
  readonly bootTime: number | undefined;
}

function cpuSeconds(file: string, fields: string[], line: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < CPU_MODES.length; i++) {
    const f = fields[i];
    // Old kernels stop before steal; a missing trailing column is 0.
    if (f === undefined) {
      if (i < 4) throw bad(file, 'at least 4 numeric columns on a cpu line', excerpt(line));
      out.push(0);
      continue;
    }
    if (!/^\d+$/.test(f)) throw bad(file, 'numeric cpu columns', excerpt(line));
    out.push(Number(f) / USER_HZ);
  }
  return out;
}

/** Parses /proc/stat. */
export function parseProcStat(text: string, file = '/proc/stat'): CpuStat {
  let total: number[] | undefined;
  const perCpu = new Map<string, number[]>();
  let bootTime: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu')) {
      const fields = line.trim().split(/\s+/);
      const label = fields.shift()!;
      if (label === 'cpu') total = cpuSeconds(file, fields, line);
      else if (/^cpu\d+$/.test(label)) perCpu.set(label.slice(3), cpuSeconds(file, fields, line));
    } else if (line.startsWith('btime ')) {
      const v = Number(line.slice(6).trim());
      if (Number.isSafeInteger(v)) bootTime = v;
    }
  }
  if (total === undefined) throw bad(file, 'a "cpu" line with the CPU totals', text.trim() === '' ? 'an empty file' : excerpt(text));
  return { total, perCpu, bootTime };
}

/** Parses /proc/meminfo: field name → bytes (`kB` values × 1024; unit-less values as they are). */
export function parseMeminfo(text: string, file = '/proc/meminfo'): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m === null) continue;
    out.set(m[1]!, Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  if (!out.has('MemTotal')) throw bad(file, 'a "MemTotal: <n> kB" line', text.trim() === '' ? 'an empty file' : excerpt(text));
  return out;
}

/** Parses /proc/loadavg: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string, file = '/proc/loadavg'): [number, number, number] {
  const f = text.trim().split(/\s+/);
  const v = f.slice(0, 3).map(Number);
  if (f.length < 3 || v.some((x) => !Number.isFinite(x) || x < 0) || f.slice(0, 3).some((x) => !/^\d+(\.\d+)?$/.test(x))) {
    throw bad(file, 'three load averages such as "0.52 0.58 0.59 ..."', excerpt(text));
  }
  return [v[0]!, v[1]!, v[2]!];
}

/** Parses /proc/uptime: seconds since boot. */
export function parseUptime(text: string, file = '/proc/uptime'): number {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!/^\d+(\.\d+)?$/.test(first)) throw bad(file, 'seconds since boot such as "3312.11 4476.68"', excerpt(text));
  return Number(first);
}

/** A one-line file such as /proc/sys/kernel/osrelease or boot_id: its trimmed content, not empty. */
export function parseOneLine(text: string, file: string, expected: string): string {
  const v = text.trim();
  if (v === '' || v.includes('\n')) throw bad(file, expected, v === '' ? 'an empty file' : excerpt(text));
  return v;
}

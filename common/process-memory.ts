// This process's resident memory, peak and current, as the kernel counts it (/proc/self/status:
// VmHWM and VmRSS); process.memoryUsage() where /proc is not there (peak then unknown: 0).
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Peak resident set size in bytes (the high-water mark). */
  readonly peakRss: number;
  readonly rss: number;
}

export function processMemory(): ProcessMemory {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peakRss: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { peakRss: 0, rss: process.memoryUsage().rss };
  }
}

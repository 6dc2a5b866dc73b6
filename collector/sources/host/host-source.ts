// The host source: OS release, kernel, uptime, boot id, CPU, load, memory, filesystems and
// temperatures from /etc/os-release, /proc and /sys (node_exporter names), under a configurable
// root. A boot id that changed since the last collection raises a `reboot` event.
import { mkdir, readFile, rename, statfs, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../../common/errors.js';
import type { BlockEvent, Sample } from '../../../proto/index.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { CollectContext, Source, SourceDeps, SourceResult } from '../source.js';
import type { HostConfig } from './config.js';
import { parseLoadavg, parseMeminfo, parseOneLine, parseOsRelease, parseProcStat, parseUptime } from './parse.js';
import { fileError, listOptional, readOptional, readRequired, underRoot } from './read.js';
import { cpuSamples, floatSample, LabelCache, OS_RELEASE_SERIES, stringSample } from './series.js';

/** The kind of the event raised when the boot id changed. */
export const REBOOT_EVENT = 'reboot';

const MEMINFO_SERIES = ['MemTotal', 'MemAvailable'] as const;

class HostSource implements Source {
  readonly name: string;
  readonly kind = 'host';
  readonly #config: HostConfig;
  readonly #deps: SourceDeps;
  readonly #labels = new LabelCache();
  /** The boot id seen last (in memory, else from bootIdFile on the first collection). */
  #lastBootId: string | undefined;
  #bootIdLoaded = false;
  /** Optional files and mount points that failed, so each is logged once until it recovers. */
  readonly #warned = new Set<string>();

  constructor(config: HostConfig, deps: SourceDeps) {
    this.name = config.name;
    this.#config = config;
    this.#deps = deps;
  }

  async collect(ctx: CollectContext): Promise<SourceResult> {
    const { root } = this.#config;
    const { signal } = ctx;
    const [stat, meminfo, loadavg, uptime, osrelease, bootId, osRelease] = await Promise.all([
      readRequired(root, '/proc/stat', signal),
      readRequired(root, '/proc/meminfo', signal),
      readRequired(root, '/proc/loadavg', signal),
      readRequired(root, '/proc/uptime', signal),
      readRequired(root, '/proc/sys/kernel/osrelease', signal),
      readRequired(root, '/proc/sys/kernel/random/boot_id', signal),
      this.#readOsRelease(signal),
    ]);
    const samples: Sample[] = [];
    const events: BlockEvent[] = [];

    if (osRelease !== undefined) {
      const fields = parseOsRelease(osRelease);
      for (const [field, name] of OS_RELEASE_SERIES) {
        const v = fields.get(field);
        if (v !== undefined && v !== '') samples.push(stringSample(name, v));
      }
    }
    samples.push(stringSample('node_uname_release', parseOneLine(osrelease, underRoot(root, '/proc/sys/kernel/osrelease'), 'a kernel release such as "6.1.0-18-amd64"')));
    const boot = parseOneLine(bootId, underRoot(root, '/proc/sys/kernel/random/boot_id'), 'a boot id such as "4f9c0c1e-…"');
    samples.push(stringSample('node_boot_id', boot));
    samples.push(floatSample('node_uptime_seconds', parseUptime(uptime, underRoot(root, '/proc/uptime'))));

    const cpu = parseProcStat(stat, underRoot(root, '/proc/stat'));
    if (cpu.bootTime !== undefined) samples.push(floatSample('node_boot_time_seconds', cpu.bootTime));
    samples.push(...cpuSamples(cpu, this.#config.perCpu, this.#labels));

    const [l1, l5, l15] = parseLoadavg(loadavg, underRoot(root, '/proc/loadavg'));
    samples.push(floatSample('node_load1', l1), floatSample('node_load5', l5), floatSample('node_load15', l15));

    const mem = parseMeminfo(meminfo, underRoot(root, '/proc/meminfo'));
    for (const field of MEMINFO_SERIES) {
      const v = mem.get(field);
      if (v !== undefined) samples.push(floatSample(`node_memory_${field}_bytes`, v));
    }

    samples.push(...(await this.#filesystems(signal)));
    samples.push(...(await this.#thermalZones(signal)));
    if (signal.aborted) throw new SourceError(SourceErrorCode.Timeout, 'expected to finish reading the host files before the deadline, found the collection aborted');

    const reboot = await this.#checkBootId(boot, ctx.roundTime);
    if (reboot !== undefined) events.push(reboot);
    return { samples, events };
  }

  async #readOsRelease(signal: AbortSignal): Promise<string | undefined> {
    // os-release(5): /etc/os-release, falling back to /usr/lib/os-release.
    return (await readOptional(this.#config.root, '/etc/os-release', signal))
      ?? (await readOptional(this.#config.root, '/usr/lib/os-release', signal));
  }

  async #filesystems(signal: AbortSignal): Promise<Sample[]> {
    const out: Sample[] = [];
    for (const mountpoint of this.#config.filesystems) {
      if (signal.aborted) break;
      const path = underRoot(this.#config.root, mountpoint);
      try {
        const s = await statfs(path);
        const labels = this.#labels.get(`fs:${mountpoint}`, () => ({ mountpoint }));
        out.push(
          floatSample('node_filesystem_avail_bytes', s.bavail * s.bsize, labels),
          floatSample('node_filesystem_free_bytes', s.bfree * s.bsize, labels),
          floatSample('node_filesystem_size_bytes', s.blocks * s.bsize, labels),
        );
        this.#recovered(`fs:${mountpoint}`);
      } catch (err) {
        // A configured mount point that is gone (an unplugged disk) is absent, not a failed host.
        const problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${path}: expected a mounted filesystem, found nothing there` : fileError(path, err).message;
        this.#warnOnce(`fs:${mountpoint}`, { mountpoint, path, problem },
          'filesystem not readable, its series are absent until it is');
      }
    }
    return out;
  }

  async #thermalZones(signal: AbortSignal): Promise<Sample[]> {
    const out: Sample[] = [];
    const root = this.#config.root;
    for (const dir of await listOptional(root, '/sys/class/thermal', /^thermal_zone\d+$/)) {
      const zone = dir.slice('thermal_zone'.length);
      const base = `/sys/class/thermal/${dir}`;
      try {
        const [temp, type] = await Promise.all([readOptional(root, `${base}/temp`, signal), readOptional(root, `${base}/type`, signal)]);
        if (temp === undefined) continue;
        const milli = temp.trim();
        if (!/^-?\d+$/.test(milli)) throw new SourceError(SourceErrorCode.BadResponse, `${underRoot(root, `${base}/temp`)}: expected millidegrees Celsius such as "45000", found ${JSON.stringify(milli.slice(0, 40))}`);
        const typeName = type?.trim() ?? '';
        const labels = this.#labels.get(`tz:${zone}:${typeName}`, () => ({ type: typeName, zone }));
        out.push(floatSample('node_thermal_zone_temp', Number(milli) / 1000, labels));
        this.#recovered(`tz:${zone}`);
      } catch (err) {
        // A sensor that cannot be read now (EAGAIN, ENODATA on some boards) leaves its series absent.
        this.#warnOnce(`tz:${zone}`, { zone, problem: errorMessage(err) }, 'thermal zone not readable, its series is absent until it is');
      }
    }
    return out;
  }

  async #checkBootId(bootId: string, t: number): Promise<BlockEvent | undefined> {
    const file = this.#config.bootIdFile;
    if (!this.#bootIdLoaded) {
      this.#bootIdLoaded = true;
      if (file !== undefined) {
        try {
          this.#lastBootId = (await readFile(file, 'utf8')).trim() || undefined;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
            this.#deps.logger.warn({ source: this.name, file, problem: errorMessage(err) }, 'boot id file not readable, a reboot before this start goes unnoticed');
          }
        }
      }
    }
    const previous = this.#lastBootId;
    if (previous === bootId) return undefined;
    this.#lastBootId = bootId;
    if (file !== undefined) await this.#saveBootId(file, bootId);
    if (previous === undefined) return undefined;
    return {
      t, kind: REBOOT_EVENT, reason: 'boot_id_changed',
      message: `the boot id changed from ${previous} to ${bootId}: the host rebooted`,
      labels: { source: this.name, previous_boot_id: previous, boot_id: bootId },
      rangeMinT: 0, rangeMaxT: 0, count: 0,
    };
  }

  async #saveBootId(file: string, bootId: string): Promise<void> {
    try {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      await writeFile(tmp, `${bootId}\n`);
      await rename(tmp, file);
    } catch (err) {
      this.#deps.logger.warn({ source: this.name, file, problem: errorMessage(err) }, 'boot id not saved, a reboot may go unnoticed after a restart');
    }
  }

  #warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#deps.logger.warn({ source: this.name, ...fields }, message);
  }

  #recovered(key: string): void {
    this.#warned.delete(key);
  }
}

/**
 * Creates a host source. Nothing is read until `collect`. A required file that is missing or
 * unreadable fails the collection (EACCES → DW_SOURCE_PERMISSION_DENIED, a malformed file →
 * DW_SOURCE_BAD_RESPONSE); os-release, mount points and thermal zones that are not there are
 * absent series, with one warning per mount point or zone until it comes back.
 */
export function createHostSource(config: HostConfig, deps: SourceDeps): Source {
  return new HostSource(config, deps);
}

// The host source against a fake root: test/fixtures/host/basic, or a temporary copy the test
// edits (a reboot, a missing or garbage file, a file the agent may not read).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createHostSource, hostConfigSchema, type HostConfig } from '../../../collector/sources/host/index.js';
import { fileError } from '../../../collector/sources/host/read.js';
import { SourceError } from '../../../collector/sources/errors.js';
import type { CollectContext } from '../../../collector/sources/source.js';
import { ManualClock } from '../../../common/clock.js';
import type { Sample } from '../../../proto/index.js';
import { fixturePath, repoRoot } from '../../helpers/paths.js';
import { recordingLogger, sampleLines, T0, tempDir } from '../agent/helpers.js';

const BASIC = fixturePath('host', 'basic');

function config(extra: Record<string, unknown>): HostConfig {
  return hostConfigSchema.parse({ kind: 'host', name: 'node', ...extra });
}

function ctx(roundTime = T0, signal = new AbortController().signal): CollectContext {
  return { signal, roundTime, deadline: roundTime + 10_000, now: () => roundTime };
}

/** A copy of the basic fixture in a temporary directory. */
async function fakeRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir('dw-host-');
  await cp(BASIC, dir, { recursive: true });
  return { root: dir, cleanup };
}

function withoutFilesystems(samples: Sample[]): Sample[] {
  return samples.filter((s) => !s.name.startsWith('node_filesystem_'));
}

describe('host source', () => {
  it('reads every series from a fake root, with node_exporter names', async () => {
    const source = createHostSource(config({ root: BASIC }), { clock: new ManualClock(T0), logger: recordingLogger() });
    const r = await source.collect(ctx());
    assert.deepEqual(r.events, []);
    assert.deepEqual(sampleLines(withoutFilesystems(r.samples)), [
      'node_boot_id string "4f9c0c1e-3b1d-4d5e-9a57-2c1f0e6b7a10"',
      'node_boot_time_seconds float 1763690000',
      'node_cpu_seconds_total{mode="idle"} float 4476.68',
      'node_cpu_seconds_total{mode="iowait"} float 19.39',
      'node_cpu_seconds_total{mode="irq"} float 0',
      'node_cpu_seconds_total{mode="nice"} float 0.12',
      'node_cpu_seconds_total{mode="softirq"} float 7.65',
      'node_cpu_seconds_total{mode="steal"} float 0.32',
      'node_cpu_seconds_total{mode="system"} float 216.7',
      'node_cpu_seconds_total{mode="user"} float 1865.58',
      'node_load1 float 0.52',
      'node_load15 float 0.59',
      'node_load5 float 0.58',
      'node_memory_MemAvailable_bytes float 7501221888',
      'node_memory_MemTotal_bytes float 8246005760',
      'node_os_id string "debian"',
      'node_os_pretty_name string "Debian GNU/Linux 12 (bookworm)"',
      'node_os_version_id string "12"',
      'node_thermal_zone_temp{type="acpitz",zone="1"} float 38.5',
      'node_thermal_zone_temp{type="x86_pkg_temp",zone="0"} float 45',
      'node_uname_release string "6.1.0-18-amd64"',
      'node_uptime_seconds float 3312.11',
    ]);
    // statfs of <root>/ : the real filesystem the fixture lives on.
    const fs = r.samples.filter((s) => s.name.startsWith('node_filesystem_'));
    assert.deepEqual(fs.map((s) => `${s.name}${JSON.stringify(s.labels)}`).sort(), [
      'node_filesystem_avail_bytes{"mountpoint":"/"}', 'node_filesystem_free_bytes{"mountpoint":"/"}', 'node_filesystem_size_bytes{"mountpoint":"/"}',
    ]);
    const v = Object.fromEntries(fs.map((s) => [s.name, s.value as number]));
    assert.ok(v.node_filesystem_size_bytes! > 0 && v.node_filesystem_avail_bytes! <= v.node_filesystem_free_bytes! && v.node_filesystem_free_bytes! <= v.node_filesystem_size_bytes!);
  });

  it('reports CPU seconds per CPU when perCpu is set', async () => {
    const source = createHostSource(config({ root: BASIC, perCpu: true, filesystems: [] }), { clock: new ManualClock(T0), logger: recordingLogger() });
    const cpu = (await source.collect(ctx())).samples.filter((s) => s.name === 'node_cpu_seconds_total');
    assert.equal(cpu.length, 16);
    assert.deepEqual(cpu.find((s) => s.labels.cpu === '1' && s.labels.mode === 'user')?.value, 785.75);
    assert.deepEqual(cpu.find((s) => s.labels.cpu === '0' && s.labels.mode === 'idle')?.value, 2117.93);
  });

  it('reuses label objects from round to round', async () => {
    const source = createHostSource(config({ root: BASIC }), { clock: new ManualClock(T0), logger: recordingLogger() });
    const a = await source.collect(ctx());
    const b = await source.collect(ctx(T0 + 15_000));
    const labelsOf = (r: typeof a, mode: string): unknown => r.samples.find((s) => s.labels.mode === mode)!.labels;
    assert.equal(labelsOf(a, 'idle'), labelsOf(b, 'idle'));
  });

  it('leaves optional files out: no os-release, no thermal zones, a missing mount point', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      await rm(join(root, 'etc', 'os-release'));
      await rm(join(root, 'sys'), { recursive: true });
      const logger = recordingLogger();
      const source = createHostSource(config({ root, filesystems: ['/', '/mnt/usb'] }), { clock: new ManualClock(T0), logger });
      const r = await source.collect(ctx());
      const names = new Set(r.samples.map((s) => s.name));
      for (const n of ['node_os_id', 'node_os_version_id', 'node_os_pretty_name', 'node_thermal_zone_temp']) assert.ok(!names.has(n), n);
      assert.ok(names.has('node_uname_release') && names.has('node_memory_MemTotal_bytes'));
      assert.deepEqual([...new Set(r.samples.filter((s) => s.name.startsWith('node_filesystem_')).map((s) => s.labels.mountpoint))], ['/']);
      assert.deepEqual(logger.lines.map((l) => [l.level, l.message, l.fields.mountpoint]), [
        ['warn', 'filesystem not readable, its series are absent until it is', '/mnt/usb'],
      ]);
      // Warned once, not every round.
      await source.collect(ctx(T0 + 15_000));
      assert.equal(logger.lines.length, 1);
    } finally {
      await cleanup();
    }
  });

  it('falls back to /usr/lib/os-release', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      await rm(join(root, 'etc', 'os-release'));
      await mkdir(join(root, 'usr', 'lib'), { recursive: true });
      await writeFile(join(root, 'usr', 'lib', 'os-release'), 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n');
      const r = await createHostSource(config({ root, filesystems: [] }), { clock: new ManualClock(T0), logger: recordingLogger() }).collect(ctx());
      assert.deepEqual(sampleLines(r.samples.filter((s) => s.name.startsWith('node_os_'))), [
        'node_os_id string "alpine"', 'node_os_pretty_name string "Alpine Linux v3.20"', 'node_os_version_id string "3.20.3"',
      ]);
    } finally {
      await cleanup();
    }
  });

  it('fails with a code when a required file is missing or garbage', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      const source = createHostSource(config({ root, filesystems: [] }), { clock: new ManualClock(T0), logger: recordingLogger() });
      await rm(join(root, 'proc', 'meminfo'));
      await assert.rejects(source.collect(ctx()), (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'DW_SOURCE_FAILED');
        assert.equal(err.message, `${join(root, 'proc', 'meminfo')}: expected a file, found nothing there`);
        return true;
      });
      await cp(join(BASIC, 'proc', 'meminfo'), join(root, 'proc', 'meminfo'));
      await writeFile(join(root, 'proc', 'stat'), 'garbage in\n');
      await assert.rejects(source.collect(ctx()), {
        code: 'DW_SOURCE_BAD_RESPONSE',
        message: `${join(root, 'proc', 'stat')}: expected a "cpu" line with the CPU totals, found "garbage in"`,
      });
      await cp(join(BASIC, 'proc', 'stat'), join(root, 'proc', 'stat'));
      await writeFile(join(root, 'proc', 'loadavg'), 'high\n');
      await assert.rejects(source.collect(ctx()), {
        code: 'DW_SOURCE_BAD_RESPONSE',
        message: `${join(root, 'proc', 'loadavg')}: expected three load averages such as "0.52 0.58 0.59 ...", found "high"`,
      });
      await writeFile(join(root, 'proc', 'loadavg'), '0.52 0.58 0.59 1/85 728\n');
      await writeFile(join(root, 'proc', 'sys', 'kernel', 'random', 'boot_id'), '');
      await assert.rejects(source.collect(ctx()), { code: 'DW_SOURCE_BAD_RESPONSE', message: /boot_id: expected a boot id such as "4f9c0c1e-…", found an empty file$/ });
    } finally {
      await cleanup();
    }
  });

  it('stops when its signal is aborted', async () => {
    const source = createHostSource(config({ root: BASIC }), { clock: new ManualClock(T0), logger: recordingLogger() });
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await assert.rejects(source.collect(ctx(T0, controller.signal)), { code: 'DW_SOURCE_TIMEOUT' });
  });

  it('maps EACCES and EPERM to DW_SOURCE_PERMISSION_DENIED', () => {
    for (const code of ['EACCES', 'EPERM']) {
      const err = fileError('/proc/stat', Object.assign(new Error(`${code}: permission denied, open '/proc/stat'`), { code }));
      assert.equal(err.code, 'DW_SOURCE_PERMISSION_DENIED');
      assert.equal(err.message, `/proc/stat: expected a readable file, found permission denied (${code})`);
    }
  });

  it('reports permission denied on a file the agent may not read (real EACCES, as an unprivileged user)', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      await chmod(join(root, 'proc', 'meminfo'), 0o000);
      await chmod(root, 0o755);
      // Root reads anything: the child imports the source as root, then drops to nobody
      // (uid/gid 65534) before collecting, so the repository need not be readable by nobody.
      const script = `
        const { createHostSource, hostConfigSchema } = await import(${JSON.stringify(join(repoRoot, 'dist', 'collector', 'sources', 'host', 'index.js'))});
        if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534); }
        const source = createHostSource(hostConfigSchema.parse({ kind: 'host', name: 'node', root: ${JSON.stringify(root)}, filesystems: [] }),
          { clock: { now: () => 0 }, logger: { warn() {}, info() {}, debug() {} } });
        try { await source.collect({ signal: new AbortController().signal, roundTime: 0, deadline: 1e4, now: () => 0 }); console.log('no error'); }
        catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.trim()), {
        code: 'DW_SOURCE_PERMISSION_DENIED',
        message: `${join(root, 'proc', 'meminfo')}: expected a readable file, found permission denied (EACCES)`,
      });
    } finally {
      await cleanup();
    }
  });

  it('raises a reboot event when the boot id changes, and only then', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      const source = createHostSource(config({ root, filesystems: [] }), { clock: new ManualClock(T0), logger: recordingLogger() });
      assert.deepEqual((await source.collect(ctx(T0))).events, []);
      assert.deepEqual((await source.collect(ctx(T0 + 15_000))).events, []);
      await writeFile(join(root, 'proc', 'sys', 'kernel', 'random', 'boot_id'), '9d0e2b7c-0000-4000-8000-000000000001\n');
      const r = await source.collect(ctx(T0 + 30_000));
      assert.deepEqual(r.events, [{
        t: T0 + 30_000, kind: 'reboot', reason: 'boot_id_changed',
        message: 'the boot id changed from 4f9c0c1e-3b1d-4d5e-9a57-2c1f0e6b7a10 to 9d0e2b7c-0000-4000-8000-000000000001: the host rebooted',
        labels: { source: 'node', previous_boot_id: '4f9c0c1e-3b1d-4d5e-9a57-2c1f0e6b7a10', boot_id: '9d0e2b7c-0000-4000-8000-000000000001' },
        rangeMinT: 0, rangeMaxT: 0, count: 0,
      }]);
      assert.equal(r.samples.find((s) => s.name === 'node_boot_id')?.value, '9d0e2b7c-0000-4000-8000-000000000001');
      assert.deepEqual((await source.collect(ctx(T0 + 45_000))).events, []);
    } finally {
      await cleanup();
    }
  });

  it('remembers the boot id across restarts in bootIdFile', async () => {
    const { root, cleanup } = await fakeRoot();
    try {
      const bootIdFile = join(root, 'state', 'boot-id');
      const make = () => createHostSource(config({ root, filesystems: [], bootIdFile }), { clock: new ManualClock(T0), logger: recordingLogger() });
      assert.deepEqual((await make().collect(ctx(T0))).events, []);
      assert.equal(await readFile(bootIdFile, 'utf8'), '4f9c0c1e-3b1d-4d5e-9a57-2c1f0e6b7a10\n');
      // The host reboots; the agent starts again with a new source.
      await writeFile(join(root, 'proc', 'sys', 'kernel', 'random', 'boot_id'), 'after-reboot\n');
      const events = (await make().collect(ctx(T0 + 60_000))).events;
      assert.deepEqual(events.map((e) => [e.kind, e.labels.previous_boot_id, e.labels.boot_id]), [['reboot', '4f9c0c1e-3b1d-4d5e-9a57-2c1f0e6b7a10', 'after-reboot']]);
      assert.deepEqual((await make().collect(ctx(T0 + 120_000))).events, []);
    } finally {
      await cleanup();
    }
  });

  it('config: defaults filled in, unknown keys and relative mount points refused', () => {
    assert.deepEqual(hostConfigSchema.parse({ kind: 'host', name: 'node' }), { kind: 'host', name: 'node', root: '/', filesystems: ['/'], perCpu: false });
    assert.deepEqual(hostConfigSchema.parse({ kind: 'host', name: 'n', interval: '1m', timeout: '5s' }).timeout, 5000);
    const r = hostConfigSchema.safeParse({ kind: 'host', name: 'node', filesystems: ['var'], mountpoints: ['/'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => [i.path.join('.'), i.code]), [['filesystems.0', 'invalid_format'], ['', 'unrecognized_keys']]);
    assert.equal(r.error!.issues[0]!.message, 'expected an absolute mount point such as /var');
  });
});

// The exec source running real child processes: node scripts the test writes, run with
// process.execPath (no shell).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecSource, execConfigSchema } from '../../../../collector/sources/exec/index.js';
import { SourceError, SourceErrorCode } from '../../../../collector/sources/errors.js';
import { RESERVED_EVENT_KINDS } from '../../../../collector/sources/exec/output.js';
import { REBOOT_EVENT } from '../../../../collector/sources/host/host-source.js';
import { AgentEventKind } from '../../../../collector/agent/events.js';
import { SOURCE_ERROR_EVENT } from '../../../../collector/round/sampler.js';
import { testContext, testDeps } from '../../../helpers/source-context.js';

let dir: string;

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, `${name}.cjs`);
  await writeFile(path, `'use strict';\n${body}\n`);
  return path;
}

function source(command: string[], extra: Record<string, unknown> = {}) {
  return createExecSource(execConfigSchema.parse({ kind: 'exec', name: 'plc', command, ...extra }), testDeps());
}

/** Running, not a zombie: an orphaned grandchild waits as a zombie until init reaps it. */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once `check` holds, polling on timers; rejects after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`expected ${what} within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function readPids(path: string): Promise<number[] | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const pids = text.trim().split(/\s+/).map(Number);
    return pids.length === 2 && pids.every((p) => p > 0) ? pids : undefined;
  } catch {
    return undefined;
  }
}

// A parent that starts a grandchild, writes "<parent pid> <grandchild pid>" to argv[2] and hangs;
// both ignore SIGTERM when argv[3] is "stubborn".
const FAMILY = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const stubborn = process.argv[3] === 'stubborn';
if (process.argv[2] === 'grandchild') {
  if (process.argv[4] === 'stubborn') process.on('SIGTERM', () => {});
  setInterval(() => {}, 1000);
} else {
  if (stubborn) process.on('SIGTERM', () => {});
  const g = spawn(process.execPath, [__filename, 'grandchild', '', stubborn ? 'stubborn' : ''], { stdio: 'ignore' });
  g.on('spawn', () => fs.writeFileSync(process.argv[2], process.pid + ' ' + g.pid));
  setInterval(() => {}, 1000);
}`;

describe('exec source', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-exec-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the full form: typed series with labels, events (t defaulting to the round time)', async () => {
    const s = await script('full', `process.stdout.write(JSON.stringify({
      series: [
        { name: 'plc_firmware_version', labels: { line: '3' }, type: 'string', value: '4.2.1' },
        { name: 'plc_temperature_celsius', labels: { line: '3' }, value: 41.5 },
        { name: 'plc_cycle_seconds', type: 'float', value: 'NaN' },
        { name: 'plc_state', value: 'running' },
      ],
      events: [
        { kind: 'plc', reason: 'FirmwareUpdated', message: 'line 3: 4.2.0 -> 4.2.1', labels: { line: '3' }, t: 1700000000000 },
        { reason: 'Restarted' },
      ],
    }));`);
    const src = source([process.execPath, s]);
    assert.equal(src.kind, 'exec');
    const { samples, events } = await src.collect(testContext(10_000, 1_700_000_100_000));
    assert.deepEqual(samples.slice(0, 2), [
      { name: 'plc_firmware_version', labels: { line: '3' }, type: 'string', value: '4.2.1' },
      { name: 'plc_temperature_celsius', labels: { line: '3' }, type: 'float', value: 41.5 },
    ]);
    assert.ok(Number.isNaN(samples[2]!.value));
    assert.deepEqual(samples[3], { name: 'plc_state', labels: {}, type: 'string', value: 'running' });
    assert.deepEqual(events, [
      { t: 1700000000000, kind: 'plc', reason: 'FirmwareUpdated', message: 'line 3: 4.2.0 -> 4.2.1', labels: { line: '3' }, rangeMinT: 0, rangeMaxT: 0, count: 0 },
      { t: 1_700_000_100_000, kind: 'exec', reason: 'Restarted', message: '', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 },
    ]);
  });

  test('the map form; env given, the agent\'s own environment not passed on; cwd', async () => {
    const s = await script('map', `process.stdout.write(JSON.stringify({ gw_firmware_version: process.env.GW_MODEL + ' 7.1', gw_uptime_seconds: 3600, gw_secret_seen: process.env.DW_TEST_SECRET === undefined ? 0 : 1, gw_cwd_ok: process.cwd() === process.argv[2] ? 1 : 0 }));`);
    process.env['DW_TEST_SECRET'] = 'agent-only';
    try {
      const { samples, events } = await source([process.execPath, s, dir], { env: { GW_MODEL: 'TSX' }, cwd: dir }).collect(testContext(10_000));
      assert.deepEqual(samples, [
        { name: 'gw_firmware_version', labels: {}, type: 'string', value: 'TSX 7.1' },
        { name: 'gw_uptime_seconds', labels: {}, type: 'float', value: 3600 },
        { name: 'gw_secret_seen', labels: {}, type: 'float', value: 0 },
        { name: 'gw_cwd_ok', labels: {}, type: 'float', value: 1 },
      ]);
      assert.deepEqual(events, []);
    } finally {
      delete process.env['DW_TEST_SECRET'];
    }
  });

  test('not JSON → BAD_RESPONSE quoting the start of the output', async () => {
    const s = await script('notjson', `console.log('Firmware: 4.2.1');`);
    await assert.rejects(source([process.execPath, s]).collect(testContext(10_000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /print JSON on stdout, found "Firmware: 4\.2\.1"/ });
    const empty = await script('empty', '');
    await assert.rejects(source([process.execPath, empty]).collect(testContext(10_000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /found nothing/ });
  });

  test('an invalid document → BAD_RESPONSE listing the problems, the first 10', async () => {
    const s = await script('invalid', `process.stdout.write(JSON.stringify({
      series: [
        { name: 'bad-name', value: 1 },
        { name: 'ok', type: 'string', value: 3 },
        { name: 'ok2', type: 'float', value: 'fast' },
        { name: 'ok3', labels: { '1x': 'a' }, value: 1, extra: true },
      ],
      events: [{ kind: 'source_error', reason: 'Forged' }],
      more: 1,
    }));`);
    await assert.rejects(source([process.execPath, s]).collect(testContext(10_000)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'DW_SOURCE_BAD_RESPONSE');
      for (const part of [
        /series\.0\.name: expected a metric name .*found "bad-name"/,
        /series\.1\.value: expected a string for a string series, found 3/,
        /series\.2\.value: expected a number \(or "NaN", "\+Inf", "-Inf"\) for a float series, found "fast"/,
        /series\.3\.labels\.1x: expected a label name/,
        /series\.3: Unrecognized key: "extra"/,
        /events\.0\.kind: expected a kind of the command's own, found "source_error"/,
        /\(top level\): Unrecognized key: "more"/,
      ]) assert.match(e.message, part);
      return true;
    });
    const many = await script('many', `const o = {}; for (let i = 0; i < 15; i++) o['bad-' + i] = i; process.stdout.write(JSON.stringify(o));`);
    await assert.rejects(source([process.execPath, many]).collect(testContext(10_000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /found 15 problems: .*; and 5 more \(at / });
    const dup = await script('dup', `process.stdout.write(JSON.stringify({ series: [{ name: 'a', labels: { x: '1' }, value: 1 }, { name: 'a', labels: { x: '1' }, value: 2 }] }));`);
    await assert.rejects(source([process.execPath, dup]).collect(testContext(10_000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /series\.1: expected each series once, found a\{x="1"\} again \(series\.0\)/ });
    const map = await script('badmap', `process.stdout.write(JSON.stringify({ a: true, b: null }));`);
    await assert.rejects(source([process.execPath, map]).collect(testContext(10_000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /a: expected a number or a string, found boolean; b: expected a number or a string, found null/ });
  });

  test('a non-zero exit → COMMAND_FAILED with the exit code and the end of stderr', async () => {
    const s = await script('fails', `console.error('x'.repeat(2000)); console.error('modbus: connection to 10.0.0.7:502 refused'); process.exit(3);`);
    await assert.rejects(source([process.execPath, s]).collect(testContext(10_000)), { code: 'DW_SOURCE_COMMAND_FAILED', message: /found exit code 3; stderr: …x+\nmodbus: connection to 10\.0\.0\.7:502 refused \(at / });
    const killed = await script('segv', `process.kill(process.pid, 'SIGKILL');`);
    await assert.rejects(source([process.execPath, killed]).collect(testContext(10_000)), { code: 'DW_SOURCE_COMMAND_FAILED', message: /found death by SIGKILL; \(stderr empty\)/ });
  });

  test('the timeout → TIMEOUT at the deadline', async () => {
    const s = await script('hang', `setInterval(() => {}, 1000);`);
    const started = Date.now();
    await assert.rejects(source([process.execPath, s], { timeout: '300ms' }).collect(testContext(10_000)), { code: 'DW_SOURCE_TIMEOUT', message: /finish within 300ms, found it still running: killed its process group/ });
    assert.ok(Date.now() - started < 3000);
  });

  test('stopping kills the process group: the child and its children; SIGKILL for those ignoring SIGTERM', async () => {
    const family = await script('family', FAMILY);
    for (const mode of ['polite', 'stubborn']) {
      const pidFile = join(dir, `pids-${mode}`);
      const src = source([process.execPath, family, pidFile, mode], { killGrace: '200ms' });
      const ctx = testContext(60_000);
      const collecting = src.collect(ctx);
      let pids: number[] | undefined;
      await until(async () => (pids = await readPids(pidFile)) !== undefined, `${mode}: the grandchild started`);
      // The sampler aborts with its own DW_SOURCE_TIMEOUT; AbortSignal.timeout with a TimeoutError.
      ctx.controller.abort(mode === 'polite' ? new SourceError(SourceErrorCode.Timeout, 'deadline') : new DOMException('deadline', 'TimeoutError'));
      await assert.rejects(collecting, { code: 'DW_SOURCE_TIMEOUT', message: /killed its process group/ });
      await src.close?.();
      await until(async () => !(await alive(pids![0]!)) && !(await alive(pids![1]!)), `${mode}: parent ${pids![0]} and grandchild ${pids![1]} gone`);
    }
  });

  test('an abort by the agent → FAILED, and the command is killed', async () => {
    const s = await script('hang2', `setInterval(() => {}, 1000);`);
    const src = source([process.execPath, s]);
    const ctx = testContext(60_000);
    const p = src.collect(ctx);
    setImmediate(() => ctx.controller.abort(new Error('agent stopping')));
    await assert.rejects(p, { code: 'DW_SOURCE_FAILED', message: /aborted \(agent stopping\): killed its process group/ });
    await src.close?.();
  });

  test('stdout over maxBytes → TOO_LARGE, the command killed early', async () => {
    const s = await script('flood', `const chunk = 'x'.repeat(65536); const pump = () => { while (process.stdout.write(chunk)); process.stdout.once('drain', pump); }; pump();`);
    const started = Date.now();
    await assert.rejects(source([process.execPath, s], { maxBytes: '256KiB' }).collect(testContext(10_000)), { code: 'DW_SOURCE_TOO_LARGE', message: /at most 262144 bytes \(maxBytes\) on stdout/ });
    assert.ok(Date.now() - started < 5000);
  });

  test('a command that is not there → UNREACHABLE; not executable → PERMISSION_DENIED; a missing cwd → FAILED', async () => {
    await assert.rejects(source(['dw-no-such-command-xyz']).collect(testContext(10_000)), { code: 'DW_SOURCE_UNREACHABLE', message: /expected an executable dw-no-such-command-xyz on PATH, found ENOENT/ });
    await assert.rejects(source([join(dir, 'absent.sh')]).collect(testContext(10_000)), { code: 'DW_SOURCE_UNREACHABLE', message: /absent\.sh, found ENOENT/ });
    const plain = join(dir, 'plain.txt');
    await writeFile(plain, 'not a program');
    await chmod(plain, 0o644);
    await assert.rejects(source([plain]).collect(testContext(10_000)), { code: 'DW_SOURCE_PERMISSION_DENIED', message: /to be executable by the agent, found EACCES/ });
    await assert.rejects(source([process.execPath, '-e', '1'], { cwd: join(dir, 'nope') }).collect(testContext(10_000)), { code: 'DW_SOURCE_FAILED', message: /expected cwd .*nope to be a directory, found ENOENT/ });
  });

  test('every event kind the agent records is reserved: a command that prints one fails the collection', async () => {
    // The kinds the agent, the sampler, the store and the host source record themselves.
    const owned = [...Object.values(AgentEventKind), SOURCE_ERROR_EVENT, 'data_dropped', REBOOT_EVENT];
    assert.deepEqual([...RESERVED_EVENT_KINDS].sort(), [...new Set(owned)].sort());
    for (const kind of ['agent_gap', 'reboot', 'agent_stop', 'agent_start', 'source_error', 'data_dropped']) {
      const s = await script(`forge-${kind}`, `process.stdout.write(JSON.stringify({ series: [{ name: 'plc_up', value: 1 }], events: [{ kind: ${JSON.stringify(kind)}, reason: 'Forged' }] }));`);
      await assert.rejects(source([process.execPath, s]).collect(testContext(10_000)), {
        code: 'DW_SOURCE_BAD_RESPONSE', message: new RegExp(`events\\.0\\.kind: expected a kind of the command's own, found "${kind}", which the agent records itself`),
      }, kind);
    }
    // A kind of the command's own that merely looks alike is fine.
    const ok = await script('own-kind', `process.stdout.write(JSON.stringify({ events: [{ kind: 'plc_reboot', reason: 'Restarted' }] }));`);
    const r = await source([process.execPath, ok]).collect(testContext(10_000));
    assert.deepEqual(r.events.map((e) => e.kind), ['plc_reboot']);
  });

  test('config: command required, unknown keys rejected, defaults', () => {
    const c = execConfigSchema.parse({ kind: 'exec', name: 'e', command: ['/bin/true'] });
    assert.deepEqual({ ...c }, { kind: 'exec', name: 'e', command: ['/bin/true'], maxBytes: 1024 * 1024, env: {}, killGrace: 2000 });
    const r = execConfigSchema.safeParse({ kind: 'exec', name: 'e', command: [], shell: true, env: { 'A-B': 'x' } });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')).sort(), ['', 'command', 'env.A-B']);
  });
});

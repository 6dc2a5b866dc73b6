// Starts a real Debian snmpd (net-snmp's agent) on a loopback UDP port for the snmp source tests.
//
// The config is written into a temp dir: a community for v2c, an SNMPv3 user (createUser, stored
// by snmpd in its own persistent dir there), a custom sysDescr/sysName/sysLocation, and
// pass_persist scripts that serve OIDs the test controls from a JSON file (`setValues`): the
// ENTITY-MIB entPhysicalTable (which snmpd does not implement itself), a private enterprise
// subtree 1.3.6.1.4.1.99999, and optionally sysUpTime.0 (to step it back without waiting).
// Everything else (sysObjectID, the real sysUpTime, IF-MIB of this machine) is snmpd's own.
// snmpd runs as `snmpd -f -Lo -C -c <conf> -M <empty dir> -m ""`: no system config or MIB files.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snmp from 'net-snmp';
import { freeUdpPort } from './free-port.js';
import { supervise } from './supervised-child.js';

export const SNMPD_PATH = '/usr/sbin/snmpd';
/** A private enterprise arc for test-controlled OIDs. */
export const TEST_ENTERPRISE = '1.3.6.1.4.1.99999';
export const ENTITY_MIB = '1.3.6.1.2.1.47';
export const SYS_UPTIME = '1.3.6.1.2.1.1.3';

/** A value served by the pass_persist script: type is a pass type (string, integer, gauge, timeticks, objectid, ...). */
export interface PassValue {
  readonly type: 'string' | 'integer' | 'gauge' | 'counter' | 'timeticks' | 'objectid' | 'ipaddress' | 'octet';
  readonly value: string | number;
}

export interface SnmpdV3User {
  readonly user: string;
  /** snmpd createUser names: MD5, SHA, SHA-224, SHA-256, ... */
  readonly authProtocol: string;
  readonly authKey: string;
  /** DES or AES. */
  readonly privProtocol: string;
  readonly privKey: string;
}

export interface SnmpdOptions {
  readonly sysDescr?: string;
  readonly sysName?: string;
  readonly sysLocation?: string;
  readonly community?: string;
  readonly v3User?: SnmpdV3User;
  /** Serve sysUpTime.0 from the values file instead of snmpd's own uptime. */
  readonly controlSysUpTime?: boolean;
  /** The initial values file: numeric OID (no leading dot) → value. */
  readonly values?: Readonly<Record<string, PassValue>>;
  /** Reuse a port (to restart an agent where a source expects it); default a free one. */
  readonly port?: number;
}

export interface Snmpd {
  readonly port: number;
  /** `127.0.0.1:<port>`, a source target. */
  readonly target: string;
  readonly community: string;
  readonly dir: string;
  /** Replaces the values the pass_persist scripts serve; the next request sees them. */
  setValues(values: Readonly<Record<string, PassValue>>): Promise<void>;
  /** Stops snmpd and starts it again on the same port and dir, with `changes` to its options. */
  restart(changes?: Partial<SnmpdOptions>): Promise<void>;
  /** snmpd's output so far (for failure messages). */
  log(): string;
  /** Stops snmpd (SIGTERM, then SIGKILL) and removes its temp dir. */
  cleanup(): Promise<void>;
}

// The pass_persist protocol (snmpd.conf(5)): PING → PONG; "get\n<oid>" / "getnext\n<oid>" →
// "<oid>\n<type>\n<value>" or "NONE". Reads the values file at every request.
const PASS_SCRIPT = String.raw`'use strict';
const fs = require('node:fs');
const [root, file] = process.argv.slice(2);
const parse = (o) => o.replace(/^\./, '').split('.').map(Number);
const cmp = (a, b) => { for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]; return a.length - b.length; };
const under = (o) => o === root || o.startsWith(root + '.');
function values() {
  let all = {};
  try { all = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { all = {}; }
  return Object.entries(all).filter(([o]) => under(o)).sort((a, b) => cmp(parse(a[0]), parse(b[0])));
}
const out = (o, v) => process.stdout.write(v === undefined ? 'NONE\n' : '.' + o + '\n' + v.type + '\n' + v.value + '\n');
let pending = [];
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  pending.push(line.trim());
  if (pending[0] === 'PING') { pending = []; process.stdout.write('PONG\n'); return; }
  if (pending[0] === 'set') { if (pending.length < 3) return; pending = []; process.stdout.write('not-writable\n'); return; }
  if (pending.length < 2) return;
  const [cmd, oidText] = pending; pending = [];
  const oid = oidText.replace(/^\./, '');
  const vs = values();
  if (cmd === 'get') { const hit = vs.find(([o]) => o === oid); out(oid, hit && hit[1]); return; }
  if (cmd === 'getnext') { const q = parse(oid); const hit = vs.find(([o]) => cmp(parse(o), q) > 0); out(hit && hit[0], hit && hit[1]); return; }
  process.stdout.write('NONE\n');
});
`;

function confText(o: SnmpdOptions, port: number, dir: string, community: string): string {
  const pass = (root: string, priority?: number): string =>
    `pass_persist ${priority === undefined ? '' : `-p ${priority} `}.${root} ${process.execPath} ${join(dir, 'pass.cjs')} ${root} ${join(dir, 'values.json')}`;
  const lines = [
    `agentaddress udp:127.0.0.1:${port}`,
    `rocommunity ${community} 127.0.0.1`,
    `sysDescr ${o.sysDescr ?? 'driftwatch test agent'}`,
    `sysName ${o.sysName ?? 'dw-test'}`,
    `sysLocation ${o.sysLocation ?? 'test bench'}`,
    pass(ENTITY_MIB),
    pass(TEST_ENTERPRISE),
  ];
  // A lower priority number wins over snmpd's own registration of sysUpTime.
  if (o.controlSysUpTime === true) lines.push(pass(SYS_UPTIME, 1));
  if (o.v3User !== undefined) {
    const u = o.v3User;
    lines.push(`createUser ${u.user} ${u.authProtocol} ${u.authKey} ${u.privProtocol} ${u.privKey}`, `rouser ${u.user} priv`);
  }
  return lines.join('\n') + '\n';
}

/** Polls sysDescr.0 over v2c until snmpd answers (each try 200 ms), at most `timeoutMs`. */
async function waitReady(port: number, community: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited()) throw new Error('snmpd exited before answering');
    const ok = await new Promise<boolean>((resolve) => {
      const s = snmp.createSession('127.0.0.1', community, { port, version: snmp.Version2c, timeout: 200, retries: 0 });
      s.on('error', () => {});
      s.get(['1.3.6.1.2.1.1.1.0'], (err) => {
        s.close();
        resolve(err === null);
      });
    });
    if (ok) return;
  }
  throw new Error(`snmpd did not answer on udp:127.0.0.1:${port} within ${timeoutMs}ms`);
}

async function writeValues(dir: string, values: Readonly<Record<string, PassValue>>): Promise<void> {
  const tmp = join(dir, 'values.json.tmp');
  await writeFile(tmp, JSON.stringify(values));
  await rename(tmp, join(dir, 'values.json'));
}

interface Running {
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/** Spawns snmpd on `port` and waits until it answers; rejects with its output otherwise. */
async function spawnSnmpd(options: SnmpdOptions, dir: string, port: number, community: string): Promise<Running> {
  const conf = join(dir, 'snmpd.conf');
  await writeFile(conf, confText(options, port, dir, community));
  // -I -smux: no SMUX listener on TCP 199, so that several agents can run at once.
  const child: ChildProcess = spawn(SNMPD_PATH, ['-f', '-Lo', '-C', '-c', conf, '-M', join(dir, 'mibs'), '-m', '', '-I', '-smux'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SNMP_PERSISTENT_DIR: join(dir, 'persist') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const supervised = supervise(child);
  const stop = supervised.stop;
  try {
    await waitReady(port, community, supervised.exited, 10_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; snmpd output:\n${supervised.output()}`, { cause: err });
  }
  return { output: supervised.output, stop };
}

/**
 * Starts snmpd with `options` in a new temp dir and waits until it answers. Retries on another
 * port when the chosen one was taken. Rejects with snmpd's output when it does not come up.
 */
export async function startSnmpd(options: SnmpdOptions = {}): Promise<Snmpd> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-snmpd-'));
  const community = options.community ?? 'dw-public';
  try {
    await mkdir(join(dir, 'persist'));
    await mkdir(join(dir, 'mibs'));
    await writeFile(join(dir, 'pass.cjs'), PASS_SCRIPT);
    await writeValues(dir, options.values ?? {});
    let running: Running | undefined;
    let port = options.port ?? 0;
    for (let attempt = 0; running === undefined; attempt++) {
      if (options.port === undefined) port = await freeUdpPort();
      try {
        running = await spawnSnmpd(options, dir, port, community);
      } catch (err) {
        const taken = /Error opening specified endpoint|Address already in use/i.test((err as Error).message);
        if (!taken || options.port !== undefined || attempt >= 4) throw err;
      }
    }
    let current = running;
    let opts = options;
    return {
      port,
      target: `127.0.0.1:${port}`,
      community,
      dir,
      setValues: (values) => writeValues(dir, values),
      async restart(changes = {}) {
        await current.stop();
        opts = { ...opts, ...changes };
        current = await spawnSnmpd(opts, dir, port, community);
      },
      log: () => current.output(),
      async cleanup() {
        await current.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// The snmp source's logic without a network: config validation, value conversion, reboot
// detection (including the 2^32 TimeTicks wrap), through a fake SnmpClient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import snmp from 'net-snmp';
import type { Varbind } from 'net-snmp';
import type { SnmpClient } from '../../../../collector/sources/snmp/client.js';
import { collectSnmp, type SnmpState } from '../../../../collector/sources/snmp/collect.js';
import { snmpConfigSchema } from '../../../../collector/sources/snmp/index.js';
import { isRestart } from '../../../../collector/sources/snmp/reboot.js';
import { octetsToString, varbindFloat, varbindString } from '../../../../collector/sources/snmp/values.js';
import { formatConfigIssues } from '../../../../common/config-schema.js';
import { testDeps } from '../../../helpers/source-context.js';

const T = snmp.ObjectType;

function fakeClient(values: Record<string, Varbind>): SnmpClient {
  const sorted = Object.keys(values).sort();
  return {
    get: async (oids) => oids.map((o) => values[o]),
    walk: async (oid, maxRows) => {
      const under = sorted.filter((o) => o.startsWith(`${oid}.`)).map((o) => values[o]!);
      return { varbinds: under.slice(0, maxRows), truncated: under.length > maxRows };
    },
    close: () => {},
  };
}

const vb = (oid: string, type: number, value: unknown): Varbind => ({ oid, type, value });
const config = snmpConfigSchema.parse({ kind: 'snmp', name: 'r', target: '10.0.0.1', community: 'c' });

test('config: defaults, and every problem reported at once', () => {
  assert.deepEqual({ ...config }, {
    kind: 'snmp', name: 'r', target: '10.0.0.1', version: '2c', community: 'c', oids: [], walkEntity: true, walkInterfaces: true, retries: 1, maxRows: 1000,
  });
  const r = snmpConfigSchema.safeParse({
    kind: 'snmp', name: 'r', target: 'host:99999', version: '3', community: 'x', extra: 1,
    v3: { user: 'u', level: 'authPriv', authProtocol: 'sha', authKey: 'short' },
    oids: [{ name: 'snmp_sys_descr', oid: 'sysDescr.0', type: 'string' }],
  });
  assert.equal(r.success, false);
  const issues = formatConfigIssues(r.error!);
  for (const expected of [/^target: expected host, host:port/, /Unrecognized key.*extra/, /^v3\.authKey: expected a passphrase of at least 8/, /^oids\.0\.oid: expected a numeric OID/]) {
    assert.ok(issues.some((i) => expected.test(i)), `${expected} not in ${issues.join('\n')}`);
  }
  const refined = snmpConfigSchema.safeParse({
    kind: 'snmp', name: 'r', target: '[fe80::1]:1161', version: '3', community: 'x',
    v3: { user: 'u', level: 'authPriv', authProtocol: 'sha', authKey: 'long-enough' },
    oids: [{ name: 'snmp_sys_descr', oid: '1.3.6.1.2.1.1.1.0', type: 'string' }],
  });
  const refinedIssues = formatConfigIssues(refined.error!);
  for (const expected of [/^community: expected no community for version 3/, /^v3\.privProtocol: expected privProtocol for level authPriv/, /^v3\.privKey: expected exactly one of privKey or privKeyFile/, /^oids\.0\.name: expected a name of your own/]) {
    assert.ok(refinedIssues.some((i) => expected.test(i)), `${expected} not in ${refinedIssues.join('\n')}`);
  }
  assert.equal(snmpConfigSchema.safeParse({ kind: 'snmp', name: 'r', target: 'h' }).error?.issues[0]?.message, 'expected exactly one of community or communityFile for version 2c');
});

test('values: text, hex for binary octets, Counter64, numbers in strings', () => {
  assert.equal(octetsToString(Buffer.from('IOS 15.2\0\0')), 'IOS 15.2');
  assert.equal(octetsToString(Buffer.from([0x00, 0x1a, 0x2b, 0xff, 0x10, 0x01])), '00:1a:2b:ff:10:01');
  assert.equal(octetsToString(Buffer.from('multi\r\nline')), 'multi\r\nline');
  assert.equal(varbindFloat(vb('1', T.Counter64, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]))), 2 ** 32);
  assert.equal(varbindString(vb('1', T.Counter64, Buffer.from([1, 0]))), '256');
  assert.equal(varbindFloat(vb('1', T.OctetString, Buffer.from(' 23.5 '))), 23.5);
  assert.equal(varbindFloat(vb('1', T.OctetString, Buffer.from('23.5C'))), undefined);
  assert.equal(varbindString(vb('1', T.IpAddress, '10.1.2.3')), '10.1.2.3');
  assert.equal(varbindFloat(vb('1', T.TimeTicks, 4200)), 4200);
});

test('reboot: sysUpTime going back is a restart; a 2^32 wrap is not', () => {
  const day = 86_400_000;
  assert.equal(isRestart({ ticks: 500_000, t: 0 }, { ticks: 600_000, t: 1_000_000 }), false);
  assert.equal(isRestart({ ticks: 500_000, t: 0 }, { ticks: 100, t: 60_000 }), true);
  assert.equal(isRestart({ ticks: 500_000, t: 0 }, { ticks: 499_999, t: 60_000 }), true);
  // 2^32 - 1000 ticks, 60 s later: 5000 ticks past the wrap.
  assert.equal(isRestart({ ticks: 2 ** 32 - 1000, t: 0 }, { ticks: 5000, t: 60_000 }), false);
  // ...but a value far from where the wrap would put it is a restart.
  assert.equal(isRestart({ ticks: 2 ** 32 - 1000, t: 0 }, { ticks: 40_000_000, t: 60_000 }), true);
  // After a day offline across the wrap, within half the elapsed time: still a wrap.
  assert.equal(isRestart({ ticks: 2 ** 32 - 1000, t: 0 }, { ticks: day / 10 - 1000, t: day }), false);
});

test('collect: absent objects left out, reboot event once, state kept across a failure', async () => {
  const deps = testDeps();
  const state: SnmpState = {};
  const cfg = { ...config, walkEntity: false, walkInterfaces: false };
  const base = (ticks: number): Record<string, Varbind> => ({
    '1.3.6.1.2.1.1.1.0': vb('1.3.6.1.2.1.1.1.0', T.OctetString, Buffer.from('fake')),
    '1.3.6.1.2.1.1.3.0': vb('1.3.6.1.2.1.1.3.0', T.TimeTicks, ticks),
  });
  const first = await collectSnmp(fakeClient(base(90_000)), cfg, 1_000, state, deps.logger);
  assert.deepEqual(first.samples.map((s) => s.name), ['snmp_sys_descr', 'snmp_sys_uptime_seconds']);
  const broken = { ...base(10), '1.3.6.1.2.1.1.3.0': vb('1.3.6.1.2.1.1.3.0', T.OctetString, Buffer.from('soon')) };
  await assert.rejects(collectSnmp(fakeClient(broken), cfg, 2_000, state, deps.logger), { code: 'DW_SOURCE_BAD_RESPONSE', message: /expected sysUpTime of 10\.0\.0\.1 as TimeTicks, found OctetString "soon"/ });
  assert.deepEqual(state.uptime, { ticks: 90_000, t: 1_000 });
  const second = await collectSnmp(fakeClient(base(50)), cfg, 3_000, state, deps.logger);
  assert.deepEqual(second.events.map((e) => [e.kind, e.t, e.labels]), [['reboot', 3_000, { target: '10.0.0.1' }]]);
  const third = await collectSnmp(fakeClient(base(150)), cfg, 4_000, state, deps.logger);
  assert.deepEqual(third.events, []);
});

test('collect: interfaces without ifName, unknown oper status numbers kept as numbers', async () => {
  const cfg = { ...config, walkEntity: false };
  const values: Record<string, Varbind> = {
    '1.3.6.1.2.1.2.2.1.8.1': vb('1.3.6.1.2.1.2.2.1.8.1', T.Integer, 2),
    '1.3.6.1.2.1.2.2.1.8.2': vb('1.3.6.1.2.1.2.2.1.8.2', T.Integer, 9),
    '1.3.6.1.2.1.2.2.1.2.1': vb('1.3.6.1.2.1.2.2.1.2.1', T.OctetString, Buffer.from('GigabitEthernet0/1')),
  };
  const { samples } = await collectSnmp(fakeClient(values), cfg, 1, {}, testDeps().logger);
  assert.deepEqual(samples, [
    { name: 'snmp_if_oper_status', labels: { target: '10.0.0.1', index: '1', if_descr: 'GigabitEthernet0/1' }, type: 'string', value: 'down' },
    { name: 'snmp_if_oper_status', labels: { target: '10.0.0.1', index: '2' }, type: 'string', value: '9' },
  ]);
});

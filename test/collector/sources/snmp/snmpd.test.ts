// The snmp source against a real snmpd (Debian's net-snmp agent) on a loopback port.
// What is real: snmpd, its system group, sysObjectID, IF-MIB of this machine, SNMPv3 USM (auth
// and privacy), UDP. What the test controls: sysDescr/sysName/sysLocation (config), the
// ENTITY-MIB rows and enterprise OIDs (served by pass_persist from a file the test writes),
// and, in the reboot test only, sysUpTime.0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSnmpSource, snmpConfigSchema } from '../../../../collector/sources/snmp/index.js';
import type { Sample } from '../../../../proto/index.js';
import { freeUdpPort, missingBinary } from '../../../helpers/free-port.js';
import { ENTITY_MIB, type PassValue, SNMPD_PATH, type Snmpd, startSnmpd, SYS_UPTIME, TEST_ENTERPRISE } from '../../../helpers/snmpd.js';
import { testContext, testDeps } from '../../../helpers/source-context.js';

const skip = await missingBinary(SNMPD_PATH, 'snmpd');

const ENT = `${ENTITY_MIB}.1.1.1.1`;
const V3 = { user: 'dwtest', authProtocol: 'SHA', authKey: 'auth-pass-1234', privProtocol: 'AES', privKey: 'priv-pass-5678' };

function entityRows(softwareRev: string): Record<string, PassValue> {
  return {
    [`${ENT}.2.1`]: { type: 'string', value: 'Chassis' },
    [`${ENT}.2.5`]: { type: 'string', value: 'Supervisor module' },
    [`${ENT}.7.1`]: { type: 'string', value: 'chassis-1' },
    [`${ENT}.7.5`]: { type: 'string', value: 'sup-0' },
    [`${ENT}.8.1`]: { type: 'string', value: 'V02' },
    [`${ENT}.9.5`]: { type: 'string', value: 'fw-17.3' },
    [`${ENT}.10.1`]: { type: 'string', value: '' },
    [`${ENT}.10.5`]: { type: 'string', value: softwareRev },
    [`${ENT}.13.1`]: { type: 'string', value: 'DW-9000' },
    [`${TEST_ENTERPRISE}.1.0`]: { type: 'string', value: 'plc-fw 3.1' },
    [`${TEST_ENTERPRISE}.2.0`]: { type: 'gauge', value: 42 },
  };
}

function find(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function v2c(agent: Snmpd, extra: Record<string, unknown> = {}) {
  return snmpConfigSchema.parse({ kind: 'snmp', name: 'router-1', target: agent.target, community: agent.community, ...extra });
}

describe('snmp source against a real snmpd', { skip }, () => {
  let agent: Snmpd;
  before(async () => {
    agent = await startSnmpd({ sysDescr: 'DW-9000 Router, IOS 4.2.1', sysName: 'edge-rtr-7', sysLocation: 'store 0042, back office', v3User: V3, values: entityRows('4.2.1') });
  });
  after(async () => {
    await agent?.cleanup();
  });

  test('v2c: the system group, ENTITY-MIB revisions and IF-MIB oper status', async () => {
    const source = createSnmpSource(v2c(agent), testDeps());
    assert.equal(source.kind, 'snmp');
    assert.equal(source.name, 'router-1');
    const { samples, events } = await source.collect(testContext(5000));
    const target = agent.target;
    assert.deepEqual(events, []);
    assert.deepEqual(find(samples, 'snmp_sys_descr'), { name: 'snmp_sys_descr', labels: { target }, type: 'string', value: 'DW-9000 Router, IOS 4.2.1' });
    assert.equal(find(samples, 'snmp_sys_name')?.value, 'edge-rtr-7');
    assert.equal(find(samples, 'snmp_sys_location')?.value, 'store 0042, back office');
    assert.equal(find(samples, 'snmp_sys_object_id')?.value, '1.3.6.1.4.1.8072.3.2.10'); // net-snmp on Linux
    const uptime = find(samples, 'snmp_sys_uptime_seconds');
    assert.equal(uptime?.type, 'float');
    assert.ok(typeof uptime.value === 'number' && uptime.value >= 0 && uptime.value < 3600, `uptime ${String(uptime.value)}`);
    assert.deepEqual(find(samples, 'snmp_entity_software_revision'), {
      name: 'snmp_entity_software_revision',
      labels: { target, index: '5', entity_name: 'sup-0', entity_descr: 'Supervisor module' },
      type: 'string',
      value: '4.2.1',
    });
    // Index 1 has an empty software revision: left out.
    assert.equal(samples.filter((s) => s.name === 'snmp_entity_software_revision').length, 1);
    assert.equal(find(samples, 'snmp_entity_firmware_revision', { index: '5' })?.value, 'fw-17.3');
    assert.equal(find(samples, 'snmp_entity_hardware_revision', { index: '1' })?.value, 'V02');
    assert.deepEqual(find(samples, 'snmp_entity_model_name')?.labels, { target, index: '1', entity_name: 'chassis-1', entity_descr: 'Chassis' });
    // The loopback interface of this machine, through snmpd's own IF-MIB.
    const lo = find(samples, 'snmp_if_oper_status', { if_descr: 'lo' });
    assert.ok(lo !== undefined, `no lo in ${JSON.stringify(samples.filter((s) => s.name === 'snmp_if_oper_status'))}`);
    assert.equal(lo.value, 'up');
    assert.equal(lo.labels['if_name'], 'lo');
    assert.match(lo.labels['index']!, /^\d+$/);
  });

  test('the software version the test controls changes between collects', async () => {
    const source = createSnmpSource(v2c(agent, { walkInterfaces: false }), testDeps());
    const first = await source.collect(testContext(5000));
    assert.equal(find(first.samples, 'snmp_entity_software_revision', { index: '5' })?.value, '4.2.1');
    await agent.setValues(entityRows('4.3.0-rc1'));
    try {
      const second = await source.collect(testContext(5000));
      assert.equal(find(second.samples, 'snmp_entity_software_revision', { index: '5' })?.value, '4.3.0-rc1');
    } finally {
      await agent.setValues(entityRows('4.2.1'));
    }
  });

  test('extra OIDs from the config: string and float, an absent one left out', async () => {
    const source = createSnmpSource(v2c(agent, {
      walkEntity: false,
      walkInterfaces: false,
      oids: [
        { name: 'plc_firmware_version', oid: `${TEST_ENTERPRISE}.1.0`, type: 'string', labels: { line: '3' } },
        { name: 'plc_temperature_celsius', oid: `.${TEST_ENTERPRISE}.2.0`, type: 'float' },
        { name: 'plc_missing', oid: `${TEST_ENTERPRISE}.9.0`, type: 'float' },
      ],
    }), testDeps());
    const { samples } = await source.collect(testContext(5000));
    assert.deepEqual(find(samples, 'plc_firmware_version'), { name: 'plc_firmware_version', labels: { line: '3', target: agent.target }, type: 'string', value: 'plc-fw 3.1' });
    assert.deepEqual(find(samples, 'plc_temperature_celsius'), { name: 'plc_temperature_celsius', labels: { target: agent.target }, type: 'float', value: 42 });
    assert.equal(find(samples, 'plc_missing'), undefined);
    assert.equal(samples.some((s) => s.name.startsWith('snmp_entity_') || s.name === 'snmp_if_oper_status'), false);
  });

  test('an extra OID whose value is not a number → BAD_RESPONSE naming the OID', async () => {
    const source = createSnmpSource(v2c(agent, { walkEntity: false, walkInterfaces: false, oids: [{ name: 'plc_fw', oid: `${TEST_ENTERPRISE}.1.0`, type: 'float' }] }), testDeps());
    await assert.rejects(source.collect(testContext(5000)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'DW_SOURCE_BAD_RESPONSE');
      assert.match(e.message, /expected a number at 1\.3\.6\.1\.4\.1\.99999\.1\.0 .*found OctetString "plc-fw 3\.1"/);
      return true;
    });
  });

  test('v3 authPriv (SHA, AES) with the keys from files', async () => {
    const authFile = join(agent.dir, 'auth.key');
    await writeFile(authFile, `${V3.authKey}\n`);
    const source = createSnmpSource(snmpConfigSchema.parse({
      kind: 'snmp', name: 'sw-1', target: agent.target, version: '3', walkEntity: false,
      v3: { user: V3.user, level: 'authPriv', authProtocol: 'sha', authKeyFile: authFile, privProtocol: 'aes', privKey: V3.privKey },
    }), testDeps());
    const { samples } = await source.collect(testContext(5000));
    assert.equal(find(samples, 'snmp_sys_name')?.value, 'edge-rtr-7');
    assert.equal(find(samples, 'snmp_if_oper_status', { if_descr: 'lo' })?.value, 'up');
  });

  test('v3 with a wrong auth key or an unknown user → PERMISSION_DENIED (the agent reports it)', async () => {
    for (const [user, authKey, found] of [[V3.user, 'wrong-pass-000', /Wrong Digest/], ['nobody', V3.authKey, /Unknown User Name/]] as const) {
      const source = createSnmpSource(snmpConfigSchema.parse({
        kind: 'snmp', name: 'sw-1', target: agent.target, version: '3', retries: 0,
        v3: { user, level: 'authPriv', authProtocol: 'sha', authKey, privProtocol: 'aes', privKey: V3.privKey },
      }), testDeps());
      await assert.rejects(source.collect(testContext(3000)), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'DW_SOURCE_PERMISSION_DENIED');
        assert.match(e.message, new RegExp(`expected ${agent.target} to accept SNMPv3 user "${user}", found: ${found.source}`));
        return true;
      });
    }
  });

  test('v3 at a lower level than the user is allowed → PERMISSION_DENIED (authorizationError)', async () => {
    const source = createSnmpSource(snmpConfigSchema.parse({
      kind: 'snmp', name: 'sw-1', target: agent.target, version: '3',
      v3: { user: V3.user, level: 'authNoPriv', authProtocol: 'sha', authKey: V3.authKey },
    }), testDeps());
    await assert.rejects(source.collect(testContext(3000)), { code: 'DW_SOURCE_PERMISSION_DENIED', message: /found error-status AuthorizationError/ });
  });

  test('a wrong v2c community → TIMEOUT (a v2c agent does not answer it)', async () => {
    const source = createSnmpSource(v2c(agent, { community: 'not-the-community', retries: 0, timeout: '400ms' }), testDeps());
    const started = Date.now();
    await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_TIMEOUT', message: /found none \(.*wrong community/ });
    assert.ok(Date.now() - started < 2000);
  });

  test('a collection that cannot finish by ctx.deadline → TIMEOUT at the deadline, socket closed', async () => {
    // The walk of this machine's IF-MIB goes on; a 1 ms budget cannot hold it.
    const source = createSnmpSource(v2c(agent), testDeps());
    await assert.rejects(source.collect(testContext(1)), { code: 'DW_SOURCE_TIMEOUT' });
  });

  test('ctx.signal aborted by the agent stopping → FAILED, not TIMEOUT', async () => {
    const source = createSnmpSource(v2c(agent), testDeps());
    const ctx = testContext(5000);
    const p = source.collect(ctx);
    ctx.controller.abort(new Error('agent stopping'));
    await assert.rejects(p, { code: 'DW_SOURCE_FAILED', message: /aborted \(agent stopping\)/ });
  });

  test('maxRows caps a table walk, with a warning', async () => {
    const deps = testDeps();
    const source = createSnmpSource(v2c(agent, { walkEntity: false, maxRows: 1 }), deps);
    const { samples } = await source.collect(testContext(5000));
    assert.equal(samples.filter((s) => s.name === 'snmp_if_oper_status').length, 1);
    assert.ok(deps.lines.some((l) => l.level === 'warn' && l.fields['maxRows'] === 1 && /maxRows/.test(l.message)));
  });
});

describe('snmp source failure modes', { skip }, () => {
  test('a port with nothing listening → TIMEOUT (UDP cannot tell down from slow)', async () => {
    const port = await freeUdpPort();
    const source = createSnmpSource(snmpConfigSchema.parse({ kind: 'snmp', name: 'r', target: `127.0.0.1:${port}`, community: 'public', retries: 1, timeout: '300ms' }), testDeps());
    await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_TIMEOUT', message: /within 135ms x 2 attempts, found none/ });
  });

  test('a host that does not resolve → UNREACHABLE', async () => {
    const source = createSnmpSource(snmpConfigSchema.parse({ kind: 'snmp', name: 'r', target: 'no-such-host.invalid', community: 'public', timeout: '15s' }), testDeps());
    await assert.rejects(source.collect(testContext(20_000)), { code: 'DW_SOURCE_UNREACHABLE', message: /ENOTFOUND|EAI_AGAIN/ });
  });

  test('garbage datagrams → BAD_RESPONSE', async () => {
    const server = createSocket('udp4');
    server.on('message', (_msg, rinfo) => server.send(Buffer.from('this is not BER at all'), rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const source = createSnmpSource(snmpConfigSchema.parse({ kind: 'snmp', name: 'r', target: `127.0.0.1:${server.address().port}`, community: 'public', retries: 0, timeout: '300ms' }), testDeps());
      await assert.rejects(source.collect(testContext(5000)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /expected SNMP messages from 127\.0\.0\.1:\d+, found undecodable datagrams/ });
    } finally {
      server.close();
    }
  });

  test('sysUpTime going back → a reboot event (sysUpTime served by the test); a snmpd restart is read again', async () => {
    const agent = await startSnmpd({ controlSysUpTime: true, values: { [`${SYS_UPTIME}.0`]: { type: 'timeticks', value: 8_640_000 } } });
    try {
      const source = createSnmpSource(snmpConfigSchema.parse({ kind: 'snmp', name: 'r', target: agent.target, community: agent.community, walkEntity: false, walkInterfaces: false }), testDeps());
      const t0 = Date.now();
      const first = await source.collect(testContext(5000, t0));
      assert.equal(find(first.samples, 'snmp_sys_uptime_seconds')?.value, 86_400);
      assert.deepEqual(first.events, []);
      await agent.setValues({ [`${SYS_UPTIME}.0`]: { type: 'timeticks', value: 4_200 } });
      const second = await source.collect(testContext(5000, t0 + 60_000));
      assert.equal(find(second.samples, 'snmp_sys_uptime_seconds')?.value, 42);
      assert.equal(second.events.length, 1);
      const e = second.events[0]!;
      assert.deepEqual({ ...e, message: '' }, { t: t0 + 60_000, kind: 'reboot', reason: 'SysUpTimeWentBack', message: '', labels: { target: agent.target }, rangeMinT: 0, rangeMaxT: 0, count: 0 });
      assert.match(e.message, /went back from 86400s to 42s/);
      // A real restart of the agent on the same port: the source reads it again.
      await agent.restart({ controlSysUpTime: false });
      const third = await source.collect(testContext(5000, t0 + 120_000));
      const uptime = find(third.samples, 'snmp_sys_uptime_seconds')?.value;
      assert.ok(typeof uptime === 'number' && uptime < 60, `uptime after restart ${String(uptime)}`);
    } finally {
      await agent.cleanup();
    }
  });
});

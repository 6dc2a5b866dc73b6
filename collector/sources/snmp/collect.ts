// One SNMP collection: the system group, ENTITY-MIB revisions, IF-MIB oper status and the
// configured extra OIDs, read through an SnmpClient, as samples; a sysUpTime that went back as
// a `reboot` event.
import snmp from 'net-snmp';
import type { BlockEvent, Labels, Sample } from '../../../proto/index.js';
import { SourceError, SourceErrorCode } from '../errors.js';
import type { SourceLogger, SourceResult } from '../source.js';
import type { SnmpClient, Varbind } from './client.js';
import type { SnmpConfig } from './config.js';
import { ENT_PHYSICAL, IF, IF_OPER_STATUS, SERIES, SYSTEM } from './oids.js';
import { isRestart, rebootEvent, type UptimeObservation } from './reboot.js';
import { showValue, typeName, varbindFloat, varbindString } from './values.js';

/** What a source remembers between collections. */
export interface SnmpState {
  uptime?: UptimeObservation;
}

type CollectConfig = Pick<SnmpConfig, 'name' | 'target' | 'oids' | 'walkEntity' | 'walkInterfaces' | 'maxRows'>;

/**
 * Collects once. Rejects with a SourceError when the agent fails (see client.ts) or answers a
 * value of the wrong type (DW_SOURCE_BAD_RESPONSE); objects the agent does not have are left out.
 * Updates `state.uptime` only on success.
 */
export async function collectSnmp(client: SnmpClient, config: CollectConfig, roundTime: number, state: SnmpState, logger: SourceLogger): Promise<SourceResult> {
  const target = config.target;
  const base: Labels = { target };
  const samples: Sample[] = [];
  const events: BlockEvent[] = [];
  const bad = (message: string): SourceError => new SourceError(SourceErrorCode.BadResponse, message, { where: target });

  const [descr, objectId, upTime, name, location] = await client.get([SYSTEM.sysDescr, SYSTEM.sysObjectID, SYSTEM.sysUpTime, SYSTEM.sysName, SYSTEM.sysLocation]);
  const text = (series: string, vb: Varbind | undefined, what: string, expectType: number): void => {
    if (vb === undefined) return;
    if (vb.type !== expectType) throw bad(`expected ${what} of ${target} as ${snmp.ObjectType[expectType]}, found ${showValue(vb)}`);
    samples.push({ name: series, labels: base, type: 'string', value: varbindString(vb)! });
  };
  text(SERIES.sysDescr, descr, 'sysDescr', snmp.ObjectType.OctetString);
  text(SERIES.sysObjectID, objectId, 'sysObjectID', snmp.ObjectType.OID);
  text(SERIES.sysName, name, 'sysName', snmp.ObjectType.OctetString);
  text(SERIES.sysLocation, location, 'sysLocation', snmp.ObjectType.OctetString);
  let uptime: UptimeObservation | undefined;
  if (upTime !== undefined) {
    if (upTime.type !== snmp.ObjectType.TimeTicks || typeof upTime.value !== 'number') throw bad(`expected sysUpTime of ${target} as TimeTicks, found ${showValue(upTime)}`);
    uptime = { ticks: upTime.value, t: roundTime };
    samples.push({ name: SERIES.sysUpTime, labels: base, type: 'float', value: upTime.value / 100 });
  }

  if (config.oids.length > 0) {
    const values = await client.get(config.oids.map((o) => o.oid));
    config.oids.forEach((o, i) => {
      const vb = values[i];
      if (vb === undefined) return;
      const labels = { ...o.labels, target };
      if (o.type === 'float') {
        const v = varbindFloat(vb);
        if (v === undefined) throw bad(`expected a number at ${o.oid} (oids[${i}] ${o.name}) of ${target}, found ${showValue(vb)}`);
        samples.push({ name: o.name, labels, type: 'float', value: v });
      } else {
        const v = varbindString(vb);
        if (v === undefined) throw bad(`expected a value with a text form at ${o.oid} (oids[${i}] ${o.name}) of ${target}, found ${typeName(vb)}`);
        samples.push({ name: o.name, labels, type: 'string', value: v });
      }
    });
  }

  if (config.walkEntity) samples.push(...await walkEntity(client, config, logger));
  if (config.walkInterfaces) samples.push(...await walkInterfaces(client, config, logger));

  if (uptime !== undefined) {
    if (state.uptime !== undefined && isRestart(state.uptime, uptime)) events.push(rebootEvent(target, state.uptime, uptime));
    state.uptime = uptime;
  }
  return { samples, events };
}

/** Column values by row index (the OID suffix after the column). */
async function walkColumn(client: SnmpClient, config: CollectConfig, column: string, table: string, logger: SourceLogger): Promise<Map<string, Varbind>> {
  const { varbinds, truncated } = await client.walk(column, config.maxRows);
  if (truncated) {
    logger.warn({ source: config.name, target: config.target, table, column, maxRows: config.maxRows }, 'table walk stopped at maxRows; the remaining rows are left out');
  }
  const rows = new Map<string, Varbind>();
  const prefix = `${column}.`;
  for (const vb of varbinds) {
    if (vb.oid.startsWith(prefix)) rows.set(vb.oid.slice(prefix.length), vb);
  }
  return rows;
}

function textOf(vb: Varbind | undefined): string | undefined {
  if (vb === undefined) return undefined;
  const s = varbindString(vb);
  return s === undefined || s === '' ? undefined : s;
}

function withOptional(labels: Record<string, string>, optional: Record<string, string | undefined>): Labels {
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) labels[k] = v;
  return labels;
}

async function walkEntity(client: SnmpClient, config: CollectConfig, logger: SourceLogger): Promise<Sample[]> {
  const descr = await walkColumn(client, config, ENT_PHYSICAL.descr, 'entPhysicalTable', logger);
  // entPhysicalDescr is mandatory in every ENTITY-MIB compliance: no rows, no ENTITY-MIB.
  if (descr.size === 0) return [];
  const names = await walkColumn(client, config, ENT_PHYSICAL.name, 'entPhysicalTable', logger);
  const columns: [string, string][] = [
    [ENT_PHYSICAL.softwareRev, SERIES.entSoftwareRev],
    [ENT_PHYSICAL.firmwareRev, SERIES.entFirmwareRev],
    [ENT_PHYSICAL.hardwareRev, SERIES.entHardwareRev],
    [ENT_PHYSICAL.modelName, SERIES.entModelName],
  ];
  const samples: Sample[] = [];
  for (const [column, series] of columns) {
    const rows = await walkColumn(client, config, column, 'entPhysicalTable', logger);
    for (const [index, vb] of rows) {
      const value = textOf(vb);
      // Most physical entities (ports, sensors) leave revisions empty: those are left out.
      if (value === undefined) continue;
      const labels = withOptional({ target: config.target, index }, { entity_name: textOf(names.get(index)), entity_descr: textOf(descr.get(index)) });
      samples.push({ name: series, labels, type: 'string', value });
    }
  }
  return samples;
}

async function walkInterfaces(client: SnmpClient, config: CollectConfig, logger: SourceLogger): Promise<Sample[]> {
  const status = await walkColumn(client, config, IF.ifOperStatus, 'ifTable', logger);
  if (status.size === 0) return [];
  const descr = await walkColumn(client, config, IF.ifDescr, 'ifTable', logger);
  const names = await walkColumn(client, config, IF.ifName, 'ifXTable', logger);
  const samples: Sample[] = [];
  for (const [index, vb] of status) {
    if (vb.type !== snmp.ObjectType.Integer || typeof vb.value !== 'number') {
      throw new SourceError(SourceErrorCode.BadResponse, `expected ifOperStatus.${index} of ${config.target} as an INTEGER, found ${showValue(vb)}`, { where: config.target });
    }
    const value = IF_OPER_STATUS[vb.value] ?? String(vb.value);
    const labels = withOptional({ target: config.target, index }, { if_name: textOf(names.get(index)), if_descr: textOf(descr.get(index)) });
    samples.push({ name: SERIES.ifOperStatus, labels, type: 'string', value });
  }
  return samples;
}

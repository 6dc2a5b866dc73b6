// The OIDs the snmp source reads and the series it turns them into (docs/sources/snmp.md).

/** SNMPv2-MIB system group scalars. */
export const SYSTEM = {
  sysDescr: '1.3.6.1.2.1.1.1.0',
  sysObjectID: '1.3.6.1.2.1.1.2.0',
  sysUpTime: '1.3.6.1.2.1.1.3.0',
  sysName: '1.3.6.1.2.1.1.5.0',
  sysLocation: '1.3.6.1.2.1.1.6.0',
} as const;

/** ENTITY-MIB entPhysicalTable columns (1.3.6.1.2.1.47.1.1.1.1.<column>.<entPhysicalIndex>). */
export const ENT_PHYSICAL = {
  descr: '1.3.6.1.2.1.47.1.1.1.1.2',
  name: '1.3.6.1.2.1.47.1.1.1.1.7',
  hardwareRev: '1.3.6.1.2.1.47.1.1.1.1.8',
  firmwareRev: '1.3.6.1.2.1.47.1.1.1.1.9',
  softwareRev: '1.3.6.1.2.1.47.1.1.1.1.10',
  modelName: '1.3.6.1.2.1.47.1.1.1.1.13',
} as const;

/** IF-MIB columns (<column>.<ifIndex>). */
export const IF = {
  ifDescr: '1.3.6.1.2.1.2.2.1.2',
  ifOperStatus: '1.3.6.1.2.1.2.2.1.8',
  ifName: '1.3.6.1.2.1.31.1.1.1.1',
} as const;

/** IF-MIB ifOperStatus values. */
export const IF_OPER_STATUS: Readonly<Record<number, string>> = {
  1: 'up',
  2: 'down',
  3: 'testing',
  4: 'unknown',
  5: 'dormant',
  6: 'notPresent',
  7: 'lowerLayerDown',
};

/** The series names the source produces itself; config `oids` may not reuse them. */
export const SERIES = {
  sysDescr: 'snmp_sys_descr',
  sysObjectID: 'snmp_sys_object_id',
  sysName: 'snmp_sys_name',
  sysLocation: 'snmp_sys_location',
  sysUpTime: 'snmp_sys_uptime_seconds',
  entSoftwareRev: 'snmp_entity_software_revision',
  entFirmwareRev: 'snmp_entity_firmware_revision',
  entHardwareRev: 'snmp_entity_hardware_revision',
  entModelName: 'snmp_entity_model_name',
  ifOperStatus: 'snmp_if_oper_status',
} as const;

export const BUILT_IN_SERIES: ReadonlySet<string> = new Set(Object.values(SERIES));

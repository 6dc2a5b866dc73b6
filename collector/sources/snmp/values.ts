// Varbind values as driftwatch sample values.
import snmp from 'net-snmp';
import type { Varbind } from 'net-snmp';

const T = snmp.ObjectType;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// Printable text: anything but C0 controls other than tab, CR and LF, and DEL.
// eslint-disable-next-line no-control-regex
const NOT_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** The SNMP type name of a varbind, for messages. */
export function typeName(vb: Varbind): string {
  return T[vb.type] ?? `type ${vb.type}`;
}

/**
 * An OctetString as text: UTF-8 with trailing NULs dropped; bytes that are not printable UTF-8
 * (MAC addresses, binary blobs) as colon-separated hex, the way net-snmp's tools show them.
 */
export function octetsToString(bytes: Buffer): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const trimmed = bytes.subarray(0, end);
  try {
    const text = utf8.decode(trimmed);
    if (!NOT_TEXT.test(text)) return text;
  } catch {
    // not UTF-8: fall through to hex
  }
  return [...trimmed].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A Counter64 (an 8-byte big-endian unsigned Buffer in net-snmp) as a number (exact below 2^53). */
function counter64(bytes: Buffer): number {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return Number(v);
}

/** The varbind as text, or undefined for a type that has no text form. */
export function varbindString(vb: Varbind): string | undefined {
  const v = vb.value;
  switch (vb.type) {
    case T.OctetString:
      return Buffer.isBuffer(v) ? octetsToString(v) : typeof v === 'string' ? v : undefined;
    case T.OID:
    case T.IpAddress:
      return typeof v === 'string' ? v : undefined;
    case T.Integer:
    case T.Counter:
    case T.Gauge:
    case T.TimeTicks:
      return typeof v === 'number' ? String(v) : undefined;
    case T.Counter64:
      return Buffer.isBuffer(v) ? String(counter64(v)) : undefined;
    case T.Boolean:
      return typeof v === 'boolean' ? String(v) : undefined;
    case T.Opaque:
      return Buffer.isBuffer(v) ? v.toString('hex') : undefined;
    default:
      return undefined;
  }
}

const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * The varbind as a number: integers, counters, gauges and TimeTicks (raw hundredths) as they
 * are; an OctetString holding a decimal number (many devices send temperatures so) parsed.
 * Undefined when it is not a number.
 */
export function varbindFloat(vb: Varbind): number | undefined {
  const v = vb.value;
  switch (vb.type) {
    case T.Integer:
    case T.Counter:
    case T.Gauge:
    case T.TimeTicks:
      return typeof v === 'number' ? v : undefined;
    case T.Counter64:
      return Buffer.isBuffer(v) ? counter64(v) : undefined;
    case T.Boolean:
      return typeof v === 'boolean' ? (v ? 1 : 0) : undefined;
    case T.OctetString: {
      const text = Buffer.isBuffer(v) ? octetsToString(v) : typeof v === 'string' ? v : undefined;
      return text !== undefined && NUMBER_TEXT.test(text) ? Number(text) : undefined;
    }
    default:
      return undefined;
  }
}

/** A short rendering of a varbind's value for error messages. */
export function showValue(vb: Varbind): string {
  const s = varbindString(vb);
  const text = s === undefined ? String(vb.value) : s;
  return `${typeName(vb)} ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`;
}

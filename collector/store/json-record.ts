// The store's small JSON records (meta, block infos, pending events, quarantine notes).

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The stored form of a JSON record. */
export function encodeJsonRecord(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Parses a stored JSON record and checks its shape with `is`; undefined when the bytes are not
 * UTF-8 JSON or the shape is wrong (the caller quarantines or rebuilds the record).
 */
export function decodeJsonRecord<T>(bytes: Uint8Array, is: (v: unknown) => v is T): T | undefined {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  return is(v) ? v : undefined;
}

/** True for a non-null object (a record's first shape check). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

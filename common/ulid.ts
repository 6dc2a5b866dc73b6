import type { Clock } from './clock.js';
import type { Random } from './random.js';
import { randomBytes } from 'node:crypto';

// Crockford's base32, as in the ULID spec.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** The 16 bytes of a ULID: a 48-bit big-endian millisecond time, then 80 random bits. */
export function newUlid(clock: Clock, random?: Random): Uint8Array {
  const id = new Uint8Array(16);
  let t = clock.now();
  if (!(Number.isInteger(t) && t >= 0 && t < 2 ** 48)) throw new RangeError(`a ULID time expects 0 <= ms < 2^48, found ${t}`);
  for (let i = 5; i >= 0; i--) {
    id[i] = t % 256;
    t = Math.floor(t / 256);
  }
  if (random === undefined) {
    id.set(randomBytes(10), 6);
  } else {
    for (let i = 6; i < 16; i++) id[i] = Math.floor(random() * 256);
  }
  return id;
}

/** The 26-character text form of a 16-byte ULID. Throws RangeError on another length. */
export function ulidToString(id: Uint8Array): string {
  if (id.length !== 16) throw new RangeError(`a ULID expects 16 bytes, found ${id.length}`);
  let out = '';
  // 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
  let acc = 0n;
  for (const b of id) acc = (acc << 8n) | BigInt(b);
  for (let i = 25; i >= 0; i--) out += ALPHABET[Number((acc >> BigInt(i * 5)) & 31n)];
  return out;
}

/** Parses the text form of a ULID (case-insensitive). Returns undefined when it is not one. */
export function parseUlid(text: string): Uint8Array | undefined {
  if (text.length !== 26) return undefined;
  let acc = 0n;
  for (const c of text.toUpperCase()) {
    const v = DECODE.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 5n) | BigInt(v);
  }
  if (acc >> 128n !== 0n) return undefined;
  const id = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    id[i] = Number(acc & 255n);
    acc >>= 8n;
  }
  return id;
}

/** The millisecond time inside a ULID. */
export function ulidTime(id: Uint8Array): number {
  let t = 0;
  for (let i = 0; i < 6; i++) t = t * 256 + (id[i] ?? 0);
  return t;
}

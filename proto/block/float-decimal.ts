// Decimal encoding of float64 values: when every value is an integer times 10^-d exactly, the
// integers are stored as delta-of-delta in variable-width bit buckets. Temperatures with 0.1
// resolution, byte counts and counters all qualify. See "Float values: decimal" in
// docs/format/block.md.
import { BitReader, BitWriter } from './bits.js';
import { zigzag, unzigzag } from './bytes.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';

/** The largest magnitude of a scaled integer: deltas stay within 2^50, delta-of-deltas within 2^51, zig-zagged below 2^53. */
export const DECIMAL_MAX_INT = 2 ** 49;
/** The most decimal digits tried. */
export const DECIMAL_MAX_DIGITS = 15;

const POW10: number[] = Array.from({ length: DECIMAL_MAX_DIGITS + 1 }, (_, i) => 10 ** i);

/**
 * The fewest decimal digits `d` such that every value equals `Math.round(v * 10^d) / 10^d` exactly,
 * with scaled magnitudes at most 2^49; -1 when there is none (NaN, infinities, -0, or too precise).
 */
export function decimalDigits(values: Float64Array): number {
  for (let d = 0; d <= DECIMAL_MAX_DIGITS; d++) {
    const p = POW10[d]!;
    let ok = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const n = Math.round(v * p);
      if (!(Math.abs(n) <= DECIMAL_MAX_INT) || n / p !== v || (v === 0 && 1 / v < 0)) {
        ok = false;
        // NaN, infinities and -0 never qualify, whatever the digits.
        if (!Number.isFinite(v) || (v === 0 && 1 / v < 0)) return -1;
        break;
      }
    }
    if (ok) return d;
  }
  return -1;
}

// Buckets of zig-zagged delta-of-delta: prefix bits, then a payload of the given width.
//   0                 z = 0
//   10   + 7 bits     z < 2^7
//   110  + 14 bits    z < 2^14
//   1110 + 24 bits    z < 2^24
//   1111 + 53 bits    z < 2^53
function writeBucket(w: BitWriter, z: number): void {
  if (z === 0) w.bit(0);
  else if (z < 128) { w.bits(0b10, 2); w.bits(z, 7); }
  else if (z < 16384) { w.bits(0b110, 3); w.bits(z, 14); }
  else if (z < 16777216) { w.bits(0b1110, 4); w.bits(z, 24); }
  else { w.bits(0b1111, 4); w.wide(z, 53); }
}

function readBucket(r: BitReader): number {
  if (r.bit() === 0) return 0;
  if (r.bit() === 0) return r.bits(7);
  if (r.bit() === 0) return r.bits(14);
  if (r.bit() === 0) return r.bits(24);
  return r.wide(53);
}

/** Encodes values that `decimalDigits` accepted with `digits`. */
export function encodeDecimal(values: Float64Array, digits: number): Uint8Array {
  const p = POW10[digits]!;
  const w = new BitWriter(values.length + 16);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < values.length; i++) {
    const n = Math.round(values[i]! * p);
    const delta = n - prev;
    writeBucket(w, zigzag(delta - prevDelta));
    prev = n;
    prevDelta = delta;
  }
  return w.bytes();
}

/** Decodes exactly `n` values; any value past the 2^49 bound or a stream of another length is an error. */
export function decodeDecimal(bytes: Uint8Array, n: number, digits: number, where: string): Float64Array {
  if (!(digits >= 0 && digits <= DECIMAL_MAX_DIGITS)) {
    throw new BlockFormatError(BlockErrorCode.Malformed, `expected 0 to ${DECIMAL_MAX_DIGITS} decimal digits, found ${digits}`, where);
  }
  const p = POW10[digits]!;
  const r = new BitReader(bytes, where);
  const out = new Float64Array(n);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const delta = prevDelta + unzigzag(readBucket(r));
    const v = prev + delta;
    if (!(Math.abs(v) <= DECIMAL_MAX_INT)) {
      throw new BlockFormatError(BlockErrorCode.Malformed, `expected scaled decimal values within ±2^49, found ${v}`, `${where}, value ${i}`);
    }
    out[i] = v / p;
    prev = v;
    prevDelta = delta;
  }
  r.end();
  return out;
}

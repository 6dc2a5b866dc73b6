// Gorilla XOR encoding of float64 values (Pelkonen et al., VLDB 2015), as Prometheus's
// XOR chunk does it for values. See "Float values: XOR" in docs/format/block.md.
import { BitReader, BitWriter } from './bits.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;
const LO = LITTLE ? 0 : 1;

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Encodes `values` (length >= 1). */
export function encodeXor(values: Float64Array): Uint8Array {
  const w = new BitWriter(values.length * 2 + 16);
  f64[0] = values[0]!;
  let phi = u32[HI]!;
  let plo = u32[LO]!;
  w.bits(phi, 32);
  w.bits(plo, 32);
  let pLead = -1;
  let pTrail = 0;
  for (let i = 1; i < values.length; i++) {
    f64[0] = values[i]!;
    const hi = u32[HI]!;
    const lo = u32[LO]!;
    const xhi = (hi ^ phi) >>> 0;
    const xlo = (lo ^ plo) >>> 0;
    phi = hi;
    plo = lo;
    if (xhi === 0 && xlo === 0) {
      w.bit(0);
      continue;
    }
    w.bit(1);
    let lead = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const trail = xlo !== 0 ? ctz32(xlo) : 32 + ctz32(xhi);
    if (lead > 31) lead = 31;
    let sig: number;
    let shift: number;
    if (pLead >= 0 && lead >= pLead && trail >= pTrail) {
      w.bit(0);
      sig = 64 - pLead - pTrail;
      shift = pTrail;
    } else {
      w.bit(1);
      sig = 64 - lead - trail;
      w.bits(lead, 5);
      w.bits(sig & 63, 6); // 64 is written as 0
      pLead = lead;
      pTrail = trail;
      shift = trail;
    }
    // The `sig` bits of (xhi:xlo) >>> shift.
    let shi: number;
    let slo: number;
    if (shift >= 32) {
      shi = 0;
      slo = xhi >>> (shift - 32);
    } else if (shift > 0) {
      shi = xhi >>> shift;
      slo = ((xlo >>> shift) | (xhi << (32 - shift))) >>> 0;
    } else {
      shi = xhi;
      slo = xlo;
    }
    if (sig > 32) {
      w.bits(shi, sig - 32);
      w.bits(slo, 32);
    } else {
      w.bits(slo, sig);
    }
  }
  return w.bytes();
}

/** Decodes exactly `n` values (n >= 1); a short or over-long stream is a DW_BLOCK_* error. */
export function decodeXor(bytes: Uint8Array, n: number, where: string): Float64Array {
  const r = new BitReader(bytes, where);
  const out = new Float64Array(n);
  let hi = r.bits(32);
  let lo = r.bits(32);
  u32[HI] = hi;
  u32[LO] = lo;
  out[0] = f64[0]!;
  let trail = 0;
  let sig = 0;
  for (let i = 1; i < n; i++) {
    if (r.bit() === 0) {
      out[i] = out[i - 1]!;
      continue;
    }
    if (r.bit() === 1) {
      const lead = r.bits(5);
      sig = r.bits(6);
      if (sig === 0) sig = 64;
      trail = 64 - lead - sig;
      if (trail < 0) {
        throw new BlockFormatError(BlockErrorCode.Malformed, `expected leading zeros + significant bits <= 64, found ${lead} + ${sig}`, `${where}, value ${i}`);
      }
    } else if (sig === 0) {
      throw new BlockFormatError(BlockErrorCode.Malformed, 'expected a bit window before its first reuse, found none', `${where}, value ${i}`);
    }
    let shi: number;
    let slo: number;
    if (sig > 32) {
      shi = r.bits(sig - 32);
      slo = r.bits(32);
    } else {
      shi = 0;
      slo = r.bits(sig);
    }
    let xhi: number;
    let xlo: number;
    if (trail >= 32) {
      xhi = (slo << (trail - 32)) >>> 0;
      xlo = 0;
    } else if (trail > 0) {
      xhi = ((shi << trail) | (slo >>> (32 - trail))) >>> 0;
      xlo = (slo << trail) >>> 0;
    } else {
      xhi = shi;
      xlo = slo;
    }
    hi = (hi ^ xhi) >>> 0;
    lo = (lo ^ xlo) >>> 0;
    u32[HI] = hi;
    u32[LO] = lo;
    out[i] = f64[0]!;
  }
  r.end();
  return out;
}

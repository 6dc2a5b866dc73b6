// Round timestamps: a count, the first time, then delta-of-delta. See "Round times" in
// docs/format/block.md.
import { blockReader, ByteWriter } from './bytes.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';

export function encodeRoundTimes(rounds: Float64Array): Uint8Array {
  const w = new ByteWriter(8 + rounds.length);
  w.uvarint(rounds.length);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < rounds.length; i++) {
    const t = rounds[i]!;
    if (i === 0) {
      w.uvarint(t);
    } else {
      const delta = t - prev;
      w.svarint(delta - prevDelta);
      prevDelta = delta;
    }
    prev = t;
  }
  return w.bytes();
}

/** Decodes and validates: at most `maxRounds`, each time a safe non-negative integer, strictly increasing. */
export function decodeRoundTimes(bytes: Uint8Array, maxRounds: number): Float64Array {
  const r = blockReader(bytes, 'round times');
  const n = r.uvarint();
  if (n > maxRounds) throw new BlockFormatError(BlockErrorCode.LimitExceeded, `expected at most ${maxRounds} rounds, found ${n}`, r.where());
  // The first time takes at least one byte, every other at least one: check before allocating.
  if (n > r.remaining) throw new BlockFormatError(BlockErrorCode.Truncated, `expected ${n} round times, found ${r.remaining} bytes`, r.where());
  const rounds = new Float64Array(n);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    let t: number;
    if (i === 0) {
      t = r.uvarint();
    } else {
      const delta = prevDelta + r.svarint();
      if (delta <= 0) throw new BlockFormatError(BlockErrorCode.Malformed, `expected strictly increasing round times, found a step of ${delta} ms at round ${i}`, r.where());
      t = prev + delta;
      if (t > Number.MAX_SAFE_INTEGER) throw new BlockFormatError(BlockErrorCode.Malformed, `expected round times below 2^53, found ${t}`, r.where());
      prevDelta = delta;
    }
    rounds[i] = t;
    prev = t;
  }
  r.end();
  return rounds;
}

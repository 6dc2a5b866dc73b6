// String values as change points against the block's symbols. See "String values" in
// docs/format/block.md.
import { blockReader, ByteWriter } from './bytes.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';

/** Encodes change points: a count, then the first symbol, then (gap, symbol) pairs. */
export function encodeChanges(changeAt: Uint32Array, symbolRefs: Uint32Array): Uint8Array {
  const w = new ByteWriter(2 + changeAt.length * 4);
  w.uvarint(changeAt.length);
  for (let i = 0; i < changeAt.length; i++) {
    if (i > 0) w.uvarint(changeAt[i]! - changeAt[i - 1]!);
    w.uvarint(symbolRefs[i]!);
  }
  return w.bytes();
}

/**
 * Decodes and validates change points for a series with `present` samples: at least one change,
 * the first at 0, gaps at least 1, all within the samples, symbols in range, and no symbol equal
 * to the one before it.
 */
export function decodeChanges(bytes: Uint8Array, present: number, symbols: readonly string[], where: string): { changeAt: Uint32Array; changeValues: string[] } {
  const r = blockReader(bytes, where);
  const n = r.uvarint();
  if (n < 1 || n > present || n > r.remaining) {
    throw new BlockFormatError(BlockErrorCode.Malformed, `expected 1 to ${Math.min(present, r.remaining)} change points, found ${n}`, r.where());
  }
  const changeAt = new Uint32Array(n);
  const changeValues = new Array<string>(n);
  let at = 0;
  let prevRef = -1;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const gap = r.uvarint();
      if (gap < 1) throw new BlockFormatError(BlockErrorCode.Malformed, `expected a change point gap of at least 1, found ${gap}`, r.where());
      at += gap;
      if (at >= present) throw new BlockFormatError(BlockErrorCode.Malformed, `expected change points below ${present} samples, found one at ${at}`, r.where());
    }
    const ref = r.uvarint();
    if (ref >= symbols.length) throw new BlockFormatError(BlockErrorCode.Malformed, `expected a symbol index below ${symbols.length}, found ${ref}`, r.where());
    if (ref === prevRef) throw new BlockFormatError(BlockErrorCode.Malformed, `expected change point ${i} to change the value, found the same symbol ${ref}`, r.where());
    changeAt[i] = at;
    changeValues[i] = symbols[ref]!;
    prevRef = ref;
  }
  r.end();
  return { changeAt, changeValues };
}

import { BlockErrorCode, BlockFormatError } from './errors.js';

/** Writes bit fields most significant bit first. */
export class BitWriter {
  #buf: Uint8Array;
  #bit = 0;
  constructor(initialBytes = 64) {
    this.#buf = new Uint8Array(initialBytes);
  }
  #reserve(bits: number): void {
    const need = ((this.#bit + bits + 7) >>> 3) + 1;
    if (need <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, need));
    next.set(this.#buf);
    this.#buf = next;
  }
  bit(b: number): void {
    this.#reserve(1);
    if (b !== 0) this.#buf[this.#bit >>> 3]! |= 0x80 >>> (this.#bit & 7);
    this.#bit++;
  }
  /** The low `n` bits of `v` (0 <= n <= 32, v an unsigned 32-bit value). */
  bits(v: number, n: number): void {
    this.#reserve(n);
    const buf = this.#buf;
    let pos = this.#bit;
    while (n > 0) {
      const free = 8 - (pos & 7);
      const take = free < n ? free : n;
      const chunk = (v >>> (n - take)) & ((1 << take) - 1);
      buf[pos >>> 3]! |= chunk << (free - take);
      pos += take;
      n -= take;
    }
    this.#bit = pos;
  }
  /** A safe non-negative integer in `n` bits, 32 < n <= 53. */
  wide(v: number, n: number): void {
    const hi = Math.floor(v / 4294967296);
    this.bits(hi, n - 32);
    this.bits(v >>> 0, 32);
  }
  get bitLength(): number {
    return this.#bit;
  }
  bytes(): Uint8Array {
    return this.#buf.subarray(0, (this.#bit + 7) >>> 3);
  }
}

/** Reads what BitWriter wrote; reading past the end is a DW_BLOCK_TRUNCATED error. */
export class BitReader {
  readonly #buf: Uint8Array;
  readonly #end: number;
  #bit = 0;
  readonly #section: string;
  constructor(buf: Uint8Array, section: string) {
    this.#buf = buf;
    this.#end = buf.length * 8;
    this.#section = section;
  }
  #truncated(n: number): never {
    throw new BlockFormatError(BlockErrorCode.Truncated, `expected ${n} more bits, found ${this.#end - this.#bit}`, `${this.#section}, bit ${this.#bit}`);
  }
  bit(): number {
    if (this.#bit >= this.#end) this.#truncated(1);
    const b = (this.#buf[this.#bit >>> 3]! >>> (7 - (this.#bit & 7))) & 1;
    this.#bit++;
    return b;
  }
  /** `n` bits (0 <= n <= 32) as an unsigned number. */
  bits(n: number): number {
    if (this.#bit + n > this.#end) this.#truncated(n);
    const buf = this.#buf;
    let pos = this.#bit;
    let v = 0;
    while (n > 0) {
      const avail = 8 - (pos & 7);
      const take = avail < n ? avail : n;
      const chunk = (buf[pos >>> 3]! >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + chunk;
      pos += take;
      n -= take;
    }
    this.#bit = pos;
    return v;
  }
  wide(n: number): number {
    const hi = this.bits(n - 32);
    return hi * 4294967296 + this.bits(32);
  }
  /** Fails unless only zero padding (< 8 bits) is left. */
  end(): void {
    const left = this.#end - this.#bit;
    if (left >= 8 || (left > 0 && this.bits(left) !== 0)) {
      throw new BlockFormatError(BlockErrorCode.Malformed, `expected the end of the ${this.#section}, found ${left} more bits`, `${this.#section}, bit ${this.#bit}`);
    }
  }
}

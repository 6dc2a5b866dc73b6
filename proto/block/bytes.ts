import { BlockErrorCode, BlockFormatError } from './errors.js';

const TWO_32 = 2 ** 32;

/** A growable byte buffer with protobuf-style varints. Integers must be safe (|n| < 2^53). */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;
  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
  }
  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  /** Unsigned LEB128; `n` must be a safe non-negative integer. */
  uvarint(n: number): void {
    this.#reserve(8);
    const buf = this.#buf;
    let len = this.#len;
    while (n >= 0x80) {
      buf[len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[len++] = n;
    this.#len = len;
  }
  /** Zig-zag then unsigned LEB128; `n` must be a safe integer. */
  svarint(n: number): void {
    this.uvarint(zigzag(n));
  }
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** A bounds-checked reader; every problem is a BlockFormatError naming `section` and the offset. */
export class ByteReader {
  readonly #buf: Uint8Array;
  #pos = 0;
  readonly #section: string;
  constructor(buf: Uint8Array, section: string) {
    this.#buf = buf;
    this.#section = section;
  }
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }
  get offset(): number {
    return this.#pos;
  }
  where(): string {
    return `${this.#section}, byte ${this.#pos}`;
  }
  /** An unsigned varint of at most 8 bytes (53 bits). */
  uvarint(): number {
    const buf = this.#buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.#pos >= buf.length) {
        throw new BlockFormatError(BlockErrorCode.Truncated, 'expected a varint, found the end of the data', this.where());
      }
      const b = buf[this.#pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) break;
        return result;
      }
      scale *= 0x80;
    }
    throw new BlockFormatError(BlockErrorCode.Malformed, 'expected a varint below 2^53, found a longer one', this.where());
  }
  svarint(): number {
    return unzigzag(this.uvarint());
  }
  /** Fails unless every byte was read. */
  end(): void {
    if (this.#pos !== this.#buf.length) {
      throw new BlockFormatError(BlockErrorCode.Malformed, `expected the end of the ${this.#section}, found ${this.#buf.length - this.#pos} more bytes`, this.where());
    }
  }
}

/** Zig-zag for safe integers (arithmetic, not 32-bit shifts). */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export { TWO_32 };

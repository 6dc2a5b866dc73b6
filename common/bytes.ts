// Byte-level building blocks shared by the block codec and the edge store's records:
// a growable writer and a bounds-checked reader with LEB128 varints.

/** Zig-zag for safe integers (arithmetic, not 32-bit shifts): 0, -1, 1, -2 … → 0, 1, 2, 3 …. */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** A growable byte buffer. Integers must be safe (|n| < 2^53). */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }
  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }
  /** Unsigned LEB128; `n` must be a safe non-negative integer (at most 8 bytes). */
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
  /** Zig-zag, then unsigned LEB128. */
  svarint(n: number): void {
    this.uvarint(zigzag(n));
  }
  /** A float64, little-endian. */
  f64(v: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#len, v, true);
    this.#len += 8;
  }
  /** A uvarint length, then the bytes. */
  lengthPrefixed(b: Uint8Array): void {
    this.uvarint(b.length);
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  /** The bytes written so far (a view: copy it if the writer is used again). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** How a reader reports a problem: it must throw its caller's own error type. */
export type ByteReaderFail = (kind: 'truncated' | 'malformed', message: string, where: string) => never;

/** A bounds-checked reader: nothing is read or allocated past the end of the input. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #section: string;
  readonly #fail: ByteReaderFail;
  #pos = 0;
  constructor(buf: Uint8Array, section: string, fail: ByteReaderFail) {
    this.#buf = buf;
    this.#section = section;
    this.#fail = fail;
  }
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }
  where(): string {
    return `${this.#section}, byte ${this.#pos}`;
  }
  byte(): number {
    if (this.#pos >= this.#buf.length) this.#fail('truncated', 'expected a byte, found the end of the data', this.where());
    return this.#buf[this.#pos++]!;
  }
  /** An unsigned varint of at most 8 bytes, below 2^53. */
  uvarint(): number {
    const buf = this.#buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.#pos >= buf.length) this.#fail('truncated', 'expected a varint, found the end of the data', this.where());
      const b = buf[this.#pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) break;
        return result;
      }
      scale *= 0x80;
    }
    return this.#fail('malformed', 'expected a varint below 2^53, found a longer one', this.where());
  }
  svarint(): number {
    return unzigzag(this.uvarint());
  }
  /** A uvarint count of entries that take at least one byte each: never more than the bytes left. */
  count(): number {
    const n = this.uvarint();
    if (n > this.remaining) this.#fail('malformed', `expected a count of at most the ${this.remaining} bytes left, found ${n}`, this.where());
    return n;
  }
  /** A float64, little-endian. */
  f64(): number {
    if (this.remaining < 8) this.#fail('truncated', `expected 8 bytes, found ${this.remaining}`, this.where());
    const v = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, 8).getFloat64(0, true);
    this.#pos += 8;
    return v;
  }
  /** A uvarint length, then that many bytes (a view into the input). */
  lengthPrefixed(): Uint8Array {
    const n = this.uvarint();
    if (n > this.remaining) this.#fail('truncated', `expected ${n} bytes, found ${this.remaining}`, this.where());
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  /** Fails unless every byte was read. */
  end(): void {
    if (this.remaining !== 0) this.#fail('malformed', `expected the end of the ${this.#section}, found ${this.remaining} more bytes`, this.where());
  }
}

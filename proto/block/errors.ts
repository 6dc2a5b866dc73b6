import { DriftwatchError } from '../../common/errors.js';

/**
 * The block codec's error catalog. Every decoding problem is a BlockFormatError with one of
 * these codes, a message saying what was expected and what was found, and where.
 */
export const BlockErrorCode = {
  /** The input ends before a length it declares. */
  Truncated: 'DW_BLOCK_TRUNCATED',
  /** The first four bytes are not the block magic: not a driftwatch block. */
  BadMagic: 'DW_BLOCK_BAD_MAGIC',
  /** A format or encoder version this decoder does not know. */
  UnsupportedVersion: 'DW_BLOCK_UNSUPPORTED_VERSION',
  /** A stored checksum does not match the bytes. */
  ChecksumMismatch: 'DW_BLOCK_CHECKSUM_MISMATCH',
  /** A declared length or count is past the decoder's limits. */
  LimitExceeded: 'DW_BLOCK_LIMIT_EXCEEDED',
  /** The payload does not decompress, or decompresses to another length than declared. */
  Decompression: 'DW_BLOCK_DECOMPRESSION',
  /** The structure is invalid: a bad protobuf field, an index out of range, runs that do not add up. */
  Malformed: 'DW_BLOCK_MALFORMED',
  /** Bytes follow the end of the block. */
  TrailingBytes: 'DW_BLOCK_TRAILING_BYTES',
  /** The encoder was given data that is not canonical (see BlockData). */
  InvalidInput: 'DW_BLOCK_INVALID_INPUT',
} as const;

export type BlockErrorCode = (typeof BlockErrorCode)[keyof typeof BlockErrorCode];

/** A typed decoding or encoding error: `code` from BlockErrorCode, `where` the section and offset. */
export class BlockFormatError extends DriftwatchError {
  declare readonly code: BlockErrorCode;
  constructor(code: BlockErrorCode, message: string, where?: string, cause?: unknown) {
    super(code, message, { ...(where === undefined ? {} : { where }), cause });
    this.name = 'BlockFormatError';
  }
}

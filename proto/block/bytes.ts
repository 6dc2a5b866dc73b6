// The block codec's byte reader: the shared one (common/bytes.ts), failing with BlockFormatError.
import { ByteReader } from '../../common/bytes.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';

export { ByteWriter, zigzag, unzigzag } from '../../common/bytes.js';

/** A reader over `buf` whose problems are DW_BLOCK_TRUNCATED or DW_BLOCK_MALFORMED errors naming `section`. */
export function blockReader(buf: Uint8Array, section: string): ByteReader {
  return new ByteReader(buf, section, (kind, message, where) => {
    throw new BlockFormatError(kind === 'truncated' ? BlockErrorCode.Truncated : BlockErrorCode.Malformed, message, where);
  });
}

// Verifying an uploaded block before it is stored: the header as soon as it has arrived (site,
// id, frame size), then the whole block (SHA-256 and a full decode within the decoder's caps).
import { createHash } from 'node:crypto';
import { ulidToString } from '../../common/ulid.js';
import { BlockErrorCode, BlockFormatError, decodeBlock, decodeBlockHeader, type BlockHeader, type DecodeLimits } from '../../proto/index.js';
import type { BlockSummary } from '../storage/index.js';
import { siteMismatch } from './auth.js';
import { fail, IngestErrorCode } from './errors.js';

/** What Begin declared. */
export interface DeclaredBlock {
  readonly site: string;
  /** ULID text. */
  readonly id: string;
  readonly size: number;
  /** Lowercase hex. */
  readonly sha256: string;
}

/** The fixed bytes of the frame around the header: magic, version, header_len, header_crc, payload_crc. */
const FRAME_OVERHEAD = 17;

function blockInvalid(err: BlockFormatError): never {
  throw fail(IngestErrorCode.BlockInvalid, `expected a block that decodes within the server's limits, found ${err.code}: ${err.message}`, { cause: err });
}

function checkHeader(header: BlockHeader, headerLen: number, declared: DeclaredBlock): void {
  if (header.siteId !== declared.site) throw siteMismatch(declared.site, header.siteId, 'a block whose header names site');
  const id = header.blockId.length === 16 ? ulidToString(header.blockId) : `${header.blockId.length} bytes`;
  if (id !== declared.id) throw fail(IngestErrorCode.HeaderMismatch, `expected a block whose header names block ${declared.id} (as Begin did), found ${id}`);
  const total = FRAME_OVERHEAD + headerLen + header.payloadLength;
  if (total !== declared.size) throw fail(IngestErrorCode.HeaderMismatch, `expected a block of ${declared.size} bytes (as Begin declared), found a header that frames ${total} bytes`);
}

/**
 * Checks the header once the prefix holds it: resolves to true when checked, false when more
 * bytes are needed. Throws IngestFailure: DW_INGEST_BLOCK_INVALID (bad magic, header checksum,
 * limits), DW_INGEST_SITE_MISMATCH (another site's block), DW_INGEST_HEADER_MISMATCH.
 */
export function checkHeaderPrefix(prefix: Uint8Array, declared: DeclaredBlock, limits: DecodeLimits): boolean {
  let header: BlockHeader;
  try {
    header = decodeBlockHeader(prefix, limits);
  } catch (err) {
    if (err instanceof BlockFormatError && err.code === BlockErrorCode.Truncated) return false;
    if (err instanceof BlockFormatError) blockInvalid(err);
    throw err;
  }
  const headerLen = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(5);
  checkHeader(header, headerLen, declared);
  return true;
}

/**
 * Verifies a whole block: its SHA-256 against Begin's (DW_INGEST_CHECKSUM_MISMATCH), a full decode
 * within `limits` (DW_INGEST_BLOCK_INVALID), and its header against Begin. Resolves to what the
 * storage keeps beside it.
 */
export function verifyBlock(bytes: Uint8Array, sha256: string, declared: DeclaredBlock, limits: DecodeLimits): BlockSummary {
  if (sha256 !== declared.sha256) throw fail(IngestErrorCode.ChecksumMismatch, `expected SHA-256 ${declared.sha256} (from Begin), found ${sha256} over the ${bytes.length} bytes received`);
  let header: BlockHeader;
  try {
    header = decodeBlock(bytes, limits).header;
  } catch (err) {
    if (err instanceof BlockFormatError) blockInvalid(err);
    throw err;
  }
  checkHeader(header, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5), declared);
  return {
    sha256, minT: header.minT, maxT: header.maxT, sequence: header.sequence, level: header.level, replaces: header.replaces.map((r) => ulidToString(r)),
    createdAt: header.createdAt, numRounds: header.numRounds, numSeries: header.numSeries, numSamples: header.numSamples, numEvents: header.numEvents,
    numStringSeries: header.numStringSeries, numStringSamples: header.numStringSamples,
  };
}

/** SHA-256 of bytes, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

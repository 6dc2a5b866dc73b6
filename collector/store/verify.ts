// Reading a sealed block for use: fetch its bytes, decode them fully and check that the header
// belongs to the block info. Anything wrong quarantines the block (see quarantine.ts).
import type { AbstractGetOptions } from 'abstract-level';
import { errorMessage } from '../../common/errors.js';
import { ulidToString } from '../../common/ulid.js';
import type { Block, BlockHeader } from '../../proto/index.js';
import { BlockFormatError, decodeBlock } from '../../proto/index.js';
import type { BlockInfo } from './block-info.js';
import type { StoreContext } from './context.js';
import { blockKey } from './keys.js';
import { quarantineBlock } from './quarantine.js';

/** Why a decoded header does not belong to the block info it was stored under, or undefined. */
export function headerMismatch(ctx: StoreContext, info: BlockInfo, header: BlockHeader): string | undefined {
  let id: string;
  try {
    id = ulidToString(header.blockId);
  } catch {
    return `expected a 16-byte block id, found ${header.blockId.length} bytes`;
  }
  if (id !== info.id) return `expected block id ${info.id} in the header, found ${id}`;
  if (header.siteId !== ctx.opts.siteId) return `expected site ${ctx.opts.siteId} in the header, found ${header.siteId}`;
  if (header.sequence !== info.sequence) return `expected sequence ${info.sequence} in the header, found ${header.sequence}`;
  return undefined;
}

/**
 * The bytes and decoded contents of live block `info`, or undefined after quarantining it:
 * its bytes unreadable or missing, a BlockFormatError, or a header that names another block.
 */
export async function readVerifiedBlock(ctx: StoreContext, info: BlockInfo): Promise<{ bytes: Uint8Array; block: Block } | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await ctx.db.get(blockKey(info.id), { fillCache: false } as AbstractGetOptions<string, Uint8Array>); // LevelDB's option: a block is read about once
  } catch (err) {
    await quarantineBlock(ctx, info.id, 'DW_STORE_UNREADABLE', `the database could not read the block: ${errorMessage(err)}`);
    return undefined;
  }
  if (bytes === undefined) {
    await quarantineBlock(ctx, info.id, 'DW_STORE_MISSING_BYTES', 'the block info has no block bytes');
    return undefined;
  }
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch (err) {
    if (!(err instanceof BlockFormatError)) throw err;
    await quarantineBlock(ctx, info.id, err.code, err.message);
    return undefined;
  }
  const problem = headerMismatch(ctx, info, block.header);
  if (problem !== undefined) {
    await quarantineBlock(ctx, info.id, 'DW_STORE_HEADER_MISMATCH', problem);
    return undefined;
  }
  return { bytes, block };
}

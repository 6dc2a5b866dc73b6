// Presence runs: in which rounds a series has a value. See "Presence" in docs/format/block.md.
import { blockReader, ByteWriter } from './bytes.js';
import { BlockErrorCode, BlockFormatError } from './errors.js';
import type { PresenceRuns } from './types.js';

/** Encodes canonical runs: a count, then each run length, as unsigned varints. */
export function encodePresence(runs: PresenceRuns): Uint8Array {
  const w = new ByteWriter(4 + runs.length * 2);
  w.uvarint(runs.length);
  for (let i = 0; i < runs.length; i++) w.uvarint(runs[i]!);
  return w.bytes();
}

/**
 * Decodes and validates runs against the block's round count. Returns the runs and the number
 * of rounds in which the series is present (at least 1).
 */
export function decodePresence(bytes: Uint8Array, numRounds: number, where: string): { runs: PresenceRuns; present: number } {
  const r = blockReader(bytes, where);
  const n = r.uvarint();
  // Every run takes at least one byte: a count past the bytes left is corrupt, not an allocation.
  if (n < 2 || n > r.remaining) {
    throw new BlockFormatError(BlockErrorCode.Malformed, `expected 2 to ${r.remaining} presence runs, found ${n}`, r.where());
  }
  const runs = new Uint32Array(n);
  let total = 0;
  let present = 0;
  for (let i = 0; i < n; i++) {
    const len = r.uvarint();
    if (len === 0 && i > 0) throw new BlockFormatError(BlockErrorCode.Malformed, `expected presence run ${i} to be at least 1, found 0`, r.where());
    total += len;
    if (total > numRounds) throw new BlockFormatError(BlockErrorCode.Malformed, `expected presence runs adding up to ${numRounds} rounds, found more`, r.where());
    runs[i] = len;
    if (i % 2 === 1) present += len;
  }
  r.end();
  if (total !== numRounds) throw new BlockFormatError(BlockErrorCode.Malformed, `expected presence runs adding up to ${numRounds} rounds, found ${total}`, where);
  return { runs, present };
}

/** Checks the canonical form (used by the encoder on its input). Returns the present count. */
export function checkPresence(runs: PresenceRuns, numRounds: number, where: string): number {
  let total = 0;
  let present = 0;
  for (let i = 0; i < runs.length; i++) {
    if (runs[i] === 0 && i > 0) throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected presence run ${i} to be at least 1, found 0`, where);
    total += runs[i]!;
    if (i % 2 === 1) present += runs[i]!;
  }
  if (runs.length < 2 || total !== numRounds || present === 0) {
    throw new BlockFormatError(BlockErrorCode.InvalidInput, `expected at least 2 presence runs adding up to ${numRounds} rounds with at least one present, found ${runs.length} runs adding up to ${total}, ${present} present`, where);
  }
  return present;
}

/** Calls `fn(roundIndex, sampleIndex)` for each round in which the series is present, in order. */
export function forEachPresent(runs: PresenceRuns, fn: (round: number, sample: number) => void): void {
  let round = 0;
  let sample = 0;
  for (let i = 0; i < runs.length; i++) {
    const len = runs[i]!;
    if (i % 2 === 0) {
      round += len;
    } else {
      for (let k = 0; k < len; k++) fn(round++, sample++);
    }
  }
}

/** Appends `len` rounds of presence (`present`) to a run list being built. */
export function pushRun(runs: number[], present: boolean, len: number): void {
  if (len === 0) return;
  const wantOdd = present;
  if (runs.length === 0) {
    if (present) runs.push(0, len);
    else runs.push(len);
    return;
  }
  const lastIsPresent = (runs.length - 1) % 2 === 1;
  if (lastIsPresent === wantOdd) runs[runs.length - 1]! += len;
  else runs.push(len);
}

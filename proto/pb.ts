// The generated protobuf code, with 64-bit integers as numbers (see pb-setup.ts). Times are
// milliseconds since the epoch and counts stay far below 2^53.
import './pb-setup.js';
export { driftwatch as blockPb } from './gen/block.js';
export { driftwatch as ingestPb } from './gen/ingest.js';

// Child process of the SIGKILL test in level-storage.test.ts: appends chunks to a partial upload
// (written without fsync), prints how many bytes it appended, then waits to be killed.
import { openLevelStorage } from '../../../aggregator/storage/index.js';
import { blockIds, bytesOf, summaryOf } from './storage-contract.js';

const dir = process.argv[2]!;
const storage = await openLevelStorage({ dir });
const [id] = blockIds(1);
const whole = bytesOf('killed mid-upload', 10_000);
const target = { size: whole.length, sha256: summaryOf(whole).sha256 };
let offset = 0;
for (let i = 0; i < 7; i++) {
  const p = await storage.appendChunk('kill-site', id!, target, offset, whole.subarray(offset, offset + 1000), Date.now());
  offset = p.offset;
}
process.stdout.write(`appended ${offset}\n`);
setInterval(() => undefined, 60_000);

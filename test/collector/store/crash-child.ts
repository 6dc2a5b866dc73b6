// The child of crash.test.ts: opens the store in argv[2] and appends rounds for run argv[3]
// until it is killed, printing `ready` once open and `ack <t>` after each appendRound resolved.
// Every few rounds it compacts, so kills also land inside compactions and seals.
import { ManualClock } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { openEdgeStore } from '../../../collector/store/index.js';
import { CRASH_OPTIONS, crashRound, runBase } from './crash-rounds.js';

const dir = process.argv[2]!;
const run = Number(process.argv[3]);
const base = runBase(run);
const clock = new ManualClock(base);
const store = await openEdgeStore({ dir, siteId: 'crash-site', clock, random: seededRandom(run + 1), ...CRASH_OPTIONS });
process.stdout.write('ready\n');
for (let i = 0; i < 5000; i++) {
  const t = base + i * 1000;
  clock.set(t);
  await store.appendRound(crashRound(t));
  process.stdout.write(`ack ${t}\n`);
  if (i % 7 === 6) await store.compact();
}
await store.close();
process.stdout.write('done\n');

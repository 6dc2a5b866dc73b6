// `driftwatch demo` (what `npm start` runs): the interim demo of the foundation. A seeded
// synthetic edge site is sampled into a real edge store in a temporary directory on a simulated
// clock; the store seals 5-minute blocks and compacts the past hours; the demo prints what the
// store holds. The full demo (a simulated fleet through a week) replaces it in a later issue.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEdgeStore } from '../collector/store/index.js';
import { ManualClock } from '../common/clock.js';
import { DriftwatchError } from '../common/errors.js';
import { seededRandom } from '../common/random.js';
import { syntheticSite, syntheticSiteShape, type SyntheticSiteOptions } from '../bench/synthetic-site.js';
import { formatStoreListing, inspectStore } from './block-inspect.js';
import type { CliIo } from './cli.js';

const USAGE = 'usage: driftwatch demo [--keep]';
const SITE = 'shop-0042';

const NOTE = `This interim demo shows the edge store on a synthetic site. The rest runs today as
commands: the edge agent with its real sources (\`driftwatch agent --config agent.yaml\`,
docs/agent.md) ships its blocks over gRPC to \`driftwatch aggregator\` (docs/shipper.md,
docs/aggregator.md) through any outage, and \`driftwatch report\` asks the aggregator which sites
drift, failed to upgrade or went stale (docs/reports.md). Next, this demo becomes a simulated
fleet of 500 sites followed through a week.`;

/** The `demo` command. Returns 0; throws a DriftwatchError (exit 2) on a bad option. */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  let keep = false;
  for (const a of args) {
    if (a === '--keep') keep = true;
    else if (a === '--help' || a === '-h') {
      io.stdout.write(`${USAGE}\n  --keep  keep the store directory and print its path\n`);
      return 0;
    } else throw new DriftwatchError('DW_CLI_USAGE', `expected ${USAGE.slice('usage: '.length)}, found ${JSON.stringify(a)}`);
  }

  // Two hours and a quarter: the first two hours are compacted into hour blocks, the last
  // quarter stays in 5-minute blocks, as on an agent whose link is down.
  const site: SyntheticSiteOptions = { seed: 42, durationMs: 2.25 * 3_600_000, start: Date.UTC(2025, 10, 20, 8) };
  const shape = syntheticSiteShape(site);
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-demo-'));
  const out = (line = ''): boolean => io.stdout.write(`${line}\n`);
  try {
    out(`driftwatch demo: the edge store of one synthetic site (${SITE})`);
    out(`  ${shape.stringSeries} string series (images, versions, config hashes, statuses) and ${shape.floatSeries} float series`);
    out(`  (disk, temperature, CPU, memory, restarts), sampled every ${shape.intervalMs / 1000} s from ${new Date(shape.start).toISOString()},`);
    out(`  ${shape.rounds} rounds on a simulated clock, appended to a real LevelDB store in ${dir}`);
    out();

    const clock = new ManualClock(shape.start);
    const store = await openEdgeStore({ dir, siteId: SITE, clock, random: seededRandom(42) });
    try {
      let samples = 0;
      let sealed = 0;
      const started = performance.now();
      for (const round of syntheticSite(site)) {
        clock.set(round.t);
        samples += round.samples.length;
        if ((await store.appendRound(round)) !== undefined) sealed++;
      }
      const appendMs = performance.now() - started;
      if ((await store.flush()) !== undefined) sealed++;
      clock.set(shape.end + shape.intervalMs);
      const compaction = await store.compact();
      out(`appended ${shape.rounds} rounds (${samples.toLocaleString('en-US')} samples) in ${(appendMs / 1000).toFixed(1)} s, each synced before the next;`);
      out(`sealed ${sealed} five-minute blocks; compaction merged ${compaction.replaced} of them into ${compaction.created.length} hour block${compaction.created.length === 1 ? '' : 's'}.`);
      out();
      const listing = await inspectStore(store);
      out(formatStoreListing(dir, listing));
      out();
      const totalBytes = listing.blocks.reduce((n, b) => n + b.stats.bytes, 0);
      out(`${listing.blocks.length} blocks, ${totalBytes.toLocaleString('en-US')} bytes for ${samples.toLocaleString('en-US')} samples: ${(totalBytes / samples).toFixed(3)} bytes per sample.`);
    } finally {
      await store.close();
    }
    out();
    out(NOTE);
    if (keep) out(`\nThe store is kept: driftwatch block inspect ${dir}`);
    return 0;
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

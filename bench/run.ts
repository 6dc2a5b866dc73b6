// Runs the benchmarks: `npm run bench [-- [--iterations N] [case-substring ...]]`.
// Prints a human table per case, and one JSON line per case (a line starting with `{"case":`).
// Seeds are fixed; figures of one run are comparable with each other (the baselines run in the
// same process, on the same data).
import { agentFootprintCase } from './agent-footprint.js';
import { blockCodecCase } from './block-codec.js';
import { contactsStartupCases } from './contacts-startup.js';
import { fleetReportsCases } from './fleet-reports.js';
import { ingestThroughputCases } from './ingest-throughput.js';
import { formatJson, formatTable, type BenchCase, type CaseResult } from './report.js';
import { shippingOutageCase } from './shipping-outage.js';
import { storeAppendCases } from './store-append.js';

interface Args {
  iterations: number;
  filters: string[];
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { iterations: 5, filters: [], list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--iterations' || a.startsWith('--iterations=')) {
      const raw = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(raw);
      if (!(Number.isInteger(n) && n >= 1)) throw new Error(`DW_BENCH_USAGE: expected --iterations N with N >= 1, found ${JSON.stringify(raw)}`);
      args.iterations = n;
    } else if (a === '--list') {
      args.list = true;
    } else if (a.startsWith('-')) {
      throw new Error(`DW_BENCH_USAGE: expected --iterations N, --list or case names, found ${JSON.stringify(a)}`);
    } else {
      args.filters.push(a);
    }
  }
  return args;
}

/** Every case, in the order they run. */
function allCases(): BenchCase[] {
  return [blockCodecCase(24), blockCodecCase(1), ...storeAppendCases(), agentFootprintCase(), ...ingestThroughputCases(), shippingOutageCase(), ...fleetReportsCases(), ...contactsStartupCases()];
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 2;
  }
  const all = allCases();
  if (args.list) {
    for (const c of all) console.log(c.name);
    return 0;
  }
  const selected = args.filters.length === 0 ? all : all.filter((c) => args.filters.some((f) => c.name.includes(f)));
  if (selected.length === 0) {
    console.error(`bench: DW_BENCH_NONE: expected a case matching ${JSON.stringify(args.filters)}, found none among:\n  ${all.map((c) => c.name).join('\n  ')}`);
    return 2;
  }
  for (const c of selected) {
    const result: CaseResult = await c.run({ iterations: args.iterations, log: (line) => process.stderr.write(`bench: ${line}\n`) });
    console.log(formatTable(result));
    console.log(formatJson(result, new Date()));
    console.log('');
  }
  return 0;
}

process.exitCode = await main();

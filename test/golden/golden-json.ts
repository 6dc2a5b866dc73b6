// A JSON rendering of a decoded block for the golden fixtures: every float as its exact text
// form (so NaN, -0 and infinities survive), ids as ULID text.
import { ulidToString } from '../../common/ulid.js';
import { forEachSample, type Block } from '../../proto/index.js';

function floatText(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

export function goldenJson(block: Block): unknown {
  const { header, data } = block;
  return {
    header: { ...header, blockId: ulidToString(header.blockId), replaces: header.replaces.map(ulidToString) },
    rounds: Array.from(data.rounds),
    series: data.series.map((s) => {
      const samples: [number, string][] = [];
      forEachSample(s, (round, value) => samples.push([data.rounds[round]!, typeof value === 'number' ? floatText(value) : value]));
      return { name: s.name, labels: s.labels, type: s.type, samples };
    }),
    events: data.events,
  };
}

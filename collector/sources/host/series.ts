// The host source's series, built from parsed files. Label objects are created once and reused
// round after round (the store and the block builder find series faster by object identity).
import type { Labels, Sample } from '../../../proto/index.js';
import { CPU_MODES, type CpuStat } from './parse.js';

/** os-release fields → string series (node_exporter's node_os_info labels, as values). */
export const OS_RELEASE_SERIES: readonly (readonly [field: string, name: string])[] = [
  ['ID', 'node_os_id'],
  ['VERSION_ID', 'node_os_version_id'],
  ['PRETTY_NAME', 'node_os_pretty_name'],
];

const NO_LABELS: Labels = Object.freeze({});

/** Interns label objects by a caller-chosen key. */
export class LabelCache {
  readonly #byKey = new Map<string, Labels>();
  get(key: string, make: () => Labels): Labels {
    let labels = this.#byKey.get(key);
    if (labels === undefined) {
      labels = Object.freeze(make());
      this.#byKey.set(key, labels);
    }
    return labels;
  }
}

export function stringSample(name: string, value: string, labels: Labels = NO_LABELS): Sample {
  return { name, labels, type: 'string', value };
}

export function floatSample(name: string, value: number, labels: Labels = NO_LABELS): Sample {
  return { name, labels, type: 'float', value };
}

/** node_cpu_seconds_total by mode, summed over CPUs or per CPU. */
export function cpuSamples(stat: CpuStat, perCpu: boolean, cache: LabelCache): Sample[] {
  const out: Sample[] = [];
  if (!perCpu) {
    CPU_MODES.forEach((mode, i) => {
      out.push(floatSample('node_cpu_seconds_total', stat.total[i]!, cache.get(`cpu:${mode}`, () => ({ mode }))));
    });
    return out;
  }
  for (const [cpu, seconds] of stat.perCpu) {
    CPU_MODES.forEach((mode, i) => {
      out.push(floatSample('node_cpu_seconds_total', seconds[i]!, cache.get(`cpu:${cpu}:${mode}`, () => ({ cpu, mode }))));
    });
  }
  return out;
}

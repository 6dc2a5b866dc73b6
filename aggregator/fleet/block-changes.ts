// A decoded block as change points: for each series, the rounds (by index) at which its value
// changes, including to and from absent. A series absent in a round is absent, not unchanged.
import { seriesKey, type BlockData } from '../../proto/index.js';
import type { SeriesTable, StringTable } from './interning.js';

/** The kind of a change point's value. */
export const ABSENT = 0;
export const STRING = 1;
export const FLOAT = 2;

/** Change points of every series of one block, flat; series sorted by global series id. */
export interface BlockChanges {
  /** Global series ids, ascending. */
  readonly ids: Uint32Array;
  /** Change points of series `i` are at [start[i], start[i + 1]). The first is at round 0. */
  readonly start: Uint32Array;
  /** The round index of each change point. */
  readonly round: Uint32Array;
  readonly kind: Uint8Array;
  /** A string's id in the value table, or a float. */
  readonly value: Float64Array;
}

/** True when two (kind, value) pairs are the same value (NaN equals NaN, 0 equals -0). */
export function sameValue(k1: number, v1: number, k2: number, v2: number): boolean {
  return k1 === k2 && (k1 === ABSENT || v1 === v2 || (v1 !== v1 && v2 !== v2));
}

/**
 * Which float series the index keeps. Floats that are states (kube-state-metrics counts and
 * flags, GitOps state) change rarely; counters and gauges such as CPU seconds or temperatures
 * change every round and would cost a change point per round. The default keeps `kube_*`,
 * `argocd_*`, `fleet_*`, `system_upgrade_*`, and the node figures the upgrades report reads
 * (file system avail and size, memory available and total).
 */
export type FloatSeriesFilter = (name: string) => boolean;

const NODE_FLOATS = new Set(['node_filesystem_avail_bytes', 'node_filesystem_size_bytes', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes']);

export const DEFAULT_FLOAT_SERIES: FloatSeriesFilter = (name) =>
  name.startsWith('kube_') || name.startsWith('argocd_') || name.startsWith('fleet_') || name.startsWith('system_upgrade_') || NODE_FLOATS.has(name);

/**
 * The identity of DEFAULT_FLOAT_SERIES, written into index snapshots: a snapshot is only loaded
 * by an index that keeps the same float series. Change it whenever DEFAULT_FLOAT_SERIES changes.
 */
export const DEFAULT_FLOAT_SERIES_ID = 'default-1';

// A block's label objects are shared by its series (the decoder builds one per series); a label
// object seen again (the bench, a builder's blocks) skips building the key.
const idsByLabels = new WeakMap<SeriesTable, WeakMap<object, Map<string, number>>>();

function internSeries(table: SeriesTable, name: string, labels: BlockData['series'][number]['labels']): number {
  let byLabels = idsByLabels.get(table);
  if (byLabels === undefined) idsByLabels.set(table, (byLabels = new WeakMap()));
  let byName = byLabels.get(labels);
  if (byName === undefined) byLabels.set(labels, (byName = new Map()));
  let gid = byName.get(name);
  if (gid === undefined) {
    gid = table.intern(seriesKey(name, labels), name, labels);
    byName.set(name, gid);
  }
  return gid;
}

/** Interns the block's series (the float series `keepFloat` keeps) and string values, and lists their change points. */
export function blockChanges(data: BlockData, seriesTable: SeriesTable, values: StringTable, keepFloat: FloatSeriesFilter = DEFAULT_FLOAT_SERIES): BlockChanges {
  const order: { gid: number; i: number }[] = [];
  for (let i = 0; i < data.series.length; i++) {
    const s = data.series[i]!;
    if (s.type === 'float' && !keepFloat(s.name)) continue;
    order.push({ gid: internSeries(seriesTable, s.name, s.labels), i });
  }
  const n = order.length;
  order.sort((a, b) => a.gid - b.gid);
  const ids = new Uint32Array(n);
  const start = new Uint32Array(n + 1);
  const round: number[] = [];
  const kind: number[] = [];
  const value: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = data.series[order[k]!.i]!;
    ids[k] = order[k]!.gid;
    start[k] = round.length;
    let lastKind = -1;
    let lastValue = 0;
    const push = (r: number, kd: number, v: number): void => {
      if (lastKind !== -1 && sameValue(lastKind, lastValue, kd, v)) return;
      round.push(r);
      kind.push(kd);
      value.push(v);
      lastKind = kd;
      lastValue = v;
    };
    const runs = s.presence;
    let r = 0;
    let sample = 0;
    let change = 0;
    let current = 0;
    for (let j = 0; j < runs.length; j++) {
      const len = runs[j]!;
      if (j % 2 === 0) {
        if (len > 0) push(r, ABSENT, 0);
        r += len;
        continue;
      }
      if (s.type === 'string') {
        // Jump from change to change: a run of equal values costs one step, not one per round.
        while (change < s.changeAt.length && s.changeAt[change]! <= sample) current = values.intern(s.changeValues[change++]!);
        push(r, STRING, current);
        const end = sample + len;
        while (change < s.changeAt.length && s.changeAt[change]! < end) {
          const at = s.changeAt[change]!;
          current = values.intern(s.changeValues[change++]!);
          push(r + (at - sample), STRING, current);
        }
        sample = end;
        r += len;
      } else {
        for (let m = 0; m < len; m++, sample++, r++) push(r, FLOAT, s.values[sample]!);
      }
    }
  }
  start[n] = round.length;
  return { ids, start, round: Uint32Array.from(round), kind: Uint8Array.from(kind), value: Float64Array.from(value) };
}

/** The change point of series `k` of `c` in force at round index `r` (the last at or before it). */
export function changeAtRound(c: BlockChanges, k: number, r: number): number {
  let lo = c.start[k]!;
  let hi = c.start[k + 1]! - 1;
  let found = lo;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c.round[mid]! <= r) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

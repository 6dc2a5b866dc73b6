// The merge index: value intervals (absent is absent), late blocks that fill a gap as seen at
// different knownAt, compactions that replace blocks held (no double counting), seal coverage and
// completeThrough (a gap; a gap the edge explains with data_dropped), and the index's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetError, FleetErrorCode, FleetIndex } from '../../../aggregator/fleet/index.js';
import { SiteView } from '../../../aggregator/fleet/site-view.js';
import { newUlid, ulidToString as ulid } from '../../../common/ulid.js';
import { BlockBuilder, encodeBlock, seriesKey } from '../../../proto/index.js';
import { DAY, EdgeSite, HOUR, indexOf, MIN, STEP, T0, type Arrival } from './helpers.js';

const IMG = { namespace: 'shop', deployment: 'pos', container: 'pos' };

function viewOf(index: FleetIndex, site: string, knownAt: number): SiteView {
  return new SiteView(index, index.site(site)!, knownAt);
}

function valueText(view: SiteView, name: string, labels: Record<string, string>, t: number): string | undefined {
  const key = seriesKey(name, labels);
  const gid = view.index.series.idOf(key);
  assert.notEqual(gid, undefined, `series ${key} is indexed`);
  const i = view.seriesIndex(gid!);
  return i < 0 ? undefined : view.text(view.valueAt(i, t));
}

test('a string series holds its value from a round to the next round where it differs or is absent', () => {
  const s = new EdgeSite('shop-1');
  s.set('kube_deployment_container_image', IMG, 'pos:2.4.1').set('up', {}, 'yes');
  const block = s.seal(T0, T0 + 10 * MIN, (t, site) => {
    if (t === T0 + 3 * MIN) site.remove('kube_deployment_container_image', IMG); // absent for two rounds
    if (t === T0 + 3 * MIN + 2 * STEP) site.set('kube_deployment_container_image', IMG, 'pos:2.4.1');
    if (t === T0 + 6 * MIN) site.set('kube_deployment_container_image', IMG, 'pos:2.5.0');
  });
  const index = indexOf([{ block, at: T0 + 11 * MIN }], T0 + 11 * MIN);
  const view = viewOf(index, 'shop-1', T0 + 11 * MIN);
  const v = (t: number) => valueText(view, 'kube_deployment_container_image', IMG, t);
  assert.equal(v(T0 - 1), undefined, 'before the first round: no value');
  assert.equal(v(T0), 'pos:2.4.1');
  assert.equal(v(T0 + 3 * MIN - 1), 'pos:2.4.1');
  assert.equal(v(T0 + 3 * MIN), undefined, 'absent in a round is absent, not unchanged');
  assert.equal(v(T0 + 3 * MIN + STEP + 14_999), undefined);
  assert.equal(v(T0 + 3 * MIN + 2 * STEP), 'pos:2.4.1');
  assert.equal(v(T0 + 6 * MIN), 'pos:2.5.0');
  assert.equal(v(T0 + 1 * DAY), 'pos:2.5.0', 'after the last round the last value holds');
  const st = index.stats();
  assert.equal(st.siteSeries, 2);
  assert.equal(st.changePoints, 1 + 4, 'up: one change point; the image: 2.4.1, absent, 2.4.1, 2.5.0');
  assert.equal(view.lastDataAt(T0 + 1 * DAY), T0 + 10 * MIN - STEP);
  assert.equal(view.lastDataAt(T0 + 4 * MIN + 7_000), T0 + 4 * MIN, 'the latest round at or before the time');
});

test('a block that arrives late fills its gap; a knownAt before its arrival still sees the gap', () => {
  const s = new EdgeSite('shop-1');
  s.set('kube_deployment_container_image', IMG, 'pos:2.4.1').set('phase', {}, 'Running');
  const b1 = s.seal(T0, T0 + HOUR);
  const b2 = s.seal(T0 + HOUR, T0 + 2 * HOUR, (t, site) => {
    if (t === T0 + 90 * MIN) site.set('kube_deployment_container_image', IMG, 'pos:2.5.0').set('phase', {}, 'Pending').set('only_in_b2', {}, 'x');
  });
  s.set('phase', {}, 'Running').remove('only_in_b2', {});
  const b3 = s.seal(T0 + 2 * HOUR, T0 + 3 * HOUR);
  const arrivals: Arrival[] = [{ block: b1, at: T0 + HOUR }, { block: b3, at: T0 + 3 * HOUR }, { block: b2, at: T0 + 3 * DAY }];
  const index = indexOf(arrivals, T0 + 4 * DAY);
  const before = viewOf(index, 'shop-1', T0 + 2 * DAY);
  const after = viewOf(index, 'shop-1', T0 + 4 * DAY);
  const at = (v: SiteView, t: number) => valueText(v, 'kube_deployment_container_image', IMG, t);
  assert.equal(at(before, T0 + 100 * MIN), 'pos:2.4.1', 'in the gap, as known before the late block: the last value before it');
  assert.equal(at(before, T0 + 2 * HOUR), 'pos:2.5.0', 'block 3 already said 2.5.0');
  assert.equal(before.lastDataAt(T0 + 100 * MIN), T0 + HOUR - STEP);
  assert.equal(at(after, T0 + 100 * MIN), 'pos:2.5.0', 'the late block changes the answer about the past');
  assert.equal(at(after, T0 + 90 * MIN - 1), 'pos:2.4.1');
  assert.equal(after.lastDataAt(T0 + 100 * MIN), T0 + 100 * MIN);
  // What held after the gap before the late block came holds there still.
  assert.equal(valueText(after, 'phase', {}, T0 + 100 * MIN), 'Pending');
  assert.equal(valueText(after, 'phase', {}, T0 + 2 * HOUR), 'Running', 'the value after the gap is restored where the late block ends');
  assert.equal(valueText(after, 'only_in_b2', {}, T0 + 2 * HOUR - STEP), 'x');
  assert.equal(valueText(after, 'only_in_b2', {}, T0 + 2 * HOUR), undefined, 'a series only the late block has is absent after it');
  assert.equal(valueText(before, 'phase', {}, T0 + 100 * MIN), 'Running');
  // The change point of 2.5.0 is at 1h30 once known; before, at 2h (the first round that showed it).
  const gid = index.series.idOf('kube_deployment_container_image{container="pos",deployment="pos",namespace="shop"}')!;
  assert.equal(before.valueSince(before.seriesIndex(gid), T0 + 3 * HOUR), T0 + 2 * HOUR);
  assert.equal(after.valueSince(after.seriesIndex(gid), T0 + 3 * HOUR), T0 + 90 * MIN);
  assert.deepEqual(before.completeness.seal[0]!.missing, [2, 2], 'seal index 2 missing until it arrives');
  assert.equal(before.completeThrough, T0 + HOUR, 'complete through the block before the missing one (its last round plus one interval)');
  assert.equal(after.completeThrough, T0 + 3 * HOUR);
});

test('a compaction that replaces blocks held is not counted twice, in any arrival order', () => {
  const s = new EdgeSite('shop-1');
  s.set('kube_deployment_container_image', IMG, 'pos:2.4.1').set('kube_workload_container_restarts_total', {}, 0);
  const parts = [0, 1, 2].map((i) => {
    s.warning(T0 + i * HOUR + 5 * MIN, 'BackOff', `Back-off restarting failed container ${i}`);
    return s.seal(T0 + i * HOUR, T0 + (i + 1) * HOUR, (t, site) => {
      site.set('kube_workload_container_restarts_total', {}, Math.floor((t - T0) / (20 * MIN)));
      site.set('node_cpu_seconds_total', { cpu: '0' }, t / 1000); // a counter: not a state, not indexed by default
    });
  });
  const c = s.compact(parts);
  assert.equal(c.header.level, 1);
  const orders: Arrival[][] = [
    [{ block: parts[0]!, at: 1 }, { block: parts[1]!, at: 2 }, { block: parts[2]!, at: 3 }, { block: c, at: 4 }],
    [{ block: parts[0]!, at: 1 }, { block: c, at: 2 }, { block: parts[1]!, at: 3 }, { block: parts[2]!, at: 4 }],
    [{ block: c, at: 1 }, { block: parts[2]!, at: 2 }, { block: parts[0]!, at: 3 }, { block: parts[1]!, at: 4 }],
  ];
  const shapes = orders.map((o) => {
    const index = indexOf(o, 10);
    const view = viewOf(index, 'shop-1', 10);
    const st = index.stats();
    return JSON.stringify({ changePoints: st.changePoints, events: view.events.map((e) => [e.t, e.message]), complete: view.completeThrough, seal: view.completeness.seal });
  });
  assert.equal(shapes[1], shapes[0]);
  assert.equal(shapes[2], shapes[0]);
  const index = indexOf(orders[1]!, 10);
  assert.equal(viewOf(index, 'shop-1', 10).events.length, 3, 'three events, each once');
  assert.equal(index.stats().changePoints, 1 + 9, 'the image once; restarts 0..8; the CPU counter is not kept');
  assert.equal(index.stats().siteSeries, 2);
  const all = new FleetIndex({ floatSeries: () => true });
  for (const [i, p] of parts.entries()) all.addBlockBytes({ site: 'shop-1', id: p.id, arrivedAt: i }, p.bytes);
  assert.equal(all.stats().changePoints, 1 + 9 + 3 * 240, 'with every float kept, the counter costs a change point per round');
  // As known before the compaction arrived, only block 1 is held.
  const early = viewOf(index, 'shop-1', 1);
  assert.equal(early.events.length, 1);
  assert.equal(early.lastDataAt(T0 + DAY), T0 + HOUR - STEP);
});

test('completeThrough stops at a missing seal index until a data_dropped event explains it', () => {
  const s = new EdgeSite('shop-1');
  s.set('up', {}, 'yes');
  const b1 = s.seal(T0, T0 + HOUR);
  const b2 = s.seal(T0 + HOUR, T0 + 2 * HOUR);
  const lost = s.skipSeal(); // block 3: dropped at the edge (disk budget)
  const b4 = s.seal(T0 + 3 * HOUR, T0 + 4 * HOUR);
  s.event(T0 + 4 * HOUR, 'data_dropped', 'disk_budget', 'dropped 1 unshipped block(s)', { seal_ranges: `${lost}-${lost}`, store_id: ulid(s.storeId) },
    { rangeMinT: T0 + 2 * HOUR, rangeMaxT: T0 + 3 * HOUR - STEP, count: 240 });
  const b5 = s.seal(T0 + 4 * HOUR, T0 + 5 * HOUR);
  const index = indexOf([{ block: b1, at: 1 }, { block: b2, at: 2 }, { block: b4, at: 3 }, { block: b5, at: 4 }], 10);
  const gap = viewOf(index, 'shop-1', 3);
  assert.deepEqual(gap.completeness.seal[0]!.missing, [3, 3]);
  assert.equal(gap.completeThrough, T0 + 2 * HOUR, 'complete through block 2: block 3 is missing, unexplained');
  const explained = viewOf(index, 'shop-1', 4);
  assert.deepEqual(explained.completeness.seal[0]!.missing, []);
  assert.deepEqual(explained.completeness.seal[0]!.dropped, [3, 3]);
  assert.equal(explained.completeThrough, T0 + 5 * HOUR, 'the data_dropped event explains the gap');
});

test('blocks without seal indexes fall back to time coverage; agent_stop/agent_start explain a gap', () => {
  const old = (from: number, to: number, events: { t: number; kind: string }[] = []) => {
    const b = new BlockBuilder();
    for (let t = from; t < to; t += STEP) b.append({ t, samples: [{ name: 'up', labels: {}, type: 'string', value: 'yes' }] });
    for (const e of events) b.appendEvent({ ...e, reason: '', message: '', labels: {}, rangeMinT: 0, rangeMaxT: 0, count: 0 });
    const blockId = newUlid({ now: () => to });
    return { block: { site: 'old-1', id: ulid(blockId), bytes: encodeBlock(b.build(), { siteId: 'old-1', blockId, sequence: from, createdAt: to }), header: undefined as never }, at: to };
  };
  const a = old(T0, T0 + HOUR);
  const b = old(T0 + 2 * HOUR, T0 + 3 * HOUR);
  const c = old(T0 + 5 * HOUR, T0 + 6 * HOUR, [{ t: T0 + 3 * HOUR, kind: 'agent_stop' }, { t: T0 + 5 * HOUR, kind: 'agent_start' }]);
  const index = indexOf([a, b, c], T0 + DAY);
  const view = viewOf(index, 'old-1', T0 + DAY);
  assert.deepEqual(view.completeness.seal, []);
  assert.deepEqual(view.completeness.timeGaps, [T0 + HOUR - STEP, T0 + 2 * HOUR], 'the first gap is unexplained; the second is the agent being stopped');
  assert.equal(view.completeThrough, T0 + HOUR);
});

test('the index refuses blocks out of arrival order, skips what does not decode, and counts duplicates', () => {
  const s = new EdgeSite('shop-1');
  s.set('up', {}, 'yes');
  const b1 = s.seal(T0, T0 + HOUR);
  const b2 = s.seal(T0 + HOUR, T0 + 2 * HOUR);
  const warnings: string[] = [];
  const index = new FleetIndex({ onWarning: (_f, m) => warnings.push(m) });
  index.addBlockBytes({ site: 'shop-1', id: b2.id, arrivedAt: 20 }, b2.bytes);
  assert.throws(() => index.addBlockBytes({ site: 'shop-1', id: b1.id, arrivedAt: 10 }, b1.bytes),
    (e: unknown) => e instanceof FleetError && e.code === FleetErrorCode.ArrivalOrder && /expected blocks in arrival order after 20, found shop-1\//.test(e.message));
  assert.equal(index.addBlockBytes({ site: 'shop-1', id: b2.id, arrivedAt: 21 }, b2.bytes)!.status, 'duplicate');
  const corrupt = b1.bytes.slice();
  corrupt[corrupt.length - 10]! ^= 0xff;
  assert.equal(index.addBlockBytes({ site: 'shop-1', id: b1.id, arrivedAt: 22 }, corrupt), undefined);
  assert.equal(index.addBlockBytes({ site: 'shop-2', id: b1.id, arrivedAt: 23 }, b1.bytes), undefined, 'a block of another site');
  assert.deepEqual(warnings, ['stored block does not decode: skipped by the index', 'stored block names another site: skipped by the index']);
  const st = index.stats();
  assert.deepEqual([st.blocks, st.duplicateBlocks, st.skippedBlocks], [1, 1, 2]);
  index.markIndexedThrough(30);
  assert.throws(() => index.addBlockBytes({ site: 'shop-1', id: b1.id, arrivedAt: 30 }, b1.bytes), (e: unknown) => e instanceof FleetError && e.code === FleetErrorCode.ArrivalOrder,
    'a block at or before the watermark would change answers already given');
});

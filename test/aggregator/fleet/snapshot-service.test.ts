// The fleet service with an index snapshot, over a real level storage on a ManualClock: a start
// without one reindexes and writes one; the next start loads it and reads only the blocks stored
// after it; a snapshot that cannot be trusted is not used — a warning says why, it is counted, a
// corrupt one is moved aside — and the reindex answers the same; snapshots are written every
// interval of the aggregator's clock when blocks were added and on close, not when nothing
// changed; a stop during the startup reindex keeps what was indexed for the next start.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../common/clock.js';
import { createFleetService, FLEET_INDEX_SNAPSHOT_FILE, type FleetService } from '../../../aggregator/fleet/index.js';
import { openLevelStorage, type AggregatorStorage } from '../../../aggregator/storage/index.js';
import { metricValue } from '../helpers.js';
import { DAY, EdgeSite, HOUR, MIN, nodeBasics, posDeployment, recordingLogger, T0, type Logged } from './helpers.js';
import { fleetArrivals, S, storeArrivals } from './snapshot-fixtures.js';

const ARRIVALS = fleetArrivals();
/** After every arrival of the fixtures (shop-late's blocks arrive at T0+3d). */
const END = T0 + 4 * DAY;

interface Rig {
  readonly dir: string;
  readonly file: string;
  readonly clock: ManualClock;
  readonly storage: AggregatorStorage;
  logger: ReturnType<typeof recordingLogger>;
  registry: Registry;
  /** A service with snapshots (interval 10 min unless given), ready. */
  start(opts?: { intervalMs?: number; storage?: AggregatorStorage; wait?: boolean }): Promise<FleetService>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  cleanup(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-snapshot-service-'));
  const clock = new ManualClock(T0);
  const storage = await openLevelStorage({ dir: join(dir, 'store'), now: () => clock.now() });
  const services: FleetService[] = [];
  const r: Rig = {
    dir, clock, storage, file: join(dir, FLEET_INDEX_SNAPSHOT_FILE), logger: recordingLogger(), registry: new Registry(),
    async start(opts = {}) {
      // A new logger and registry per start, as a restarted process has.
      r.logger = recordingLogger();
      r.registry = new Registry();
      const s = createFleetService({
        storage: opts.storage ?? storage, clock, logger: r.logger, registry: r.registry, policies: undefined, catchUpInterval: 3_600_000, queryWait: 300,
        snapshot: { file: r.file, intervalMs: opts.intervalMs ?? 10 * MIN },
      });
      services.push(s);
      if (opts.wait !== false) await s.whenReady();
      return s;
    },
    async metric(name, labels) {
      return metricValue(await r.registry.metrics(), name, labels);
    },
    async cleanup() {
      for (const s of services) await s.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return r;
}

/** The sites report and every site's detail, as known at `knownAt`, as one text. */
async function answers(s: FleetService, knownAt: number): Promise<string> {
  const out: unknown[] = [];
  for (const at of [T0, T0 + 3 * HOUR, END]) {
    const q = { at, knownAt };
    const sites = await s.sites({ ...q, limit: 1000 });
    out.push(sites, await s.stale(q));
    for (const row of sites.rows) out.push(await s.site(row.site, q));
  }
  return JSON.stringify(out);
}

const message = (r: Rig, prefix: string): Logged | undefined => r.logger.lines.find((l) => l.message.startsWith(prefix));

describe('the fleet service with an index snapshot', () => {
  it('a start without a snapshot reindexes and writes one; the next start loads it and reads only the blocks stored after it', async () => {
    const r = await rig();
    try {
      const first = await storeArrivals(r.storage, ARRIVALS, -1, T0 + 4 * HOUR);
      // The watermark is the millisecond before the clock: T0+4h. Later blocks arrive after it (arrivals are stamped by the clock).
      r.clock.set(T0 + 4 * HOUR + 1);
      let s = await r.start();
      assert.ok(message(r, 'no fleet index snapshot: the index is rebuilt from the stored blocks') !== undefined);
      assert.equal(message(r, 'fleet index rebuilt from the stored blocks')?.fields.blocks, first);
      assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_loads_total', { outcome: 'missing' }), 1);
      await s.catchUp(); // queued after the snapshot the start wrote
      assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_writes_total', { outcome: 'ok' }), 1, 'a start that read blocks writes a snapshot at once');
      const written = message(r, 'fleet index snapshot written')!;
      assert.deepEqual([written.fields.reason, written.fields.blocks, written.fields.indexedThrough], ['startup', first, T0 + 4 * HOUR]);
      await s.close();
      assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_writes_total', { outcome: 'ok' }), 1, 'nothing new since: close writes nothing');

      const later = await storeArrivals(r.storage, ARRIVALS, T0 + 4 * HOUR, END);
      r.clock.set(END + MIN);
      s = await r.start();
      const loaded = message(r, 'fleet index loaded from the snapshot and caught up with the blocks and contacts stored after it');
      assert.ok(loaded !== undefined, JSON.stringify(r.logger.lines));
      assert.deepEqual([loaded.fields.snapshotBlocks, loaded.fields.blocks, loaded.fields.snapshotIndexedThrough], [first, later, T0 + 4 * HOUR]);
      assert.equal(message(r, 'fleet index rebuilt'), undefined, 'no reindex');
      assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_loads_total', { outcome: 'loaded' }), 1);
      assert.equal(await r.metric('driftwatch_aggregator_fleet_startup_blocks', { source: 'snapshot' }), first);
      assert.equal(await r.metric('driftwatch_aggregator_fleet_startup_blocks', { source: 'store' }), later);
      assert.equal(await r.metric('driftwatch_aggregator_fleet_catchup_blocks_total'), later);
      const viaSnapshot = await answers(s, s.indexedThrough());
      const early = await answers(s, T0 + 4 * HOUR);
      await s.close();

      // The same answers from a reindex (no snapshot).
      await rm(r.file);
      s = await r.start();
      assert.ok(message(r, 'fleet index rebuilt') !== undefined);
      assert.equal(await answers(s, s.indexedThrough()), viaSnapshot);
      assert.equal(await answers(s, T0 + 4 * HOUR), early);
    } finally {
      await r.cleanup();
    }
  });

  it('a snapshot that cannot be trusted is not used: a warning says why, it is counted, a corrupt one is moved aside, and the reindex answers the same', async () => {
    const r = await rig();
    try {
      await storeArrivals(r.storage, ARRIVALS, -1, END);
      r.clock.set(END + MIN);
      let s = await r.start();
      const expected = await answers(s, END);
      await s.close();
      const good = await readFile(r.file);
      const truncated = good.subarray(0, good.length - 100);
      const version = Buffer.from(good);
      version.writeUInt32LE(7, 8);
      // A snapshot of the first format (the index without the contacts), as an older build left it.
      const version1 = Buffer.from(good);
      version1.writeUInt32LE(1, 8);
      const cases = [
        { name: 'corrupt', bytes: Buffer.concat([good.subarray(0, 200), Buffer.from([good[200]! ^ 1]), good.subarray(201)]), outcome: 'corrupt', moved: true, why: /it is corrupt/ },
        { name: 'truncated', bytes: truncated, outcome: 'corrupt', moved: true, why: /it is corrupt/ },
        { name: 'another version', bytes: version, outcome: 'unsupported_version', moved: false, why: /it is of another format version/ },
        { name: 'version 1', bytes: version1, outcome: 'unsupported_version', moved: false, why: /it is of another format version/ },
      ];
      for (const c of cases) {
        await writeFile(r.file, c.bytes);
        r.clock.advance(MIN);
        s = await r.start();
        const warned = message(r, 'fleet index snapshot not used');
        assert.ok(warned !== undefined && warned.level === 'warn', `${c.name}: ${JSON.stringify(r.logger.lines)}`);
        assert.match(warned.message, c.why);
        assert.equal(warned.fields.reason, c.outcome);
        assert.match(String(warned.fields.code), /^DW_FLEET_SNAPSHOT_/);
        assert.equal(warned.fields.movedTo !== undefined, c.moved, c.name);
        assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_loads_total', { outcome: c.outcome }), 1, c.name);
        assert.ok(message(r, 'fleet index rebuilt from the stored blocks') !== undefined, `${c.name}: reindexed`);
        assert.equal(await answers(s, END), expected, `${c.name}: the same answers`);
        await s.catchUp(); // after the snapshot the reindex wrote
        assert.equal(await r.metric('driftwatch_aggregator_fleet_snapshot_writes_total', { outcome: 'ok' }), 1, `${c.name}: a fresh snapshot replaces it`);
        await s.close();
        if (c.moved) {
          assert.equal(warned.fields.movedTo, `${r.file}.corrupt-${r.clock.now()}`);
          assert.ok((await readFile(String(warned.fields.movedTo))).equals(c.bytes), `${c.name}: moved aside as it was`);
        }
      }
      assert.equal((await readdir(r.dir)).filter((f) => f.startsWith(`${FLEET_INDEX_SNAPSHOT_FILE}.corrupt-`)).length, 2, 'both corrupt files kept aside');

      // Written with other options (the gap tolerance): not used, not moved.
      const other = createFleetService({
        storage: r.storage, clock: r.clock, logger: recordingLogger(), registry: new Registry(), policies: undefined, catchUpInterval: 3_600_000,
        index: { gapToleranceMs: 60_000 }, snapshot: { file: r.file },
      });
      await other.whenReady();
      await other.close();
      r.clock.advance(MIN);
      s = await r.start();
      assert.equal(message(r, 'fleet index snapshot not used')?.fields.reason, 'options_mismatch');
      assert.match(String(message(r, 'fleet index snapshot not used')?.fields.err), /expected a snapshot of gapToleranceMs 120000, found 60000/);
      assert.equal(await answers(s, END), expected);
    } finally {
      await r.cleanup();
    }
  });

  it('the snapshot keeps the contacts: the next start reads only the contact history stored after its contact watermark, and answers as a start without it', async () => {
    const r = await rig();
    try {
      const contactsThrough = async (from: number, to: number): Promise<void> => {
        for (const c of S.contacts) {
          if (c.at <= from || c.at > to) continue;
          await r.storage.recordContact(c.site, {
            kind: 'heartbeat', at: c.at, agentTime: c.agentTime, lastRttMs: 0, backlogBlocks: c.backlogBlocks ?? 0, backlogBytes: c.backlogBytes ?? 0,
            oldestUnshippedTime: 0, lastRoundTime: c.lastRoundTime ?? 0, lastErrorCode: c.lastErrorCode ?? '', lastErrorMessage: '', agentStartTime: c.agentStartTime ?? 0,
          });
        }
      };
      const historyAfter = async (from: number): Promise<number> => {
        let n = 0;
        for (const site of await r.storage.listSites()) n += (await r.storage.contactHistory(site, { from: from + 1 })).length;
        return n;
      };
      const CUT = T0 + 4 * HOUR;
      await storeArrivals(r.storage, ARRIVALS, -1, CUT);
      await contactsThrough(-1, CUT);
      r.clock.set(CUT + 1);
      let s = await r.start();
      assert.equal(message(r, 'fleet index rebuilt from the stored blocks')?.fields.contactRecords, await historyAfter(-1), 'the first start reads the whole history');
      await s.catchUp(); // queued after the snapshot the start wrote
      const written = message(r, 'fleet index snapshot written')!;
      assert.equal(written.fields.contactsIndexedThrough, CUT);
      assert.ok((written.fields.contacts as number) > 0, JSON.stringify(written.fields));
      await s.close();

      await storeArrivals(r.storage, ARRIVALS, CUT, END);
      await contactsThrough(CUT, END);
      const later = await historyAfter(CUT);
      assert.ok(later > 50, `contacts arrive after the snapshot: ${later}`);
      r.clock.set(END + MIN);
      s = await r.start();
      const loaded = message(r, 'fleet index loaded from the snapshot');
      assert.ok(loaded !== undefined, JSON.stringify(r.logger.lines));
      assert.deepEqual([loaded.fields.snapshotContactsIndexedThrough, loaded.fields.snapshotContacts, loaded.fields.contactRecords], [CUT, written.fields.contacts, later],
        'only the contact history stored after the snapshot is read');
      const viaSnapshot = await answers(s, s.indexedThrough());
      const early = await answers(s, CUT);
      assert.match(viaSnapshot, /"lastContactAt":\d+/, 'the answers read contacts');
      await s.close();

      await rm(r.file);
      s = await r.start();
      assert.ok(message(r, 'fleet index rebuilt') !== undefined);
      assert.equal(await answers(s, s.indexedThrough()), viaSnapshot);
      assert.equal(await answers(s, CUT), early);
    } finally {
      await r.cleanup();
    }
  });

  it('writes a snapshot every interval of the aggregator\'s clock when blocks were added, and on close; not when nothing changed', async () => {
    const r = await rig();
    try {
      r.clock.set(T0 + HOUR);
      const s = await r.start({ intervalMs: 10 * MIN });
      const writes = (): Promise<number> => r.metric('driftwatch_aggregator_fleet_snapshot_writes_total', { outcome: 'ok' });
      assert.equal(await writes(), 0, 'an empty start writes nothing');
      const site = nodeBasics(posDeployment(new EdgeSite('shop-a', 3), '2.4.1'));
      const put = async (from: number): Promise<void> => {
        const b = site.seal(from, from + 10 * MIN);
        await storeArrivals(r.storage, [{ block: b, at: r.clock.now() }], -1, Infinity);
      };
      // Each step catches up twice: the second runs after a snapshot the first may have queued.
      const step = async (ms: number): Promise<number> => {
        r.clock.advance(ms);
        await s.catchUp();
        await s.catchUp();
        return writes();
      };
      await put(T0);
      assert.equal(await step(5 * MIN), 0, 'a block added, within the interval');
      assert.equal(await step(6 * MIN), 1, 'the interval passed with a block added');
      assert.equal(message(r, 'fleet index snapshot written')?.fields.reason, 'interval');
      assert.equal(await step(11 * MIN), 1, 'nothing added since: no snapshot');
      assert.equal(await s.snapshot(), false, 'nor on demand');
      await put(T0 + 10 * MIN);
      assert.equal(await step(MIN), 2, 'a block added, the interval passed since the last snapshot');
      await put(T0 + 20 * MIN);
      assert.equal(await step(MIN), 2, 'a block added within the interval of the last snapshot');
      await s.close();
      assert.equal(await writes(), 3, 'close writes what was added since');
      assert.equal(r.logger.lines.filter((l) => l.message === 'fleet index snapshot written').at(-1)?.fields.reason, 'close');
    } finally {
      await r.cleanup();
    }
  });

  it('a stop during the startup reindex keeps what was indexed: the next start continues from it', async () => {
    const r = await rig();
    try {
      const total = await storeArrivals(r.storage, ARRIVALS, -1, END);
      r.clock.set(END + MIN);
      // Reads stall after 30 blocks until released: the service is closed meanwhile.
      let reads = 0;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let stalled!: () => void;
      const atStall = new Promise<void>((resolve) => (stalled = resolve));
      const slow = new Proxy(r.storage, {
        get(target, prop, receiver) {
          if (prop === 'readBlock') {
            return async (site: string, id: string) => {
              if (++reads === 30) stalled();
              if (reads >= 30) await released;
              return target.readBlock(site, id);
            };
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const s = await r.start({ storage: slow, wait: false });
      await atStall;
      const closing = s.close();
      release();
      await closing;
      await assert.rejects(s.whenReady(), { code: 'DW_FLEET_NOT_INDEXED' });
      const written = message(r, 'fleet index snapshot written');
      assert.ok(written !== undefined, JSON.stringify(r.logger.lines));
      assert.equal(written.fields.reason, 'close');
      const kept = written.fields.blocks as number;
      assert.ok(kept > 0 && kept < total, `part of the blocks: ${kept} of ${total}`);

      const again = await r.start();
      const loaded = message(r, 'fleet index loaded from the snapshot');
      assert.ok(loaded !== undefined, JSON.stringify(r.logger.lines));
      assert.deepEqual([loaded.fields.snapshotBlocks, loaded.fields.blocks], [kept, total - kept], 'every stored block read once across the two starts');
      const viaSnapshot = await answers(again, again.indexedThrough());
      await again.close();
      await rm(r.file);
      const rebuilt = await r.start();
      assert.equal(await answers(rebuilt, rebuilt.indexedThrough()), viaSnapshot);
    } finally {
      await r.cleanup();
    }
  });
});

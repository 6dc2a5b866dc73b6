// The fleet service over a real level storage on a ManualClock: the startup reindex, one
// watermark over blocks, contacts, labels and policies (a write in flight, a policy reload in
// flight or not yet persisted hold it back), catch-up on demand for a query past it, no
// policies, and the policy history continued across a restart from the data directory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../common/clock.js';
import { isDriftwatchError } from '../../../common/errors.js';
import { createFleetService, FleetErrorCode, openPolicies, type FleetService, type PolicySettings } from '../../../aggregator/fleet/index.js';
import { PolicyHistory, POLICY_HISTORY_FILE, type PolicySource, type ReloadResult } from '../../../aggregator/policy/index.js';
import { openLevelStorage, type AggregatorStorage, type BlockSummary } from '../../../aggregator/storage/index.js';
import { EdgeSite, HOUR, MIN, nodeBasics, posDeployment, posPolicy, recordingLogger, T0, type EdgeBlock } from './helpers.js';

function summaryOf(b: EdgeBlock): BlockSummary {
  const h = b.header;
  return {
    sha256: createHash('sha256').update(b.bytes).digest('hex'), minT: h.minT, maxT: h.maxT, sequence: h.sequence, level: h.level,
    replaces: [], createdAt: h.createdAt, numRounds: h.numRounds, numSeries: h.numSeries, numSamples: h.numSamples, numEvents: h.numEvents,
    numStringSeries: h.numStringSeries, numStringSamples: h.numStringSamples,
  };
}

interface Rig {
  readonly dir: string;
  readonly clock: ManualClock;
  storage: AggregatorStorage;
  readonly logger: ReturnType<typeof recordingLogger>;
  start(policies?: PolicySettings | PolicySource, persistFake?: (h: PolicyHistory) => Promise<void>): Promise<FleetService>;
  put(block: EdgeBlock, at?: number): Promise<void>;
  cleanup(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-service-'));
  const clock = new ManualClock(T0);
  const logger = recordingLogger();
  const services: FleetService[] = [];
  const r: Rig = {
    dir, clock, logger,
    storage: await openLevelStorage({ dir: join(dir, 'store'), now: () => clock.now() }),
    async start(policies, persistFake) {
      let source: PolicySource | undefined;
      let persist: ((h: PolicyHistory) => Promise<void>) | undefined = persistFake;
      if (policies !== undefined && 'start' in policies) source = policies;
      else if (policies !== undefined) {
        const opened = await openPolicies(policies, { dataDir: dir, clock, logger, registry: new Registry() });
        source = opened.source;
        persist = opened.persist;
      }
      // No interval, no commit hook: every catch-up in these tests is explicit or on demand.
      const s = createFleetService({
        storage: r.storage, clock, logger, registry: new Registry(), policies: source, catchUpInterval: 3_600_000, queryWait: 300,
        ...(persist === undefined ? {} : { persistPolicies: persist }),
      });
      services.push(s);
      await s.whenReady();
      return s;
    },
    async put(block, at = clock.now()) {
      assert.equal((await r.storage.putBlock(block.site, block.id, block.bytes, summaryOf(block), at)).status, 'stored');
    },
    async cleanup() {
      for (const s of services) await s.close();
      await r.storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return r;
}

const shop = (name: string, seed: number): EdgeSite => nodeBasics(posDeployment(new EdgeSite(name, seed), '2.4.1'));

describe('the fleet service', () => {
  it('startup is a reindex of the stored blocks, logged with its duration; the default cut is the millisecond before the clock', async () => {
    const r = await rig();
    try {
      const a = shop('shop-a', 1);
      await r.put(a.seal(T0 - 2 * HOUR, T0 - HOUR), T0 - HOUR + MIN);
      await r.put(a.seal(T0 - HOUR, T0), T0);
      await r.storage.recordSiteLabels('shop-a', { tier: 'shop' }, T0);
      r.clock.set(T0 + 10 * MIN);
      const s = await r.start();
      assert.deepEqual(s.ready().ok, true);
      assert.equal(s.indexedThrough(), T0 + 10 * MIN - 1);
      const rebuilt = r.logger.lines.find((l) => l.message.startsWith('fleet index rebuilt from the stored blocks'));
      assert.ok(rebuilt !== undefined, JSON.stringify(r.logger.lines));
      assert.equal(rebuilt.fields.blocks, 2);
      assert.equal(rebuilt.fields.sites, 1);
      assert.equal(typeof rebuilt.fields.elapsedMs, 'number');
      const sites = await s.sites({ at: T0, knownAt: s.indexedThrough() });
      assert.deepEqual(sites.rows.map((x) => [x.site, x.labels]), [['shop-a', { tier: 'shop' }]]);
    } finally {
      await r.cleanup();
    }
  });

  it('without policies: drift and upgrades find no expectations, the fleet line still counts every site, and the log says so', async () => {
    const r = await rig();
    try {
      for (const [n, name] of ['shop-a', 'shop-b'].entries()) await r.put(shop(name, n + 1).seal(T0 - HOUR, T0), T0);
      r.clock.set(T0 + MIN);
      const s = await r.start();
      const q = { at: T0, knownAt: s.indexedThrough() };
      const drift = await s.drift(q);
      assert.deepEqual([drift.rows, drift.total, drift.fleet], [[], 0, { sites: 2, sitesWithData: 2, sitesCompleteThroughAt: 2 }]);
      const up = await s.upgrades(q);
      assert.deepEqual([up.rows, up.revision, up.summary], [[], undefined, { converged: 0, in_progress: 0, failed: 0, unknown: 0 }]);
      assert.equal(up.fleet.sites, 2);
      const stale = await s.stale({ at: T0 + 2 * HOUR, knownAt: s.indexedThrough() });
      assert.deepEqual(stale.rows.map((x) => [x.site, x.staleAfterMs]), [['shop-a', HOUR], ['shop-b', HOUR]], 'the default threshold');
      assert.ok(r.logger.lines.some((l) => l.level === 'info' && l.message.startsWith('no policies configured: drift and upgrades reports find no expectations')));
      assert.match(s.ready().reason, /no policies configured/);
    } finally {
      await r.cleanup();
    }
  });

  it('a block, a contact or a label change in flight holds the watermark below its arrival; once durable, the next catch-up passes it', async () => {
    const r = await rig();
    try {
      const s = await r.start();
      r.clock.set(T0 + MIN);
      await s.catchUp();
      assert.equal(s.indexedThrough(), T0 + MIN - 1);
      const a = shop('shop-a', 3);
      const block = a.seal(T0 - 10 * MIN, T0);
      const writes: ((at: number) => Promise<unknown>)[] = [
        (at) => r.storage.putBlock(block.site, block.id, block.bytes, summaryOf(block), at),
        (at) => r.storage.recordContact('shop-b', { kind: 'hello', at, agentTime: at, agentVersion: 'test' }),
        (at) => r.storage.recordSiteLabels('shop-a', { tier: 'shop' }, at),
      ];
      for (const write of writes) {
        const stampedAt = r.clock.advance(MIN);
        const inFlight = write(stampedAt);
        r.clock.advance(MIN);
        await s.catchUp();
        assert.equal(s.indexedThrough(), stampedAt - 1, 'held just below the write in flight');
        await inFlight;
        await s.catchUp();
        assert.equal(s.indexedThrough(), r.clock.now() - 1, 'passed once durable');
      }
      const known = await s.sites({ at: r.clock.now(), knownAt: s.indexedThrough() });
      assert.deepEqual(known.rows.map((x) => [x.site, x.labels, x.lastContactAt]), [['shop-a', { tier: 'shop' }, undefined], ['shop-b', {}, T0 + 4 * MIN]]);
    } finally {
      await r.cleanup();
    }
  });

  it('a query past the watermark catches up on demand; one past the clock, or in its current millisecond, is DW_FLEET_NOT_INDEXED saying why', async () => {
    const r = await rig();
    try {
      const s = await r.start();
      const before = s.indexedThrough();
      const a = shop('shop-a', 4);
      r.clock.set(T0 + MIN);
      await r.put(a.seal(T0 - 10 * MIN, T0));
      r.clock.set(T0 + 2 * MIN);
      assert.equal(s.indexedThrough(), before, 'nothing caught up by itself (no interval, no commit hook)');
      const page = await s.sites({ at: T0, knownAt: T0 + 2 * MIN - 1 });
      assert.deepEqual(page.rows.map((x) => x.site), ['shop-a']);
      assert.equal(s.indexedThrough(), T0 + 2 * MIN - 1);
      await assert.rejects(s.drift({ at: T0, knownAt: T0 + 3 * MIN }),
        (err) => isDriftwatchError(err, FleetErrorCode.NotIndexed) && /expected knownAt at or before the aggregator's clock .*found 2025-11-17T10:03:00\.000Z/.test(err.message));
      await assert.rejects(s.drift({ at: T0, knownAt: T0 + 2 * MIN }),
        (err) => isDriftwatchError(err, FleetErrorCode.NotIndexed) && /within 300 ms, found them through 2025-11-17T10:01:59\.999Z: the aggregator's clock .* has not passed it yet/.test(err.message));
    } finally {
      await r.cleanup();
    }
  });

  it('a policy reload in flight, then its persistence, hold the watermark below the reload\'s time', async () => {
    const r = await rig();
    try {
      let since: number | undefined;
      const history = new PolicyHistory();
      const listeners: ((x: ReloadResult) => void)[] = [];
      const fake: PolicySource = {
        kind: 'directory', history, stats: { reloads: 0, changed: 0, unchanged: 0, invalid: 0, failed: 0 },
        start: async () => ({ outcome: 'unchanged', trigger: 'start', at: r.clock.now(), added: [], rejected: [], inForce: undefined }),
        reload: async () => ({ outcome: 'unchanged', trigger: 'explicit', at: r.clock.now(), added: [], rejected: [], inForce: undefined }),
        nextReload: () => new Promise(() => {}),
        onReload: (l) => {
          listeners.push(l);
          return () => undefined;
        },
        reloadingSince: () => since,
        close: async () => undefined,
      };
      let saved!: () => void;
      let saves = 0;
      const s = await r.start(fake, () => {
        saves++;
        return new Promise<void>((resolve) => (saved = resolve));
      });
      r.clock.set(T0 + 5 * MIN);
      since = T0 + 2 * MIN;
      await s.catchUp();
      assert.equal(s.indexedThrough(), T0 + 2 * MIN - 1, 'a reload started at +2m may still add a revision learned then');
      // The reload ends having added a revision; until the history is saved, a restart would re-learn it later.
      const revision = history.add({ id: 'sha256:00', source: { kind: 'directory', path: '/p' }, effectiveAt: T0 + 2 * MIN, loadedAt: T0 + 2 * MIN, files: [], policies: [] });
      for (const l of listeners) l({ outcome: 'changed', trigger: 'watch', at: T0 + 2 * MIN, added: [revision], rejected: [], inForce: revision });
      since = undefined;
      await s.catchUp();
      assert.equal(saves, 1);
      assert.equal(s.indexedThrough(), T0 + 2 * MIN - 1, 'held until the history is saved');
      saved();
      await s.catchUp();
      assert.equal(s.indexedThrough(), T0 + 5 * MIN - 1);
    } finally {
      await r.cleanup();
    }
  });

  it('policies from a directory: the history is persisted, continued after a restart (same loadedAt, same answers), and a corrupt one is moved aside', async () => {
    const r = await rig();
    try {
      const policyDir = join(r.dir, 'policies');
      await mkdir(policyDir);
      await writeFile(join(policyDir, 'pos.yaml'), posPolicy('>=2.4.0 <2.5.0'));
      const settings: PolicySettings = { dir: policyDir, watch: false, pollIntervalMs: 0 };
      const a = shop('shop-a', 5);
      await r.put(a.seal(T0 - HOUR, T0), T0);
      await r.storage.recordSiteLabels('shop-a', { tier: 'shop' }, T0);
      r.clock.set(T0 + MIN);
      let s = await r.start(settings);
      r.clock.set(T0 + 10 * MIN);
      await writeFile(join(policyDir, 'pos.yaml'), posPolicy('>=2.5.0 <2.6.0'));
      const reloaded = await s.reloadPolicies();
      assert.equal(reloaded?.outcome, 'changed');
      r.clock.set(T0 + 11 * MIN);
      await s.catchUp();
      const q = { at: T0 + 10 * MIN, knownAt: s.indexedThrough() };
      const drift = JSON.stringify(await s.drift(q));
      assert.match(drift, new RegExp(`"site":"shop-a".*"since":${T0 + 10 * MIN}`), 'drifts since the revision of +10m');
      const loadedAt = s.policies!.history.revisions().map((x) => x.loadedAt);
      assert.deepEqual(loadedAt, [T0 + MIN, T0 + 10 * MIN]);
      await s.close();

      // A restart a day later: the same files, the history continued — nothing re-learned.
      r.clock.set(T0 + 24 * HOUR);
      s = await r.start(settings);
      assert.deepEqual(s.policies!.history.revisions().map((x) => x.loadedAt), loadedAt);
      assert.equal(s.policies!.stats.unchanged, 1, 'the first load found what the history holds');
      assert.equal(JSON.stringify(await s.drift(q)), drift, 'the same answer as before the restart');
      await s.close();

      await writeFile(join(r.dir, POLICY_HISTORY_FILE), '{"format":"something else"}');
      s = await r.start(settings);
      const warned = r.logger.lines.find((l) => l.message.startsWith('stored policy history is corrupt: moved aside'));
      assert.ok(warned !== undefined);
      assert.ok((await readdir(r.dir)).some((f) => f.startsWith(`${POLICY_HISTORY_FILE}.corrupt-`)));
      assert.equal(s.policies!.history.revisions().length, 1, 'a new history, starting with the files as they are');
    } finally {
      await r.cleanup();
    }
  });
});

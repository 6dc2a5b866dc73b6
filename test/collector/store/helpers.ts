// Shared helpers for the edge store tests: temporary directories, seeded synthetic rounds, and
// reading every round back out of a store (head + sealed blocks).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../common/clock.js';
import { randomInt, seededRandom, type Random } from '../../../common/random.js';
import type { BlockEvent, Round, Sample } from '../../../proto/index.js';
import { blockToRounds, decodeBlock, seriesKey } from '../../../proto/index.js';
import { openEdgeStore, type EdgeStore, type EdgeStoreOptions } from '../../../collector/store/index.js';

export const T0 = 1_763_700_000_000 - (1_763_700_000_000 % 86_400_000); // a day boundary (UTC)
export const SITE = 'site-test-1';

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestStore {
  store: EdgeStore;
  clock: ManualClock;
  dir: string;
  warnings: string[];
  reopen(extra?: Partial<EdgeStoreOptions>): Promise<EdgeStore>;
  cleanup(): Promise<void>;
}

/** Opens a store in a fresh directory with a ManualClock and a seeded random. */
export async function openTestStore(extra: Partial<EdgeStoreOptions> = {}, seed = 1): Promise<TestStore> {
  const { dir, cleanup } = await tempDir();
  const clock = new ManualClock(T0);
  const warnings: string[] = [];
  const random = seededRandom(seed);
  const open = (more: Partial<EdgeStoreOptions>): Promise<EdgeStore> => openEdgeStore({
    dir, siteId: SITE, clock, random, onWarning: (_fields, message) => warnings.push(message), ...extra, ...more,
  });
  const t: TestStore = {
    store: await open({}), clock, dir, warnings,
    async reopen(more = {}) {
      await t.store.close();
      t.store = await open(more);
      return t.store;
    },
    async cleanup() {
      await t.store.close();
      await cleanup();
    },
  };
  return t;
}

const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];

/**
 * A deterministic round at `t`: string series (versions that change now and then, a status)
 * and float series (integers, fractions, NaN), some of which come and go.
 */
export function syntheticRound(t: number, random: Random, opts: { series?: number; events?: boolean } = {}): Round {
  const n = opts.series ?? 12;
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4 && random() < 0.3) continue; // an intermittent series
    if (i % 2 === 0) {
      samples.push({ name: 'kube_deployment_image_version', labels: { deployment: `app-${i}`, namespace: 'shop' }, type: 'string', value: VERSIONS[randomInt(random, 0, random() < 0.9 ? 0 : 3)]! });
    } else if (i % 3 === 0) {
      samples.push({ name: 'node_filesystem_avail_bytes', labels: { device: `sda${i}` }, type: 'float', value: 1e9 + randomInt(random, 0, 3) * 4096 });
    } else {
      samples.push({ name: 'node_hwmon_temp_celsius', labels: { chip: `c${i}` }, type: 'float', value: i === 7 && random() < 0.1 ? NaN : 40 + Math.round(random() * 100) / 10 });
    }
  }
  const events: BlockEvent[] = [];
  if (opts.events === true && random() < 0.2) {
    events.push({ t, kind: 'kubernetes', reason: 'BackOff', message: 'back-off restarting failed container', labels: { namespace: 'shop', pod: 'app-1' }, rangeMinT: 0, rangeMaxT: 0, count: 2 });
  }
  return events.length > 0 ? { t, samples, events } : { t, samples };
}

/** A comparable form of a round: samples sorted by series key, values as strings (NaN-safe). */
export function normalizeRound(r: Round): { t: number; samples: string[]; events: string[] } {
  const samples = r.samples.map((s) => `${seriesKey(s.name, s.labels)}|${s.type}|${Object.is(s.value, -0) ? '-0' : String(s.value)}`).sort();
  const events = (r.events ?? []).map((e) => JSON.stringify([e.t, e.kind, e.reason, e.message, seriesKey('e', e.labels), e.rangeMinT, e.rangeMaxT, e.count]));
  return { t: r.t, samples, events };
}

/** Every round in the store's blocks (decoded) and head, oldest first, and the blocks' events. */
export async function readAllRounds(store: EdgeStore): Promise<{ rounds: Round[]; events: BlockEvent[] }> {
  const rounds: Round[] = [];
  const events: BlockEvent[] = [];
  for (const info of await store.listBlocks()) {
    const r = await store.readBlock(info.id);
    if (r.status !== 'ok') throw new Error(`block ${info.id}: ${r.status}`);
    const block = decodeBlock(r.bytes);
    rounds.push(...blockToRounds({ ...block.data, events: [] }));
    events.push(...block.data.events);
  }
  rounds.push(...store.headRounds().map((r) => ({ t: r.t, samples: r.samples })));
  for (const r of store.headRounds()) events.push(...(r.events ?? []));
  rounds.sort((a, b) => a.t - b.t);
  return { rounds, events };
}

/** The events of a decoded block. */
export async function blockEvents(store: EdgeStore, id: string): Promise<BlockEvent[]> {
  const r = await store.readBlock(id);
  if (r.status !== 'ok') throw new Error(`block ${id}: ${r.status}`);
  return [...decodeBlock(r.bytes).data.events];
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Level } from 'level';
import { openEdgeStore, type StoreDb } from '../../../collector/store/index.js';
import { ManualClock } from '../../../common/clock.js';
import { isDriftwatchError } from '../../../common/errors.js';
import { seededRandom } from '../../../common/random.js';
import { syntheticRound, T0, tempDir } from './helpers.js';

// The fleet simulator's case: many stores in one LevelDB, each in its own sublevel, writes not fsynced.
test('stores in sublevels of one database keep to themselves, and closing one leaves the database open', async () => {
  const { dir, cleanup } = await tempDir();
  const root = new Level<string, Uint8Array>(join(dir, 'shared'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await root.open();
  try {
    const clock = new ManualClock(T0);
    const sub = (name: string): StoreDb => root.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as StoreDb;
    const open = (site: string) => openEdgeStore({ dir: join(dir, site), siteId: site, clock, random: seededRandom(1), blockDuration: 60_000, db: sub(site), syncWrites: false });
    const a = await open('site-a');
    const b = await open('site-b');
    const random = seededRandom(3);
    for (let t = T0; t < T0 + 3 * 60_000; t += 15_000) {
      await a.appendRound(syntheticRound(t, random));
      if (t < T0 + 60_000) await b.appendRound(syntheticRound(t, random));
    }
    await a.flush();
    await b.flush();
    assert.equal((await a.listBlocks()).length, 3);
    assert.equal((await b.listBlocks()).length, 1);
    await a.close();
    // The database is still open for the other store, and a reopened store finds its own blocks only.
    await b.appendRound(syntheticRound(T0 + 5 * 60_000, random));
    const again = await open('site-a');
    assert.equal((await again.listBlocks()).length, 3);
    await assert.rejects(openEdgeStore({ dir: join(dir, 'site-a'), siteId: 'site-b', clock, db: sub('site-a') }), (e: unknown) => isDriftwatchError(e, 'DW_STORE_SITE_MISMATCH'));
    await again.close();
    await b.close();
    assert.equal(root.status, 'open');
  } finally {
    await root.close();
    await cleanup();
  }
});

test('db and syncWrites are checked with the other options', async () => {
  const clock = new ManualClock(T0);
  await assert.rejects(openEdgeStore({ dir: '/tmp/x', siteId: 's', clock, db: {} as StoreDb, syncWrites: 'yes' as unknown as boolean }), (e: unknown) => {
    assert.ok(isDriftwatchError(e, 'DW_STORE_INVALID_OPTIONS'));
    assert.match((e as Error).message, /syncWrites: expected true or false, found "yes"/);
    assert.match((e as Error).message, /db: expected an open abstract-level database/);
    return true;
  });
});

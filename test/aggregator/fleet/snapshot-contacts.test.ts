// The contact index in the fleet index snapshot (format version 2): a snapshot loaded holds the
// contacts the index held — every field, hellos, errors and backlogs included — at its own
// watermark, and every report that reads contacts (stale, sites, site details, drift and upgrades
// beside them) answers byte for byte the same; after a load, the contact catch-up reads exactly
// the history records that arrived after the snapshot's contact watermark (one at the watermark
// is in the snapshot, one a millisecond later is read), and the contact index equals one caught
// up from the whole history; a snapshot kept at another resolution has its contacts read again,
// one without contacts starts them at -1.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  catchUp, catchUpContacts, ContactIndex, decodeSnapshot, encodeSnapshotBuffer, FLEET_INDEX_SNAPSHOT_FILE, FleetIndex, loadSnapshotFile, reindex, writeSnapshotFile,
  type FleetInputs,
} from '../../../aggregator/fleet/index.js';
import { openLevelStorage, type AggregatorStorage, type ContactHistoryRecord, type ContactReport } from '../../../aggregator/storage/index.js';
import { heartbeat, HOUR, indexOf, MIN, T0 } from './helpers.js';
import { everyReport, fleetArrivals, S, storeArrivals } from './snapshot-fixtures.js';
import { LATE_ARRIVAL } from './scenario.js';

const ARRIVALS = fleetArrivals();
const LATEST = LATE_ARRIVAL + HOUR;
/** Halfway through the compacting sites' arrivals, and through the scenario's contacts. */
const MIDWAY = T0 + 4 * HOUR + 9 * MIN;
const KNOWN_ATS = [T0, T0 + 3 * HOUR, MIDWAY, MIDWAY + 1, LATEST];

/** The scenario's heartbeats plus a hello, an upload error and its recovery, a backlog without a last round, around MIDWAY. */
function contactRecords(): ContactHistoryRecord[] {
  const hello = (site: string, at: number): ContactHistoryRecord => ({
    site, kind: 'hello', at, agentTime: at - 40, backlogBlocks: undefined, backlogBytes: undefined, oldestUnshippedTime: undefined, lastRoundTime: undefined,
    lastErrorCode: undefined, lastErrorMessage: undefined, agentStartTime: undefined, clockOffsetMs: 40,
  });
  const extra: ContactHistoryRecord[] = [
    { ...heartbeat('shop-ok-1', MIDWAY), lastErrorCode: 'UNAVAILABLE', lastErrorMessage: 'connect ECONNREFUSED' },
    hello('shop-ok-2', MIDWAY + 1),
    heartbeat('shop-ok-1', MIDWAY + 2 * MIN),
    { ...heartbeat('shop-slow', MIDWAY + 3 * MIN, 4), lastRoundTime: undefined },
    hello('shop-pull', LATE_ARRIVAL + 10 * MIN),
    heartbeat('shop-pull', LATE_ARRIVAL + 11 * MIN, 2),
  ];
  return [...S.contacts, ...extra].sort((a, b) => a.at - b.at);
}

/** The report an agent sent for a history record (recordContact keeps it in the history again). */
function reportOf(r: ContactHistoryRecord): ContactReport {
  if (r.kind === 'hello') return { kind: 'hello', at: r.at, agentTime: r.agentTime, agentVersion: '1.2.3' };
  return {
    kind: 'heartbeat', at: r.at, agentTime: r.agentTime, lastRttMs: 0, backlogBlocks: r.backlogBlocks ?? 0, backlogBytes: r.backlogBytes ?? 0,
    oldestUnshippedTime: r.oldestUnshippedTime ?? 0, lastRoundTime: r.lastRoundTime ?? 0, lastErrorCode: r.lastErrorCode ?? '', lastErrorMessage: r.lastErrorMessage ?? '',
    agentStartTime: r.agentStartTime ?? 0,
  };
}

async function recordContacts(storage: AggregatorStorage, records: readonly ContactHistoryRecord[], from: number, to: number): Promise<void> {
  for (const r of records) if (r.at > from && r.at <= to) await storage.recordContact(r.site, reportOf(r));
}

function inputs(index: FleetIndex, contacts: ContactIndex): FleetInputs {
  return { index, policies: S.history, contacts, labels: S.labels };
}

const entries = (c: ContactIndex): unknown => [...c.entries()];

test('a snapshot with contacts loads them as they were: the same state, the same watermark, every report byte for byte the same', async () => {
  const index = indexOf(ARRIVALS, LATEST);
  for (const resolutionMs of [undefined, 0]) {
    const contacts = new ContactIndex({ resolutionMs });
    for (const r of contactRecords()) contacts.add(r);
    contacts.markIndexedThrough(LATEST);
    const bytes = encodeSnapshotBuffer(index, LATEST + 5, contacts);
    const decoded = await decodeSnapshot(bytes, { contacts: { resolutionMs } });
    assert.equal(decoded.contactsUsed, true);
    assert.deepEqual(decoded.meta.contacts, { indexedThrough: LATEST, resolutionMs: contacts.resolutionMs, sites: [...contacts.sites()].length, contacts: contacts.kept });
    assert.equal(decoded.contacts.indexedThrough, LATEST);
    assert.equal(decoded.contacts.kept, contacts.kept);
    assert.deepStrictEqual(entries(decoded.contacts), entries(contacts), 'every field, undefined ones included, in the same order');
    const states = [...contacts.entries()].flatMap((e) => e.states);
    assert.ok(states.some((c) => c.kind === 'hello') && states.some((c) => c.lastErrorCode === 'UNAVAILABLE') && states.some((c) => c.kind === 'heartbeat' && c.lastRoundTime === undefined),
      'hellos, errors and missing fields are part of the comparison');

    const fromLoaded = everyReport(inputs(decoded.index, decoded.contacts), KNOWN_ATS);
    const fromOriginal = everyReport(inputs(index, contacts), KNOWN_ATS);
    assert.match(fromOriginal, /"lastContactAt":\d+/, 'reports that read contacts are part of the comparison');
    assert.match(fromOriginal, /"backlogBlocks":[1-9]/, 'and the backlog they report');
    assert.equal(fromLoaded, fromOriginal);
    assert.notEqual(everyReport(inputs(index, new ContactIndex({ resolutionMs })), KNOWN_ATS), fromOriginal, 'the answers do depend on the contacts');
    assert.ok(encodeSnapshotBuffer(decoded.index, LATEST + 5, decoded.contacts).equals(bytes), 'the loaded indexes snapshot to the same bytes');
  }
});

test('contacts kept at another resolution are not used (read again from the history); a snapshot without contacts holds none at -1', async () => {
  const index = indexOf(ARRIVALS, LATEST);
  const contacts = new ContactIndex({ resolutionMs: 0 });
  for (const r of contactRecords()) contacts.add(r);
  contacts.markIndexedThrough(LATEST);
  const other = await decodeSnapshot(encodeSnapshotBuffer(index, LATEST, contacts), {});
  assert.equal(other.contactsUsed, false);
  assert.deepEqual([other.contacts.indexedThrough, other.contacts.kept, other.contacts.resolutionMs], [-1, 0, 300_000]);
  assert.equal(other.index.blocksGiven, index.blocksGiven, 'the block index is used all the same');

  const none = await decodeSnapshot(encodeSnapshotBuffer(index, LATEST), {});
  assert.equal(none.contactsUsed, true);
  assert.deepEqual([none.meta.contacts, none.contacts.indexedThrough, none.contacts.kept], [{ indexedThrough: -1, resolutionMs: 300_000, sites: 0, contacts: 0 }, -1, 0]);
});

test('after a load, the contact catch-up reads exactly the history stored after the contact watermark, and the contacts equal a catch-up of the whole history', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-snapshot-contacts-'));
  const storage = await openLevelStorage({ dir: join(dir, 'store'), now: () => T0 });
  try {
    const records = contactRecords();
    await storeArrivals(storage, ARRIVALS, -1, MIDWAY);
    // Stored before the snapshot's catch-up: the one at the watermark and the one a millisecond after.
    await recordContacts(storage, records, -1, MIDWAY + 1);
    const index = new FleetIndex();
    await catchUp(index, storage, { now: MIDWAY });
    const contacts = new ContactIndex();
    await catchUpContacts(contacts, storage, { now: MIDWAY, graceMs: 0 });
    assert.equal(contacts.indexedThrough, MIDWAY);
    const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
    await writeSnapshotFile(file, index, MIDWAY, contacts);

    await storeArrivals(storage, ARRIVALS, MIDWAY, LATEST);
    await recordContacts(storage, records, MIDWAY + 1, LATEST);
    const loaded = await loadSnapshotFile(file, { cut: LATEST, storage, now: LATEST });
    assert.equal(loaded.status, 'loaded', JSON.stringify(loaded));
    if (loaded.status !== 'loaded') return;
    assert.equal(loaded.meta.contacts.indexedThrough, MIDWAY);
    assert.equal(loaded.contacts.indexedThrough, MIDWAY);
    assert.equal(loaded.contacts.lastContact('shop-ok-1', MIDWAY)?.lastErrorCode, 'UNAVAILABLE', 'the contact that arrived at the watermark is in the snapshot');
    assert.notEqual(loaded.contacts.lastContact('shop-ok-2', LATEST)?.kind, 'hello', 'the one a millisecond later is not');

    let after = 0;
    for (const site of await storage.listSites()) after += (await storage.contactHistory(site, { from: MIDWAY + 1, to: LATEST })).length;
    assert.ok(after >= 4, `contacts arrive after the snapshot: ${after}`);
    const read = await catchUpContacts(loaded.contacts, storage, { now: LATEST, graceMs: 0 });
    assert.equal(read, after, 'only the history stored after the contact watermark is read');
    assert.equal(loaded.contacts.lastContact('shop-ok-2', MIDWAY + 1)?.kind, 'hello', 'caught up: the one a millisecond after the watermark');
    assert.equal(loaded.contacts.lastContact('shop-pull', LATEST)?.backlogBlocks, 2);

    const whole = new ContactIndex();
    const all = await catchUpContacts(whole, storage, { now: LATEST, graceMs: 0 });
    assert.ok(all > read);
    assert.deepStrictEqual(entries(loaded.contacts), entries(whole));
    assert.equal(loaded.contacts.kept, whole.kept);
    await catchUp(loaded.index, storage, { now: LATEST });
    const { index: rebuilt } = await reindex(storage, { now: LATEST });
    const viaSnapshot = everyReport(inputs(loaded.index, loaded.contacts), KNOWN_ATS);
    assert.match(viaSnapshot, /"lastContactAt":\d+/);
    assert.equal(viaSnapshot, everyReport(inputs(rebuilt, whole), KNOWN_ATS));
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a snapshot whose contact watermark is past the cut is refused as the clock behind it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-snapshot-contacts-'));
  const storage = await openLevelStorage({ dir: join(dir, 'store'), now: () => T0 });
  try {
    const index = new FleetIndex();
    index.markIndexedThrough(MIDWAY);
    const contacts = new ContactIndex();
    contacts.markIndexedThrough(MIDWAY + 10);
    const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
    await writeSnapshotFile(file, index, MIDWAY, contacts);
    const r = await loadSnapshotFile(file, { cut: MIDWAY + 5, storage, now: MIDWAY });
    assert.equal(r.status === 'rejected' ? r.reason : r.status, 'clock_behind');
    assert.equal((await loadSnapshotFile(file, { cut: MIDWAY + 10, storage, now: MIDWAY })).status, 'loaded');
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

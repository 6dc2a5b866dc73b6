// contacts-startup: what a start spends reading the contact history. A real level storage in a
// temporary directory is filled through its own recordContact (the path the ingest server takes,
// group commit included) with one heartbeat per site per minute — the storage keeps each one, its
// thinning period being a minute — for `sites` × `hours`; the storage is closed and opened again
// (its open reads every site's latest contact record), and the start's contact catch-up,
// catchUpContacts into a fresh ContactIndex (default resolution) up to the last arrival, is timed.
// Figures: the catch-up's time, per million history records, and extrapolated linearly in records
// to 10,000 sites × 24 h (14.4 M records). Then the start with the fleet index snapshot, which
// holds the contact index since format version 2: a snapshot of the contacts caught up to 10
// minutes before the last arrival is written, loaded (loadSnapshotFile, as the aggregator does)
// and caught up with the rest; its load extrapolated linearly in contacts held.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catchUpContacts, ContactIndex, FLEET_INDEX_SNAPSHOT_FILE, FleetIndex, loadSnapshotFile, writeSnapshotFile } from '../aggregator/fleet/index.js';
import { openLevelStorage, type HeartbeatReport } from '../aggregator/storage/index.js';
import { median, type BenchCase, type CaseResult, type Figure, type RunOptions } from './report.js';
import { diskUsage } from './store-append.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 10, 17, 10);
/** The fleet the figure is extrapolated to. */
const FLEET_SITES = 10_000;
const FLEET_HOURS = 24;

export interface ContactsStartupOptions {
  readonly sites: number;
  readonly hours: number;
}

/** A site's heartbeat at minute `m`: mostly quiet, now and then a backlog or an upload error (deterministic). */
function heartbeat(site: number, m: number, at: number): HeartbeatReport {
  const trouble = (site * 7919 + m) % 97 === 0;
  const backlog = trouble || (site + m) % 53 === 0 ? 1 + ((site + m) % 5) : 0;
  return {
    kind: 'heartbeat', at, agentTime: at - 250 - (site % 40), lastRttMs: 20 + (site % 30), backlogBlocks: backlog, backlogBytes: backlog * 180_000,
    oldestUnshippedTime: backlog > 0 ? at - 300_000 : 0, lastRoundTime: at - 15_000 + (site % 15) * 1_000,
    lastErrorCode: trouble ? 'UNAVAILABLE' : '', lastErrorMessage: trouble ? 'connect ECONNREFUSED 10.0.0.1:4317' : '', agentStartTime: T0 - 86_400_000,
  };
}

export function contactsStartupCase(o: ContactsStartupOptions): BenchCase {
  const name = `contacts-startup/sites=${o.sites}/hours=${o.hours}`;
  return {
    name,
    async run({ iterations, log }: RunOptions): Promise<CaseResult> {
      const dir = await mkdtemp(join(tmpdir(), 'dw-bench-contacts-'));
      try {
        const sites = Array.from({ length: o.sites }, (_, i) => `shop-${String(i).padStart(5, '0')}`);
        const minutes = o.hours * 60;
        // Large batches: the fill is not what is measured.
        let storage = await openLevelStorage({ dir, groupCommit: { maxCommits: 8192, maxDelayMs: 5 } });
        const fillStarted = performance.now();
        let last = 0;
        for (let m = 0; m < minutes; m++) {
          // Each site's heartbeat at its own second of the minute: arrival times spread, as in a fleet.
          await Promise.all(sites.map((site, i) => {
            const at = T0 + m * MINUTE + ((i * 37) % MINUTE);
            last = Math.max(last, at);
            return storage.recordContact(site, heartbeat(i, m, at));
          }));
          if (m % 60 === 59) log(`filled ${(m + 1) / 60} h of ${o.hours} (${((performance.now() - fillStarted) / 1000).toFixed(0)} s)`);
        }
        const fillMs = performance.now() - fillStarted;
        await storage.close();
        const storeBytes = await diskUsage(dir);

        const openStarted = performance.now();
        storage = await openLevelStorage({ dir });
        const openMs = performance.now() - openStarted;
        const runs: number[] = [];
        let records = 0;
        let held = '';
        let snap = { bytes: 0, writeMs: 0, loadMs: 0, restMs: 0, rest: 0, kept: 0 };
        try {
          for (let k = 0; k < Math.max(3, Math.min(iterations, 5)); k++) {
            const index = new ContactIndex();
            const t = performance.now();
            records = await catchUpContacts(index, storage, { now: last + 1, graceMs: 0 });
            runs.push(performance.now() - t);
            const kept = sites.reduce((n, s) => n + (index.lastContact(s, last) === undefined ? 0 : 1), 0);
            held = `${kept} sites with a contact`;
            log(`catch-up ${k + 1}: ${records} records in ${runs[k]!.toFixed(0)} ms`);
          }
          // The start with a snapshot whose contact watermark is 10 minutes before the last arrival.
          const before = new ContactIndex();
          await catchUpContacts(before, storage, { now: last - 10 * MINUTE, graceMs: 0 });
          const file = join(dir, FLEET_INDEX_SNAPSHOT_FILE);
          const w = await writeSnapshotFile(file, new FleetIndex(), last, before);
          const t = performance.now();
          const loaded = await loadSnapshotFile(file, { cut: last + 1, storage, now: last });
          if (loaded.status !== 'loaded') throw new Error(`bench: expected the snapshot to load, found ${loaded.status}`);
          const loadMs = performance.now() - t;
          const r = performance.now();
          const rest = await catchUpContacts(loaded.contacts, storage, { now: last + 1, graceMs: 0 });
          snap = { bytes: w.bytes, writeMs: w.elapsedMs, loadMs, restMs: performance.now() - r, rest, kept: before.kept };
          log(`snapshot: ${before.kept} contacts, ${w.bytes} bytes; loaded in ${loadMs.toFixed(0)} ms, then ${rest} records in ${snap.restMs.toFixed(0)} ms`);
        } finally {
          await storage.close();
        }
        if (records !== o.sites * minutes) throw new Error(`bench: expected ${o.sites * minutes} history records (one per site per minute), found ${records}`);
        const catchUpMs = median(runs);
        const perMillionMs = (catchUpMs * 1e6) / records;
        const fleetRecords = FLEET_SITES * FLEET_HOURS * 60;
        const figures: Figure[] = [
          { key: 'records', label: 'contact history records stored', value: records, unit: '', digits: 0 },
          { key: 'fillRecordsPerS', label: 'fill: recordContact, group commit', value: records / (fillMs / 1000), unit: 'records/s' },
          { key: 'storeMiB', label: 'store on disk', value: storeBytes / 2 ** 20, unit: 'MiB' },
          { key: 'openMs', label: 'storage open (reads the latest contact records)', value: openMs, unit: 'ms' },
          { key: 'catchUpMs', label: 'start: catchUpContacts into a fresh ContactIndex', value: catchUpMs, unit: 'ms' },
          { key: 'catchUpMsPerMillion', label: 'start: contact catch-up per million records', value: perMillionMs, unit: 'ms' },
          { key: 'catchUpFleetDayS', label: `start: contact catch-up, ${FLEET_SITES} sites × ${FLEET_HOURS} h (extrapolated)`, value: (perMillionMs * fleetRecords) / 1e6 / 1000, unit: 's' },
          { key: 'snapshotContactsMiB', label: `snapshot with the contact index (${snap.kept} contacts, 5-min resolution): size`, value: snap.bytes / 2 ** 20, unit: 'MiB' },
          { key: 'snapshotContactsWriteMs', label: 'snapshot with the contact index: write', value: snap.writeMs, unit: 'ms' },
          { key: 'snapshotContactsLoadMs', label: 'start with the snapshot: load', value: snap.loadMs, unit: 'ms' },
          { key: 'snapshotContactsRestMs', label: `start with the snapshot: catch-up of the last 10 min (${snap.rest} records)`, value: snap.restMs, unit: 'ms' },
          { key: 'snapshotContactsFleetDayS', label: `start with the snapshot, ${FLEET_SITES} sites × ${FLEET_HOURS} h (extrapolated): load`, value: (snap.loadMs * fleetRecords) / records / 1000, unit: 's' },
        ];
        return {
          name,
          figures,
          notes: [
            `${o.sites} sites × ${o.hours} h, one heartbeat per site per minute through recordContact (each kept: the storage's history period is a minute); ${held}`,
            `catch-up: median of ${runs.length} runs on the reopened store, each into a fresh ContactIndex (5-minute resolution) up to the last arrival; `
              + `the fleet figure assumes time linear in records (${(fleetRecords / 1e6).toFixed(1)} M for ${FLEET_SITES} sites × ${FLEET_HOURS} h)`,
          ],
          context: { sites: o.sites, hours: o.hours, records, runs: runs.length },
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The cases run.ts lists. */
export function contactsStartupCases(): BenchCase[] {
  return [contactsStartupCase({ sites: 2_000, hours: 12 })];
}

// The fleet HTTP API's layer, against a real aggregator on loopback whose FleetReports is a small
// in-test implementation answering fixed pages (fixed-reports.ts) — NOT the real merge index:
// these tests hold the schemas, the parameter parsing and defaults, the error answers, readiness,
// the paging passthrough and the JSON content. End-to-end tests against the real reports are
// separate.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { credentialsFromHashes, fleetRoutes, startAggregator, type Aggregator, type HealthStatus } from '../../../aggregator/index.js';
import { FleetError, FleetErrorCode } from '../../../aggregator/fleet/index.js';
import { ManualClock } from '../../../common/clock.js';
import type { DriftRow, UpgradeQuery } from '../../../aggregator/fleet/types.js';
import { AT, DRIFT_ROWS, FixedFleetReports } from './fixed-reports.js';

const NOW = AT + 3 * 3_600_000;

interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('fleet API over HTTP, with a fixed in-test FleetReports (not the real index)', () => {
  let dir: string;
  let agg: Aggregator;
  const clock = new ManualClock(NOW);
  const reports = new FixedFleetReports();
  let readiness: HealthStatus = { ok: true, reason: 'caught up' };
  let indexed = NOW;
  const logged: { fields: Record<string, unknown>; message: string }[] = [];

  const get = async (path: string): Promise<Answer> => {
    const res = await fetch(`${agg.httpAddress}${path}`);
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, body };
  };
  const lastQuery = (): UpgradeQuery => reports.calls.at(-1)!.query as UpgradeQuery;
  const expectError = async (path: string, status: number, code: string, message: RegExp): Promise<void> => {
    const r = await get(path);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(r.body), ['error']);
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.match(r.body.error.message, message);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-fleet-api-'));
    agg = await startAggregator({
      dataDir: dir, tls: 'insecure', credentials: { credentials: credentialsFromHashes({}) }, clock,
      logger: { debug() {}, info() {}, warn() {}, error: (fields, message) => logged.push({ fields, message }) },
      fleet: () => ({ reports, ready: () => readiness, indexedThrough: () => indexed }),
    });
  });
  after(async () => {
    await agg.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /fleet/v1/drift: the page as JSON — times as RFC 3339, an absent series as null, the fleet line, paging fields', async () => {
    const r = await get('/fleet/v1/drift?known_at=2025-11-20T14:00:00Z&at=2025-11-20T12:00:00Z&limit=2');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, {
      at: '2025-11-20T12:00:00.000Z',
      knownAt: '2025-11-20T14:00:00.000Z',
      selector: null,
      fleet: { sites: 480, sitesWithData: 479, sitesCompleteThroughAt: 477 },
      total: 3,
      offset: 0,
      limit: 2,
      next: '/fleet/v1/drift?at=2025-11-20T12%3A00%3A00.000Z&known_at=2025-11-20T14%3A00%3A00.000Z&limit=2&offset=2',
      rows: [
        {
          site: 'shop-0042', lastDataT: '2025-11-20T11:59:45.000Z', completeThrough: '2025-11-20T11:59:45.000Z', lastContactAt: '2025-11-20T11:59:50.000Z',
          series: 'kube_deployment_container_image{deployment="pos",namespace="shop"}', expected: 'semver >=2.5.0 (registry.example/pos)',
          actual: 'registry.example/pos:2.4.1', since: '2025-11-20T09:00:00.000Z', policy: 'pos-rollout', revision: 'a1b2c3d',
        },
        {
          site: 'shop-0107', lastDataT: '2025-11-20T10:00:00.000Z', completeThrough: '2025-11-20T10:00:00.000Z', lastContactAt: '2025-11-20T11:30:00.000Z',
          series: 'kube_deployment_container_image{deployment="pos",namespace="shop"}', expected: 'semver >=2.5.0 (registry.example/pos)',
          actual: null, since: '2025-11-19T10:00:00.000Z', policy: 'pos-rollout', revision: 'a1b2c3d',
        },
      ],
    });
    assert.deepEqual(lastQuery(), { at: AT, knownAt: AT + 2 * 3_600_000, offset: 0, limit: 2 });
  });

  it('defaults: known_at is now (the aggregator\'s clock), at is known_at, offset 0, limit 100; at alone keeps known_at now', async () => {
    await get('/fleet/v1/drift');
    assert.deepEqual(lastQuery(), { at: NOW, knownAt: NOW, offset: 0, limit: 100 });
    await get('/fleet/v1/stale?known_at=1763640000000');
    assert.deepEqual(lastQuery(), { at: AT, knownAt: AT, offset: 0, limit: 100 }, 'a pinned known_at alone is a repeatable query');
    await get('/fleet/v1/sites?at=2025-11-20T12:00:00Z');
    assert.deepEqual(lastQuery(), { at: AT, knownAt: NOW, offset: 0, limit: 100 });
    indexed = NOW - 5_000;
    try {
      await get('/fleet/v1/drift');
      assert.deepEqual(lastQuery(), { at: NOW - 5_000, knownAt: NOW - 5_000, offset: 0, limit: 100 }, 'the default cut is never past what the index caught up with');
    } finally {
      indexed = NOW;
    }
  });

  it('times: RFC 3339 in any zone, with fractions, or ms since the epoch, all to the same milliseconds', async () => {
    for (const text of ['2025-11-20T12:00:00Z', '2025-11-20T13:00:00%2B01:00', '2025-11-20t07:00:00-05:00', '2025-11-20T12:00:00.000000Z', '1763640000000']) {
      const r = await get(`/fleet/v1/drift?at=${text}`);
      assert.equal(r.status, 200, `${text}: ${JSON.stringify(r.body)}`);
      assert.equal(lastQuery().at, AT, text);
    }
    await get('/fleet/v1/drift?at=2025-11-20T12:00:00.2509Z');
    assert.equal(lastQuery().at, AT + 250, 'fractions below a millisecond are cut');
  });

  it('bad parameters: 400 DW_API_BAD_PARAM saying what was expected and what was found, every problem at once; the report is not asked', async () => {
    const calls = reports.calls.length;
    await expectError('/fleet/v1/drift?at=yesterday', 400, 'DW_API_BAD_PARAM', /^expected at to be an RFC 3339 time with a zone \(2025-11-20T12:00:00Z\) or milliseconds since the epoch, found "yesterday"$/);
    await expectError('/fleet/v1/drift?known_at=2025-02-30T00:00:00Z', 400, 'DW_API_BAD_PARAM', /expected known_at to be an RFC 3339 time .* found "2025-02-30T00:00:00Z"/);
    await expectError('/fleet/v1/drift?at=2025-11-20T12:00:00', 400, 'DW_API_BAD_PARAM', /found "2025-11-20T12:00:00"$/);
    await expectError('/fleet/v1/drift?limit=0', 400, 'DW_API_BAD_PARAM', /^expected limit to be a whole number from 1 to 1000, found "0"$/);
    await expectError('/fleet/v1/drift?limit=1001', 400, 'DW_API_BAD_PARAM', /found "1001"$/);
    await expectError('/fleet/v1/drift?limit=ten', 400, 'DW_API_BAD_PARAM', /^expected limit to be a whole number of rows from 1 to 1000, found "ten"$/);
    await expectError('/fleet/v1/drift?offset=-1', 400, 'DW_API_BAD_PARAM', /^expected offset to be a whole number of rows to skip, found "-1"$/);
    await expectError('/fleet/v1/drift?knownat=1', 400, 'DW_API_BAD_PARAM', /^expected parameters among at, known_at, selector, limit, offset, found "knownat"$/);
    await expectError('/fleet/v1/drift?policy=x', 400, 'DW_API_BAD_PARAM', /found "policy"$/);
    await expectError('/fleet/v1/upgrades?polcy=x', 400, 'DW_API_BAD_PARAM', /^expected parameters among at, known_at, selector, limit, offset, revision, policy, found "polcy"$/);
    await expectError('/fleet/v1/drift?at=1&at=2', 400, 'DW_API_BAD_PARAM', /^expected at once, found it 2 times$/);
    await expectError(`/fleet/v1/drift?known_at=${NOW + 1}`, 400, 'DW_API_BAD_PARAM',
      /^expected known_at at or before the aggregator's clock \(2025-11-20T15:00:00.000Z\), found 2025-11-20T15:00:00.001Z: an answer as of a later cut could still change$/);
    const both = await get('/fleet/v1/stale?at=soon&limit=0&selector=region%3D%3D%3D');
    assert.equal(both.status, 400);
    assert.equal(both.body.error.code, 'DW_API_BAD_PARAM');
    const parts: string[] = both.body.error.message.split('; ');
    assert.equal(parts.length, 3, both.body.error.message);
    assert.match(parts[0]!, /^expected at /);
    assert.match(parts[1]!, /^expected limit /);
    assert.match(parts[2]!, /of the selector "region===", found "="$/);
    await expectError(`/fleet/v1/sites?selector=${'a'.repeat(5000)}`, 400, 'DW_API_BAD_PARAM', /^expected selector of at most 4096 characters, found 5000$/);
    assert.equal(reports.calls.length, calls, 'no bad request reached the reports');
  });

  it('selectors: passed through as written once they parse; a bad one is 400 DW_API_BAD_SELECTOR pointing at the problem', async () => {
    const text = 'region in (eu-north, eu-west),tier!=lab,!legacy';
    const r = await get(`/fleet/v1/sites?selector=${encodeURIComponent(` ${text} `)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.selector, text);
    assert.equal(lastQuery().selector, text);
    await get('/fleet/v1/sites?selector=');
    assert.equal(lastQuery().selector, undefined, 'an empty selector selects every site');
    await expectError(`/fleet/v1/drift?selector=${encodeURIComponent('region in (eu')}`, 400, 'DW_API_BAD_SELECTOR',
      /^expected "," or "\)" in a list of values at character 14 of the selector "region in \(eu", found the end$/);
    await expectError(`/fleet/v1/drift?selector=${encodeURIComponent('region=eu tier=shop')}`, 400, 'DW_API_BAD_SELECTOR', /at character 11 of the selector "region=eu tier=shop", found "tier=shop"$/);
    await expectError(`/fleet/v1/drift?selector=${encodeURIComponent('app.kubernetes.io/name=pos')}`, 400, 'DW_API_BAD_SELECTOR', /at character 4 of the selector/);
  });

  it('paging passthrough: following next collects every row exactly once, in order, with at and known_at pinned', async () => {
    const many: DriftRow[] = Array.from({ length: 23 }, (_, i) => ({ ...DRIFT_ROWS[0]!, site: `shop-${String(i).padStart(4, '0')}` }));
    reports.drifts = many;
    try {
      let path: string | null = '/fleet/v1/drift?limit=5&selector=tier%3Dshop';
      const seen: string[] = [];
      const knownAts = new Set<string>();
      let pages = 0;
      while (path !== null) {
        const r = await get(path);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.total, 23);
        assert.equal(r.body.offset, pages * 5);
        assert.equal(r.body.selector, 'tier=shop');
        seen.push(...r.body.rows.map((x: { site: string }) => x.site));
        knownAts.add(r.body.knownAt);
        clock.advance(60_000); // the clock moves on between pages: the pinned cut does not
        path = r.body.next;
        pages++;
      }
      assert.equal(pages, 5);
      assert.deepEqual(seen, many.map((m) => m.site));
      assert.equal(knownAts.size, 1);
      const r = await get('/fleet/v1/drift?offset=100');
      assert.deepEqual([r.status, r.body.rows, r.body.next, r.body.total], [200, [], null, 23], 'past the end: an empty last page');
    } finally {
      reports.drifts = DRIFT_ROWS;
      clock.set(NOW);
    }
  });

  it('GET /fleet/v1/upgrades: revision and policy passed through; the revision, counts over every row, evidence; unknown ones 404 from the reports\' DW_FLEET_* errors', async () => {
    const r = await get('/fleet/v1/upgrades?policy=pos-rollout&revision=seq:12&at=2025-11-20T12:00:00Z&limit=1');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(lastQuery(), { at: AT, knownAt: NOW, offset: 0, limit: 1, revision: 'seq:12', policy: 'pos-rollout' });
    assert.deepEqual([r.body.revision, r.body.revisionSeq, r.body.revisionEffectiveAt, r.body.summary, r.body.total], [
      'a1b2c3d', 12, '2025-11-20T06:00:00.000Z', { converged: 1, in_progress: 0, failed: 1, unknown: 1 }, 3,
    ], 'the summary counts every row, not only the page');
    assert.equal(r.body.next, '/fleet/v1/upgrades?at=2025-11-20T12%3A00%3A00.000Z&known_at=2025-11-20T15%3A00%3A00.000Z&revision=seq%3A12&policy=pos-rollout&limit=1&offset=1');
    assert.deepEqual(r.body.rows[0], {
      site: 'shop-0042', lastDataT: '2025-11-20T11:59:45.000Z', completeThrough: '2025-11-20T11:59:45.000Z', lastContactAt: '2025-11-20T11:59:50.000Z',
      policy: 'pos-rollout', revision: 'a1b2c3d', revisionEffectiveAt: '2025-11-20T06:00:00.000Z', status: 'failed', reason: 'image_pull_error',
      convergedAt: null, deadline: '2025-11-20T10:00:00.000Z',
      evidence: [
        { t: '2025-11-20T07:00:00.000Z', kind: 'event', text: 'Pod shop/pos-7d9f Failed: ErrImagePull registry.example/pos:2.5.0: not found' },
        { t: '2025-11-20T07:01:00.000Z', kind: 'event', text: 'Pod shop/pos-7d9f BackOff: Back-off pulling image "registry.example/pos:2.5.0"' },
      ],
    });
    const all = await get('/fleet/v1/upgrades');
    assert.equal(all.body.rows[2].convergedAt, '2025-11-20T06:40:00.000Z');
    assert.deepEqual(all.body.rows[3].evidence, [{ t: '2025-11-16T12:00:00.000Z', kind: 'contact', text: 'last heartbeat: backlog 0 blocks; nothing since' }]);
    await expectError('/fleet/v1/upgrades?policy=nope', 404, 'DW_API_UNKNOWN_POLICY', /^expected a policy whose expected values revision a1b2c3d changed, found none named "nope"$/);
    await expectError('/fleet/v1/upgrades?revision=ffff', 404, 'DW_API_UNKNOWN_REVISION', /^expected a policy revision known by knownAt \(a1b2c3d or seq:12\), found "ffff"$/);
    await expectError('/fleet/v1/upgrades?policy=', 400, 'DW_API_BAD_PARAM', /^expected policy to be a policy name: only its upgrades, found ""$/);
  });

  it('GET /fleet/v1/stale and /fleet/v1/sites: rows as JSON, unknown numbers and times as null', async () => {
    const stale = await get('/fleet/v1/stale');
    assert.deepEqual(stale.body.rows[1], {
      site: 'shop-0311', lastDataT: '2025-11-16T12:00:00.000Z', completeThrough: '2025-11-16T11:00:00.000Z', lastContactAt: '2025-11-16T12:00:00.000Z',
      state: 'dark', staleAfterMs: 3_600_000, backlogBlocks: null, backlogBytes: null,
    });
    const sites = await get('/fleet/v1/sites');
    assert.deepEqual(sites.body.rows.map((s: { site: string; labels: object; driftCount: number; lastDataT: string | null }) => [s.site, s.labels, s.driftCount, s.lastDataT]), [
      ['shop-0042', { region: 'eu-north', tier: 'shop' }, 1, '2025-11-20T11:59:45.000Z'],
      ['shop-0107', { region: 'eu-west', tier: 'shop', customer: 'Acme, "North"' }, 1, '2025-11-20T10:00:00.000Z'],
      ['shop-0200', { region: 'eu-north', tier: 'flagship' }, 0, '2025-11-20T11:59:45.000Z'],
      ['shop-0311', {}, 1, null],
    ]);
  });

  it('GET /fleet/v1/sites/:site: the site in detail; unknown (undefined or DW_FLEET_UNKNOWN_SITE) 404 DW_API_UNKNOWN_SITE; a bad id 400', async () => {
    const r = await get('/fleet/v1/sites/shop-0107?known_at=2025-11-20T12:00:00Z');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(reports.calls.at(-1), { method: 'site', site: 'shop-0107', query: { at: AT, knownAt: AT } });
    assert.deepEqual(r.body, {
      at: '2025-11-20T12:00:00.000Z',
      knownAt: '2025-11-20T12:00:00.000Z',
      site: {
        site: 'shop-0107', lastDataT: '2025-11-20T10:00:00.000Z', completeThrough: '2025-11-20T10:00:00.000Z', lastContactAt: '2025-11-20T11:30:00.000Z',
        labels: { region: 'eu-west', tier: 'shop', customer: 'Acme, "North"' }, driftCount: 1,
        coverage: [['2025-11-13T12:00:00.000Z', '2025-11-19T10:00:00.000Z'], ['2025-11-19T11:00:00.000Z', '2025-11-20T10:00:00.000Z']],
        seal: [{ store: '01KAG0000000000000000STORE', held: [[0, 41], [44, 310]], missing: [[42, 43]], dropped: [] }],
        blocks: 312, supersededBlocks: 288, series: 2200, backlogBlocks: 14, backlogBytes: 3100000,
      },
    });
    const dark = await get('/fleet/v1/sites/shop-0311');
    assert.deepEqual([dark.body.site.coverage, dark.body.site.backlogBlocks, dark.body.site.lastDataT], [[], null, null]);
    await expectError('/fleet/v1/sites/shop-9999?known_at=2025-11-20T12:00:00Z', 404, 'DW_API_UNKNOWN_SITE',
      /^expected a site the center knew of by known_at 2025-11-20T12:00:00.000Z, found none named "shop-9999"$/);
    await expectError('/fleet/v1/sites/shop-9998', 404, 'DW_API_UNKNOWN_SITE', /^expected a site the center knew of by knownAt \d+, found "shop-9998"$/);
    await expectError('/fleet/v1/sites/shop%20one', 400, 'DW_API_BAD_PARAM', /^expected a site id of letters, digits, "\.", "_" and "-" \(at most 256 characters\), found "shop one"$/);
    await expectError('/fleet/v1/sites/shop-0107?selector=x', 400, 'DW_API_BAD_PARAM', /^expected parameters among at, known_at, found "selector"$/);
  });

  it('not ready: the fleet routes answer 503 DW_API_NOT_READY with Retry-After and /readyz says why; ready again once the callback says so', async () => {
    readiness = { ok: false, reason: 'index catching up: 1,204 blocks to read' };
    try {
      await expectError('/fleet/v1/drift', 503, 'DW_API_NOT_READY', /^expected the fleet index to have caught up with the stored blocks, found it not ready: index catching up: 1,204 blocks to read$/);
      assert.equal((await get('/fleet/v1/sites/shop-0042')).headers.get('retry-after'), '5');
      const ready = await get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body, 'unavailable: fleet index not ready: index catching up: 1,204 blocks to read\n');
      await expectError('/fleet/v1/drift?limit=0', 400, 'DW_API_BAD_PARAM', /limit/);
    } finally {
      readiness = { ok: true, reason: 'caught up' };
    }
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.match(ready.body, /^ok: accepting uploads on 127\.0\.0\.1:\d+; fleet index caught up\n$/);
    assert.equal((await get('/fleet/v1/drift')).status, 200);
  });

  it('a known_at the index has not caught up with (DW_FLEET_NOT_INDEXED from the reports) is 503 DW_API_NOT_READY with the reports\' message', async () => {
    reports.fail = new FleetError(FleetErrorCode.NotIndexed, 'expected knownAt at or before 1763646000000, the arrival time the index has caught up with, found 1763650800000');
    await expectError(`/fleet/v1/drift?known_at=${NOW}`, 503, 'DW_API_NOT_READY', /^expected knownAt at or before 1763646000000, the arrival time the index has caught up with/);
  });

  it('a failing report is 500 DW_API_INTERNAL naming the failure, and is logged; a row that breaks the response schema is too, never a malformed body', async () => {
    reports.fail = new Error('index exploded');
    await expectError('/fleet/v1/stale', 500, 'DW_API_INTERNAL', /^expected a report, found an internal error: Error: index exploded$/);
    assert.ok(logged.some((l) => l.message === 'fleet api request failed' && l.fields.err === 'index exploded'), JSON.stringify(logged));
    reports.drifts = [{ ...DRIFT_ROWS[0]!, series: undefined as unknown as string }];
    try {
      await expectError('/fleet/v1/drift', 500, 'DW_API_INTERNAL', /series/);
    } finally {
      reports.drifts = DRIFT_ROWS;
    }
  });

  it('unknown /fleet/ paths are 404 DW_API_NOT_FOUND as JSON, listing the routes; other paths keep the plain answer', async () => {
    await expectError('/fleet/v1/drifts', 404, 'DW_API_NOT_FOUND', /^expected GET \/fleet\/v1\/sites, \/fleet\/v1\/sites\/:site, \/fleet\/v1\/drift, \/fleet\/v1\/upgrades, \/fleet\/v1\/stale, found GET \/fleet\/v1\/drifts$/);
    const plain = await get('/nope');
    assert.equal(plain.status, 404);
    assert.match(plain.body, /try \/metrics, \/healthz or \/readyz or \/fleet\/v1\//);
  });
});

describe('fleet routes as a plugin', () => {
  it('every route has a querystring schema and 200, 4xx and 5xx response schemas', async () => {
    const app = Fastify();
    const routes: { url: string; schema: Record<string, unknown> | undefined }[] = [];
    app.addHook('onRoute', (r) => {
      if (r.method === 'GET') routes.push({ url: r.url, schema: r.schema as Record<string, unknown> | undefined });
    });
    await app.register(fleetRoutes({ reports: new FixedFleetReports(), now: () => NOW }));
    await app.ready();
    assert.deepEqual(routes.map((r) => r.url).sort(), ['/fleet/v1/drift', '/fleet/v1/sites', '/fleet/v1/sites/:site', '/fleet/v1/stale', '/fleet/v1/upgrades']);
    for (const r of routes) {
      assert.ok(r.schema?.querystring !== undefined, `${r.url} has a querystring schema`);
      assert.deepEqual(Object.keys(r.schema!.response as object).sort(), ['200', '4xx', '5xx'], r.url);
    }
    await app.close();
  });

  it('without the fleet option, /fleet/ answers 404 DW_API_NOT_FOUND saying the API is not enabled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-fleet-off-'));
    const agg = await startAggregator({ dataDir: dir, tls: 'insecure', credentials: { credentials: credentialsFromHashes({}) } });
    try {
      const res = await fetch(`${agg.httpAddress}/fleet/v1/drift`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { error: { code: 'DW_API_NOT_FOUND', message: 'expected the fleet API, found it not enabled on this aggregator (GET /fleet/v1/drift)' } });
      assert.equal((await fetch(`${agg.httpAddress}/readyz`)).status, 200);
    } finally {
      await agg.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

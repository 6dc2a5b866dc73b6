// Bad input gets a coded error that says what was expected and what was found: selectors,
// query parameters, unknown sites, unknown revisions and policies, a knownAt the index has not
// caught up with. And the selector grammar itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  driftReport, FleetError, FleetErrorCode, parseSiteSelector, siteDetail, sitesReport, staleReport, upgradesReport, type FleetInputs, type ReportQuery,
} from '../../../aggregator/fleet/index.js';
import { matchesSelector } from '../../../aggregator/policy/index.js';
import { HOUR, T0 } from './helpers.js';
import { inputsOf, indexOf } from './helpers.js';
import { scenario } from './scenario.js';

const S = scenario();
const KNOWN = T0 + 12 * HOUR;
const inputs: FleetInputs = { ...inputsOf(indexOf(S.arrivals, KNOWN), S.history), labels: S.labels };
const ok: ReportQuery = { at: T0 + 3 * HOUR, knownAt: KNOWN };

function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FleetError, `a FleetError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('malformed selectors are DW_FLEET_BAD_SELECTOR, pointing at the character', () => {
  const cases: [string, RegExp][] = [
    ['tier=shop,', /expected a label name .* at character 11 of the selector "tier=shop,", found the end/],
    ['tier in shop', /expected "\(" opening a list of values at character 9 .*found "shop"/],
    ['tier in ()', /expected a value at character 10/],
    ['tier in (a b)', /expected "," or "\)" in a list of values at character 12/],
    ['9tier=x', /expected a label name .* at character 1 .*found "9tier=x"/],
    ['tier=shop region=eu', /expected "," between requirements or the end at character 11/],
    ['tier > 3', /expected "=", "==", "!=", "in \(…\)", "notin \(…\)", "," or the end after the label name tier at character 6/],
    ['!', /expected a label name after "!"/],
  ];
  for (const [text, message] of cases) {
    throwsCode(() => parseSiteSelector(text), FleetErrorCode.BadSelector, message);
    for (const report of [driftReport, staleReport, sitesReport, upgradesReport]) {
      throwsCode(() => report(inputs, { ...ok, selector: text }), FleetErrorCode.BadSelector, message);
    }
  }
});

test('the selector grammar: Kubernetes semantics', () => {
  const site = { tier: 'shop', region: 'eu-west', pilot: '' };
  const yes = ['', '  ', 'tier=shop', 'tier==shop', 'tier = shop', 'region in (eu-west, eu-north)', 'region notin (us)', 'missing!=x', 'pilot', 'pilot=', '!legacy',
    'tier=shop,region in (eu-west),!legacy', 'missing notin (a)'];
  const no = ['tier=lab', 'tier!=shop', 'region in (us)', 'region notin (eu-west)', 'legacy', '!pilot', 'tier=shop,legacy', 'missing in (a)', 'pilot=x'];
  for (const t of yes) assert.equal(matchesSelector(parseSiteSelector(t), site), true, t);
  for (const t of no) assert.equal(matchesSelector(parseSiteSelector(t), site), false, t);
});

test('query parameters out of range are DW_FLEET_BAD_QUERY; a knownAt past the index is DW_FLEET_NOT_INDEXED', () => {
  throwsCode(() => driftReport(inputs, { ...ok, at: Number.NaN }), FleetErrorCode.BadQuery, /expected at in whole milliseconds since the epoch \(>= 0\), found null/);
  throwsCode(() => driftReport(inputs, { ...ok, at: -1 }), FleetErrorCode.BadQuery, /found -1/);
  throwsCode(() => staleReport(inputs, { ...ok, knownAt: 1.5 }), FleetErrorCode.BadQuery, /expected knownAt in whole milliseconds .* found 1.5/);
  throwsCode(() => sitesReport(inputs, { ...ok, offset: -2 }), FleetErrorCode.BadQuery, /expected offset to be a whole number >= 0, found -2/);
  throwsCode(() => sitesReport(inputs, { ...ok, limit: 0 }), FleetErrorCode.BadQuery, /expected limit to be a whole number >= 1, found 0/);
  throwsCode(() => driftReport(inputs, { ...ok, knownAt: KNOWN + 1 }), FleetErrorCode.NotIndexed,
    new RegExp(`expected knownAt at or before ${KNOWN}, the arrival time the index has caught up with, found ${KNOWN + 1}`));
});

test('unknown sites, revisions and policies are coded errors', () => {
  throwsCode(() => siteDetail(inputs, 'shop-nowhere', ok), FleetErrorCode.UnknownSite, /expected a site the center knew of by knownAt \d+ \(one of 10 with a block or a contact\), found "shop-nowhere"/);
  throwsCode(() => siteDetail(inputs, '../etc', ok), FleetErrorCode.UnknownSite, /expected a site id .*found "..\/etc"/);
  // Known later, not by this knownAt: unknown then.
  throwsCode(() => siteDetail(inputs, 'shop-ok-1', { at: T0, knownAt: 5 }), FleetErrorCode.UnknownSite, /found "shop-ok-1"/);
  throwsCode(() => upgradesReport(inputs, { ...ok, revision: 'sha256:0000' }), FleetErrorCode.UnknownRevision, /expected a policy revision id or seq:N known by knownAt \d+ \(2 known\), found "sha256:0000"/);
  throwsCode(() => upgradesReport(inputs, { ...ok, revision: 'seq:9' }), FleetErrorCode.UnknownRevision, /found "seq:9"/);
  throwsCode(() => upgradesReport(inputs, { ...ok, at: T0 - 1, revision: 'seq:2' }), FleetErrorCode.BadQuery, /expected at at or after revision .* effective time/);
  throwsCode(() => upgradesReport(inputs, { ...ok, policy: 'nope' }), FleetErrorCode.UnknownPolicy, /expected a policy whose expected values revision .* changed \(shop-pos\), found "nope"/);
  // Naming the revision explicitly gives the default's answer.
  assert.deepEqual(upgradesReport(inputs, { ...ok, revision: 'seq:2' }), upgradesReport(inputs, ok));
  // The first revision added the 2.4 expectation: judged at T0+3h, the sites still on 2.4.1 meet it.
  const first = upgradesReport(inputs, { ...ok, revision: 'seq:1' });
  assert.deepEqual(first.rows.filter((r) => r.status === 'converged').map((r) => [r.site, r.convergedAt]),
    [['shop-backlog', T0 - 2 * HOUR], ['shop-crash', T0 + 40 * 60_000], ['shop-dark', T0 - 2 * HOUR], ['shop-late', T0 - 2 * HOUR]]);
});

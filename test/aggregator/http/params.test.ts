// The fleet API's parameter parsing on its own: times (RFC 3339 and ms, the impossible ones
// refused), the defaults of a report query, every problem at once. (Selectors are parsed by the
// reports' own parser, aggregator/fleet/selector.ts, tested with the reports.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimeParam } from '../../../common/rfc3339.js';
import { parseReportQuery } from '../../../aggregator/http/fleet-params.js';
import { isDriftwatchError } from '../../../common/errors.js';

const AT = Date.UTC(2025, 10, 20, 12);

describe('parseTimeParam', () => {
  it('RFC 3339 with a zone, in any case and zone, and ms since the epoch', () => {
    for (const t of ['2025-11-20T12:00:00Z', '2025-11-20t12:00:00z', '2025-11-20T13:30:00+01:30', '2025-11-20T00:00:00-12:00', '2025-11-20T12:00:00.000Z', '1763640000000']) {
      assert.equal(parseTimeParam(t), AT, t);
    }
    assert.equal(parseTimeParam('2025-11-20T12:00:00.5Z'), AT + 500);
    assert.equal(parseTimeParam('2025-11-20T12:00:00.123999999Z'), AT + 123);
    assert.equal(parseTimeParam('0'), 0);
    assert.equal(parseTimeParam('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  });

  it('refuses what is not exactly one: no zone, impossible dates and times, a space for T, before 1970, past the Date range', () => {
    for (const t of ['2025-11-20T12:00:00', '2025-11-20 12:00:00Z', '2025-02-29T00:00:00Z', '2025-02-30T00:00:00Z', '2025-13-01T00:00:00Z', '2025-11-20T24:00:00Z',
      '2025-11-20T23:59:60Z', '2025-11-20T12:00:00+24:00', '2025-11-20', 'now', '-1', '1.5', '', ' 1', '1969-12-31T23:59:59Z', '99999999999999999', '+275760-09-13T00:00:00Z']) {
      assert.equal(parseTimeParam(t), undefined, JSON.stringify(t));
    }
  });
});

describe('parseReportQuery', () => {
  const clock = { now: () => AT, knownAtNow: () => AT - 3 };
  it('defaults known_at to the final "now" (below a write not yet durable), at to known_at', () => {
    assert.deepEqual(parseReportQuery({}, clock), { at: AT - 3, knownAt: AT - 3, offset: 0, limit: 100 });
    assert.deepEqual(parseReportQuery({ at: '5', limit: '1000', offset: '7', policy: 'p', revision: 'seq:3' }, clock),
      { at: 5, knownAt: AT - 3, offset: 7, limit: 1000, policy: 'p', revision: 'seq:3' });
    assert.deepEqual(parseReportQuery({ selector: '  region in (eu-north, eu-west), !legacy ' }, clock).selector, 'region in (eu-north, eu-west), !legacy', 'trimmed, else as written');
    assert.equal(parseReportQuery({ selector: ' ' }, clock).selector, undefined, 'a blank selector selects every site');
  });
  it('lists every problem at once; DW_API_BAD_SELECTOR only when the selector is the only one', () => {
    assert.throws(() => parseReportQuery({ selector: 'a in' }, clock), (e) => isDriftwatchError(e, 'DW_API_BAD_SELECTOR') && /^expected .* at character 5 of the selector "a in", found the end$/.test(e.message));
    assert.throws(() => parseReportQuery({ selector: 'a in', offset: '1e3' }, clock), (e) => isDriftwatchError(e, 'DW_API_BAD_PARAM') && e.message.split('; ').length === 2);
    assert.throws(() => parseReportQuery({ known_at: String(AT + 1) }, clock), (e) => isDriftwatchError(e, 'DW_API_BAD_PARAM') && /at or before the aggregator's clock/.test(e.message));
    assert.deepEqual(parseReportQuery({ known_at: String(AT) }, clock).knownAt, AT, 'an explicit cut may be now itself');
  });
});

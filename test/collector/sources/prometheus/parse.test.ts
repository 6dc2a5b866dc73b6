// The exposition parser's guards around parse-prometheus-text-format, and the name filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusConfigSchema } from '../../../../collector/sources/prometheus/index.js';
import { nameFilter } from '../../../../collector/sources/prometheus/filter.js';
import { parseExposition, parseSampleValue } from '../../../../collector/sources/prometheus/parse.js';
import { formatConfigIssues } from '../../../../common/config-schema.js';
import { seriesKey } from '../../../../proto/index.js';

const opts = (accept: (n: string) => boolean = () => true, extra: Partial<Parameters<typeof parseExposition>[1]> = {}) =>
  ({ accept, openMetrics: false, labels: {}, maxSeries: 1000, where: 'http://x/metrics', ...extra });

const keys = (text: string, o = opts()): string[] => parseExposition(text, o).samples.map((s) => `${seriesKey(s.name, s.labels)} ${String(s.value)}`);

test('labelled summaries and histograms stay separate series with their labels', () => {
  const text = [
    '# TYPE rpc_seconds summary',
    'rpc_seconds{method="get",quantile="0.5"} 0.2',
    'rpc_seconds{method="get",quantile="0.9"} 0.7',
    'rpc_seconds_sum{method="get"} 12',
    'rpc_seconds_count{method="get"} 40',
    'rpc_seconds{method="put",quantile="0.5"} 0.3',
    'rpc_seconds_sum{method="put"} 3',
    'rpc_seconds_count{method="put"} 9',
  ].join('\n');
  assert.deepEqual(keys(text), [
    'rpc_seconds{method="get",quantile="0.5"} 0.2',
    'rpc_seconds{method="get",quantile="0.9"} 0.7',
    'rpc_seconds_sum{method="get"} 12',
    'rpc_seconds_count{method="get"} 40',
    'rpc_seconds{method="put",quantile="0.5"} 0.3',
    'rpc_seconds_sum{method="put"} 3',
    'rpc_seconds_count{method="put"} 9',
  ]);
  assert.deepEqual(keys(text, opts((n) => n === 'rpc_seconds_count')), ['rpc_seconds_count{method="get"} 40', 'rpc_seconds_count{method="put"} 9']);
});

test('values: NaN, ±Inf, exponents; timestamps ignored; escapes decoded; empty label values dropped', () => {
  assert.deepEqual(keys('a NaN\nb +Inf 1700000000000\nc -inf\nd 1.5e3\ne{x="a\\"b\\\\c\\nd",y=""} .5\n'), [
    'a NaN', 'b Infinity', 'c -Infinity', 'd 1500', 'e{x="a\\"b\\\\c\\nd"} 0.5',
  ]);
  for (const bad of ['', '1,5', '0x10', 'one', '1e', '--1']) assert.equal(parseSampleValue(bad), undefined, bad);
});

test('duplicates kept once and counted; exported_ prefixes chain as in Prometheus', () => {
  const r = parseExposition('a{x="1"} 1\nb 2\na{x="1"} 3\n', opts());
  assert.deepEqual(r.samples.map((s) => [s.name, s.value]), [['a', 1], ['b', 2]]);
  assert.equal(r.duplicates, 1);
  const labelled = parseExposition('a{job="exp",exported_job="older"} 1\n', opts(() => true, { labels: { job: 'node' } }));
  assert.deepEqual(labelled.samples[0]!.labels, { exported_exported_job: 'exp', exported_job: 'older', job: 'node' });
});

test('garbage: invalid names anywhere, lines after # EOF, JSON bodies', () => {
  assert.throws(() => parseExposition('{"status":"ok"}\n', opts(() => false)), { code: 'DW_SOURCE_BAD_RESPONSE', message: /at line 1, found "\{\\"status\\":\\"ok\\"\}"/ });
  assert.throws(() => parseExposition('a 1\n# EOF\nb 2\n', opts()), { code: 'DW_SOURCE_BAD_RESPONSE', message: /nothing after "# EOF" \(line 2\), found line 3/ });
  assert.throws(() => parseExposition('a{1x="y"} 1\n', opts()), { code: 'DW_SOURCE_BAD_RESPONSE', message: /valid label name in a\{...\}, found "1x"/ });
  assert.deepEqual(parseExposition('', opts()).samples, []);
});

test('name filter: exact names and globs, deny wins', () => {
  const f = nameFilter(['node_filesystem_*', 'node_load1', 'up', 'x?z'], ['node_filesystem_device_error', '*_created']);
  assert.equal(f('node_filesystem_avail_bytes'), true);
  assert.equal(f('node_filesystem_device_error'), false);
  assert.equal(f('node_load1'), true);
  assert.equal(f('node_load15'), false);
  assert.equal(f('xyz'), true);
  assert.equal(f('xyyz'), false);
  assert.equal(f('node_filesystem_x_created'), false);
  assert.equal(f('node.filesystem_x'), false);
});

test('config: allow is required and non-empty; defaults', () => {
  const c = prometheusConfigSchema.parse({ kind: 'prometheus', name: 'n', url: 'http://127.0.0.1:9100/metrics', allow: ['up'] });
  assert.deepEqual({ ...c }, { kind: 'prometheus', name: 'n', url: 'http://127.0.0.1:9100/metrics', allow: ['up'], deny: [], maxBytes: 10 * 1024 * 1024, maxSeries: 10_000, headers: {}, labels: {} });
  const r = prometheusConfigSchema.safeParse({ kind: 'prometheus', name: 'n', url: 'ftp://x', allow: [], deny: ['a b'], maxBytes: '10 parsecs', labels: { 'bad-name': 'x' } });
  const issues = formatConfigIssues(r.error!);
  for (const expected of [/^url: expected an http/, /^allow: expected at least one/, /^deny\.0: expected a metric name or a glob/, /^maxBytes: expected a size/, /^labels\.bad-name: expected a valid label name/]) {
    assert.ok(issues.some((i) => expected.test(i)), `${expected} not in ${issues.join('\n')}`);
  }
  assert.equal(prometheusConfigSchema.safeParse({ kind: 'prometheus', name: 'n', url: 'http://x', allow: ['up'] }).success, true);
  assert.equal(prometheusConfigSchema.safeParse({ kind: 'prometheus', name: 'n', url: 'http://x' }).success, false);
});

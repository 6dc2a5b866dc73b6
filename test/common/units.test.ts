import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseByteSize, parseDuration } from '../../common/units.js';

test('durations parse to whole milliseconds and print back', () => {
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration('2d10h'), 58 * 3_600_000);
  assert.equal(parseDuration('1h30m'), 90 * 60_000);
  assert.equal(parseDuration('1m30s500ms'), 90_500);
  for (const bad of ['10h2d', '1h1h', '1.5h30m', '1h 30m', 'h']) assert.equal(parseDuration(bad), undefined, bad);
  for (const bad of ['15', '15 sec', '-1s', '', 'abc', '1e3s']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(formatDuration(15_000), '15s');
  assert.equal(formatDuration(300_000), '5m');
  assert.equal(formatDuration(1500), '1500ms');
});

test('byte sizes parse with SI and IEC units', () => {
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize('64KiB'), 65_536);
  assert.equal(parseByteSize('1GiB'), 2 ** 30);
  assert.equal(parseByteSize('1.5 GB'), 1.5e9);
  for (const bad of ['1 gigabyte', '-5', 'GiB', '']) assert.equal(parseByteSize(bad), undefined, bad);
});

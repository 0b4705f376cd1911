// Ages as the conf and --max-age write them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, parseDuration } from './duration.js';

test('duplicity-style intervals, bare seconds, and nothing else', () => {
  assert.equal(parseDuration('26h'), 26 * 3600);
  assert.equal(parseDuration('1D12h'), 36 * 3600);
  assert.equal(parseDuration('2W'), 14 * 86400);
  assert.equal(parseDuration('90'), 90);
  for (const bad of ['', 'soon', '26 h', '-1h', '0h', '1.5h']) assert.equal(parseDuration(bad), null, bad);
});

test('ages to the minute', () => {
  assert.equal(formatAge(3 * 86400 + 5), '3d 0h');
  assert.equal(formatAge(26 * 3600 + 300), '1d 2h');
  assert.equal(formatAge(5 * 3600 + 7 * 60), '5h 7m');
  assert.equal(formatAge(59), '0m');
});

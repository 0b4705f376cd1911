// The cost model: issue 11's example to the cent, and how retention settings turn into copies stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calendarDays, copiesStored, dollars, estimate, perGbPerYear, retentionOf } from './model.js';

test('a full every 3 months kept 2 years: each GB stored 8 times; $0.005/GB-month and $0.05/GB twice a year: $0.48 + $0.10 = $0.58', () => {
  const r = retentionOf({ MAX_FULLBKP_AGE: '3M', MAX_AGE: '2Y' });
  assert.equal(copiesStored(r), 8);
  const perGb = perGbPerYear(copiesStored(r), { name: 'example', gbMonth: 0.005, gbDownload: 0.05 }, 2);
  assert.equal(`${dollars(perGb.storage)} + ${dollars(perGb.drills)} = ${dollars(perGb.total)}`, '$0.48 + $0.10 = $0.58');
});

test('copies stored: by age, capped by MAX_FULL_BACKUPS; one full without MAX_FULLBKP_AGE; unlimited is refused', () => {
  assert.equal(copiesStored(retentionOf({ MAX_FULLBKP_AGE: '1M', MAX_AGE: '6M' })), 6);
  assert.equal(copiesStored(retentionOf({ MAX_FULLBKP_AGE: '1M', MAX_AGE: '6M', MAX_FULL_BACKUPS: '3' })), 3);
  assert.equal(copiesStored(retentionOf({ MAX_FULLBKP_AGE: '2M', MAX_AGE: '5M' })), 3, 'a partial period still holds a full');
  assert.equal(copiesStored(retentionOf({ MAX_AGE: '1Y' })), 1);
  assert.throws(() => copiesStored(retentionOf({ MAX_FULLBKP_AGE: '1M' })), /grow without end/);
  assert.throws(() => retentionOf({ MAX_AGE: 'two years' }), /MAX_AGE 'two years'/);
  assert.equal(calendarDays('1Y', 'X'), 12 * calendarDays('1M', 'X'));
});

test('a measured archive: fulls times copies plus the incrementals kept, and a drill downloads a full and half a chain', () => {
  const r = retentionOf({ MAX_FULLBKP_AGE: '3M', MAX_AGE: '2Y', MAX_FULLS_WITH_INCRS: '2' });
  const e = estimate({ fullBytes: 10e9, incrementalBytesPerMonth: 1e9 }, r, { name: 'x', gbMonth: 0.005, gbDownload: 0.05 }, 2);
  // 8 fulls of 10 GB + incrementals of 2 chains x 3 months x 1 GB
  assert.ok(Math.abs(e.storedGb - 86) < 1e-9, String(e.storedGb));
  assert.ok(Math.abs(e.drillGb - 11.5) < 1e-9, String(e.drillGb));
  assert.equal(dollars(e.storage), '$5.16');
  assert.equal(dollars(e.drills), '$1.15');
});

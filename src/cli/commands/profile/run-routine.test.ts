import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routineBatch } from './run-routine.js';

test('the routine purges what the conf sets, then backs up; ROUTINE_PURGE=no leaves the purges to another machine', () => {
  const all = { maxAge: '3M', maxFullBackups: '2', maxFullsWithIncrs: '1' };
  assert.equal(routineBatch(all), 'purge_purgeFull_purgeIncr_backup');
  assert.equal(routineBatch({ maxAge: '3M' }), 'purge_backup');
  assert.equal(routineBatch({}), 'backup');
  assert.equal(routineBatch(all, 'yes'), 'purge_purgeFull_purgeIncr_backup');
  for (const no of ['no', 'NO', 'false', '0', 'off']) assert.equal(routineBatch(all, no), 'backup', no);
});

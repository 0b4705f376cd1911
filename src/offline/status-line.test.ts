import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileBackend } from '../backend/file/file-backend.js';
import { offlineLines } from './status-line.js';
import { copyRecordName, latestCopyRecords, readSums, saveCopyRecord, writeSums, type CopyRecord } from './disk-files.js';

const NOW = 1_800_000_000;
const record = (disk: string, ageDays: number, dest = `file:///media/${disk}/web`): CopyRecord => ({
  time: NOW - ageDays * 86400, disk, dest, mode: 'copy', lastBackupTime: NOW - ageDays * 86400 - 3600,
  copiedFiles: 3, copiedBytes: 100, checkedFiles: 10, damaged: [], host: 'web',
});

test('a profile that never copied and sets no OFFLINE_MAX_AGE hears nothing; one that sets it is warned', () => {
  assert.deepEqual(offlineLines([], { profile: 'web', maxAgeText: undefined, nowSeconds: NOW }), { info: [] });
  const set = offlineLines([], { profile: 'web', maxAgeText: '35D', nowSeconds: NOW });
  assert.match(set.warning!, /^WARNING: no offline copy has been made \(OFFLINE_MAX_AGE is 35D\); run "lifeboat web copy file:\/\/\/media\/DISK\/web"$/);
});

test('each disk is listed; a stale newest copy names the other disk as next, the default age is 35 days', () => {
  const fresh = offlineLines([record('backup-b', 3), record('backup-a', 33)], { profile: 'web', maxAgeText: undefined, nowSeconds: NOW });
  assert.equal(fresh.info.length, 2);
  assert.match(fresh.info[0], /^Offline copy 'backup-b': last written .* \(3d 0h ago, copied from the target\), holds backups up to /);
  assert.equal(fresh.warning, undefined);
  const stale = offlineLines([record('backup-b', 36), record('backup-a', 66)], { profile: 'web', maxAgeText: undefined, nowSeconds: NOW });
  assert.match(stale.warning!, /the last one, to 'backup-b', is 36d 0h old; plug in the next disk and run "lifeboat web copy file:\/\/\/media\/backup-a\/web"$/);
  assert.match(offlineLines([], { profile: 'web', maxAgeText: 'soon', nowSeconds: NOW }).warning!, /OFFLINE_MAX_AGE 'soon' is not a duration/);
});

test('records: the newest per disk is read; sums round-trip in sha1sum format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-offline-unit-'));
  try {
    const backend = new FileBackend(dir);
    const names = [];
    for (const r of [record('backup-a', 60), record('backup-a', 30), record('backup-b', 45)]) names.push(await saveCopyRecord(backend, r));
    assert.equal(names[0], copyRecordName(record('backup-a', 60)));
    const latest = await latestCopyRecords(backend, names);
    assert.deepEqual(latest.map((r) => [r.disk, Math.round((NOW - r.time) / 86400)]), [['backup-a', 30], ['backup-b', 45]]);
    const sums = new Map([['duplicity-full.20250105T030000Z.vol1.difftar.gz', 'a'.repeat(40)], ['x y', 'b'.repeat(40)]]);
    await writeSums(backend, sums);
    assert.equal(readFileSync(join(dir, 'lifeboat-disk.sha1sums'), 'utf8').split('\n')[0], `${'a'.repeat(40)}  duplicity-full.20250105T030000Z.vol1.difftar.gz`);
    assert.deepEqual(await readSums(backend), sums);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

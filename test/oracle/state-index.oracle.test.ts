// Oracle: Lifeboat's state index sits in the archive dir that duplicity 0.8 uses too. A sysadmin who
// runs the real duplicity on the same archive dir (status, cleanup, a backup) must see no difference:
// duplicity ignores the file and does not delete it; Lifeboat then sees that duplicity added a set,
// reads the signature files instead of the stale index, writes a new one, and the chain restores.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { lifeboatBin, runProgram, type Run } from '../support/run.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-state-index-oracle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function ok(r: Run): Run {
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

test('duplicity 0.8 on the same archive dir ignores and keeps the state index; Lifeboat then reads the chain and the chain restores', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const source = join(dir, 'src');
  mkdirSync(source);
  writeFileSync(join(source, 'a.txt'), 'first\n');
  writeFileSync(join(source, 'b.txt'), 'other\n');
  // an hour old: duplicity sees a change by its whole-second mtime alone, and the appends below may
  // fall in the second of the full backup
  const hourAgo = Date.now() / 1000 - 3600;
  for (const name of ['a.txt', 'b.txt']) utimesSync(join(source, name), hourAgo, hourAgo);
  const archive = join(dir, 'cache');
  const url = `file://${join(dir, 'target')}`;
  const common = ['--no-encryption', '--archive-dir', archive, '--name', 'shared'];
  const index = join(archive, 'shared', 'lifeboat-state-index.gz');
  const lifeboat = (...args: string[]) => runProgram(process.execPath, [lifeboatBin, 'duplicity', ...args]);
  const duplicity = (...args: string[]) => runProgram('duplicity', args);

  ok(await lifeboat('full', ...common, source, url));
  assert.ok(existsSync(index), 'Lifeboat wrote its state index');
  const status = ok(await duplicity('collection-status', ...common, url));
  assert.match(status.stdout, /Full\s+.*\s1\n/);
  const cleanup = ok(await duplicity('cleanup', '--force', ...common, url));
  assert.match(cleanup.stdout, /No extraneous files found/);
  assert.ok(existsSync(index), 'duplicity cleanup --force left the state index alone');

  appendFileSync(join(source, 'a.txt'), 'by duplicity\n');
  ok(await duplicity('incremental', ...common, source, url));
  assert.ok(existsSync(index), 'a duplicity backup left it alone');

  // Lifeboat continues the chain duplicity extended: the index names one signature file less, so it is
  // not used; the change duplicity stored and the next one must both be in the chain
  appendFileSync(join(source, 'b.txt'), 'by lifeboat\n');
  const before = readFileSync(index);
  ok(await lifeboat('incremental', ...common, source, url));
  assert.notDeepEqual(readFileSync(index), before, 'a new index for the longer chain');
  const restored = join(dir, 'restored');
  ok(await duplicity('restore', ...common, url, restored));
  assert.equal(readFileSync(join(restored, 'a.txt'), 'utf8'), 'first\nby duplicity\n');
  assert.equal(readFileSync(join(restored, 'b.txt'), 'utf8'), 'other\nby lifeboat\n');
});

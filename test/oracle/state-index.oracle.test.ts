// Oracle: Lifeboat's state index sits in the archive dir that duplicity 0.8 uses too. A sysadmin who
// runs the real duplicity on the same archive dir (status, cleanup, a backup) must see no difference:
// duplicity ignores the file and does not delete it; Lifeboat then sees that duplicity added a set,
// reads the signature files instead of the stale index, writes a new one, and the chain restores.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

test('an index written from a chain duplicity started finds the signatures in duplicity\'s signature file (GNU long names too), and duplicity restores the result', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const root = join(dir, 'offsets');
  const source = join(root, 'src');
  const deep = join(source, 'd'.repeat(90), 'e'.repeat(90));
  mkdirSync(deep, { recursive: true });
  const files = {
    short: join(source, 'short.txt'),
    long: join(source, `${'L'.repeat(150)}.txt`),
    nested: join(deep, `${'n'.repeat(80)}.txt`),
    other: join(source, 'other.txt'),
  };
  for (const [name, path] of Object.entries(files)) writeFileSync(path, `${name}\n`.repeat(2000));
  const hourAgo = Date.now() / 1000 - 3600;
  for (const path of Object.values(files)) utimesSync(path, hourAgo, hourAgo);
  const archive = join(root, 'cache');
  const url = `file://${join(root, 'target')}`;
  const common = ['--no-encryption', '--archive-dir', archive, '--name', 'offsets'];
  const cache = join(archive, 'offsets');
  const index = join(cache, 'lifeboat-state-index.gz');
  const lifeboat = (...args: string[]) => runProgram(process.execPath, [lifeboatBin, 'duplicity', ...args]);
  const duplicity = (...args: string[]) => runProgram('duplicity', args);

  ok(await duplicity('full', ...common, source, url));
  // Lifeboat's first incremental reads the chain (no index) and writes an index whose offsets point
  // into duplicity's signature file
  appendFileSync(files.other, 'changed by the first incremental\n');
  ok(await lifeboat('incremental', ...common, source, url));
  assert.ok(existsSync(index));
  // the second changes only files whose signatures are in duplicity's file. Its own signature file
  // is ruined (same size) meanwhile: the chain could not be read, so a success means the index was used
  const own = readdirSync(cache).find((n) => n.includes('new-signatures'))!;
  const kept = readFileSync(join(cache, own));
  writeFileSync(join(cache, own), Buffer.alloc(kept.length, 0x55));
  for (const path of [files.short, files.long, files.nested]) appendFileSync(path, 'changed by the second incremental\n');
  ok(await lifeboat('incremental', ...common, source, url));
  writeFileSync(join(cache, own), kept);
  const restored = join(root, 'restored');
  ok(await duplicity('restore', ...common, url, restored));
  for (const path of Object.values(files)) {
    assert.deepEqual(readFileSync(join(restored, path.slice(source.length + 1))), readFileSync(path), path.slice(source.length + 1, source.length + 40));
  }
});

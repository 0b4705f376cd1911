// An unreadable source file is left out with a warning on stderr and counted in the statistics'
// Errors line; the backup still succeeds (duplicity exits 0 here too), and the rest restores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isCi } from '../support/programs.js';

const lifeboat = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-unreadable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a file the backup user cannot read is skipped with a warning and counted, exit 0', (t) => {
  if (process.getuid?.() !== 0) {
    // the test switches to "nobody", which needs root
    if (isCi()) throw new Error('this test needs root under CI=true');
    t.skip('needs root to run the backup as nobody');
    return;
  }
  chmodSync(dir, 0o755);
  const source = join(dir, 'src');
  mkdirSync(source);
  writeFileSync(join(source, 'public.txt'), 'anyone\n');
  writeFileSync(join(source, 'secret.txt'), 'root only\n');
  chmodSync(join(source, 'secret.txt'), 0o600);
  const work = join(dir, 'work');
  mkdirSync(work, { mode: 0o777 });
  chmodSync(work, 0o777);
  const env = { ...process.env, HOME: work, XDG_CACHE_HOME: join(work, 'cache'), TMPDIR: work };
  const asNobody = (...args: string[]) => spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, lifeboat, ...args], { encoding: 'utf8', env });
  const backup = asNobody('duplicity', 'full', '--no-encryption', source, `file://${join(work, 'target')}`);
  assert.equal(backup.status, 0, backup.stderr);
  assert.match(backup.stderr, /Error accessing possibly locked file .*secret\.txt/);
  assert.match(backup.stdout, /^Errors 1$/m);
  assert.doesNotMatch(backup.stderr, /\n\s+at /);
  const restored = join(work, 'restored');
  const restore = asNobody('duplicity', 'restore', '--no-encryption', `file://${join(work, 'target')}`, restored);
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(readFileSync(join(restored, 'public.txt'), 'utf8'), 'anyone\n');
  assert.ok(!existsSync(join(restored, 'secret.txt')));
});

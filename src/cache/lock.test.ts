import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { LOCK_NAME, lockArchiveDir } from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('lockArchiveDir() lets one run in and refuses a second with exit 2', async () => {
  const release = await lockArchiveDir(join(dir, 'a'));
  assert.equal(readFileSync(join(dir, 'a', LOCK_NAME), 'utf8'), `${process.pid} ${hostname()}\n`);
  await assert.rejects(lockArchiveDir(join(dir, 'a')), (err: unknown) => {
    assert.ok(err instanceof LifeboatError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /already using the archive dir/);
    return true;
  });
  await release();
  assert.ok(!existsSync(join(dir, 'a', LOCK_NAME)));
  await (await lockArchiveDir(join(dir, 'a')))();
});

test('lockArchiveDir() takes over the lock of a process that is gone', async () => {
  const sub = join(dir, 'b');
  await (await lockArchiveDir(sub))();
  // pid 2^22+1 is above Linux's pid_max default: no such process
  writeFileSync(join(sub, LOCK_NAME), `${2 ** 22 + 1} ${hostname()}\n`);
  const release = await lockArchiveDir(sub);
  assert.equal(readFileSync(join(sub, LOCK_NAME), 'utf8'), `${process.pid} ${hostname()}\n`);
  await release();
});

// Two runs on one archive dir: the second is refused with exit 2, as duplicity refuses it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LOCK_NAME } from '../../src/cache/lock.js';
import { lifeboatBin } from '../support/run.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-lock-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a second run on a locked archive dir exits 2 with one line and a hint', () => {
  const cache = join(dir, 'cache');
  mkdirSync(join(cache, 'n'), { recursive: true });
  // held by a live process: this test's own
  writeFileSync(join(cache, 'n', LOCK_NAME), `${process.pid} ${hostname()}\n`);
  const r = spawnSync(process.execPath, [lifeboatBin, 'duplicity', 'collection-status', '--archive-dir', cache, '--name', 'n', `file://${join(dir, 'target')}`], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^lifeboat: Another Lifeboat run \(pid \d+\) is already using the archive dir .*\nhint: wait for it to finish/);
  rmSync(join(cache, 'n', LOCK_NAME));
  const ok = spawnSync(process.execPath, [lifeboatBin, 'duplicity', 'collection-status', '--archive-dir', cache, '--name', 'n', `file://${join(dir, 'target')}`], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
});

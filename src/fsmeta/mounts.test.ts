// mountPointsBelow against the kernel's own table: a tmpfs mounted (as root) below a new directory,
// one with a space in its name (the table escapes it), and one beside the directory, which is not below.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mountPointsBelow } from './mounts.js';
import { isCi } from '../../test/support/programs.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-mounts-'));
const mounted: string[] = [];
after(() => {
  for (const m of mounted.reverse()) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

test('the file systems mounted below a directory, and not those beside it', async (t) => {
  const top = join(dir, 'root');
  const points = [join(top, 'boot'), join(top, 'var', 'with space'), join(dir, 'root-sibling')];
  for (const p of points) mkdirSync(p, { recursive: true });
  for (const p of points) {
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', p]).status !== 0) {
      if (isCi()) throw new Error('this test mounts a tmpfs: it needs root and mount under CI=true');
      t.skip('cannot mount a tmpfs here (needs root outside a container)');
      return;
    }
    mounted.push(p);
  }
  assert.deepEqual(await mountPointsBelow(top), points.slice(0, 2));
  assert.deepEqual(await mountPointsBelow(`${top}/`), points.slice(0, 2), 'a trailing slash changes nothing');
  assert.deepEqual(await mountPointsBelow(join(top, 'boot')), [], 'a mount point itself is not below itself');
  assert.ok((await mountPointsBelow('/')).includes(points[2]), 'below / is every mount but / itself');
  const link = join(dir, 'link-to-root');
  symlinkSync(top, link);
  assert.deepEqual(await mountPointsBelow(link), [join(link, 'boot'), join(link, 'var', 'with space')], 'spelled from the path as given');
});

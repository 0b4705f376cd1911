// `lifeboat quickstart` as the README promises it: a real backup, restore and compare, and an
// archive duplicity itself restores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { describeTree } from '../support/tree.js';

const lifeboat = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'lifeboat-quickstart-test-'));
after(() => rmSync(home, { recursive: true, force: true }));
const env = { ...process.env, XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache') };

function run(...args: string[]) {
  return spawnSync(process.execPath, [lifeboat, ...args], { encoding: 'utf8', env });
}

test('quickstart backs up the demo tree, restores it and reports it identical', () => {
  const first = run('quickstart');
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stderr, '');
  assert.match(first.stdout, /^Backed up .*demo-source: full backup, \d+ objects/m);
  assert.match(first.stdout, /all identical\.$/m);
  // the second run as the README starts it: bin/lifeboat.js executed, through its shebang line
  // (`env -S ... node --max-semi-space-size=2`), not through `node bin/lifeboat.js`
  const second = spawnSync(lifeboat, ['quickstart'], { encoding: 'utf8', env });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /incremental backup/);
});

test('quickstart DIR makes an archive that duplicity restores to the same tree', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const source = join(home, 'mine');
  mkdirSync(join(source, 'sub'), { recursive: true });
  writeFileSync(join(source, 'a.txt'), 'alpha\n');
  writeFileSync(join(source, 'sub', 'b.bin'), Buffer.alloc(200_000, 7));
  const r = run('quickstart', source);
  assert.equal(r.status, 0, r.stderr);
  const url = /The archive is at (file:\/\/\S+)/.exec(r.stdout)?.[1];
  assert.ok(url, r.stdout);
  const restored = join(home, 'by-duplicity');
  const d = spawnSync('duplicity', ['restore', '--no-encryption', '--archive-dir', join(home, 'dupcache'), url, restored], { encoding: 'utf8' });
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual(await describeTree(restored), await describeTree(source));
});

test('quickstart refuses a missing directory with one line and exit 13', () => {
  const r = run('quickstart', join(home, 'nope'));
  assert.equal(r.status, 13);
  assert.match(r.stderr, /^lifeboat: .*nope is not a directory\nhint: /);
});

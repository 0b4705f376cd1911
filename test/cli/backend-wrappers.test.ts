// The CLI end to end with every backend wrapped in retry and limit and volumes uploaded in the
// background: a multi-volume full and incremental backup that Lifeboat and duplicity 0.8 restore.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { lifeboatBin, oracleEnv, runProgram } from '../support/run.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-wrappers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lifeboat = (...args: string[]) => runProgram(process.execPath, [lifeboatBin, 'duplicity', ...args]);
const digest = (root: string) => readdirSync(root).sort().map((n) => `${n} ${createHash('sha256').update(readFileSync(join(root, n))).digest('hex')}`);

test('a multi-volume backup through the wrapped backend restores with Lifeboat and duplicity', async (t) => {
  const source = join(dir, 'src');
  mkdirSync(source);
  for (let i = 0; i < 4; i++) writeFileSync(join(source, `random-${i}`), randomBytes(900 * 1024));
  writeFileSync(join(source, 'text'), 'hello\n'.repeat(1000));
  const target = join(dir, 'target');
  const url = `file://${target}`;
  const spool = join(dir, 'spool');
  mkdirSync(spool);
  const common = ['--no-encryption', '--archive-dir', join(dir, 'cache'), '--name', 'x', '--num-retries', '3', '--backend-retry-delay', '1', '--tempdir', spool];
  const full = await lifeboat('full', ...common, '--volsize', '1', source, url);
  assert.equal(full.code, 0, full.stderr);
  const volumes = readdirSync(target).filter((n) => n.includes('.difftar'));
  assert.ok(volumes.length >= 3, `volumes: ${volumes.join(' ')}`);
  writeFileSync(join(source, 'text'), 'changed\n');
  // duplicity's change rule looks at whole-second mtimes, not content: a full backup that ends within
  // the second the file was first written in would leave this edit unseen
  const later = Date.now() / 1000 + 10;
  utimesSync(join(source, 'text'), later, later);
  const inc = await lifeboat('incremental', ...common, '--volsize', '1', source, url);
  assert.equal(inc.code, 0, inc.stderr);
  assert.equal(readdirSync(target).filter((n) => n.endsWith('.manifest')).length, 2);
  assert.deepEqual(readdirSync(spool), [], 'every spool file deleted after its upload');

  const restored = join(dir, 'restored');
  const r = await lifeboat('restore', ...common, url, restored);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(digest(restored), digest(source));

  if (!requireProgram(t, 'duplicity')) return;
  const byDuplicity = join(dir, 'by-duplicity');
  const d = await runProgram('duplicity', ['restore', '--no-encryption', '--archive-dir', join(dir, 'duplicity-cache'), url, byDuplicity], oracleEnv);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(digest(byDuplicity), digest(source));
});

test('bad retry options get a one-line usage error before anything is written', async () => {
  const source = join(dir, 'src2');
  mkdirSync(source);
  writeFileSync(join(source, 'a'), 'a');
  const target = join(dir, 'never');
  for (const [option, value] of [['--num-retries', '0'], ['--backend-retry-delay', 'soon']]) {
    const r = await lifeboat('full', '--no-encryption', '--archive-dir', join(dir, 'cache2'), option, value, source, `file://${target}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^lifeboat: ${option}: "${value}" is not .*\\nhint: `));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.throws(() => readdirSync(target), { code: 'ENOENT' });
});

test('a chain with more sets than the backend has connections restores (one download per set at once)', async () => {
  const source = join(dir, 'chain-src');
  mkdirSync(source);
  const target = join(dir, 'chain-target');
  const url = `file://${target}`;
  const common = ['--no-encryption', '--archive-dir', join(dir, 'chain-cache'), '--name', 'x'];
  // file:// allows 2 operations at once; full + 3 incrementals, each set's volume bigger than a stream buffer
  for (let run = 0; run < 4; run++) {
    writeFileSync(join(source, 'changing'), randomBytes(1 << 20));
    writeFileSync(join(source, `added-${run}`), randomBytes(512 * 1024));
    const r = await lifeboat(run === 0 ? 'full' : 'incremental', ...common, source, url);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(readdirSync(target).filter((n) => n.endsWith('.manifest')).length, 4);
  const restored = join(dir, 'chain-restored');
  const r = await lifeboat('restore', ...common, url, restored);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(digest(restored), digest(source));
});

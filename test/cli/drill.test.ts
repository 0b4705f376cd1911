// Recovery drills (issue 10): restore from the target alone, checked against the backup's own
// signatures, database dumps loaded, a record left on the target that duplicity ignores.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { profileHome } from '../support/profile-env.js';
import { makeTree } from '../support/make-tree.js';
import { openTarget } from '../../src/pipeline/target.js';
import { readSignatureChain } from '../../src/pipeline/signature-chain.js';
import { signatureChainAt } from '../../src/duplicity/collection.js';
import { verifyAgainstSignatures } from '../../src/drill/verify-restore.js';

const home = profileHome('drill');
after(() => rmSync(home.root, { recursive: true, force: true }));

describe('lifeboat PROFILE drill', () => {
  const source = join(home.root, 'src');
  const target = join(home.root, 'target');
  let profile: string;

  test('passes on a good backup, loads the SQLite dump, and leaves a record duplicity ignores', async (t) => {
    if (!requireProgram(t, 'sqlite3') || !requireProgram(t, 'duplicity')) return;
    await makeTree(source);
    rmSync(join(source, 'negative-mtime'));
    execFileSync('sqlite3', [join(source, 'app.db'), "create table notes(body text); insert into notes values ('one'), ('two');"]);
    profile = home.profile('drilled', `GPG_KEY=disabled
SOURCE='${source}'
TARGET='file://${target}'
VERBOSITY=warning
DUMP_SQLITE='${join(source, 'app.db')}'
DUMP_DIR='${join(source, 'dumps')}'
`);
    const backup = home.lifeboat([profile, 'backup']);
    assert.equal(backup.code, 0, backup.stderr);
    const r = home.lifeboat([profile, 'drill']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Drill passed: the backup of .* restored from the target alone\.$/m);
    const files = Number(/(\d+) files, /.exec(r.stdout)?.[1]);
    assert.ok(files > 20, `every regular file was checked: ${r.stdout}`);
    assert.match(r.stdout, /database sqlite-.*app\.db: loaded and checked \(1 tables, 2 rows, integrity ok\)/);
    assert.match(r.stderr, /the profile .* is not in the backup/, 'the newcomer check warns that the profile is not backed up');
    const records = readdirSync(target).filter((n) => n.startsWith('lifeboat-drill.'));
    assert.equal(records.length, 1);
    const record = JSON.parse(readFileSync(join(target, records[0]), 'utf8'));
    assert.equal(record.ok, true);
    assert.equal(record.files, files);
    // duplicity still reads the target with the record in it
    const status = spawnSync('duplicity', ['collection-status', '--no-encryption', '--archive-dir', join(home.root, 'dupcache'), `file://${target}`], { encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /Found primary backup chain/);
    const ours = home.lifeboat([profile, 'status']);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /^Last successful drill: .* ago, on /m, 'status shows the drill');
    assert.doesNotMatch(ours.stderr, /drill/);
    const cleanup = home.lifeboat([profile, 'cleanup', '--force']);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.ok(readdirSync(target).includes(records[0]), 'cleanup keeps the drill record');
  });

  test('--sample checks a subset, always with the dumps; --json is machine-readable', async (t) => {
    if (!profile) return t.skip('needs the first test');
    const r = home.lifeboat([profile, 'drill', '--sample', '30', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.sample, 30);
    assert.equal(report.ok, true);
    assert.ok(report.files >= 1 && report.databases.length === 1 && report.databases[0].ok, r.stdout);
  });

  test('a restored file that differs from what was backed up is named', async (t) => {
    if (!profile) return t.skip('needs the first test');
    const restored = join(home.root, 'restored');
    const r = home.lifeboat([profile, 'restore', restored]);
    assert.equal(r.code, 0, r.stderr);
    const victim = join(restored, 'dir1', 'numbers.txt');
    const mtime = statSync(victim).mtime;
    const fd = openSync(victim, 'r+');
    writeSync(fd, Buffer.from('X'), 0, 1, 5000);
    closeSync(fd);
    execFileSync('touch', ['-d', mtime.toISOString(), victim]);
    const opened = await openTarget(`file://${target}`, { archiveDir: join(home.root, 'verify-cache'), sync: true, notice: () => undefined });
    const chain = signatureChainAt(opened.collection, Math.floor(Date.now() / 1000));
    const result = await verifyAgainstSignatures(restored, readSignatureChain(opened, chain), { checkOwners: true });
    assert.deepEqual(result.mismatches, ['dir1/numbers.txt: content differs from what was backed up']);
  });

  for (const [label, damage] of [
    ['a flipped byte in a volume', (path: string) => { const b = readFileSync(path); b[Math.floor(b.length / 2)] ^= 0xff; writeFileSync(path, b); }],
    ['a missing volume', (path: string) => rmSync(path)],
  ] as const) {
    test(`${label} fails the drill naming the volume; once repaired the next drill passes`, async (t) => {
      if (!profile) return t.skip('needs the first test');
      const volume = readdirSync(target).find((n) => n.includes('.vol1.difftar'))!;
      const path = join(target, volume);
      const good = readFileSync(path);
      damage(path);
      try {
        const r = home.lifeboat([profile, 'drill']);
        assert.notEqual(r.code, 0);
        // named by its file name, or as "volume 1 of <manifest>" when it is gone
        assert.match(r.stderr, new RegExp(`${volume.replace(/\./g, '\\.')}|volume 1 of duplicity-full\\.[0-9TZ]+\\.manifest is missing`));
      } finally {
        writeFileSync(path, good);
      }
      const again = home.lifeboat([profile, 'drill']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
    });
  }

  test('a deleted manifest fails the drill (the set is incomplete) and the next good drill passes', async (t) => {
    if (!profile) return t.skip('needs the first test');
    const manifest = readdirSync(target).find((n) => n.endsWith('.manifest'))!;
    const path = join(target, manifest);
    const good = readFileSync(path);
    rmSync(path);
    try {
      const r = home.lifeboat([profile, 'drill']);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /^lifeboat: .+/m, 'one line names the cause');
    } finally {
      writeFileSync(path, good);
    }
    const again = home.lifeboat([profile, 'drill']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    mkdirSync(join(home.root, 'x'), { recursive: true });
  });
});

// Offline copies on rotating disks (issue 13), as a user runs them: `lifeboat PROFILE copy DEST`.
// A simulated year of monthly backups (written in-process with a simulated clock, as the retention
// oracle does) is copied to two directories standing in for two disks, alternately; every backup
// each disk holds restores with `lifeboat PROFILE restore --from DISK` to the tree it was taken of,
// and the real duplicity 0.8 restores from the disks too. A copy killed half-way through a volume
// leaves no set that looks complete but is not (our reader and duplicity's collection-status agree),
// and the next copy finishes the job. A flipped byte on a disk is named by the next copy and drill.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildCollection } from '../../src/duplicity/collection.js';
import { parseManifest } from '../../src/duplicity/manifest.js';
import { parseArchiveName } from '../../src/duplicity/file-names.js';
import { backupToTarget } from '../../src/pipeline/backup-to-target.js';
import { openTarget } from '../../src/pipeline/target.js';
import { parseTimeString } from '../../src/duplicity/time.js';
import { profileHome } from '../support/profile-env.js';
import { requireProgram } from '../support/programs.js';
import { randomBytes } from '../support/random.js';
import { asRestored, assertSameTree, describeTree } from '../support/tree.js';

const home = profileHome('offline');
after(() => rmSync(home.root, { recursive: true, force: true }));
const quiet = { notice: () => undefined, warning: () => undefined, info: () => undefined };
const MONTH = 30 * 86400;
/** 2025-01-05T03:00:00Z: the first simulated backup */
const START = 1736046000;

function listing(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** The month's changes to the little server: a file added, one changed, one removed; mtimes set. */
function changeTree(source: string, month: number, time: number): void {
  mkdirSync(join(source, 'etc'), { recursive: true });
  mkdirSync(join(source, 'var', 'www'), { recursive: true });
  writeFileSync(join(source, 'var', 'www', `post-${month}.html`), randomBytes(month + 1, 2000 + month * 100));
  const notes = join(source, 'etc', 'notes.txt');
  writeFileSync(notes, `${existsSync(notes) ? readFileSync(notes, 'utf8') : ''}month ${month}\n`);
  rmSync(join(source, 'var', 'www', `post-${month - 3}.html`), { force: true });
  for (const path of [notes, join(source, 'var', 'www', `post-${month}.html`), join(source, 'var', 'www'), join(source, 'etc'), source]) utimesSync(path, time, time);
}

/** Every manifest in DIR names volumes that are there, whole, with the manifest's hash. */
function assertNoFalseComplete(dir: string): void {
  for (const name of listing(dir)) {
    const parsed = parseArchiveName(name);
    if (!parsed || (parsed.kind !== 'full-manifest' && parsed.kind !== 'inc-manifest')) continue;
    const prefix = name.replace(/\.manifest$/, '');
    for (const volume of parseManifest(readFileSync(join(dir, name))).volumes) {
      const file = listing(dir).find((n) => n.startsWith(`${prefix}.vol${volume.volumeNumber}.difftar`));
      assert.ok(file, `${name} looks complete but volume ${volume.volumeNumber} is not in ${dir}`);
      const sha1 = createHash('sha1').update(readFileSync(join(dir, file))).digest('hex');
      assert.equal(sha1, volume.hashes.get('SHA1'), `${file} is not whole although ${name} is there`);
    }
  }
}

function duplicityRestore(disk: string, time: number, into: string): void {
  const r = spawnSync('duplicity', ['restore', '--no-encryption', '-t', String(time), '--archive-dir', join(home.root, 'dupcache'), `file://${disk}`, into], { encoding: 'utf8', env: home.env });
  assert.equal(r.status, 0, `duplicity restore from ${disk}: ${r.stdout}${r.stderr}`);
}

describe('lifeboat PROFILE copy: offline copies on rotating disks', () => {
  test('a year of monthly copies to two disks: each disk restores what it holds, with Lifeboat and duplicity; damage is named and repaired', async (t) => {
    if (!requireProgram(t, 'duplicity')) return;
    const source = join(home.root, 'server');
    const targetDir = join(home.root, 'target');
    const diskA = join(home.root, 'media', 'backup-a', 'server');
    const diskB = join(home.root, 'media', 'backup-b', 'server');
    mkdirSync(source, { recursive: true });
    const profile = home.profile('server', `GPG_KEY=disabled
SOURCE='${source}'
TARGET='file://${targetDir}'
VERBOSITY=warning
MAX_FULL_BACKUPS=1
OFFLINE_MAX_AGE=\${TEST_OFFLINE_MAX_AGE-35D}
`);
    const url = `file://${targetDir}`;
    const archiveDir = join(home.env.XDG_CACHE_HOME!, 'duplicity');
    // status before any copy: a profile that never copied hears nothing about offline copies
    const none = home.lifeboat([profile, 'status'], { TEST_OFFLINE_MAX_AGE: '' });
    assert.doesNotMatch(none.stdout + none.stderr, /offline cop/i);

    const states = new Map<number, string[]>();
    const held = { [diskA]: [] as number[], [diskB]: [] as number[] };
    let filesOnA: string[] = [];
    for (let month = 0; month < 12; month++) {
      const now = START + month * MONTH;
      changeTree(source, month, now - 3600);
      const target = await openTarget(url, { archiveDir, name: 'duply_server', sync: true, time: now, notice: () => undefined });
      const result = await backupToTarget({
        source, target, mode: 'auto', fullIfOlderThan: parseTimeString('6M', now), compress: true, volumeSizeBytes: 1 << 20,
        tempdir: home.root, maxBlockSize: 2048, allowSourceMismatch: false, dryRun: false, clock: () => now * 1000, ...quiet,
      });
      assert.equal(result.time, now);
      states.set(now, asRestored(await describeTree(source)));
      const disk = month % 2 === 0 ? diskA : diskB;
      const r = home.lifeboat([profile, 'copy', `file://${disk}`, ...(month < 2 ? ['--label', month === 0 ? 'backup-a' : 'backup-b'] : [])]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout + r.stderr, '', 'a good copy is quiet at VERBOSITY=warning');
      held[disk] = [...states.keys()];
      if (disk === diskA) {
        // nothing is deleted from a disk without --force, whatever the retention settings say
        for (const name of filesOnA) assert.ok(listing(diskA).includes(name), `${name} stayed on the disk`);
        filesOnA = listing(diskA);
      }
      assertNoFalseComplete(disk);
    }
    const fulls = listing(targetDir).filter((n) => /^duplicity-full\..*\.manifest$/.test(n));
    assert.equal(fulls.length, 2, 'two chains in the year (a full every 6 months)');

    // each disk holds the backups up to its last copy, and each restores to its tree
    for (const [disk, times] of Object.entries(held)) {
      const collection = buildCollection(listing(disk), []);
      const have = collection.backupChains.flatMap((c) => [c.fullSet, ...c.incrementalSets].map((s) => s.endTime));
      assert.deepEqual(have, times, `${disk} holds exactly the backups made before its last copy`);
      for (const time of times) {
        const into = join(home.root, 'restored', `${times.length}-${time}`);
        const r = home.lifeboat([profile, 'restore', into, String(time), '--from', `file://${disk}`]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assertSameTree(await describeTree(into), states.get(time)!, `${disk} at ${time}`);
      }
      // the real duplicity restores from the disk: the newest backup and one from the first chain
      for (const time of [times[times.length - 1], times[2]]) {
        const into = join(home.root, 'dup-restored', `${times.length}-${time}`);
        duplicityRestore(disk, time, into);
        assertSameTree(await describeTree(into), states.get(time)!, `duplicity from ${disk} at ${time}`);
      }
    }
    const label = JSON.parse(readFileSync(join(diskB, 'lifeboat-disk.json'), 'utf8'));
    assert.equal(label.name, 'backup-b');
    assert.equal(label.holds.lastBackupTime, held[diskB].at(-1));
    assert.equal(label.holds.chains.length, 2);

    // status lists both disks from the target's records, without the disks
    const status = home.lifeboat([profile, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Offline copy 'backup-a': last written .* ago, copied from the target\), holds backups up to /m);
    assert.match(status.stdout, /^Offline copy 'backup-b': /m);
    assert.doesNotMatch(status.stderr, /offline cop/i);
    await new Promise((r) => setTimeout(r, 1100));
    const stale = home.lifeboat([profile, 'status'], { TEST_OFFLINE_MAX_AGE: '1s' });
    assert.match(stale.stderr, /^WARNING: no offline copy is newer than OFFLINE_MAX_AGE \(1s\): the last one, to 'backup-b', is .* old; plug in the next disk and run "lifeboat server copy file:\/\/.*backup-a\/server"$/m);

    // a damaged sums file condemns no good file: the manifest (or the target) decides, and the sum is put right
    const sumsPath = join(diskA, 'lifeboat-disk.sha1sums');
    const sums = readFileSync(sumsPath, 'utf8');
    writeFileSync(sumsPath, sums.replace(/^[0-9a-f]{40}/gm, '0'.repeat(40)));
    const recheck = home.lifeboat([profile, 'copy', `file://${diskA}`]);
    assert.equal(recheck.code, 0, recheck.stdout + recheck.stderr);
    // (the copy also brings disk A up to date: it gains the last month)
    const fixed = new Set(readFileSync(sumsPath, 'utf8').split('\n'));
    for (const line of sums.split('\n')) assert.ok(fixed.has(line), `the sum is put right: ${line}`);

    // a flipped byte on disk B: the next copy and a drill from the disk name the file (one line each)
    // in the newest chain, which a drill restores
    const victim = listing(diskB).filter((n) => n.startsWith(`duplicity-inc.`) && n.includes('.vol1.')).at(-1)!;
    const good = readFileSync(join(diskB, victim));
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)] ^= 0x01;
    writeFileSync(join(diskB, victim), bad);
    const copy = home.lifeboat([profile, 'copy', `file://${diskB}`]);
    assert.equal(copy.code, 1, copy.stderr);
    const errors = copy.stderr.split('\n').filter((l) => l.startsWith('lifeboat:'));
    assert.equal(errors.length, 1, copy.stderr);
    assert.match(errors[0], new RegExp(`damaged: ${victim.replace(/\./g, '\\.')} \\(SHA1 [0-9a-f]{40}, expected [0-9a-f]{40}\\)`));
    assert.deepEqual(readFileSync(join(diskB, victim)), bad, 'without --force the damaged file is left as found');
    const drill = home.lifeboat([profile, 'drill', '--from', `file://${diskB}`]);
    assert.notEqual(drill.code, 0);
    assert.equal(drill.stderr.split('\n').filter((l) => l.startsWith('lifeboat:')).length, 1, drill.stderr);
    assert.match(drill.stderr, new RegExp(`^lifeboat: .*${victim.replace(/\./g, '\\.')}`, 'm'));
    // --force replaces it from the target, and applies the retention settings (MAX_FULL_BACKUPS=1)
    const repaired = home.lifeboat([profile, 'copy', `file://${diskB}`, '--force']);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stderr, new RegExp(`WARNING: ${victim.replace(/\./g, '\\.')} on .* was damaged .*; replacing it from the target`));
    assert.deepEqual(readFileSync(join(diskB, victim)), good);
    assert.equal(buildCollection(listing(diskB), []).backupChains.length, 1, 'the retention settings apply to the disk with --force');
    const again = home.lifeboat([profile, 'drill', '--from', `file://${diskB}`]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /restored from the offline copy file:\/\/.*backup-b\/server alone/);

    // --from-source: a fresh full backup of the server straight to a third disk, checked and labelled
    const diskC = join(home.root, 'media', 'backup-c', 'server');
    const fresh = home.lifeboat([profile, 'copy', `file://${diskC}`, '--from-source', '--label', 'backup-c']);
    assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    const sets = buildCollection(listing(diskC), []).backupChains;
    assert.equal(sets.length, 1);
    assert.equal(sets[0].incrementalSets.length, 0);
    const now = asRestored(await describeTree(source));
    const fromC = join(home.root, 'restored-c');
    duplicityRestore(diskC, sets[0].endTime, fromC);
    assertSameTree(await describeTree(fromC), now, 'duplicity from the --from-source disk');
    assert.equal(JSON.parse(readFileSync(join(diskC, 'lifeboat-disk.json'), 'utf8')).lastMode, 'from-source');
    assert.ok(!listing(targetDir).some((n) => n.includes(String(sets[0].endTime))), 'the target is untouched by --from-source');
    // the disk of another profile is refused
    const other = home.profile('other', `GPG_KEY=disabled\nSOURCE='${source}'\nTARGET='file://${join(home.root, 'other-target')}'\n`);
    const refused = home.lifeboat([other, 'copy', `file://${diskA}`]);
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /^lifeboat: copy: .* holds the copies of profile 'server' of /m);
  });

  test('a copy killed half-way through a volume leaves no set that looks complete; the next copy finishes it', async (t) => {
    if (!requireProgram(t, 'duplicity')) return;
    const source = join(home.root, 'big-server');
    const targetDir = join(home.root, 'big-target');
    const disk = join(home.root, 'media', 'backup-k', 'big-server');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'small.txt'), 'first\n');
    const profile = home.profile('big', `GPG_KEY=disabled\nSOURCE='${source}'\nTARGET='file://${targetDir}'\nVERBOSITY=warning\nDUPL_PARAMS="$DUPL_PARAMS --volsize 1"\n`);
    assert.equal(home.lifeboat([profile, 'full']).code, 0);
    const afterFull = asRestored(await describeTree(source));
    // the incremental carries 3 MiB that gzip cannot shrink: 3 volumes of 1 MiB
    writeFileSync(join(source, 'big.bin'), randomBytes(7, 3 << 20));
    await new Promise((r) => setTimeout(r, 1100));
    const inc = home.lifeboat([profile, 'incr']);
    assert.equal(inc.code, 0, inc.stderr);
    const afterInc = asRestored(await describeTree(source));
    const incVolumes = listing(targetDir).filter((n) => n.startsWith('duplicity-inc.') && n.includes('.vol'));
    assert.ok(incVolumes.length >= 3, incVolumes.join(' '));

    // killed three times: half-way through volume 2, in the signature file, in the manifest; after
    // each kill the disk holds the full backup complete and the incremental visibly incomplete
    for (const [pause, bytes] of [['.vol2.difftar', 300_000], ['duplicity-new-signatures.', 1], ['.manifest', 1]] as const) {
      const child = spawn(process.execPath, [new URL('../support/copy-child.js', import.meta.url).pathname, targetDir, disk, pause, String(bytes), home.root], { stdio: ['ignore', 'pipe', 'inherit'] });
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c) => {
          seen += c;
          if (seen.includes('paused\n')) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
        child.on('error', reject);
      });
      assert.ok(seen.includes('paused'), `the child reached ${pause}: ${seen.slice(-300)}`);
      assert.ok(readdirSync(disk).some((n) => n.includes(pause) && n.includes('.lifeboat-part-')), `killed while writing ${pause}`);
      assertNoFalseComplete(disk);
      const collection = buildCollection(listing(disk), []);
      assert.equal(collection.backupChains.length, 1);
      assert.equal(collection.backupChains[0].incrementalSets.length, 0, `after the kill in ${pause}`);
      assert.equal(collection.incompleteSets.length, 1);
      const status = spawnSync('duplicity', ['collection-status', '--no-encryption', '--archive-dir', join(home.root, 'dupcache-k'), `file://${disk}`], { encoding: 'utf8' });
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /Total number of contained volumes: 1\n/);
      assert.match(status.stdout, /1 incomplete backup set/);
    }
    const early = join(home.root, 'killed-restored');
    duplicityRestore(disk, Math.floor(Date.now() / 1000), early);
    assertSameTree(await describeTree(early), afterFull, 'duplicity restores the full backup from the interrupted disk');

    const resumed = home.lifeboat([profile, 'copy', `file://${disk}`, '--label', 'backup-k'], { });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.ok(!readdirSync(disk).some((n) => n.includes('.lifeboat-part-')), 'the unfinished file is gone');
    assertNoFalseComplete(disk);
    for (const name of listing(targetDir).filter((n) => n.startsWith('duplicity-'))) {
      assert.deepEqual(statSync(join(disk, name)).size, statSync(join(targetDir, name)).size, name);
    }
    const restored = join(home.root, 'resumed-restored');
    const r = home.lifeboat([profile, 'restore', restored, '--from', `file://${disk}`]);
    assert.equal(r.code, 0, r.stderr);
    assertSameTree(await describeTree(restored), afterInc, 'the resumed copy restores the incremental');
    const dupRestored = join(home.root, 'resumed-dup');
    duplicityRestore(disk, Math.floor(Date.now() / 1000), dupRestored);
    assertSameTree(await describeTree(dupRestored), afterInc, 'duplicity restores the resumed copy');
    // --from only goes with the commands that read
    const refused = home.lifeboat([profile, 'backup', '--from', `file://${disk}`]);
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /^lifeboat: --from works with status, list, verify, verifypath, restore, fetch, not with pre, bkp, post$/m);
  });
  test('encrypted backups: volumes are checked against the decrypted manifests; --from-source encrypts; both restore', async (t) => {
    if (!requireProgram(t, 'duplicity')) return;
    const source = join(home.root, 'secret-server');
    const targetDir = join(home.root, 'secret-target');
    const disk = join(home.root, 'media', 'backup-e', 'secret-server');
    mkdirSync(join(source, 'etc'), { recursive: true });
    writeFileSync(join(source, 'etc', 'shadow'), randomBytes(3, 50_000));
    const profile = home.profile('secret', `GPG_KEY=''\nGPG_PW='correct horse'\nSOURCE='${source}'\nTARGET='file://${targetDir}'\nVERBOSITY=warning\n`);
    assert.equal(home.lifeboat([profile, 'backup']).code, 0);
    const copied = home.lifeboat([profile, 'copy', `file://${disk}`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.ok(listing(disk).some((n) => n.endsWith('.manifest.gpg')));
    // without the recorded sums only the manifest (decrypted with GPG_PW) can tell a flipped byte
    rmSync(join(disk, 'lifeboat-disk.sha1sums'));
    const volume = listing(disk).find((n) => n.includes('.vol1.difftar.gpg'))!;
    const bytes = readFileSync(join(disk, volume));
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(join(disk, volume), bytes);
    const found = home.lifeboat(['-v', 'notice', profile, 'copy', `file://${disk}`]);
    assert.equal(found.code, 1, found.stderr);
    assert.doesNotMatch(found.stdout + found.stderr, /cannot be read here/, 'the manifest was decrypted');
    assert.match(found.stderr, new RegExp(`^lifeboat: copy: 1 file\\(s\\) on .* are damaged: ${volume.replace(/\./g, '\\.')} `, 'm'));
    assert.equal(home.lifeboat([profile, 'copy', `file://${disk}`, '--force']).code, 0);
    const restored = join(home.root, 'secret-restored');
    const r = home.lifeboat([profile, 'restore', restored, '--from', `file://${disk}`]);
    assert.equal(r.code, 0, r.stderr);
    assertSameTree(await describeTree(restored), asRestored(await describeTree(source)), 'restored from the encrypted disk');

    const fresh = join(home.root, 'media', 'backup-f', 'secret-server');
    const full = home.lifeboat([profile, 'copy', `file://${fresh}`, '--from-source']);
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.ok(listing(fresh).filter((n) => n.startsWith('duplicity-')).every((n) => n.endsWith('.gpg')), listing(fresh).join(' '));
    const byDuplicity = join(home.root, 'secret-dup');
    const d = spawnSync('duplicity', ['restore', '--archive-dir', join(home.root, 'dupcache-e'), `file://${fresh}`, byDuplicity], { encoding: 'utf8', env: { ...home.env, PASSPHRASE: 'correct horse' } });
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assertSameTree(await describeTree(byDuplicity), asRestored(await describeTree(source)), 'duplicity restores the encrypted --from-source disk');
  });
});

// A damaged volume on the TARGET during `lifeboat PROFILE copy DEST`: the copy says which file of the
// target is damaged, with the hint that goes with it (its check of the volume against the manifest),
// writes nothing of that set to the disk that looks complete, leaves no temporary file, and does not
// try the download again as if the disk had failed. (The disk's backend wrapped the error as its own:
// "<path on the disk>: ..." or "put <path>: ...", without the hint.)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileHome } from '../support/profile-env.js';
import { requireProgram } from '../support/programs.js';
import { randomBytes } from '../support/random.js';
import { SSHD, startSshd, type SshServer } from '../support/sshd.js';

const home = profileHome('offline-damaged-target');
const remote = mkdtempSync(join(tmpdir(), 'lifeboat-damaged-target-'));
let server: SshServer | undefined;
before(async () => { if (existsSync(SSHD) && process.geteuid?.() === 0) server = await startSshd(); });
after(async () => {
  await server?.stop();
  rmSync(home.root, { recursive: true, force: true });
  rmSync(remote, { recursive: true, force: true });
});

/** A profile with one backup on its file:// target, whose first volume then gets a flipped byte. */
function damagedProfile(name: string, duplParams = ''): { profile: string; volume: string } {
  const source = join(home.root, `${name}-src`);
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'a.bin'), randomBytes(7, 200_000));
  writeFileSync(join(source, 'b.txt'), 'some text\n');
  const target = join(home.root, `${name}-target`);
  const profile = home.profile(name, `GPG_KEY=disabled\nSOURCE='${source}'\nTARGET='file://${target}'\nVERBOSITY=warning\n${duplParams}`);
  const backup = home.lifeboat([profile, 'backup']);
  assert.equal(backup.code, 0, backup.stderr);
  const volume = readdirSync(target).find((n) => /^duplicity-full\..*\.vol1\.difftar\.gz$/.test(n))!;
  const bytes = readFileSync(join(target, volume));
  bytes[bytes.length >> 1] ^= 0x20;
  writeFileSync(join(target, volume), bytes);
  return { profile, volume };
}

function assertReported(r: { code: number; stderr: string }, volume: string, diskFiles: string[]): void {
  assert.notEqual(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('lifeboat: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^lifeboat: the target's ${volume.replace(/\./g, '\\.')} does not match its manifest \\(SHA1 [0-9a-f]{40}, expected [0-9a-f]{40}\\)$`), 'the target\'s file is named, not a path on the disk');
  assert.match(r.stderr, /^hint: the target holds a damaged volume; nothing of its set was written to the disk/m);
  assert.doesNotMatch(r.stderr, /Giving up after|\n\s+at /, 'no retries of a damaged download, no stack trace');
  assert.ok(!diskFiles.some((n) => n.endsWith('.manifest')), `no set looks complete on the disk: ${diskFiles.join(' ')}`);
  assert.ok(!diskFiles.some((n) => n.includes('.lifeboat-part-')), `no temporary file left: ${diskFiles.join(' ')}`);
}

describe('lifeboat PROFILE copy from a target with a damaged volume', () => {
  test('to a file:// disk', () => {
    const { profile, volume } = damagedProfile('to-file');
    const disk = join(home.root, 'disk');
    const r = home.lifeboat([profile, 'copy', `file://${disk}`]);
    assertReported(r, volume, existsSync(disk) ? readdirSync(disk) : []);
  });

  test('to an sftp:// disk (OpenSSH)', async (t) => {
    if (!requireProgram(t, 'sshd', 'openssh-server')) return;
    if (!server) {
      if (process.env.CI === 'true') assert.fail('sshd tests need root');
      t.skip('sshd tests need root');
      return;
    }
    const { profile, volume } = damagedProfile('to-sftp', `DUPL_PARAMS="$DUPL_PARAMS --ssh-options='${server.sshOptions}' --num-retries 3"\nVERBOSITY=info\n`);
    const disk = join(remote, 'disk');
    const r = await home.lifeboatAsync([profile, 'copy', `sftp://root@127.0.0.1:${server.port}/${disk}`]);
    assertReported(r, volume, existsSync(disk) ? readdirSync(disk) : []);
    assert.doesNotMatch(r.stdout + r.stderr, /attempt \d+ of \d+ failed/, 'a damaged download is not the disk\'s lost connection: no retries');
  });
});

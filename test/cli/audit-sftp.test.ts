// Issue 14 over SFTP with a real OpenSSH sshd: an append-only account (the recipe of docs/hardening.md:
// ForceCommand internal-sftp -P remove,rmdir,posix-rename,... -u 0222, an ordinary user) can back up,
// full and incremental, cannot delete or replace a stored file (the audit says so), and a purge with it
// fails with one clear line; the same target through root (full rights) is reported as dangerous.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileHome } from '../support/profile-env.js';
import { requireProgram } from '../support/programs.js';
import { SSHD, startSshd, type SshServer } from '../support/sshd.js';
import { nextSecond } from '../support/next-second.js';

/** waits for the wall clock's next whole second */

export const APPEND_ONLY = 'internal-sftp -P remove,rmdir,posix-rename,setstat,fsetstat,lsetstat,symlink,hardlink,copy-data -u 0222';
const UID = 64_123;
const home = profileHome('audit-sftp');
// the account must reach its directory: a world-traversable folder outside the 0700 test home
const shared = mkdtempSync(join(tmpdir(), 'lifeboat-append-only-'));
chmodSync(shared, 0o755);
const store = join(shared, 'store');
const store2 = join(shared, 'store2');
let server: SshServer | undefined;

before(async () => {
  if (!existsSync(SSHD) || process.geteuid?.() !== 0) return;
  for (const dir of [store, store2]) {
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, UID, UID);
  }
  server = await startSshd({
    users: [
      { name: 'lbappend', uid: UID, home: shared, forceCommand: APPEND_ONLY },
      // the same without -u 0222: files stay writable by their owner
      { name: 'lbnoumask', uid: UID, home: shared, forceCommand: 'internal-sftp -P remove,rmdir,posix-rename' },
    ],
  });
});
after(async () => {
  await server?.stop();
  rmSync(home.root, { recursive: true, force: true });
  rmSync(shared, { recursive: true, force: true });
});

function profile(name: string, user: string, dir = store): string {
  const src = join(home.root, `${name}-src`);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'first\n');
  return home.profile(name, `GPG_KEY=disabled
SOURCE='${src}'
TARGET='sftp://${user}@127.0.0.1:${server!.port}/${dir}'
DUPL_PARAMS="$DUPL_PARAMS --ssh-options='${server!.sshOptions}'"
VERBOSITY=warning
MAX_AGE=1D
`);
}

describe('lifeboat PROFILE audit over SFTP (OpenSSH)', () => {
  test('an append-only account: backups work, the audit reports safe, purge fails with one line; root is reported', async (t) => {
    if (!requireProgram(t, 'sshd', 'openssh-server') || !requireProgram(t, 'unshare', 'util-linux')) return;
    if (process.geteuid?.() !== 0) {
      t.skip('needs root to run sshd with a test account');
      return;
    }
    const p = profile('appendonly', 'lbappend');
    for (const command of ['full', 'incr', 'full']) {
      if (command === 'incr') writeFileSync(join(home.root, 'appendonly-src', 'a.txt'), 'second, longer\n');
      const r = await home.lifeboatAsync([p, command]);
      assert.equal(r.code, 0, `${command}: ${r.stderr}\n${server!.log()}`);
    }
    const stored = readdirSync(store).filter((n) => n.startsWith('duplicity-'));
    assert.ok(stored.length >= 9, `three sets: ${stored.join(' ')}`);
    for (const name of stored) assert.equal(statSync(join(store, name)).mode & 0o777, 0o444, `${name} is read-only to its owner (-u 0222)`);
    const before = stored.map((n) => [n, statSync(join(store, n)).size, statSync(join(store, n)).mtimeMs]);

    const audit = await home.lifeboatAsync([p, 'audit']);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    assert.doesNotMatch(audit.stdout, /PROBLEM/);
    assert.match(audit.stdout, /^ok: overwriting a stored file was refused/m);
    assert.match(audit.stdout, /^ok: deleting a stored file was refused/m);
    assert.match(audit.stdout, /^ok: stored files cannot be opened for writing/m);
    assert.ok(readdirSync(store).includes('lifeboat-canary'), 'the canary stays: this account cannot delete it');
    const again = await home.lifeboatAsync([p, 'audit']);
    assert.equal(again.code, 0, `a second audit reuses the canary: ${again.stdout}`);

    // set times are whole seconds: 'now' must be a second past the last backup for its chain to be older
    await nextSecond();
    const purge = await home.lifeboatAsync([p, 'purge', 'now', '--force']);
    assert.notEqual(purge.code, 0);
    const lines = purge.stderr.split('\n').filter((l) => l.startsWith('lifeboat: '));
    assert.equal(lines.length, 1, purge.stderr);
    assert.match(lines[0], /permission denied by the server/);
    assert.match(purge.stderr, /^hint: this account may not delete/m);
    assert.doesNotMatch(purge.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(stored.map((n) => [n, statSync(join(store, n)).size, statSync(join(store, n)).mtimeMs]), before, 'every stored file is still there, unchanged');

    const root = await home.lifeboatAsync([profile('rootrights', 'root'), 'audit']);
    assert.equal(root.code, 1, root.stdout);
    assert.match(root.stdout, /^PROBLEM: these credentials can overwrite stored files: they replaced the canary at sftp:\/\/root@.* Fix: give this server an append-only SFTP account/m);
    assert.match(root.stdout, /^PROBLEM: these credentials can delete stored backups: they deleted the canary/m);
    assert.deepEqual(stored.map((n) => [n, statSync(join(store, n)).size, statSync(join(store, n)).mtimeMs]), before, 'root\'s audit touched no backup file');

    // no remove, no replacing rename, but files stay writable: an attacker could overwrite them in place
    const noUmask = await home.lifeboatAsync([profile('noumask', 'lbnoumask', store2), 'audit']);
    assert.equal(noUmask.code, 1, noUmask.stdout);
    assert.match(noUmask.stdout, /^ok: deleting a stored file was refused/m);
    assert.match(noUmask.stdout, /^PROBLEM: stored files can be opened for writing in place: .* Fix: give this server an append-only SFTP account .*-u 0222/m);
  });
});

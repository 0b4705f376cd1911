// Issue 14, recovery traps: what `lifeboat PROFILE audit` says about the only copy of the passphrase or
// of the secret key (asked of the real gpg), a conf others can read, and a password on a child process's
// command line; the create hint; and drill's brief audit (warnings that leave the drill's result alone).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { profileHome } from '../support/profile-env.js';
import { requireProgram } from '../support/programs.js';
import { localFindings, formatFinding } from '../../src/audit/run-audit.js';
import { settingsOf } from '../../src/profile/settings.js';
import type { ProfilePaths } from '../../src/profile/locate.js';

const home = profileHome('audit-recovery');
after(() => {
  // gpg started an agent for each keyring: stop ours
  for (const dir of ['gnupg-full', 'gnupg-public']) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: join(home.root, dir) } });
  rmSync(home.root, { recursive: true, force: true });
});
const src = join(home.root, 'src');
mkdirSync(src, { recursive: true });
writeFileSync(join(src, 'f.txt'), 'data\n');

function conf(target: string, extra: string): string {
  return `SOURCE='${src}'\nTARGET='${target}'\nVERBOSITY=warning\n${extra}`;
}

describe('audit: recovery traps', () => {
  test('a passphrase only in the conf, a conf others can read; KEY_ESCROW and chmod 600 clear them', async () => {
    const p = home.profile('sym', conf(`file://${join(home.root, 'sym-target')}`, "GPG_PW='correct horse'\n"));
    chmodSync(join(p, 'conf'), 0o644);
    const r = await home.lifeboatAsync([p, 'audit']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^PROBLEM: the passphrase that decrypts the backups \(GPG_PW\) is, as far as Lifeboat knows, only in .*\/conf on this server.* Fix: keep a copy of GPG_PW off this server/m);
    assert.match(r.stdout, new RegExp(`^PROBLEM: ${p}/conf is readable by other users \\(mode 0644\\): it holds credentials or keys\\. Fix: chmod 600 ${p}/conf$`, 'm'));
    assert.ok(!r.stdout.includes('correct horse') && !r.stderr.includes('correct horse'), 'the passphrase is never printed');
    writeFileSync(join(p, 'conf'), conf(`file://${join(home.root, 'sym-target')}`, "GPG_PW='correct horse'\nKEY_ESCROW='printed, in the office safe'\n"));
    chmodSync(join(p, 'conf'), 0o600);
    const fixed = await home.lifeboatAsync([p, 'audit']);
    assert.match(fixed.stdout, /^ok: the passphrase GPG_PW has a copy off this server \(KEY_ESCROW: printed, in the office safe\)\.$/m);
    assert.match(fixed.stdout, /^ok: the profile folder .* and its files are readable by their owner only\.$/m);
    assert.doesNotMatch(fixed.stdout, /PROBLEM: (the passphrase|.*readable)/);
  });

  test('a secret key in this server\'s keyring is a trap; a public key alone is not (gpg asked)', async (t) => {
    if (!requireProgram(t, 'gpg', 'gnupg')) return;
    const full = join(home.root, 'gnupg-full');
    const pub = join(home.root, 'gnupg-public');
    mkdirSync(full, { mode: 0o700 });
    mkdirSync(pub, { mode: 0o700 });
    const gen = spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Audit Test <audit@example.org>', 'future-default', 'default', 'never'], { env: { ...process.env, GNUPGHOME: full }, encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(spawnSync('gpg', ['--with-colons', '--list-keys'], { env: { ...process.env, GNUPGHOME: full }, encoding: 'utf8' }).stdout)![1];
    const exported = spawnSync('gpg', ['--export', fpr], { env: { ...process.env, GNUPGHOME: full } }).stdout;
    assert.equal(spawnSync('gpg', ['--batch', '--import'], { env: { ...process.env, GNUPGHOME: pub }, input: exported }).status, 0);
    spawnSync('gpg', ['--batch', '--yes', '--import-ownertrust'], { env: { ...process.env, GNUPGHOME: pub }, input: `${fpr}:6:\n` });

    const p = home.profile('keys', conf(`file://${join(home.root, 'key-target')}`, `GPG_KEY='${fpr}'\nexport GNUPGHOME='${full}'\n`));
    const trapped = await home.lifeboatAsync([p, 'audit']);
    assert.match(trapped.stdout, new RegExp(`^PROBLEM: the secret key of ${fpr}, which decrypts the backups, is in this server's keyring .* Fix: gpg --armor --export-secret-keys ${fpr} > ${fpr}\\.sec\\.asc`, 'm'));
    writeFileSync(join(p, 'conf'), conf(`file://${join(home.root, 'key-target')}`, `GPG_KEY='${fpr}'\nexport GNUPGHOME='${pub}'\n`), { mode: 0o600 });
    const safe = await home.lifeboatAsync([p, 'audit']);
    assert.match(safe.stdout, new RegExp(`^ok: the secret key of ${fpr} is not on this server`, 'm'));
    assert.doesNotMatch(safe.stdout, /PROBLEM: the secret key/);
  });

  test('a password left in the URL reaches the child\'s command line; TARGET_PASS does not', () => {
    const paths: ProfilePaths = {
      argument: 'x', name: 'x', dir: home.root, conf: join(home.root, 'none'), exclude: join(home.root, 'exclude'),
      pre: join(home.root, 'pre'), post: join(home.root, 'post'), keyfile: join(home.root, 'gpgkey.asc'),
    };
    const settingsFor = (vars: Record<string, string>) => settingsOf({ vars: { SOURCE: src, GPG_KEY: 'disabled', ...vars }, duplParams: [], env: {} } as never, paths, { disableEncryption: false });
    const exposed = localFindings({ paths, settings: settingsFor({ TARGET: 'webdavs://:s3cret@dav.example.org/backups' }), env: {}, vars: {} }).map(formatFinding);
    assert.ok(exposed.some((l) => /^PROBLEM: the target's password is on the command line .* Fix: put the user in TARGET_USER/.test(l)), exposed.join('\n'));
    const hidden = localFindings({ paths, settings: settingsFor({ TARGET: 'webdavs://dav.example.org/backups', TARGET_USER: 'me', TARGET_PASS: 's3cret' }), env: {}, vars: {} }).map(formatFinding);
    assert.ok(hidden.some((l) => /^ok: no password on the command line/.test(l)), hidden.join('\n'));
    assert.ok(hidden.every((l) => !l.includes('s3cret')));
  });

  test('create hints at the audit; drill warns of the audit\'s problems and still passes', async () => {
    const created = await home.lifeboatAsync(['fresh', 'create']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /run "lifeboat fresh audit": it checks that an attacker on this server could not delete or overwrite the backups/);

    const p = home.profile('drilled', conf(`file://${join(home.root, 'drill-target')}`, "GPG_PW='pw'\n"));
    assert.equal((await home.lifeboatAsync([p, 'backup'])).code, 0);
    const drill = await home.lifeboatAsync([p, 'drill']);
    assert.equal(drill.code, 0, drill.stderr);
    assert.match(drill.stdout, /^Drill passed/m);
    assert.match(drill.stderr, /^WARNING: security: the passphrase that decrypts the backups \(GPG_PW\)/m);
    assert.match(drill.stderr, /^WARNING: security: the target file:\/\/.* is a directory this server writes itself/m);
    assert.match(drill.stderr, /^WARNING: security: "lifeboat drilled audit" checks the credentials for real$/m);
    assert.ok(!readdirSync(join(home.root, 'drill-target')).includes('lifeboat-canary'), 'the brief audit writes no canary');
  });
});

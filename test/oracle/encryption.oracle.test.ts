// Oracle: encrypted archives judged by the real duplicity 0.8.22 and gpg 2.2. duplicity restores our
// symmetric and public-key chains (full + incremental, several volumes); we restore duplicity's (and
// the sample enc/); gpg decrypts every file we write to the raw tar or manifest; a backup made where
// only the public key is restores where the secret key is, and not where it is not; wrong passphrase,
// wrong key, a damaged volume, and a volume not signed by --sign-key fail with duplicity's exit codes and leave nothing at the destination.
// Signed backups (--sign-key, --encrypt-sign-key): gpg reports a good signature by the key on every file;
// duplicity --sign-key and our restore read the signed chain; a wrong SIGN_PASSPHRASE writes nothing.
// Each GnuPG home is a temporary directory; gpg-agent is stopped in after(). DEBUG_ORACLE=1 prints runs.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { lifeboatBin, oracleEnv, runProgram, type Run } from '../support/run.js';
import { requireProgram, hasProgram } from '../support/programs.js';
import { randomBytes, randomText } from '../support/random.js';
import { describeTree } from '../support/tree.js';
import { samplesDir } from '../support/samples.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-encryption-'));
const homes: string[] = [];
after(() => {
  for (const home of homes) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;
const fresh = (label: string) => join(work, `${label}-${counter++}`);

function ok(r: Run): Run {
  if (process.env.DEBUG_ORACLE) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

type Env = Record<string, string | undefined>;
const run = (program: string, args: string[], extra: Env = {}) => {
  const env: NodeJS.ProcessEnv = { ...oracleEnv, PASSPHRASE: undefined, SIGN_PASSPHRASE: undefined, ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return runProgram(program, args, env);
};
const lifeboat = (args: string[], extra: Env = {}) => run(process.execPath, [lifeboatBin, 'duplicity', '--no-print-statistics', ...args], extra);
const duplicity = (args: string[], extra: Env = {}) => run('duplicity', ['--no-print-statistics', '--archive-dir', fresh('dup-cache'), ...args], extra);
const gpg = (home: string, args: string[], stdin?: string | Buffer) => spawnSync('gpg', ['--batch', '--no-tty', ...args], { env: { ...process.env, GNUPGHOME: home }, input: stdin ?? '', maxBuffer: 1 << 28 });

/** a GnuPG home with a new key (ed25519 + cv25519) protected by `passphrase`; returns its fingerprint */
function newKeyHome(label: string, passphrase: string): { home: string; fpr: string } {
  const home = fresh(`gnupg-${label}`);
  mkdirSync(home, { mode: 0o700 });
  homes.push(home);
  const gen = gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', passphrase, '--quick-gen-key', `${label} <${label}@example.org>`, 'future-default', 'default', 'never']);
  assert.equal(gen.status, 0, gen.stderr.toString());
  const list = gpg(home, ['--with-colons', '--list-secret-keys']).stdout.toString();
  return { home, fpr: /^fpr:+([0-9A-F]{40}):/m.exec(list)![1] };
}

function emptyHome(label: string): string {
  const home = fresh(`gnupg-${label}`);
  mkdirSync(home, { mode: 0o700 });
  homes.push(home);
  return home;
}

/** a source of several MB (three 1 MB volumes), a text file, a directory and a symlink */
function makeSource(): string {
  const dir = fresh('src');
  mkdirSync(join(dir, 'd'), { recursive: true });
  writeFileSync(join(dir, 'big.bin'), randomBytes(7, 2_500_000));
  writeFileSync(join(dir, 'd', 'text.txt'), randomText(8, 300_000));
  writeFileSync(join(dir, 'small'), 'small\n');
  symlinkSync('small', join(dir, 'link'));
  return dir;
}

function change(source: string): void {
  writeFileSync(join(source, 'small'), 'changed\n');
  writeFileSync(join(source, 'new.txt'), randomText(9, 50_000));
  // 100 KB of the big file rewritten in place: its delta is made on a delta worker and reaches the
  // encryption through one reused 64 KiB buffer, which the volume's spool must copy
  const big = readFileSync(join(source, 'big.bin'));
  randomBytes(10, 100_000).copy(big, 1_000_000);
  writeFileSync(join(source, 'big.bin'), big);
}

async function sameTree(a: string, b: string, label: string): Promise<void> {
  assert.deepEqual(await describeTree(b), await describeTree(a), label);
}

/** set times are whole seconds and must increase within a chain */
const nextSecond = () => sleep(1100);

let key: { home: string; fpr: string };
let pubOnly: string;
let otherKey: { home: string; fpr: string };
const KEY_PW = 'key secret';

before(() => {
  if (!hasProgram('gpg') || !hasProgram('duplicity')) return;
  key = newKeyHome('lifeboat', KEY_PW);
  otherKey = newKeyHome('other', 'other secret');
  pubOnly = emptyHome('pub-only');
  const exported = gpg(key.home, ['--export', key.fpr]).stdout;
  assert.equal(gpg(pubOnly, ['--import'], exported).status, 0);
  // duplicity's gpg must trust the imported key without asking
  gpg(pubOnly, ['--import-ownertrust'], `${key.fpr}:6:\n`);
  // the other key's public half sits beside the first key, for --sign-key checks against it
  assert.equal(gpg(key.home, ['--import'], gpg(otherKey.home, ['--export', otherKey.fpr]).stdout).status, 0);
});

test('symmetric: duplicity restores our multi-volume full + incremental, gpg decrypts every file to the raw tar', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('target');
  const url = `file://${target}`;
  const cache = fresh('cache');
  const env = { PASSPHRASE: 'correct horse' };
  ok(await lifeboat(['full', '--volsize', '1', '--archive-dir', cache, source, url], env));
  const full = readdirSync(target);
  assert.ok(full.filter((n) => n.endsWith('.difftar.gpg')).length >= 2, full.join('\n'));
  await nextSecond();
  change(source);
  ok(await lifeboat(['incremental', '--volsize', '1', '--archive-dir', cache, source, url], env));
  const files = readdirSync(target).sort();
  assert.ok(files.every((n) => n.endsWith('.gpg')), files.join('\n'));

  for (const name of files) {
    const d = gpg(emptyHome('decrypt'), ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--decrypt', join(target, name)], env.PASSPHRASE);
    assert.equal(d.status, 0, `${name}: ${d.stderr}`);
    if (name.includes('.manifest')) {
      assert.match(d.stdout.toString('latin1'), /^Hostname /, name);
      // the archive dir keeps the same manifest, plain
      assert.deepEqual(d.stdout, readFileSync(join(cache, readdirSync(cache)[0], name.replace(/\.gpg$/, ''))), name);
    } else {
      assert.equal(d.stdout.subarray(257, 262).toString('latin1'), 'ustar', `${name}: raw tar inside`);
    }
    if (name.includes('.sigtar')) {
      assert.deepEqual(d.stdout, gunzipSync(readFileSync(join(cache, readdirSync(cache)[0], name.replace(/\.gpg$/, '.gz')))), `${name}: the cache holds it gzipped`);
    }
  }
  const packets = gpg(emptyHome('packets'), ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--list-packets', join(target, files.find((n) => n.includes('vol1'))!)], env.PASSPHRASE).stdout.toString();
  assert.match(packets, /:symkey enc packet: version 4, cipher 9/);
  assert.match(packets, /mdc_method: 2/);
  assert.match(packets, /:compressed packet: algo=1/);

  const restored = fresh('restored');
  ok(await duplicity(['restore', url, restored], env));
  await sameTree(source, restored, 'duplicity restores our chain');
  const ours = fresh('ours');
  ok(await lifeboat(['restore', '--archive-dir', fresh('cache'), url, ours], env));
  await sameTree(source, ours, 'we restore our chain from an empty archive dir');
});

test('symmetric: we restore duplicity\'s multi-volume chain (volumes topped off with junk) and the sample enc/', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('dup-target');
  const url = `file://${target}`;
  const env = { PASSPHRASE: 'dup pass' };
  ok(await duplicity(['full', '--volsize', '1', source, url], env));
  await nextSecond();
  change(source);
  ok(await duplicity(['incremental', '--volsize', '1', source, url], env));
  const restored = fresh('restored');
  ok(await lifeboat(['restore', '--archive-dir', fresh('cache'), url, restored], env));
  await sameTree(source, restored, 'we restore duplicity\'s chain');
  const verify = await lifeboat(['verify', '--compare-data', '--archive-dir', fresh('cache'), url, source], env);
  assert.equal(verify.code, 0, verify.stderr);

  const sample = join(samplesDir(), 'enc');
  const sampleOut = fresh('sample');
  ok(await lifeboat(['restore', '--archive-dir', fresh('cache'), `file://${sample}`, sampleOut], { PASSPHRASE: 'test' }));
  const byDuplicity = fresh('sample-dup');
  ok(await duplicity(['restore', `file://${sample}`, byDuplicity], { PASSPHRASE: 'test' }));
  await sameTree(byDuplicity, sampleOut, 'the sample restores as duplicity restores it');
});

test('public key: a backup where only the public key is restores where the secret key is, and not where it is not', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('pk-target');
  const url = `file://${target}`;
  const cache = fresh('cache');
  const writer = { GNUPGHOME: pubOnly };
  ok(await lifeboat(['full', '--volsize', '1', '--encrypt-key', key.fpr, '--archive-dir', cache, source, url], writer));
  await nextSecond();
  change(source);
  // the incremental and the status read the plain archive dir: no secret key, no passphrase
  ok(await lifeboat(['incremental', '--volsize', '1', '--encrypt-key', key.fpr, '--archive-dir', cache, source, url], writer));
  const status = ok(await lifeboat(['collection-status', '--archive-dir', cache, url], writer));
  assert.match(status.stdout, /Total number of contained volumes: \d+/);
  const list = ok(await lifeboat(['list-current-files', '--archive-dir', cache, url], writer));
  assert.match(list.stdout, /new\.txt/);

  const vol = readdirSync(target).find((n) => n.includes('vol1.difftar.gpg'))!;
  const packets = gpg(key.home, ['--list-packets', join(target, vol)]).stdout.toString() + gpg(key.home, ['--list-packets', join(target, vol)]).stderr.toString();
  assert.match(packets, /:pubkey enc packet: version 3/);

  const denied = fresh('denied');
  const r = await lifeboat(['restore', '--archive-dir', fresh('cache'), url, denied], { ...writer, PASSPHRASE: KEY_PW });
  assert.equal(r.code, 31, r.stderr);
  assert.match(r.stderr, /decryption failed/);
  assert.ok(!existsSync(denied));

  const byDuplicity = fresh('pk-dup');
  ok(await duplicity(['restore', '--encrypt-key', key.fpr, url, byDuplicity], { GNUPGHOME: key.home, PASSPHRASE: KEY_PW }));
  await sameTree(source, byDuplicity, 'duplicity restores our public-key chain');
  const ours = fresh('pk-ours');
  ok(await lifeboat(['restore', '--archive-dir', fresh('cache'), url, ours], { GNUPGHOME: key.home, PASSPHRASE: KEY_PW }));
  await sameTree(source, ours, 'we restore our public-key chain with the secret key');

  const wrongKey = fresh('wrong-key');
  const w = await lifeboat(['restore', '--archive-dir', fresh('cache'), url, wrongKey], { GNUPGHOME: otherKey.home, PASSPHRASE: 'other secret' });
  assert.equal(w.code, 31, w.stderr);
  assert.ok(!existsSync(wrongKey));
});

test('public key: we restore duplicity\'s public-key chain; hidden recipients restore with duplicity', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('dup-pk');
  const url = `file://${target}`;
  ok(await duplicity(['full', '--encrypt-key', key.fpr, source, url], { GNUPGHOME: pubOnly }));
  const ours = fresh('ours');
  ok(await lifeboat(['restore', '--archive-dir', fresh('cache'), url, ours], { GNUPGHOME: key.home, PASSPHRASE: KEY_PW }));
  await sameTree(source, ours, 'we restore duplicity\'s public-key chain');

  const hidden = fresh('hidden');
  const hiddenUrl = `file://${hidden}`;
  ok(await lifeboat(['full', '--hidden-encrypt-key', key.fpr, '--archive-dir', fresh('cache'), source, hiddenUrl], { GNUPGHOME: pubOnly }));
  const vol = readdirSync(hidden).find((n) => n.includes('vol1'))!;
  const packets = gpg(pubOnly, ['--list-packets', join(hidden, vol)]);
  assert.match(packets.stdout.toString() + packets.stderr.toString(), /keyid 0000000000000000/);
  const byDuplicity = fresh('hidden-dup');
  ok(await duplicity(['restore', '--hidden-encrypt-key', key.fpr, hiddenUrl, byDuplicity], { GNUPGHOME: key.home, PASSPHRASE: KEY_PW }));
  await sameTree(source, byDuplicity, 'duplicity restores a hidden-recipient chain');
});

test('wrong passphrase, damaged encrypted volume, no passphrase: duplicity\'s exit codes, nothing restored', async (t) => {
  if (!requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('bad');
  const url = `file://${target}`;
  ok(await lifeboat(['full', '--volsize', '1', '--archive-dir', fresh('cache'), source, url], { PASSPHRASE: 'right' }));

  const wrong = fresh('wrong');
  const w = await lifeboat(['restore', '--archive-dir', fresh('cache'), url, wrong], { PASSPHRASE: 'wrong' });
  assert.equal(w.code, 31, w.stderr);
  assert.match(w.stderr, /bad passphrase/);
  assert.ok(!existsSync(wrong));

  const none = fresh('none');
  const n = await lifeboat(['restore', '--archive-dir', fresh('cache'), url, none]);
  assert.equal(n.code, 31, n.stderr);
  assert.match(n.stderr, /PASSPHRASE is not set/);
  assert.ok(!existsSync(none));

  // a cache that already holds the metadata: the damaged volume is what fails
  const cache = fresh('cache');
  ok(await lifeboat(['list-current-files', '--archive-dir', cache, url], { PASSPHRASE: 'right' }));
  const damaged = fresh('damaged-target');
  cpSync(target, damaged, { recursive: true });
  const vol2 = join(damaged, readdirSync(damaged).find((x) => x.includes('vol2.difftar.gpg'))!);
  const bytes = readFileSync(vol2);
  bytes[Math.floor(bytes.length / 2)] ^= 0x40;
  writeFileSync(vol2, bytes);
  const out = fresh('out');
  const d = await lifeboat(['restore', '--archive-dir', fresh('cache'), `file://${damaged}`, out], { PASSPHRASE: 'right' });
  assert.equal(d.code, 21, d.stderr);
  assert.match(d.stderr, /hash mismatch/);
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(work).filter((x) => x.startsWith('.out-') || x.includes('lifeboat-restore')), [], 'no staging left behind');
});

test('--sign-key: duplicity\'s signed archive restores when signed by that key, exit 22 when by another or unsigned', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('signed');
  const url = `file://${target}`;
  const env = { GNUPGHOME: key.home, PASSPHRASE: KEY_PW };
  ok(await duplicity(['full', '--encrypt-key', key.fpr, '--sign-key', key.fpr, source, url], env));
  const out = fresh('signed-out');
  ok(await lifeboat(['restore', '--sign-key', key.fpr, '--archive-dir', fresh('cache'), url, out], env));
  await sameTree(source, out, 'a signed archive restores with --sign-key');

  const other = fresh('other-signer');
  const r = await lifeboat(['restore', '--sign-key', otherKey.fpr, '--archive-dir', fresh('cache'), url, other], env);
  assert.equal(r.code, 22, r.stderr);
  assert.match(r.stderr, /Volume was signed by key [0-9A-F]{16}, not /);
  assert.ok(!existsSync(other));

  const unsigned = fresh('unsigned');
  ok(await lifeboat(['full', '--encrypt-key', key.fpr, '--archive-dir', fresh('cache'), source, `file://${unsigned}`], env));
  const u = await lifeboat(['restore', '--sign-key', key.fpr, '--archive-dir', fresh('cache'), `file://${unsigned}`, fresh('unsigned-out')], env);
  assert.equal(u.code, 22, u.stderr);
  assert.match(u.stderr, /signed by key None/);

});

/** gpg's verdict on one file: its status lines (GOODSIG / BADSIG / VALIDSIG ...) */
function gpgVerdict(home: string, file: string, passphrase: string): string {
  const d = gpg(home, ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--status-fd', '2', '--decrypt', file], passphrase);
  assert.equal(d.status, 0, `${file}: ${d.stderr}`);
  return d.stderr.toString();
}

test('signing: our signed multi-volume chain (keys and symmetric) verifies with gpg, restores with duplicity --sign-key and ours; wrong signer 22', async (t) => {
  if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'gpg', 'gnupg')) return;
  const source = makeSource();
  const target = fresh('our-signed');
  const url = `file://${target}`;
  const cache = fresh('cache');
  // the signing key is also the encryption key: PASSPHRASE serves as SIGN_PASSPHRASE, as duplicity does
  const env = { GNUPGHOME: key.home, PASSPHRASE: KEY_PW };
  const full = ok(await lifeboat(['full', '--volsize', '1', '--encrypt-sign-key', key.fpr, '--archive-dir', cache, source, url], env));
  assert.match(full.stdout, /Reuse configured PASSPHRASE as SIGN_PASSPHRASE/);
  await nextSecond();
  change(source);
  ok(await lifeboat(['incremental', '--volsize', '1', '--encrypt-key', key.fpr, '--sign-key', key.fpr, '--archive-dir', cache, source, url], env));
  const files = readdirSync(target).sort();
  assert.ok(files.filter((n) => n.includes('.difftar.gpg')).length >= 4, files.join('\n'));
  for (const kind of ['.difftar.gpg', '.sigtar.gpg', '.manifest.gpg']) assert.ok(files.some((n) => n.endsWith(kind)), kind);
  for (const name of files) {
    const verdict = gpgVerdict(key.home, join(target, name), KEY_PW);
    assert.match(verdict, new RegExp(`^\\[GNUPG:\\] VALIDSIG ${key.fpr} `, 'm'), `${name}: signed by the key\n${verdict}`);
    assert.doesNotMatch(verdict, /BADSIG|ERRSIG/, name);
  }

  const byDuplicity = fresh('our-signed-dup');
  ok(await duplicity(['restore', '--sign-key', key.fpr, '--encrypt-key', key.fpr, url, byDuplicity], env));
  await sameTree(source, byDuplicity, 'duplicity restores our signed chain with --sign-key');
  const ours = fresh('our-signed-ours');
  ok(await lifeboat(['restore', '--sign-key', key.fpr, '--archive-dir', fresh('cache'), url, ours], env));
  await sameTree(source, ours, 'we restore our signed chain with --sign-key');
  const wrong = fresh('our-signed-wrong');
  const w = await lifeboat(['restore', '--sign-key', otherKey.fpr, '--archive-dir', fresh('cache'), url, wrong], env);
  assert.equal(w.code, 22, w.stderr);
  assert.ok(!existsSync(wrong));

  // symmetric, signed: one passphrase for both (duplicity's rule), a different SIGN_PASSPHRASE refused
  const symTarget = fresh('sym-signed');
  const symEnv = { GNUPGHOME: key.home, PASSPHRASE: KEY_PW };
  ok(await lifeboat(['full', '--sign-key', key.fpr, '--archive-dir', fresh('cache'), source, `file://${symTarget}`], symEnv));
  for (const name of readdirSync(symTarget)) assert.match(gpgVerdict(key.home, join(symTarget, name), KEY_PW), /^\[GNUPG:\] GOODSIG /m, name);
  const symOut = fresh('sym-signed-dup');
  ok(await duplicity(['restore', '--sign-key', key.fpr, `file://${symTarget}`, symOut], symEnv));
  await sameTree(source, symOut, 'duplicity restores our symmetric signed backup');
  const differ = await lifeboat(['full', '--sign-key', key.fpr, '--archive-dir', fresh('cache'), source, `file://${fresh('never')}`], { ...symEnv, SIGN_PASSPHRASE: 'other' });
  assert.equal(differ.code, 23, differ.stderr);
  assert.match(differ.stderr, /signing passphrase must equal the encryption passphrase/);

  // a wrong SIGN_PASSPHRASE, or a signing key the keyring lacks: refused before anything is written
  const never = fresh('never');
  const bad = await lifeboat(['full', '--encrypt-key', key.fpr, '--sign-key', key.fpr, '--archive-dir', fresh('cache'), source, `file://${never}`], { GNUPGHOME: key.home, SIGN_PASSPHRASE: 'wrong' });
  assert.equal(bad.code, 31, bad.stderr);
  assert.match(bad.stderr, /SIGN_PASSPHRASE/);
  const missing = await lifeboat(['full', '--encrypt-key', key.fpr, '--sign-key', key.fpr, '--archive-dir', fresh('cache'), source, `file://${never}`], { GNUPGHOME: pubOnly, SIGN_PASSPHRASE: KEY_PW });
  assert.equal(missing.code, 31, missing.stderr);
  assert.match(missing.stderr, /secret key/);
  assert.ok(!existsSync(never) || readdirSync(never).length === 0, 'nothing written');
});

// Round trips through our writer and reader at the packet-length edges, gpg 2.2 as the judge of what we
// write, openpgp.js-made files (including RFC 9580 AEAD/OCB ones) as input the reader must take, and a
// wrong passphrase as a clear exit-31 error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { createMessage, encrypt, enums } from 'openpgp';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { requireProgram } from '../../test/support/programs.js';
import { randomBytes } from '../../test/support/random.js';
import { openArchiveCipher } from './archive-cipher.js';
import { deriveKey } from './s2k.js';

const home = mkdtempSync(join(tmpdir(), 'lifeboat-cipher-'));
mkdirSync(join(home, 'gnupg'), { mode: 0o700 });
after(() => {
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: join(home, 'gnupg') } });
  rmSync(home, { recursive: true, force: true });
});

const settings = (passphrase: string) => ({ encryption: true, passphrase, encryptKeys: [], hiddenEncryptKeys: [] });

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function encryptWithUs(plain: Buffer, passphrase: string): Promise<Buffer> {
  const cipher = await openArchiveCipher(settings(passphrase), { forWriting: true });
  return collect(Readable.from([plain]).pipe(cipher.encryptor()));
}

const sizes = [0, 1, 191, 192, 8383, 8384, 65535, 65536, 65537, 300_000];

test('what we encrypt, we and gpg decrypt, at every length edge', async (t) => {
  const haveGpg = requireProgram(t, 'gpg', 'gnupg');
  const reader = await openArchiveCipher(settings('pw'), { forWriting: false });
  for (const size of sizes) {
    const plain = randomBytes(size, size);
    const sealed = await encryptWithUs(plain, 'pw');
    assert.deepEqual(await collect(await reader.decrypt(Readable.from([sealed]), `size ${size}`)), plain, `ours, ${size} bytes`);
    if (!haveGpg) continue;
    const r = spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--decrypt'], {
      env: { ...process.env, GNUPGHOME: join(home, 'gnupg') }, input: Buffer.concat([Buffer.from('pw\n'), sealed]), maxBuffer: 1 << 24,
    });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(r.stdout, plain, `gpg, ${size} bytes`);
  }
});

test('a wrong passphrase is a clear exit-31 error, before any plaintext', async () => {
  const sealed = await encryptWithUs(randomBytes(1, 100_000), 'right');
  const reader = await openArchiveCipher(settings('wrong'), { forWriting: false });
  await assert.rejects(async () => collect(await reader.decrypt(Readable.from([sealed]), 'vol1')), (err: unknown) => {
    assert.ok(err instanceof LifeboatError);
    assert.equal(err.exitCode, 31);
    assert.match(err.message, /^vol1: decryption failed: bad passphrase/);
    return true;
  });
  // each wrong passphrase gives other garbage; before the check at the start of the data, about one
  // in twenty sent openpgp.js parsing garbage that never settled (the restore just stopped)
  for (let i = 0; i < 24; i++) {
    const other = await openArchiveCipher(settings(`wrong ${i}`), { forWriting: false });
    await assert.rejects(async () => collect(await other.decrypt(Readable.from([sealed]), 'vol1')), /bad passphrase \(the key it gives fails the check/, `wrong passphrase ${i}`);
  }
});

test('files openpgp.js writes (SKESK with an encrypted session key; RFC 9580 AEAD/OCB) are read', async () => {
  const plain = randomBytes(3, 200_000);
  const reader = await openArchiveCipher(settings('pw'), { forWriting: false });
  for (const config of [{}, { aeadProtect: true, preferredAEADAlgorithm: enums.aead.ocb }]) {
    const message = await createMessage({ binary: plain });
    const sealed = await encrypt({ message, passwords: ['pw'], format: 'binary', config });
    assert.deepEqual(await collect(await reader.decrypt(Readable.from([Buffer.from(sealed as Uint8Array)]), 'x')), plain, JSON.stringify(config));
  }
});

test('S2K: the iterated count covers the salted passphrase repeated, and longer keys take more hash contexts', () => {
  // the count byte 0 means 1024 bytes: 16-byte salted passphrases 64 times
  const salt = Buffer.from('0123456789abcdef', 'hex');
  const repeated = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([salt, Buffer.from('passphr!')])));
  const first = spawnSync('sha1sum', { input: repeated }).stdout.toString().slice(0, 40);
  const key = deriveKey({ type: 'iterated', hash: 2, salt, countByte: 0 }, 'passphr!', 32);
  assert.equal(key.subarray(0, 20).toString('hex'), first);
  const second = spawnSync('sha1sum', { input: Buffer.concat([Buffer.alloc(1), repeated]) }).stdout.toString().slice(0, 12 * 2);
  assert.equal(key.subarray(20).toString('hex'), second);
});

test('key files (a duply profile\'s gpgkey.*.asc): encrypt with the public file, decrypt with the secret file and its passphrase', async (t) => {
  if (!requireProgram(t, 'gpg', 'gnupg')) return;
  const gnupg = join(home, 'gnupg');
  const env = { ...process.env, GNUPGHOME: gnupg };
  const gen = spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'kp', '--quick-gen-key', 'files <f@example.org>', 'future-default', 'default', 'never'], { env });
  assert.equal(gen.status, 0, gen.stderr.toString());
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env }).stdout.toString())![1];
  const pub = join(home, `gpgkey.${fpr}.pub.asc`);
  const sec = join(home, `gpgkey.${fpr}.sec.asc`);
  writeFileSync(pub, spawnSync('gpg', ['--batch', '--armor', '--export', fpr], { env }).stdout);
  writeFileSync(sec, spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'kp', '--armor', '--export-secret-keys', fpr], { env }).stdout);
  const plain = randomBytes(5, 100_000);
  // no gpg involved from here: an empty GNUPGHOME would not find the key
  const writer = await openArchiveCipher({ encryption: true, encryptKeys: [fpr], hiddenEncryptKeys: [], keyFiles: [pub], gpgBinary: '/nonexistent/gpg' }, { forWriting: true });
  const sealed = await collect(Readable.from([plain]).pipe(writer.encryptor()));
  const reader = await openArchiveCipher({ encryption: true, passphrase: 'kp', encryptKeys: [], hiddenEncryptKeys: [], keyFiles: [sec], gpgBinary: '/nonexistent/gpg' }, { forWriting: false });
  assert.deepEqual(await collect(await reader.decrypt(Readable.from([sealed]), 'k')), plain);
  const d = spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--decrypt'], { env, input: Buffer.concat([Buffer.from('kp\n'), sealed]) });
  assert.deepEqual(d.stdout, plain, d.stderr.toString());
  const wrong = await openArchiveCipher({ encryption: true, passphrase: 'not it', encryptKeys: [], hiddenEncryptKeys: [], keyFiles: [sec] }, { forWriting: false });
  await assert.rejects(async () => collect(await wrong.decrypt(Readable.from([sealed]), 'k')), /does not open with PASSPHRASE/);
});

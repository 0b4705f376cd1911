// Signed files as `gpg --sign --encrypt` writes them, for every key type a signing key may have (EdDSA,
// RSA, ECDSA P-384): our reader and gpg 2.2 both report a good signature by the key; a file whose
// literal data no longer matches its signature (but whose encryption is intact) fails with exit 31.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import { generateKey, readPrivateKey } from 'openpgp';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { requireProgram } from '../../test/support/programs.js';
import { randomBytes } from '../../test/support/random.js';
import { openArchiveCipher } from './archive-cipher.js';
import { PacketFramer, PacketTag } from './openpgp-packets.js';
import { MessageSigner } from './sign-stream.js';
import { createPacketEncryptStream } from './encrypt-stream.js';

const home = mkdtempSync(join(tmpdir(), 'lifeboat-sign-'));
const gnupg = join(home, 'gnupg');
mkdirSync(gnupg, { mode: 0o700 });
after(() => {
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
  rmSync(home, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const KEY_PW = 'sign pw';
const kinds = [
  { label: 'EdDSA (ed25519)', options: { type: 'ecc', curve: 'curve25519Legacy' } },
  { label: 'RSA 2048', options: { type: 'rsa', rsaBits: 2048 } },
  { label: 'ECDSA P-384', options: { type: 'ecc', curve: 'nistP384' } },
] as const;

test('signed with every key type: we and gpg see a good signature by the key, at empty and multi-chunk lengths', async (t) => {
  const haveGpg = requireProgram(t, 'gpg', 'gnupg');
  for (const [i, kind] of kinds.entries()) {
    const generated = await generateKey({ ...kind.options, userIDs: [{ name: kind.label }], passphrase: KEY_PW, format: 'armored' } as Parameters<typeof generateKey>[0] & { format: 'armored' });
    const secFile = join(home, `key${i}.sec.asc`);
    writeFileSync(secFile, generated.privateKey);
    const fpr = (await readPrivateKey({ armoredKey: generated.privateKey })).getFingerprint().toUpperCase();
    const crypto = { encryption: true, passphrase: 'data pw', encryptKeys: [], hiddenEncryptKeys: [], keyFiles: [secFile], signKey: fpr, signPassphrase: KEY_PW, gpgBinary: '/nonexistent/gpg' };
    const writer = await openArchiveCipher(crypto, { forWriting: true });
    const reader = await openArchiveCipher({ ...crypto, signPassphrase: undefined }, { forWriting: false });
    if (haveGpg) spawnSync('gpg', ['--batch', '--import'], { env: { ...process.env, GNUPGHOME: gnupg }, input: generated.publicKey });
    for (const size of [0, 70_000]) {
      const plain = randomBytes(i * 10 + size, size);
      const sealed = await collect(Readable.from([plain]).pipe(writer.encryptor()));
      assert.deepEqual(await collect(await reader.decrypt(Readable.from([sealed]), 'vol1')), plain, `${kind.label}, ${size} bytes: ours`);
      if (!haveGpg) continue;
      const r = spawnSync('gpg', ['--batch', '--status-fd', '2', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--decrypt'], {
        env: { ...process.env, GNUPGHOME: gnupg }, input: Buffer.concat([Buffer.from('data pw\n'), sealed]), maxBuffer: 1 << 24,
      });
      assert.equal(r.status, 0, `${kind.label}: ${r.stderr}`);
      assert.deepEqual(r.stdout, plain, `${kind.label}, ${size} bytes: gpg`);
      assert.match(r.stderr.toString(), new RegExp(`^\\[GNUPG:\\] VALIDSIG [0-9A-F]+ .* ${fpr}$`, 'm'), `${kind.label}: gpg's verdict`);
    }
  }
});

test('literal data changed under an intact encryption layer: bad signature, exit 31', async () => {
  const generated = await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'tamper' }], format: 'object' });
  const signer = await MessageSigner.open(generated.privateKey);
  const plain = randomBytes(5, 50_000);
  // OPS + literal + signature, unencrypted, as our writer builds them inside the compression
  const { hashing, wrapping } = signer.stages();
  const sink = new PassThrough();
  const [signed] = await Promise.all([collect(sink), pipeline(Readable.from([plain]), hashing, new PacketFramer(PacketTag.literalData, Buffer.from([0x62, 0, 0, 0, 0, 0])), wrapping, sink)]);
  const check = async (bytes: Buffer) => {
    const sealed = await collect(Readable.from([bytes]).pipe(createPacketEncryptStream({ passphrase: 'pw' }, { compression: 'zip' })));
    const reader = await openArchiveCipher({ encryption: true, passphrase: 'pw', encryptKeys: [], hiddenEncryptKeys: [], signKey: generated.privateKey.getFingerprint(), keyFiles: [join(home, 'tamper.asc')] }, { forWriting: false });
    return collect(await reader.decrypt(Readable.from([sealed]), 'vol1'));
  };
  writeFileSync(join(home, 'tamper.asc'), generated.publicKey.armor());
  assert.deepEqual(await check(signed), plain, 'untouched: verifies');
  const tampered = Buffer.from(signed);
  tampered[30_000] ^= 1;
  await assert.rejects(() => check(tampered), (err: unknown) => {
    assert.ok(err instanceof LifeboatError, String(err));
    assert.equal(err.exitCode, ExitCode.gpgFailed);
    assert.match(err.message, /signature/);
    return true;
  });
});

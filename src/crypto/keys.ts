// Where keys come from: armored or binary key files (a duply profile's gpgkey.*.asc), or the user's
// GnuPG keyring through `gpg --export` / `--export-secret-keys` (no agent needed for public keys; a
// secret key's passphrase goes to gpg on stdin, never in its arguments). Keys are used by openpgp.js.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Key, PrivateKey, PublicKey } from 'openpgp';
import { openpgpModule } from './openpgp-module.js';
import { ExitCode } from '../errors/exit-codes.js';
import { deriveKey, type S2kSpec } from './s2k.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

function gpgError(message: string, hint: string, cause?: unknown): LifeboatError {
  return new LifeboatError(message, { code: 'gpg-key', exitCode: ExitCode.gpgFailed, hint, cause });
}

async function parseKeys(bytes: Buffer, label: string): Promise<Key[]> {
  const text = bytes.toString('latin1');
  try {
    const { readKeys } = await openpgpModule();
    return text.includes('-----BEGIN PGP') ? await readKeys({ armoredKeys: text }) : await readKeys({ binaryKeys: bytes });
  } catch (err) {
    throw gpgError(`${label}: not an OpenPGP key file (${(err as Error).message})`, 'export the key with "gpg --armor --export KEY" (or --export-secret-keys)', err);
  }
}

/** Keys from files such as a duply profile's gpgkey.<ID>.pub.asc and gpgkey.<ID>.sec.asc. */
export async function readKeyFiles(paths: readonly string[]): Promise<Key[]> {
  const keys: Key[] = [];
  for (const path of paths) {
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new LifeboatError(`${path}: cannot read the key file (${err.code ?? err.message})`, { code: 'key-file', exitCode: ExitCode.userError, hint: 'check the path', cause: err });
    });
    keys.push(...(await parseKeys(bytes, path)));
  }
  return keys;
}

/** Runs gpg with the given arguments, optionally feeding stdin; resolves its stdout. */
function runGpg(gpg: string, args: string[], stdin?: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(gpg, ['--batch', '--no-tty', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(gpgError(`cannot run ${gpg} (${(e as NodeJS.ErrnoException).code ?? e.message})`, 'install GnuPG (Debian package gnupg), or give the keys as files', e)));
    child.on('close', (code) => resolve({ code: code ?? 128, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** The public keys for these ids (fingerprints, key ids, user ids) from the GnuPG keyring. */
export async function exportPublicKeys(ids: readonly string[], gpg = 'gpg'): Promise<PublicKey[]> {
  const keys: PublicKey[] = [];
  for (const id of ids) {
    const r = await runGpg(gpg, ['--export', '--', id]);
    if (r.code !== 0 || r.stdout.length === 0) {
      throw gpgError(`public key "${id}" not found in the GnuPG keyring`, 'import it with "gpg --import KEYFILE" (GNUPGHOME selects the keyring), or check the key id');
    }
    keys.push(...(await parseKeys(r.stdout, `gpg --export ${id}`)).map((k) => k.toPublic()));
  }
  return keys;
}

/**
 * Secret keys from the GnuPG keyring (those of `ids`, or all), unlocked with the passphrase. gpg 2.2
 * asks its agent for the passphrase to export a protected key; loopback mode takes it from stdin.
 */
export async function exportSecretKeys(ids: readonly string[], passphrase: string | undefined, gpg = 'gpg', passphraseName = 'PASSPHRASE'): Promise<PrivateKey[]> {
  const args = ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--export-secret-keys', '--', ...ids];
  const r = await runGpg(gpg, args, passphrase ?? '');
  if (r.code !== 0 && r.stdout.length === 0) {
    throw gpgError(`gpg could not export the secret key${ids.length ? ` "${ids.join('", "')}"` : 's'}: ${lastLine(r.stderr)}`, `check ${passphraseName} (the secret key's passphrase) and that the secret key is in the keyring`);
  }
  const keys = r.stdout.length === 0 ? [] : (await parseKeys(r.stdout, 'gpg --export-secret-keys')).filter((k): k is PrivateKey => k.isPrivate());
  return Promise.all(keys.map((k) => unlockKey(k, passphrase, passphraseName)));
}

/** Secret keys from key files, unlocked with the passphrase. */
export async function readSecretKeyFiles(paths: readonly string[], passphrase: string | undefined): Promise<PrivateKey[]> {
  const keys = (await readKeyFiles(paths)).filter((k): k is PrivateKey => k.isPrivate());
  return Promise.all(keys.map((k) => unlockKey(k, passphrase)));
}

export async function unlockKey(key: PrivateKey, passphrase: string | undefined, passphraseName = 'PASSPHRASE'): Promise<PrivateKey> {
  if (key.isDecrypted()) return key;
  const profileName = passphraseName === 'SIGN_PASSPHRASE' ? 'GPG_PW_SIGN, or GPG_PW when the key also encrypts' : 'GPG_PW';
  const hint = `set ${passphraseName} to the secret key's passphrase (in a profile: ${profileName})`;
  if (passphrase === undefined) {
    throw gpgError(`the secret key ${key.getKeyID().toHex().toUpperCase()} is protected by a passphrase`, hint);
  }
  useNodeS2k(key);
  try {
    const { decryptKey } = await openpgpModule();
    return await decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    throw gpgError(`the secret key ${key.getKeyID().toHex().toUpperCase()} does not open with ${passphraseName}`, hint, err);
  }
}

/**
 * The passphrase of a gpg-exported key is hashed tens of MB deep (its S2K count); openpgp.js lays the
 * whole count out in one buffer first (over 100 MB of RSS for a key and its subkey). Node's hash over a
 * repeated block (s2k.ts) gives the same key in constant memory.
 */
function useNodeS2k(key: PrivateKey): void {
  for (const k of key.getKeys()) {
    const s2k = (k.keyPacket as unknown as { s2k?: { type: string; algorithm: number; salt: Uint8Array | null; c: number; produceKey: unknown } }).s2k;
    if (!s2k || !['simple', 'salted', 'iterated'].includes(s2k.type)) continue;
    const spec: S2kSpec = { type: s2k.type as S2kSpec['type'], hash: s2k.algorithm, salt: s2k.salt ?? undefined, countByte: s2k.c };
    s2k.produceKey = async (passphrase: string, bytes: number) => new Uint8Array(deriveKey(spec, passphrase, bytes));
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? 'no output';
}

/** Whether a key is the one an id names: fingerprint, long or short key id (of it or a subkey), or part of a user id. */
export function keyMatches(key: Key, id: string): boolean {
  const want = id.replace(/^0x/i, '').toUpperCase();
  const ids = [key.getFingerprint().toUpperCase(), ...key.getKeyIDs().map((k) => k.toHex().toUpperCase())];
  if (ids.some((k) => k.endsWith(want))) return true;
  return key.getUserIDs().some((u) => u.toLowerCase().includes(id.toLowerCase()));
}

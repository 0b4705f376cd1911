// duply's key handling for a profile (specs/duply.md §7.4, §7.5), without touching the GnuPG keyring:
// the profile's key files (gpgkey, gpgkey.<ID>.asc, gpgkey.<ID>.pub.asc, gpgkey.<ID>.sec.asc) are handed
// to `lifeboat duplicity --key-file` instead of being imported; the signing key is chosen as duply
// chooses it; keys missing from the profile folder are exported into it as duply does.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyMatches, readKeyFiles } from '../crypto/keys.js';
import { ProfileError } from './conf.js';

/** duply's gpg_key_legalize: every character but A-Za-z0-9 becomes "_". */
export function legalKeyId(id: string): string {
  return id.replace(/[^a-zA-Z0-9]/g, '_');
}

/** The file duply exports a key to: gpgkey.<ID>.pub.asc or gpgkey.<ID>.sec.asc. */
export function keyFileName(dir: string, id: string, kind: 'pub' | 'sec'): string {
  return join(dir, `gpgkey.${legalKeyId(id)}.${kind}.asc`);
}

/** The key files of a profile folder duply would import: the legacy gpgkey and every gpgkey.*.asc. */
export function profileKeyFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n === 'gpgkey' || /^gpgkey\..+\.asc$/.test(n)).sort().map((n) => join(dir, n));
}

interface GpgRun { code: number; stdout: Buffer; stderr: string }

function runGpg(args: string[], stdin = ''): Promise<GpgRun> {
  return new Promise((resolve) => {
    const child = spawn('gpg', ['--batch', '--no-tty', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // no gpg at all: no key in a keyring either
    child.on('error', (e) => resolve({ code: 127, stdout: Buffer.alloc(0), stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 128, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

async function inKeyring(id: string, kind: 'pub' | 'sec'): Promise<boolean> {
  const r = await runGpg([kind === 'sec' ? '--list-secret-keys' : '--list-keys', '--', id]);
  return r.code === 0;
}

/** Whether the secret key of `id` is at hand: in one of the profile's key files, or in the GnuPG keyring. */
export async function secretKeyAvailable(id: string, keyFiles: readonly string[]): Promise<boolean> {
  if (keyFiles.length > 0) {
    const keys = await readKeyFiles(keyFiles).catch(() => []);
    if (keys.some((k) => k.isPrivate() && keyMatches(k, id))) return true;
  }
  return inKeyring(id, 'sec');
}

/**
 * duply's choice of the signing key (§7.4): GPG_KEY_SIGN='disabled' signs nothing; unset, the first
 * encryption key signs when its secret key is at hand; set, that key signs, and a backup without its
 * secret key stops before anything runs (duply carries on into a gpg failure).
 */
export async function chooseSignKey(setting: string | undefined, encryptKeys: readonly string[], keyFiles: readonly string[],
  options: { backingUp: boolean; info: (line: string) => void }): Promise<string | undefined> {
  if (setting === 'disabled') {
    options.info('Signing disabled per configuration.');
    return undefined;
  }
  if (setting === undefined || setting === '') {
    const first = encryptKeys[0];
    if (first === undefined) {
      options.info('Signing disabled. No GPG_KEY entries in config.');
      return undefined;
    }
    if (await secretKeyAvailable(first, keyFiles)) {
      options.info(`Autoset found secret key of first GPG_KEY entry '${first}' for signing.`);
      return first;
    }
    options.info(`Signing disabled. First GPG_KEY entry's '${first}' private key is missing.`);
    return undefined;
  }
  if (options.backingUp && !(await secretKeyAvailable(setting, keyFiles))) {
    throw new ProfileError(`Secret signing key defined in setting GPG_KEY_SIGN='${setting}' not found.`,
      `import it (gpg --import), put it in the profile folder as ${keyFileName('', setting, 'sec').slice(1)}, or set GPG_KEY_SIGN='disabled'`);
  }
  return setting;
}

/**
 * duply's export (§7.5): each key's public and secret halves that the profile folder lacks and the
 * keyring has are written there armored (mode 0600; the secret key stays protected by its own
 * passphrase, which gpg asks for to export it). Returns the files written; failures are warnings.
 */
export async function exportKeysToProfile(dir: string, ids: readonly string[], passphrase: string | undefined, warn: (line: string) => void): Promise<string[]> {
  const written: string[] = [];
  for (const id of new Set(ids)) {
    for (const kind of ['pub', 'sec'] as const) {
      const file = keyFileName(dir, id, kind);
      if (existsSync(file) || !(await inKeyring(id, kind))) continue;
      const args = kind === 'pub' ? ['--armor', '--export', '--', id]
        : ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--armor', '--export-secret-keys', '--', id];
      const r = await runGpg(args, passphrase ?? '');
      if (r.code !== 0 || r.stdout.length === 0) {
        warn(`WARNING: Backup ${kind === 'pub' ? 'public' : 'secret'} key '${id}' to profile failed: ${r.stderr.trim().split('\n').at(-1) ?? 'no output'}`);
        continue;
      }
      const temp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(temp, r.stdout, { mode: 0o600, flag: 'wx' });
        renameSync(temp, file);
        written.push(file);
      } catch (err) {
        rmSync(temp, { force: true });
        warn(`WARNING: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }
  return written;
}

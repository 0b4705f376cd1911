// A profile pointed at another place than its TARGET: an offline disk (`copy DEST`, `--from DEST`).
// Everything else stays the profile's (encryption, DUPL_PARAMS, source, excludes); the archive dir
// gets a name of its own per place, so the target's local cache is never brought in step with a disk.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TEMPORARY_MARKER } from '../backend/file/file-backend.js';
import { supportedSchemes } from '../backend/registry.js';
import { redactUrl } from '../backend/url.js';
import { parseDuplicityArgv } from '../cli/duplicity-argv.js';
import { cryptoSettings } from '../cli/commands/duplicity.js';
import { openArchiveCipher, type ArchiveCipher } from '../crypto/archive-cipher.js';
import { ProfileError } from '../profile/conf.js';
import { argvOf, duplicityInvocation } from '../profile/commands.js';
import type { ProfilePaths } from '../profile/locate.js';
import type { ProfileSettings } from '../profile/settings.js';

/** The profile's settings with DEST as the target. */
export function settingsForDestination(settings: ProfileSettings, dest: string): ProfileSettings {
  checkDestination(dest, settings.target.url);
  return {
    ...settings,
    target: { url: dest, scriptVars: { ...settings.target.scriptVars, TARGET_URL: redactUrl(dest) } },
    archiveName: `${settings.archiveName}_copy_${createHash('md5').update(dest).digest('hex').slice(0, 8)}`,
  };
}

/** DEST must be a URL Lifeboat has a backend for, and not the target itself. */
export function checkDestination(dest: string, targetUrl: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(dest)?.[1]?.toLowerCase();
  if (!scheme) throw new ProfileError(`'${redactUrl(dest)}' is not a URL`, 'give the disk as a URL, e.g. file:///media/backup-a/myserver');
  if (!supportedSchemes().includes(scheme)) throw new ProfileError(`'${redactUrl(dest)}' uses the "${scheme}" scheme, which Lifeboat has no backend for`, `use one of: ${supportedSchemes().join(', ')}`);
  const norm = (u: string) => u.replace(/\/+$/, '');
  if (norm(dest) === norm(targetUrl)) throw new ProfileError(`'${redactUrl(dest)}' is the profile's TARGET itself`, 'give the offline disk, e.g. file:///media/backup-a/myserver');
}

export interface ReadContext {
  /** the environment holding credentials (the conf's, plus PASSPHRASE & co.) */
  env: Record<string, string>;
  backendOptions: Map<string, string | true>;
  archiveDir?: string;
  archiveName: string;
}

/** What the profile's duplicity command lines would read a place with: credentials, backend options. */
export function readContext(profile: { settings: ProfileSettings; paths: ProfilePaths; conf: { env: Record<string, string> } }): ReadContext {
  const invocation = duplicityInvocation({ command: 'status', settings: profile.settings, paths: profile.paths, options: [], params: [] });
  const { options } = parseDuplicityArgv(argvOf(invocation));
  return {
    env: { ...profile.conf.env, ...invocation.env },
    backendOptions: options.backendOptions,
    archiveDir: options.archiveDir,
    archiveName: profile.settings.archiveName,
  };
}

/** The cipher that decrypts the profile's archives (passphrase, or the keys in gpgkey.*.asc / the keyring). */
export async function profileCipher(profile: { settings: ProfileSettings; paths: ProfilePaths; conf: { env: Record<string, string> } }): Promise<ArchiveCipher> {
  const invocation = duplicityInvocation({ command: 'status', settings: profile.settings, paths: profile.paths, options: [], params: [] });
  const { options } = parseDuplicityArgv(argvOf(invocation));
  // the profile's own keys (gpgkey.*.asc) reach the invocation as --key-file: a replacement machine gets the profile folder
  return openArchiveCipher(cryptoSettings(options, { ...profile.conf.env, ...invocation.env }, false), { forWriting: false });
}

/**
 * On a file:// disk, the temporary files of puts that a killed copy left (the backend never lists
 * them; each is at most one volume); returns how many were removed. Other backends' leftovers are theirs.
 */
export function removeLeftovers(destUrl: string): number {
  if (!/^file:\/\//i.test(destUrl)) return 0;
  const dir = resolve(decodeURIComponent(destUrl.slice('file://'.length)));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.includes(TEMPORARY_MARKER)) continue;
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

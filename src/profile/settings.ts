// A profile's conf values checked and turned into what the commands need (specs/duply.md §5, §6, §7),
// in duply's order, so the first problem reported is the one duply would report.
import { parseTimeString } from '../duplicity/time.js';
import type { ObjectLockSetting } from '../backend/object-lock.js';
import { accessSync, constants, statSync } from 'node:fs';
import { ProfileError, type EvaluatedConf } from './conf.js';
import type { ProfilePaths } from './locate.js';
import { dumpSettingsOf, type DumpSettings } from '../dbdump/settings.js';
import { profileKeyFiles } from './gpg-keys.js';

export interface TargetCredentials {
  /** the URL duplicity gets: the password moved out of it, the user URL-encoded back in */
  url: string;
  /** FTP_PASSWORD or IMAP_PASSWORD, as duply passes the password to duplicity */
  passwordEnv?: { name: 'FTP_PASSWORD' | 'IMAP_PASSWORD'; value: string };
  /** TARGET_URL_* for pre/post scripts (specs/duply.md §9.2) */
  scriptVars: Record<string, string>;
}

export type Encryption =
  | { mode: 'disabled' }
  | { mode: 'symmetric'; passphrase: string; signKey?: string; signSetting?: string; signPassphrase?: string }
  | { mode: 'keys'; keys: string[]; signKey?: string; signSetting?: string; passphrase?: string; signPassphrase?: string };
// signSetting: GPG_KEY_SIGN as written (undefined when unset); signKey: the key that signs, GPG_KEY_SIGN
// here, and after chooseSignKey (profile/gpg-keys.ts) also duply's automatic choice

export interface ProfileSettings {
  source: string;
  target: TargetCredentials;
  encryption: Encryption;
  verbosity: string;
  tempDir: string;
  archiveDir?: string;
  /** --name: duply_<profile>, or <profile> when ARCH_DIR is set */
  archiveName: string;
  maxAge?: string;
  /** OBJECT_LOCK with MAX_AGE: uploads are locked this long (docs/hardening.md) */
  objectLock?: ObjectLockSetting;
  /**
   * purge, purgeFull, purgeIncr and cleanup run with these credentials when LIFEBOAT_PURGE_USER,
   * LIFEBOAT_PURGE_PASS or LIFEBOAT_PURGE_AWS_* are in the environment: backups need no right to delete
   */
  purge?: { target: TargetCredentials; env: Record<string, string> };
  maxFullBackups?: string;
  maxFullsWithIncrs?: string;
  duplParams: string[];
  /** DUPL_PARAMS as written, for --preview (duply prints it raw) */
  duplParamsText: string;
  duplPrecmd?: string;
  gpgOptions?: string;
  /** database dumps made before each backup; undefined when none is configured */
  dumps?: DumpSettings;
  /** seconds a second run of this profile waits for the first */
  lockWaitSeconds: number;
  /** the profile folder's key files (gpgkey, gpgkey.*.asc), given to duplicity; none with GPG_IMPORT='disabled' */
  keyFiles: string[];
  /** false with GPG_EXPORT='disabled': keys are not exported into the profile folder */
  gpgExport: boolean;
  warnings: string[];
}

const TEMPLATE_SOURCE = '/path/of/source';
const TEMPLATE_TARGET = 'scheme://user[:password]@host[:port]/[/]path';

function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== 'not_set';
}

export function settingsOf(conf: EvaluatedConf, paths: ProfilePaths, options: { disableEncryption: boolean }): ProfileSettings {
  const v = conf.vars;
  const warnings: string[] = [];
  if (!v.SOURCE || v.SOURCE === TEMPLATE_SOURCE) {
    throw new ProfileError(`Source Path (setting SOURCE) not set or still default value in conf file '${paths.conf}'.`, 'set SOURCE to the directory to back up, e.g. SOURCE=/');
  }
  if (!v.TARGET || v.TARGET === TEMPLATE_TARGET) {
    throw new ProfileError(`Backup Target (setting TARGET) not set or still default value in conf file '${paths.conf}'.`, 'set TARGET to a URL, e.g. TARGET=file:///srv/backups/host');
  }
  const targetPass = isSet(v.TARGET_PW) ? v.TARGET_PW : v.TARGET_PASS;
  const target = targetCredentials(v.TARGET, v.TARGET_USER, targetPass);
  const encryption = encryptionOf(conf, paths, options.disableEncryption, warnings);
  const tempDir = v.TEMP_DIR || '/tmp';
  checkTempDir(tempDir);
  const archiveDir = v.ARCH_DIR || undefined;
  let archiveName = `duply_${paths.name}`;
  if (archiveDir && !isDirectory(`${archiveDir}/duply_${paths.name}`)) archiveName = paths.name;
  const lockWait = v.LOCK_WAIT ?? conf.env.LOCK_WAIT;
  const lockWaitSeconds = lockWait === undefined || lockWait === '' ? 600 : Number(lockWait);
  if (!Number.isFinite(lockWaitSeconds) || lockWaitSeconds < 0) {
    throw new ProfileError(`LOCK_WAIT must be a number of seconds, got '${lockWait}'`, 'e.g. LOCK_WAIT=600');
  }
  const objectLock = objectLockOf(v);
  if (objectLock && !/^(s3|s3\+http|boto3\+s3|boto\+s3|b2):\/\//i.test(v.TARGET)) {
    warnings.push(`OBJECT_LOCK='${v.OBJECT_LOCK}' has no effect: only s3 and b2 targets have object lock (see docs/hardening.md for ${v.TARGET.split(':')[0]}).`);
  }
  return {
    source: v.SOURCE, target, encryption, verbosity: v.VERBOSITY || '4', tempDir, archiveDir, archiveName,
    maxAge: v.MAX_AGE || undefined, maxFullBackups: v.MAX_FULL_BACKUPS || undefined,
    maxFullsWithIncrs: v.MAX_FULLS_WITH_INCRS || undefined,
    duplParams: conf.duplParams, duplParamsText: v.DUPL_PARAMS ?? '', duplPrecmd: v.DUPL_PRECMD || undefined, gpgOptions: v.GPG_OPTS || undefined,
    lockWaitSeconds, warnings, dumps: dumpSettingsOf(v, v.SOURCE, conf.env),
    keyFiles: encryption.mode === 'disabled' || v.GPG_IMPORT === 'disabled' ? [] : profileKeyFiles(paths.dir),
    gpgExport: v.GPG_EXPORT !== 'disabled',
    objectLock, purge: purgeCredentials(v.TARGET, v.TARGET_USER, targetPass, conf.env),
  };
}

/** OBJECT_LOCK='governance' or 'compliance' locks each upload for MAX_AGE. */
function objectLockOf(v: Record<string, string | undefined>): ObjectLockSetting | undefined {
  const mode = v.OBJECT_LOCK?.trim().toLowerCase();
  if (!mode || mode === 'off' || mode === 'disabled') return undefined;
  if (mode !== 'governance' && mode !== 'compliance') {
    throw new ProfileError(`OBJECT_LOCK '${v.OBJECT_LOCK}' is not a lock mode`, "use OBJECT_LOCK='governance' or 'compliance' (see docs/hardening.md), or remove it");
  }
  if (!v.MAX_AGE) throw new ProfileError('OBJECT_LOCK is set but MAX_AGE is not: the lock lasts MAX_AGE from each upload', "set MAX_AGE, e.g. MAX_AGE='3M'");
  const now = Math.floor(Date.now() / 1000);
  let seconds: number;
  try {
    seconds = now - parseTimeString(v.MAX_AGE, now);
  } catch {
    throw new ProfileError(`MAX_AGE '${v.MAX_AGE}' is not an age`, "e.g. MAX_AGE='3M' (duplicity's time format)");
  }
  if (!(seconds > 0)) throw new ProfileError(`MAX_AGE '${v.MAX_AGE}' is not an age in the past`, "e.g. MAX_AGE='3M'");
  return { mode, seconds };
}

/** The credentials purge and cleanup use instead of the profile's, from the environment. */
export function purgeCredentials(target: string, targetUser: string | undefined, targetPass: string | undefined, env: Record<string, string>): ProfileSettings['purge'] {
  const user = env.LIFEBOAT_PURGE_USER || undefined;
  const pass = env.LIFEBOAT_PURGE_PASS || undefined;
  const aws: Record<string, string> = {};
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    const value = env[`LIFEBOAT_PURGE_${name}`];
    if (value) aws[name] = value;
  }
  if (user === undefined && pass === undefined && Object.keys(aws).length === 0) return undefined;
  // the purge user (or password) replaces the one in TARGET's URL (no "there can be only one" conflict)
  const stripped = user !== undefined ? target.replace(/^([^/:]+:\/\/)[^@/]*@/, '$1')
    : pass !== undefined ? target.replace(/^([^/:]+:\/\/)([^@/:]*):[^@/]*@/, '$1$2@') : target;
  return { target: targetCredentials(stripped, user ?? targetUser, pass ?? targetPass), env: aws };
}

/** specs/duply.md §6: split TARGET, check TARGET_USER/TARGET_PASS against it, move the password out. */
export function targetCredentials(target: string, targetUser: string | undefined, targetPass: string | undefined): TargetCredentials {
  const scheme = /^([^/:]+:\/\/)/.exec(target)?.[1] ?? '';
  const rest = target.slice(scheme.length);
  const at = rest.indexOf('@');
  const creds = at >= 0 ? rest.slice(0, at) : undefined;
  const hostPath = (at >= 0 ? rest.slice(at + 1) : rest).replace(/['"]/g, '');
  const prot = scheme.replace(/['"]/g, '');
  let urlUser: string | undefined;
  let urlPass: string | undefined;
  if (creds !== undefined) {
    const colon = creds.indexOf(':');
    urlUser = colon < 0 ? creds : creds.slice(0, colon);
    urlPass = colon < 0 ? undefined : safeDecode(creds.slice(colon + 1));
    if (urlUser === '') urlUser = undefined;
    if (urlPass === '') urlPass = undefined;
  }
  if (isSet(targetUser) && urlUser !== undefined && targetUser !== urlUser) {
    throw new ProfileError(`TARGET_USER ('${targetUser}') _and_ user in TARGET url ('${urlUser}') are configured with different values. There can be only one.`, 'remove one of them from the conf');
  }
  if (isSet(targetPass) && urlPass !== undefined && targetPass !== urlPass) {
    throw new ProfileError('TARGET_PASS _and_ password in TARGET url are configured with different values. There can be only one.', 'remove one of them from the conf');
  }
  const user = isSet(targetUser) ? targetUser : urlUser === undefined ? undefined : safeDecode(urlUser);
  const password = isSet(targetPass) && targetPass !== '' ? targetPass : urlPass;
  const schemeName = prot.replace(/:\/\/$/, '').toLowerCase();
  const url = user !== undefined && schemeName !== 'file' && prot !== '' ? `${prot}${pythonQuote(user)}@${hostPath}` : target;
  const scriptVars: Record<string, string> = { TARGET_URL_PROT: prot, TARGET_URL_HOSTPATH: hostPath };
  if (user !== undefined) scriptVars.TARGET_URL_USER = user;
  if (password !== undefined) scriptVars.TARGET_URL_PASS = password;
  return {
    url: password !== undefined && user === undefined && creds !== undefined ? target : url,
    passwordEnv: password === undefined ? undefined : { name: schemeName === 'imap' || schemeName === 'imaps' ? 'IMAP_PASSWORD' : 'FTP_PASSWORD', value: password },
    scriptVars,
  };
}

function encryptionOf(conf: EvaluatedConf, paths: ProfilePaths, disable: boolean, warnings: string[]): Encryption {
  const v = conf.vars;
  if (disable || /^disabled$/i.test(v.GPG_KEY ?? '')) return { mode: 'disabled' };
  if (v.GPG_KEY === '_KEY_ID_') {
    throw new ProfileError(`Encryption Key GPG_KEY still default in conf file '${paths.conf}'.`,
      "set GPG_KEY to your key id, leave it empty and set GPG_PW for a passphrase, or GPG_KEY='disabled'");
  }
  const keys = splitKeys(`${v.GPG_KEY ?? ''},${v.GPG_KEYS_ENC ?? ''}`);
  if (keys.length === 0 && !v.GPG_KEY_SIGN && !isSet(v.GPG_PW)) {
    warnings.push(`GPG_KEY, GPG_KEYS_ENC, GPG_KEY_SIGN and GPG_PW are empty/not set in conf file '${paths.conf}'. Will disable encryption now. Set GPG_KEY='disabled' to silence this warning.`);
    return { mode: 'disabled' };
  }
  const signPassphrase = isSet(v.GPG_PW_SIGN) ? v.GPG_PW_SIGN : undefined;
  const signSetting = isSet(v.GPG_KEY_SIGN) ? v.GPG_KEY_SIGN : undefined;
  const signKey = signSetting && signSetting !== 'disabled' ? signSetting : undefined;
  if (keys.length === 0) {
    if (!v.GPG_PW || v.GPG_PW === '_GPG_PASSWORD_') {
      throw new ProfileError(`Encryption passphrase GPG_PW (needed for symmetric encryption) is empty/not set or still default value in conf file '${paths.conf}'.`, 'set GPG_PW, or GPG_KEY to a key id');
    }
    if (signPassphrase && signPassphrase !== v.GPG_PW) {
      throw new ProfileError('GPG_PW_SIGN differs from GPG_PW: symmetric encryption can use only one passphrase.', 'remove GPG_PW_SIGN or make it equal to GPG_PW');
    }
    return { mode: 'symmetric', passphrase: v.GPG_PW, signKey, signSetting, signPassphrase };
  }
  return { mode: 'keys', keys, signKey, signSetting, passphrase: isSet(v.GPG_PW) ? v.GPG_PW : undefined, signPassphrase };
}

/** Comma-separated key ids; "\," is a literal comma. */
export function splitKeys(list: string): string[] {
  return list.split(/(?<!\\),/).map((k) => k.replace(/\\,/g, ',').trim()).filter((k) => k !== '');
}

function checkTempDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new ProfileError(`Temporary file space '${dir}' is not a directory or writable.`, 'set TEMP_DIR in the conf to a writable directory');
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** python's urllib quote() with its default safe set: letters, digits, "_.-~" and "/". */
export function pythonQuote(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

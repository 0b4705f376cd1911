// duply's commands as duplicity command lines (specs/duply.md §8): the same words duply would run,
// as an argv array (no shell), plus the environment that carries passwords, never the argv.
import { OBJECT_LOCK_ENV, formatObjectLock } from '../backend/object-lock.js';
import { ProfileError } from './conf.js';
import type { ProfilePaths } from './locate.js';
import type { ProfileSettings } from './settings.js';

export const DUPLICITY_COMMANDS = [
  'bkp', 'full', 'incr', 'verify', 'verifypath', 'list', 'status', 'restore', 'fetch', 'purge', 'purgefull', 'purgeincr', 'cleanup',
] as const;
export type DuplicityCommand = (typeof DUPLICITY_COMMANDS)[number];

export interface DuplicityInvocation {
  /** the action words: placed before the global options, as duply does */
  actionWords: string[];
  globalOptions: string[];
  /** Lifeboat's own options duply has no word for (--key-file per profile key file); not in --preview */
  lifeboatOptions: string[];
  /** DUPL_PARAMS words (selection options removed for status, restore and fetch) */
  duplParams: string[];
  tail: string[];
  /** TMPDIR, PASSPHRASE, SIGN_PASSPHRASE, FTP_PASSWORD/IMAP_PASSWORD */
  env: Record<string, string>;
  /** names in `env` whose values must never be printed */
  secretEnv: string[];
}

export function argvOf(invocation: DuplicityInvocation): string[] {
  return [...invocation.actionWords, ...invocation.globalOptions, ...invocation.lifeboatOptions, ...invocation.duplParams, ...invocation.tail];
}

export interface CommandInput {
  command: DuplicityCommand;
  settings: ProfileSettings;
  paths: ProfilePaths;
  /** duplicity options given after the batch (forwarded to every command) */
  options: string[];
  /** duply's positional parameters, shared by every command of a batch */
  params: string[];
}

export function duplicityInvocation({ command, settings, paths, options, params }: CommandInput): DuplicityInvocation {
  const [p0, p1, p2] = params;
  const exclude = ['--exclude-filelist', paths.exclude];
  // purge and cleanup may run with credentials of their own (LIFEBOAT_PURGE_*): the backups' need no delete right
  const purging = ['purge', 'purgefull', 'purgeincr', 'cleanup'].includes(command) && settings.purge !== undefined;
  const target = purging ? settings.purge!.target : settings.target;
  const url = target.url;
  const missing = (what: string) => new ProfileError(`Missing parameter ${what} for ${command}.`, 'see "lifeboat usage"');
  let actionWords: string[] = [];
  let tail: string[];
  switch (command) {
    case 'bkp': tail = [...options, ...exclude, settings.source, url]; break;
    case 'full': actionWords = ['full']; tail = [...options, ...exclude, settings.source, url]; break;
    case 'incr': actionWords = ['incr']; tail = [...options, ...exclude, settings.source, url]; break;
    case 'verify': tail = [...(p0 ? ['-t', p0] : []), ...options, ...exclude, url, settings.source]; actionWords = ['verify']; break;
    case 'verifypath':
      if (!p0) throw missing('<rel_path_in_bkp>');
      if (!p1) throw missing('<local_path>');
      actionWords = ['verify'];
      tail = [...(p2 ? ['-t', p2] : []), ...options, ...exclude, '--file-to-restore', p0, url, p1];
      break;
    case 'list': actionWords = ['list-current-files']; tail = [...(p0 ? ['-t', p0] : []), ...options, url]; break;
    case 'status': actionWords = ['collection-status']; tail = [...options, url]; break;
    case 'restore':
      if (!p0) throw new ProfileError('Missing parameter target_path for restore.', 'e.g. "lifeboat PROFILE restore /tmp/restored [AGE]"');
      tail = ['-t', p1 || 'now', ...options, url, p0];
      break;
    case 'fetch':
      if (!p0) throw missing('<src_path>');
      if (!p1) throw missing('<target_path>');
      tail = ['--restore-time', p2 || 'now', ...options, '--file-to-restore', p0, url, p1];
      break;
    case 'purge': case 'purgefull': case 'purgeincr': {
      const [action, fallback, what] = command === 'purge' ? ['remove-older-than', settings.maxAge, '<max_age>']
        : command === 'purgefull' ? ['remove-all-but-n-full', settings.maxFullBackups, '<max_full_backups>']
          : ['remove-all-inc-of-but-n-full', settings.maxFullsWithIncrs, '<max_fulls_with_incrs>'];
      const value = p0 || fallback;
      if (!value) throw new ProfileError(`Missing parameter ${what}. Can be set in profile or as command line parameter.`, 'set it in the conf (MAX_AGE, MAX_FULL_BACKUPS, MAX_FULLS_WITH_INCRS) or give it after the command');
      actionWords = [action, value];
      tail = [...options, url];
      break;
    }
    case 'cleanup': actionWords = ['cleanup']; tail = [...options, url]; break;
  }
  const filtered = command === 'status' || command === 'restore' || command === 'fetch';
  return {
    actionWords,
    globalOptions: globalOptions(settings),
    lifeboatOptions: settings.encryption.mode === 'disabled' ? [] : (settings.keyFiles ?? []).flatMap((f) => ['--key-file', f]),
    duplParams: filtered ? withoutSelection(settings.duplParams) : settings.duplParams,
    tail,
    ...environment(settings, target, command, purging ? settings.purge!.env : {}),
  };
}

interface GlobalPieces { archive: string[]; enc: string[]; sign: string[]; verbosity: string; gpg: string[] }

function globalPieces(settings: ProfileSettings): GlobalPieces {
  const enc = settings.encryption;
  return {
    archive: settings.archiveDir ? ['--archive-dir', settings.archiveDir, '--name', settings.archiveName] : ['--name', settings.archiveName],
    enc: enc.mode === 'disabled' ? ['--no-encryption'] : enc.mode === 'keys' ? enc.keys.flatMap((k) => ['--encrypt-key', k]) : [],
    sign: enc.mode !== 'disabled' && enc.signKey ? ['--sign-key', enc.signKey] : [],
    verbosity: settings.verbosity,
    gpg: settings.gpgOptions && enc.mode !== 'disabled' ? ['--gpg-options', settings.gpgOptions] : [],
  };
}

function globalOptions(settings: ProfileSettings): string[] {
  const p = globalPieces(settings);
  return [...p.archive, ...p.enc, ...p.sign, '--verbosity', p.verbosity, ...p.gpg];
}

function environment(settings: ProfileSettings, target: ProfileSettings['target'], command: DuplicityCommand, extra: Record<string, string>): Pick<DuplicityInvocation, 'env' | 'secretEnv'> {
  const env: Record<string, string> = { TMPDIR: settings.tempDir, ...extra };
  if (settings.objectLock && ['bkp', 'full', 'incr'].includes(command)) env[OBJECT_LOCK_ENV] = formatObjectLock(settings.objectLock);
  const secretEnv: string[] = [];
  const enc = settings.encryption;
  if (enc.mode !== 'disabled') {
    if (enc.passphrase !== undefined) env.PASSPHRASE = enc.passphrase;
    if (enc.signPassphrase !== undefined) env.SIGN_PASSPHRASE = enc.signPassphrase;
    secretEnv.push('PASSPHRASE', 'SIGN_PASSPHRASE');
  }
  const pw = target.passwordEnv;
  if (pw) {
    env[pw.name] = pw.value;
    secretEnv.push(pw.name);
  }
  secretEnv.push(...Object.keys(extra).filter((n) => n !== 'AWS_ACCESS_KEY_ID'));
  return { env, secretEnv };
}

/**
 * For status, restore and fetch duply drops the selection options from DUPL_PARAMS: --include,
 * --exclude and --include-X/--exclude-X with one word after the dash, with their values
 * (specs/duply.md §8.3); --exclude-if-present and the other two-word ones stay.
 */
export function withoutSelection(words: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const m = /^(--(?:include|exclude)(?:-[A-Za-z]+)?)(=.*)?$/.exec(words[i]);
    if (m) {
      if (m[2] === undefined) i++;
      continue;
    }
    kept.push(words[i]);
  }
  return kept;
}

/** duply's quotewrap: bare when only A-Za-z0-9_.-/, else single-quoted. */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''").replace(/"/g, `'\\"'`)}'`;
}

/**
 * The line duply's --preview prints for a command (specs/duply.md §8.5), with the same layout, so the
 * two can be compared; passwords and passphrases are shown as *** (duply prints them in clear).
 */
export function previewLine(invocation: DuplicityInvocation, settings: ProfileSettings, command: DuplicityCommand): string {
  const shown = (name: string) => (invocation.secretEnv.includes(name) ? "'***'" : quoteWord(invocation.env[name]));
  const encEnv = ['PASSPHRASE', 'SIGN_PASSPHRASE'].filter((n) => n in invocation.env).map((n) => `${n}=${shown(n)}`).join(' ');
  const V = `TMPDIR='${invocation.env.TMPDIR}'  ${encEnv}`;
  const B = ['FTP_PASSWORD', 'IMAP_PASSWORD'].filter((n) => n in invocation.env).map((n) => `${n}=${shown(n)}`).join(' ');
  const P = settings.duplPrecmd ?? '';
  const W = invocation.actionWords.map((w) => ` ${quoteWord(w)}`).join('');
  const g = globalPieces(settings);
  const G = `${g.archive.map(quoteWord).join(' ')} ${g.enc.map(quoteWord).join(' ')} ${g.sign.map(quoteWord).join(' ')} --verbosity '${g.verbosity}'  ${g.gpg.map(quoteWord).join(' ')}`;
  const filtered = command === 'status' || command === 'restore' || command === 'fetch';
  const D = filtered ? invocation.duplParams.map((w) => ` ${quoteWord(w)}`).join('') : settings.duplParamsText;
  const Q = invocation.tail.map((w) => ` ${quoteWord(w)}`).join('');
  // duply's layout "V B  P C W G D  A X Q"; A (--use-agent) and X (--gpg-binary) are never used by Lifeboat
  return `${V} ${B}  ${P} duplicity ${W} ${G} ${D}   ${' '}${Q}`;
}

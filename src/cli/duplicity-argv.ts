// duplicity 0.8's command line (specs/duply.md §15.1, §15.2): an action word matched by unique prefix,
// options anywhere (--opt value, --opt=value, -v5), and the implied backup/restore from argument order.
import { readFileSync } from 'node:fs';
import { LifeboatError, UsageError } from '../errors/lifeboat-error.js';
import { ExitCode } from '../errors/exit-codes.js';
import { isUrl } from '../backend/url.js';
import { parseTimeString } from '../duplicity/time.js';
import { expandFileName, type SelectionRule } from '../selection/selector.js';
import { parseVerbosity } from './verbosity.js';
import { DEFAULT_GZIP_LEVEL } from '../pipeline/parallel-gzip.js';

export const actions = [
  'cleanup', 'collection-status', 'full', 'incremental', 'list-current-files', 'remove-older-than',
  'remove-all-but-n-full', 'remove-all-inc-of-but-n-full', 'restore', 'verify', 'replicate',
] as const;
export type ExplicitAction = (typeof actions)[number];
/** 'backup' is duplicity's implied action: incremental when a chain exists, else full */
export type DuplicityAction = ExplicitAction | 'backup';

export interface DuplicityOptions {
  /** false with --no-encryption */
  encryption: boolean;
  /** --encrypt-key (and --encrypt-sign-key), in order */
  encryptKeys: string[];
  /** --hidden-encrypt-key */
  hiddenEncryptKeys: string[];
  /** --sign-key (or --encrypt-sign-key): backups are signed with it, restores check every volume is signed by it */
  signKey?: string;
  /** --key-file (Lifeboat's, repeatable): OpenPGP key files used before the GnuPG keyring */
  keyFiles: string[];
  /** --gpg-binary: the gpg used to export keys from the keyring */
  gpgBinary?: string;
  /** false with --no-compression */
  compression: boolean;
  /** --compress-level (Lifeboat's own): gzip level of volumes and signature files, @default DEFAULT_GZIP_LEVEL */
  compressLevel: number;
  /** @default 200 */
  volsizeMiB: number;
  archiveDir?: string;
  name?: string;
  allowSourceMismatch: boolean;
  tempdir?: string;
  verbosity?: number;
  progress: boolean;
  dryRun: boolean;
  printStatistics: boolean;
  time?: string;
  fileToRestore?: string;
  force: boolean;
  compareData: boolean;
  fullIfOlderThan?: string;
  numericOwner: boolean;
  restoreOwnership: boolean;
  /** @default 2048 */
  maxBlocksize: number;
  /** the selection options in command-line order (specs/duply.md §15.4) */
  selection: SelectionRule[];
  /** --null-separator: filelists are split on NUL instead of newlines */
  nullSeparator: boolean;
  /** duplicity's backend options by name without dashes ("s3-endpoint-url"); flags map to true */
  backendOptions: Map<string, string | true>;
}

export interface DuplicityCommandLine {
  action: DuplicityAction;
  /** the arguments after the action word (time or count first for remove-*) */
  args: string[];
  options: DuplicityOptions;
}

type Setter = (o: DuplicityOptions, value: string) => void;
interface OptionSpec { takesValue: boolean; set: Setter }

const flag = (set: (o: DuplicityOptions) => void): OptionSpec => ({ takesValue: false, set: (o) => set(o) });
const valued = (set: Setter): OptionSpec => ({ takesValue: true, set });

function positiveInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`option ${name}: bad number "${value}"`, 'give a whole number of at least 1');
  return Number(value);
}

const known: Record<string, OptionSpec> = {
  '--no-encryption': flag((o) => { o.encryption = false; }),
  '--no-compression': flag((o) => { o.compression = false; }),
  '--compress-level': valued((o, v) => {
    if (!/^[0-9]$/.test(v)) throw new UsageError(`option --compress-level: bad level "${v}"`, `give a gzip level from 0 (stored, fastest) to 9 (smallest); the default is ${DEFAULT_GZIP_LEVEL}`);
    o.compressLevel = Number(v);
  }),
  '--encrypt-key': valued((o, v) => { o.encryptKeys.push(v); }),
  '--hidden-encrypt-key': valued((o, v) => { o.hiddenEncryptKeys.push(v); }),
  '--gpg-binary': valued((o, v) => { o.gpgBinary = v; }),
  '--sign-key': valued((o, v) => { o.signKey = v; }),
  '--encrypt-sign-key': valued((o, v) => { o.encryptKeys.push(v); o.signKey = v; }),
  '--key-file': valued((o, v) => { o.keyFiles.push(v); }),
  // encryption runs in-process: there is no gpg-agent to use and no pinentry to avoid
  '--use-agent': flag(() => undefined),
  '--volsize': valued((o, v) => { o.volsizeMiB = positiveInteger('--volsize', v); }),
  '--archive-dir': valued((o, v) => { o.archiveDir = v; }),
  '--name': valued((o, v) => { o.name = v; }),
  '--allow-source-mismatch': flag((o) => { o.allowSourceMismatch = true; }),
  '--tempdir': valued((o, v) => { o.tempdir = v; }),
  '--verbosity': valued((o, v) => { o.verbosity = parseVerbosity(v); }),
  '--progress': flag((o) => { o.progress = true; }),
  '--dry-run': flag((o) => { o.dryRun = true; }),
  '--no-print-statistics': flag((o) => { o.printStatistics = false; }),
  '--time': valued((o, v) => { o.time = v; }),
  '--restore-time': valued((o, v) => { o.time = v; }),
  '--file-to-restore': valued((o, v) => { o.fileToRestore = v; }),
  '--path-to-restore': valued((o, v) => { o.fileToRestore = v; }),
  '--force': flag((o) => { o.force = true; }),
  '--compare-data': flag((o) => { o.compareData = true; }),
  '--full-if-older-than': valued((o, v) => { o.fullIfOlderThan = v; }),
  '--numeric-owner': flag((o) => { o.numericOwner = true; }),
  '--do-not-restore-ownership': flag((o) => { o.restoreOwnership = false; }),
  '--max-blocksize': valued((o, v) => { o.maxBlocksize = positiveInteger('--max-blocksize', v); }),
  '--include': valued((o, v) => { o.selection.push({ kind: 'glob', include: 1, pattern: v }); }),
  '--exclude': valued((o, v) => { o.selection.push({ kind: 'glob', include: 0, pattern: v }); }),
  '--include-regexp': valued((o, v) => { o.selection.push({ kind: 'regexp', include: 1, pattern: v }); }),
  '--exclude-regexp': valued((o, v) => { o.selection.push({ kind: 'regexp', include: 0, pattern: v }); }),
  '--include-filelist': valued((o, v) => { o.selection.push(filelist(1, v)); }),
  '--exclude-filelist': valued((o, v) => { o.selection.push(filelist(0, v)); }),
  // deprecated in 0.8 (all filelists take globs now) but still accepted
  '--include-globbing-filelist': valued((o, v) => { o.selection.push(filelist(1, v)); }),
  '--exclude-globbing-filelist': valued((o, v) => { o.selection.push(filelist(0, v)); }),
  '--exclude-if-present': valued((o, v) => { o.selection.push({ kind: 'exclude-if-present', name: v }); }),
  '--exclude-device-files': flag((o) => { o.selection.push({ kind: 'exclude-device-files' }); }),
  '--exclude-other-filesystems': flag((o) => { o.selection.push({ kind: 'exclude-other-filesystems' }); }),
  '--exclude-older-than': valued((o, v) => {
    o.selection.push({ kind: 'exclude-older-than', time: parseTimeString(v, Math.floor(Date.now() / 1000)) });
  }),
  '--null-separator': flag((o) => { o.nullSeparator = true; }),
  // we always build the next volume while the last one uploads: accepted for scripts, nothing to change
  '--asynchronous-upload': flag(() => undefined),
};
// duplicity 0.8.22's backend options: each backend reads the ones it knows from BackendContext.options
const backendFlags = [
  's3-use-new-style', 's3-european-buckets', 's3-unencrypted-connection', 's3-use-rrs', 's3-use-ia',
  's3-use-onezone-ia', 's3-use-glacier', 's3-use-glacier-ir', 's3-use-deep-archive', 's3-use-server-side-encryption',
  's3-use-server-side-kms-encryption', 's3-use-multiprocessing', 'ssh-askpass', 'ssl-no-check-certificate',
  'use-scp', 'b2-hide-files',
];
const backendValued = [
  's3-endpoint-url', 's3-region-name', 's3-kms-key-id', 's3-kms-grant', 's3-multipart-chunk-size',
  's3-multipart-max-procs', 's3-multipart-max-timeout', 'ssh-options', 'ssl-cacert-file', 'ssl-cacert-path',
  'azure-blob-tier', 'azure-max-single-put-size', 'azure-max-block-size', 'azure-max-connections',
  'webdav-headers', 'num-retries', 'backend-retry-delay', 'timeout', 'scp-command', 'sftp-command',
];
for (const name of backendFlags) known[`--${name}`] = flag((o) => { o.backendOptions.set(name, true); });
for (const name of backendValued) known[`--${name}`] = valued((o, v) => { o.backendOptions.set(name, v); });

const shortOptions: Record<string, string> = { '-v': '--verbosity', '-t': '--time', '-r': '--file-to-restore' };

/** Options that exist in duplicity but whose feature has not landed in Lifeboat yet: a clear error. */
const notYet: [RegExp, string][] = [
  [/^--(gpg-options|encrypt-secret-keyring)$/, 'Lifeboat encrypts in-process, without gpg: see docs/encryption.md'],
  [/^--(rsync-|ftp-|cf-|gs-|swift-|imap-)/, 'Lifeboat has no backend for this option'],
];

/** optparse, which duplicity uses, takes any unique prefix of a long option (`--no-encr`). */
function expandAbbreviation(name: string): string {
  if (!name.startsWith('--') || known[name]) return name;
  const candidates = Object.keys(known).filter((option) => option.startsWith(name));
  if (candidates.length > 1) {
    throw new UsageError(`duplicity: ambiguous option: ${name} (${candidates.join(', ')}?)`, 'write the option in full');
  }
  return candidates[0] ?? name;
}

function defaults(): DuplicityOptions {
  return {
    encryption: true, encryptKeys: [], hiddenEncryptKeys: [], keyFiles: [], compression: true, compressLevel: DEFAULT_GZIP_LEVEL, volsizeMiB: 200, allowSourceMismatch: false, progress: false,
    dryRun: false, printStatistics: true, force: false, compareData: false, numericOwner: false,
    restoreOwnership: true, maxBlocksize: 2048, selection: [], nullSeparator: false,
    backendOptions: new Map(),
  };
}

/** duplicity opens a filelist while it parses the command line: exit 7 when it cannot. */
function filelist(include: 0 | 1, value: string): SelectionRule {
  const name = expandFileName(value);
  let bytes: Buffer;
  try {
    bytes = readFileSync(name);
  } catch (err) {
    throw new LifeboatError(`Error opening file ${name}`, {
      code: 'cannot-open-filelist', exitCode: ExitCode.cannotOpenFilelist, hint: 'check the filelist path', cause: err,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    // duplicity reads filelists as strict UTF-8 and dies with a traceback otherwise (exit 30)
    throw new LifeboatError(`${name}: the filelist is not valid UTF-8`, {
      code: 'bad-filelist', exitCode: ExitCode.unexpected, hint: 'save the filelist as UTF-8', cause: err,
    });
  }
  return { kind: 'filelist', include, name, text };
}

export function parseDuplicityArgv(argv: readonly string[]): DuplicityCommandLine {
  const options = defaults();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positionals.push(arg); continue; }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      [name, inline] = eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
    } else {
      const long = shortOptions[arg.slice(0, 2)];
      if (!long) throw new UsageError(`duplicity: no such option: ${arg}`, 'see "lifeboat duplicity --help"');
      name = long;
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    }
    name = expandAbbreviation(name);
    const spec = known[name];
    if (!spec) {
      const pending = notYet.find(([pattern]) => pattern.test(name));
      if (pending) throw new UsageError(`duplicity: option ${name} is not supported yet`, pending[1]);
      throw new UsageError(`duplicity: no such option: ${name}`, 'see "lifeboat duplicity --help"');
    }
    if (!spec.takesValue) {
      if (inline !== undefined) throw new UsageError(`duplicity: option ${name} does not take a value`, 'see "lifeboat duplicity --help"');
      spec.set(options, '');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`duplicity: option ${name} requires an argument`, 'see "lifeboat duplicity --help"');
    spec.set(options, value);
  }
  return { ...classify(positionals), options };
}

function classify(positionals: string[]): { action: DuplicityAction; args: string[] } {
  const [first, ...rest] = positionals;
  if (first !== undefined) {
    const matches = actions.filter((a) => a.startsWith(first));
    const exact = actions.find((a) => a === first);
    if (exact || matches.length === 1) {
      const action = exact ?? matches[0];
      checkArity(action, rest);
      return { action, args: rest };
    }
    if (matches.length > 1) {
      throw new UsageError(`duplicity: action "${first}" is ambiguous (${matches.join(', ')})`, 'write the action word in full');
    }
  }
  if (positionals.length !== 2) {
    throw new UsageError(`duplicity: expected an action, or a source and a target, got ${positionals.length} argument(s)`,
      'e.g. "lifeboat duplicity full /srv file:///backups/srv" or see "lifeboat duplicity --help"');
  }
  const [a, b] = positionals;
  if (!isUrl(a) && isUrl(b)) return { action: 'backup', args: positionals };
  if (isUrl(a) && !isUrl(b)) return { action: 'restore', args: positionals };
  throw new UsageError('duplicity: one of the two arguments must be a URL and the other a local path',
    'back up with "SOURCE_DIR file:///TARGET", restore with "file:///TARGET DEST_DIR"');
}

const arity: Record<ExplicitAction, [number, string]> = {
  full: [2, 'SOURCE_DIR TARGET_URL'],
  incremental: [2, 'SOURCE_DIR TARGET_URL'],
  restore: [2, 'SOURCE_URL TARGET_DIR'],
  verify: [2, 'SOURCE_URL LOCAL_DIR'],
  'collection-status': [1, 'TARGET_URL'],
  'list-current-files': [1, 'TARGET_URL'],
  cleanup: [1, 'TARGET_URL'],
  'remove-older-than': [2, 'TIME TARGET_URL'],
  'remove-all-but-n-full': [2, 'COUNT TARGET_URL'],
  'remove-all-inc-of-but-n-full': [2, 'COUNT TARGET_URL'],
  replicate: [2, 'SOURCE_URL TARGET_URL'],
};

function checkArity(action: ExplicitAction, args: string[]): void {
  const [count, shape] = arity[action];
  if (args.length !== count) {
    throw new UsageError(`duplicity ${action}: expected ${shape}, got ${args.length} argument(s)`, `usage: lifeboat duplicity ${action} [OPTIONS] ${shape}`);
  }
}

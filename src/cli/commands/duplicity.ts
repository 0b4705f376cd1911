// `lifeboat duplicity ...`: duplicity 0.8's command line over the engine, with its output and exit
// codes, so scripts written for duplicity keep working.
import { tmpdir } from 'node:os';
import { backupToTarget } from '../../pipeline/backup-to-target.js';
import { openTarget, type OpenTargetOptions, type Target } from '../../pipeline/target.js';
import { openArchiveCipher, type CryptoSettings } from '../../crypto/archive-cipher.js';
import { archiveDirPath } from '../../cache/archive-dir.js';
import { lockArchiveDir } from '../../cache/lock.js';
import { isUrl } from '../../backend/url.js';
import type { RetentionCommand } from '../../retention/plan.js';
import { renderCollectionStatus } from '../../duplicity/collection-status.js';
import { parseTimeString } from '../../duplicity/time.js';
import { ExitCode } from '../../errors/exit-codes.js';
import { LifeboatError, UsageError } from '../../errors/lifeboat-error.js';
import { parseDuplicityArgv, type DuplicityOptions } from '../duplicity-argv.js';
import type { CommandContext } from '../context.js';
import type { BackupStatistics } from '../../pipeline/statistics.js';
import { formatBytes } from '../../pipeline/statistics.js';
import { createOutput, type Output } from '../output.js';

export const duplicityHelp = `Usage: lifeboat duplicity [full|incremental] [OPTIONS] SOURCE_DIR TARGET_URL
       lifeboat duplicity [restore] [OPTIONS] SOURCE_URL TARGET_DIR
       lifeboat duplicity verify [--compare-data] [OPTIONS] SOURCE_URL LOCAL_DIR
       lifeboat duplicity collection-status [OPTIONS] TARGET_URL
       lifeboat duplicity list-current-files [--time TIME] [OPTIONS] TARGET_URL
       lifeboat duplicity remove-older-than TIME [--force] [OPTIONS] TARGET_URL
       lifeboat duplicity remove-all-but-n-full COUNT [--force] [OPTIONS] TARGET_URL
       lifeboat duplicity remove-all-inc-of-but-n-full COUNT [--force] [OPTIONS] TARGET_URL
       lifeboat duplicity cleanup [--force] [OPTIONS] TARGET_URL

duplicity 0.8's command line: archives written here restore with duplicity, and the other way round.
Without an action word, SOURCE_DIR TARGET_URL backs up (incremental when a chain exists) and
SOURCE_URL TARGET_DIR restores. Targets: file://, s3:// boto3+s3:// s3+http://, b2://, sftp:// scp://,
webdav:// webdavs://, azure://, rclone:// (docs/backends.md). Archives are encrypted as duplicity's
(OpenPGP, readable by gpg): with the passphrase in PASSPHRASE, or to public keys with --encrypt-key.
A restore is on disk when it ends: written beside TARGET_DIR, flushed (sync -f), renamed into place
(with --force over existing files, or into an empty mount point: written in place, then flushed,
with the file systems mounted below TARGET_DIR that it wrote to). Without a sync program it warns
and leaves that to the kernel.

Options:
  --no-encryption            write and read unencrypted archives
  --encrypt-key KEYID        encrypt to this public key (repeatable); keys come from the GnuPG keyring
                             (gpg --export); restoring needs the secret key (PASSPHRASE: its passphrase)
  --hidden-encrypt-key KEYID as --encrypt-key, without the key id in the files
  --sign-key KEYID           backups: sign every file with this secret key (its passphrase in
                             SIGN_PASSPHRASE; PASSPHRASE when it is also an --encrypt-key or the
                             archive is symmetric); restore/verify/list: every file must be signed
                             by this key (exit 22 if not)
  --encrypt-sign-key KEYID   --encrypt-key and --sign-key in one
  --key-file FILE            Lifeboat's: an OpenPGP key file (armored or binary, public or secret,
                             e.g. a duply profile's gpgkey.KEYID.sec.asc), used before the keyring;
                             repeatable
  --gpg-binary PATH          the gpg used to export keys (default gpg)
  --no-compression           do not gzip volumes and signature files
  --compress-level N         gzip level 0-9 (default 5; duplicity's 6 is ~0.2 % smaller and ~10 %
                             slower; 1 is about twice as fast on text and a few % larger;
                             near-random data is stored at any level)
  --volsize MB               volume size (default 200)
  --full-if-older-than TIME  start a new chain when the last full backup is older than TIME
  -t, --time TIME            restore, verify or list the state at TIME (default: now)
  -r, --file-to-restore PATH only this file or directory (also --path-to-restore)
  --force                    restore into an existing directory, overwriting what is there;
                             remove-*/cleanup: actually delete (without it they only list)
  --compare-data             verify: also compare file contents
  --archive-dir DIR          where manifests and signatures are cached (default ~/.cache/duplicity)
  --name NAME                the cache's name under the archive dir (default: MD5 of the URL)
  --allow-source-mismatch    continue a chain made from another host or source path
  --tempdir DIR              where volumes are built before upload; a restore keeps there
                             what a patched file's deltas read out of order, and deltas over 8 MiB
  --dry-run                  do everything but write to the target or restore directory
  --no-print-statistics      no statistics block after a backup
  --progress                 a progress line on stderr during a backup (only on a terminal)
  --numeric-owner            restore owners by numeric id only
  --do-not-restore-ownership restore without setting owners
  -v, --verbosity LEVEL      0-9, e/w/n/i/d or error|warning|notice|info|debug
  --num-retries N            attempts per backend operation on temporary errors (default 5)
  --backend-retry-delay S    the longest wait between attempts, seconds (default 30)
  --s3-endpoint-url URL, --s3-region-name R, --s3-use-ia, ... ; --ssh-options "-oIdentityFile=..."
  --ssl-cacert-file F, --ssl-no-check-certificate; --azure-blob-tier T; --b2-hide-files
                             backend options as duplicity 0.8 takes them (docs/backends.md)
  LIFEBOAT_OBJECT_LOCK=governance|compliance:SECONDS (environment): every upload to s3 or b2 is
                             locked that long (S3 Object Lock, B2 file lock; docs/hardening.md)

File selection (backup and verify; ignored on restore), as duplicity 0.8: rules are tried in order and
the first that matches decides; nothing matched: included. Globs match the absolute path and must be
able to match the source directory itself (start with it, or with **).
  --include GLOB, --exclude GLOB   * ? [...] within a name, ** across /, ignorecase: prefix; a
                             match covers everything below; an include also keeps the parent
                             directories; a trailing / matches directories only
  --include-filelist FILE, --exclude-filelist FILE
                             one glob per line, "+ " include, "- " exclude, # comments
  --null-separator           filelist entries are separated by NUL instead of newlines
  --include-regexp RE, --exclude-regexp RE
                             Python regular expression searched in the path
  --exclude-if-present NAME  leave out directories that contain NAME (tried first)
  --exclude-device-files     leave out character and block devices (tried first)
  --exclude-other-filesystems  leave out what is on another file system than the source
  --exclude-older-than TIME  leave out regular files modified before TIME
  The last rule must exclude something (e.g. --exclude '**'), else exit 16.

remove-older-than keeps every set a newer set depends on and the active chain;
remove-all-but-n-full keeps the COUNT newest chains; remove-all-inc-of-but-n-full deletes the
incrementals of chains older than the COUNT-th newest full; cleanup deletes what failed or interrupted
runs left (orphaned or incomplete sets, orphaned signatures, .part files).

TIME: now, epoch seconds, 2026-11-26T06:04:25Z, 2026/11/26, 11/26/2026, or an age such as 3D, 2W, 1M.
`;

export async function runDuplicity(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    if (args.length === 0) throw new UsageError('duplicity: no action given', 'see "lifeboat duplicity --help"');
    ctx.out.result(duplicityHelp);
    return ExitCode.ok;
  }
  const { action, args: positionals, options } = parseDuplicityArgv(args);
  const out = options.verbosity === undefined ? ctx.out : createOutput(options.verbosity, sinkOf(ctx.out, 'notice'), sinkOf(ctx.out, 'error'));
  const controller = new AbortController();
  const onSigint = () => controller.abort(new LifeboatError('Interrupted', { code: 'interrupted', exitCode: ExitCode.interrupted }));
  process.once('SIGINT', onSigint);
  try {
    // one run per archive dir at a time, for every action, as duplicity locks its archive dir
    const url = targetUrlOf(action, positionals);
    const release = url && isUrl(url)
      ? await lockArchiveDir(archiveDirPath(url, { archiveDir: options.archiveDir, name: options.name }))
      : undefined;
    try {
      return await dispatch(action, positionals, options, out, controller.signal, ctx);
    } finally {
      await release?.();
    }
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Re-targets an Output at a new verbosity: the new one writes through the old one's channels. */
function sinkOf(out: Output, channel: 'notice' | 'error') {
  return { write: (text: string) => (channel === 'error' ? out.error(text.replace(/\n$/, '')) : out.result(text)) };
}

/** --progress: one line on stderr rewritten once a second, and only when stderr is a terminal. */
function progressLine(ctx: CommandContext): ((s: BackupStatistics) => void) | undefined {
  if (!ctx.stderrIsTty) return undefined;
  let last = 0;
  const started = Date.now();
  return (s) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    const rate = s.sourceFileSize / Math.max((now - started) / 1000, 0.001);
    ctx.writeStderr(`\r${s.sourceFiles} files, ${formatBytes(s.sourceFileSize)} read (${formatBytes(rate)}/s), ${s.newFiles} new, ${s.changedFiles} changed `);
  };
}

function progressDone(ctx: CommandContext, progress: boolean): void {
  if (progress && ctx.stderrIsTty) ctx.writeStderr('\n');
}

/** The target URL among an action's arguments (the archive dir belongs to it). */
function targetUrlOf(action: string, args: string[]): string | undefined {
  switch (action) {
    case 'full': case 'incremental': case 'backup': return args[1];
    case 'restore': case 'verify': return args[0];
    default: return args.at(-1);
  }
}

function parseTime(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseTimeString(text, Math.floor(Date.now() / 1000));
}

/**
 * duplicity's encryption settings: the options, PASSPHRASE and SIGN_PASSPHRASE from the environment
 * (duply sets them from GPG_PW and GPG_PW_SIGN). As duplicity 0.8 does, a signing key that is also an
 * encryption key shares the passphrases: PASSPHRASE serves as SIGN_PASSPHRASE on a backup, and
 * SIGN_PASSPHRASE as PASSPHRASE when reading. Where duplicity would prompt for the signing key's
 * passphrase, a symmetric backup uses PASSPHRASE (gpg gets one passphrase for both there).
 */
export function cryptoSettings(options: DuplicityOptions, env: NodeJS.ProcessEnv, backingUp: boolean, notice: (line: string) => void = () => undefined): CryptoSettings {
  const signKey = options.signKey;
  const keyed = options.encryptKeys.length + options.hiddenEncryptKeys.length > 0;
  const signKeyEncrypts = signKey !== undefined && (options.encryptKeys.includes(signKey) || options.hiddenEncryptKeys.includes(signKey));
  let passphrase = env.PASSPHRASE;
  let signPassphrase: string | undefined;
  if (options.encryption && signKey !== undefined && backingUp) {
    signPassphrase = env.SIGN_PASSPHRASE;
    if (signPassphrase === undefined && passphrase !== undefined && (signKeyEncrypts || !keyed)) {
      if (signKeyEncrypts) notice('Reuse configured PASSPHRASE as SIGN_PASSPHRASE');
      signPassphrase = passphrase;
    }
    // an empty SIGN_PASSPHRASE (an unprotected signing key): duplicity hands gpg PASSPHRASE then
    if (signPassphrase === '' && passphrase !== undefined) signPassphrase = passphrase;
    if (!keyed && signPassphrase && passphrase !== undefined && signPassphrase !== passphrase) {
      throw new LifeboatError('When using symmetric encryption, the signing passphrase must equal the encryption passphrase.', {
        code: 'sign-passphrase', exitCode: ExitCode.userError,
        hint: 'gpg takes one passphrase for both: set SIGN_PASSPHRASE to PASSPHRASE (or leave it unset), or encrypt to a key with --encrypt-key',
      });
    }
  } else if (options.encryption && passphrase === undefined && signKeyEncrypts && env.SIGN_PASSPHRASE !== undefined) {
    notice('Reuse configured SIGN_PASSPHRASE as PASSPHRASE');
    passphrase = env.SIGN_PASSPHRASE;
  }
  return {
    encryption: options.encryption, passphrase, encryptKeys: options.encryptKeys,
    hiddenEncryptKeys: options.hiddenEncryptKeys, gpgBinary: options.gpgBinary, signKey, signPassphrase,
    keyFiles: options.keyFiles,
  };
}

async function dispatch(action: string, positionals: string[], options: DuplicityOptions, out: Output, signal: AbortSignal, ctx: CommandContext): Promise<number> {
  // every backend opened is closed at the end: an open SSH or HTTP connection would keep the process alive
  const opened: Target[] = [];
  const open = async (url: string, o: OpenTargetOptions) => {
    const target = await openTarget(url, o);
    opened.push(target);
    return target;
  };
  try {
    return await runAction(action, positionals, options, out, signal, ctx, open);
  } finally {
    for (const target of opened) await target.backend.close().catch(() => undefined);
  }
}

async function runAction(action: string, positionals: string[], options: DuplicityOptions, out: Output, signal: AbortSignal, ctx: CommandContext,
  open: (url: string, o: OpenTargetOptions) => Promise<Target>): Promise<number> {
  const tempdir = options.tempdir ?? process.env.TMPDIR ?? tmpdir();
  const time = parseTime(options.time);
  const backend = { env: process.env, options: options.backendOptions };
  const backingUp = action === 'full' || action === 'incremental' || action === 'backup';
  const cipher = await openArchiveCipher(cryptoSettings(options, process.env, backingUp, out.notice), { forWriting: backingUp });
  const targetOptions = { archiveDir: options.archiveDir, name: options.name, time, notice: out.notice, backend, cipher, tempdir };
  switch (action) {
    case 'full': case 'incremental': case 'backup': {
      const [source, url] = positionals;
      const target = await open(url, { ...targetOptions, sync: true });
      const result = await backupToTarget({
        source, target, mode: action === 'backup' ? 'auto' : action, fullIfOlderThan: parseTime(options.fullIfOlderThan),
        compress: options.compression, compressLevel: options.compressLevel, cipher, volumeSizeBytes: options.volsizeMiB * 1024 * 1024, tempdir,
        maxBlockSize: options.maxBlocksize, allowSourceMismatch: options.allowSourceMismatch, dryRun: options.dryRun,
        signal, notice: out.notice, warning: out.warning, info: out.info,
        onProgress: options.progress ? progressLine(ctx) : undefined,
        selection: options.selection, nullSeparator: options.nullSeparator,
      });
      progressDone(ctx, options.progress);
      if (options.printStatistics) out.notice(result.statistics.format());
      return ExitCode.ok;
    }
    // each action's modules are loaded when it runs: a nightly no-change backup loaded the restore's,
    // the verify's and the retention's too (about 15 ms of its 0.8 s here)
    case 'restore': {
      const [url, destination] = positionals;
      const { checkRestoreDestination, restoreFromTarget } = await import('../../pipeline/restore-from-target.js');
      await checkRestoreDestination(destination, options.force);
      if (options.selection.length > 0) {
        out.warning('Command line warning: Selection options --exclude/--include\ncurrently work only when backing up,not restoring.');
      }
      const target = await open(url, { ...targetOptions, sync: true });
      await restoreFromTarget({
        target, destination, time, fileToRestore: options.fileToRestore, force: options.force,
        restoreOwnership: options.restoreOwnership, numericOwner: options.numericOwner, tempdir,
        dryRun: options.dryRun, durable: true, signal, notice: out.notice, warning: out.warning, info: out.info,
      });
      return ExitCode.ok;
    }
    case 'verify': {
      const [url, local] = positionals;
      const { checkVerifyDirectory, verifyTarget } = await import('../../pipeline/verify.js');
      await checkVerifyDirectory(local);
      const target = await open(url, { ...targetOptions, sync: true });
      const differences = await verifyTarget({
        target, local, time, fileToRestore: options.fileToRestore, compareData: options.compareData,
        numericOwner: options.numericOwner, tempdir, signal, notice: out.notice, warning: out.warning,
        selection: options.selection, nullSeparator: options.nullSeparator,
      });
      return differences > 0 ? ExitCode.differences : ExitCode.ok;
    }
    case 'collection-status': {
      const [url] = positionals;
      const target = await open(url, { ...targetOptions, sync: false });
      out.result(renderCollectionStatus(target.collection, { archiveDir: target.cacheDir }));
      return ExitCode.ok;
    }
    case 'list-current-files': {
      const [url] = positionals;
      const target = await open(url, { ...targetOptions, sync: true });
      const { listCurrentFiles } = await import('../../pipeline/list-current-files.js');
      await listCurrentFiles({ target, time, write: (line) => out.result(line) , notice: out.notice });
      return ExitCode.ok;
    }
    case 'remove-older-than': case 'remove-all-but-n-full': case 'remove-all-inc-of-but-n-full': case 'cleanup': {
      const url = positionals.at(-1)!;
      const [{ runRetention }, { parseCount }] = await Promise.all([import('../../pipeline/retention.js'), import('../../retention/policy.js')]);
      const command: RetentionCommand = action === 'cleanup' ? { kind: 'cleanup' }
        : action === 'remove-older-than' ? { kind: action, time: parseTime(positionals[0])! }
          : { kind: action, count: parseCount(positionals[0]) };
      // duplicity syncs the archive dir before cleanup, not before the remove actions
      const target = await open(url, { ...targetOptions, sync: action === 'cleanup' });
      await runRetention({ target, command, remoteNames: target.remoteNames, force: options.force, dryRun: options.dryRun, signal, notice: out.notice, warning: out.warning });
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`duplicity: the "${action}" action is not available in Lifeboat yet`,
        'it comes with the retention issue; use duplicity itself for it meanwhile');
  }
}

// A whole backup command against a target: full or incremental decided as duplicity decides, the
// chain checks before an incremental, then data volumes, signature file and manifest, in that order,
// and the archive dir updated with the new set's metadata.
import { copyFile, mkdir, stat, unlink } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join, normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { chainSets, lastFullBackupTime, type BackupChain } from '../duplicity/collection.js';
import { formatArchiveName } from '../duplicity/file-names.js';
import { formatManifestHead, parseManifest } from '../duplicity/manifest.js';
import { formatHumanTime } from '../duplicity/time.js';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { writeFileAtomically } from '../fsmeta/atomic-write.js';
import { runBackup } from './backup.js';
import { buildSelector, type SelectionRule } from '../selection/selector.js';
import { formatPath } from '../fsmeta/entry.js';
import { readManifestHead } from './manifest-reader.js';
import { cacheNameFor } from '../cache/archive-dir.js';
import { readPreviousState } from './signature-chain.js';
import { StateIndexWriter, stateIndexKey } from './state-index.js';
import { SpoolFile, type SpoolResult } from './spool.js';
import type { Readable } from 'node:stream';
import type { BackupStatistics } from './statistics.js';
import type { Target } from './target.js';
import type { ArchiveCipher } from '../crypto/archive-cipher.js';

export interface BackupToTargetOptions {
  /** the source directory as the user typed it */
  source: string;
  target: Target;
  mode: 'full' | 'incremental' | 'auto';
  /** epoch seconds: a full backup is made when the last full is older */
  fullIfOlderThan?: number;
  compress: boolean;
  /** gzip level of volumes and signature files (default 6, duplicity's) */
  compressLevel?: number;
  /** encrypts the volumes, signature file and manifest when `encrypting` (`.gpg` names, as duplicity's) */
  cipher?: ArchiveCipher;
  volumeSizeBytes: number;
  tempdir: string;
  maxBlockSize: number;
  allowSourceMismatch: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
  notice(line: string): void;
  warning(line: string): void;
  info(line: string): void;
  onProgress?(statistics: BackupStatistics): void;
  /** duplicity's selection options in command-line order; none: everything under the source */
  selection?: SelectionRule[];
  /** --null-separator for filelists */
  nullSeparator?: boolean;
  /** the wall clock in milliseconds (default Date.now); tests simulate years of backups with it */
  clock?: () => number;
}

export interface BackupToTargetResult {
  type: 'full' | 'incremental';
  time: number;
  statistics: BackupStatistics;
}

/** duplicity's Localdir: the path as typed, with `.` components and trailing slashes removed. */
export function canonicalSource(source: string): string {
  const n = normalize(source);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export async function backupToTarget(options: BackupToTargetOptions): Promise<BackupToTargetResult> {
  const { target } = options;
  const source = canonicalSource(options.source);
  const sourceStats = await stat(source).catch(() => null);
  if (!sourceStats?.isDirectory()) {
    throw new LifeboatError(`Backup source directory ${source} does not exist or is not a directory`, {
      code: 'source-missing', exitCode: ExitCode.sourceDirMissing, hint: 'check the source path',
    });
  }
  // duplicity parses the selection right after checking the source (exit 14, 15, 16 before any work)
  const selection = options.selection && options.selection.length > 0
    ? buildSelector(options.selection, options.source, {
      nullSeparator: options.nullSeparator,
      onWarning: (message, path) => options.warning(`${message} ${formatPath(path)}`),
    })
    : undefined;
  const lastFull = lastFullBackupTime(target.collection);
  options.notice(`Last full backup date: ${lastFull === null ? 'none' : formatHumanTime(lastFull)}`);
  const primary = target.collection.primary;
  let type: 'full' | 'incremental' = options.mode === 'full' || !primary ? 'full' : 'incremental';
  if (options.mode === 'incremental' && !primary) {
    throw new LifeboatError('Fatal Error: Unable to start incremental backup.  Old signatures not found and incremental specified', {
      code: 'no-chain', exitCode: ExitCode.noSignatureChain, hint: 'run a full backup first',
    });
  }
  if (type === 'incremental' && options.fullIfOlderThan !== undefined && lastFull !== null && lastFull < options.fullIfOlderThan) {
    options.notice('Last full backup is too old, forcing full backup');
    type = 'full';
  }
  const hostname = osHostname();
  let previousEnd = 0;
  if (type === 'incremental') {
    previousEnd = primary!.backupChain.endTime;
    if (!options.allowSourceMismatch) await checkChainSource(target, primary!.backupChain, hostname, source);
  }
  const clock = options.clock ?? Date.now;
  const cipher = options.cipher?.encrypting ? options.cipher : undefined;
  const suffix = { compressed: options.compress, encrypted: cipher !== undefined };
  const namesAt = (now: number) => (type === 'full'
    ? {
      volume: (n: number) => formatArchiveName({ kind: 'full-volume', time: now, volumeNumber: n }, suffix),
      signatures: formatArchiveName({ kind: 'full-signature', time: now }, suffix),
      manifest: formatArchiveName({ kind: 'full-manifest', time: now }, suffix),
    }
    : {
      volume: (n: number) => formatArchiveName({ kind: 'inc-volume', startTime: previousEnd, endTime: now, volumeNumber: n }, suffix),
      signatures: formatArchiveName({ kind: 'new-signature', startTime: previousEnd, endTime: now }, suffix),
      manifest: formatArchiveName({ kind: 'inc-manifest', startTime: previousEnd, endTime: now }, suffix),
    });
  let now = Math.floor(clock() / 1000);
  // times in a chain strictly increase, in whole seconds (§1.2); and a backup never puts a name the
  // target holds already (a failed run in the same second): it never replaces a stored file, so it
  // needs no right to delete or overwrite (docs/hardening.md)
  while (now <= previousEnd || namesTaken(namesAt(now), target.remoteNames)) {
    await sleep(Math.max(1, 1000 * (Math.max(previousEnd, now) - now + 1) - (clock() % 1000)));
    now = Math.max(Math.floor(clock() / 1000), now + (now > previousEnd ? 1 : 0));
  }
  const names = namesAt(now);
  const previous = type === 'incremental' ? await readPreviousState(target, primary!.signatureChain) : undefined;
  await mkdir(options.tempdir, { recursive: true });
  // the state index for the chain this backup leaves: only when the next run can check it against the
  // archive dir's copies of every signature file of that chain
  const stateIndex = options.dryRun || (previous && !previous.key) ? undefined : new StateIndexWriter(options.tempdir, previous?.key?.signatures.length ?? 0);
  const result = await runBackup({
    source, backend: target.backend, names, previous: previous?.state, stateIndex, racyWindow: type === 'incremental' ? { from: previousEnd, to: now } : undefined, compress: options.compress, compressLevel: options.compressLevel,
    encryptor: cipher ? () => cipher.encryptor() : undefined,
    volumeSizeBytes: options.volumeSizeBytes, tempdir: options.tempdir, maxBlockSize: options.maxBlockSize,
    dryRun: options.dryRun, signal: options.signal, onWarning: options.warning, onInfo: options.info,
    onProgress: options.onProgress, selection,
  }).catch(async (err: unknown) => {
    await stateIndex?.discard();
    throw err;
  });
  const manifestSpool = new SpoolFile(options.tempdir, { compress: false });
  // encrypted: the archive dir keeps the plain manifest and the gzipped sigtar, the target the .gpg files
  let remoteManifest: SpoolResult | undefined;
  let remoteSignatures: SpoolResult | undefined;
  try {
    await manifestSpool.write(formatManifestHead({
      hostname: Buffer.from(hostname), localDir: Buffer.from(source),
      volumes: result.volumes.map((v) => ({
        volumeNumber: v.number, startIndex: v.start.index, startBlock: v.start.block ?? null,
        endIndex: v.end.index, endBlock: v.end.block ?? null, hashes: new Map([['SHA1', v.sha1]]),
      })),
    }, result.filelist.count));
    for await (const chunk of result.filelist.open()) await manifestSpool.write(chunk as Buffer);
    const manifest = await manifestSpool.finish();
    if (cipher) {
      remoteManifest = await encryptSpooled(SpoolFile.open(manifest.path), cipher, options.tempdir);
      remoteSignatures = await encryptSpooled(SpoolFile.open(result.signatures.path).pipe(createGunzip()), cipher, options.tempdir);
    }
    const storedManifest = remoteManifest ?? manifest;
    const storedSignatures = remoteSignatures ?? result.signatures;
    if (!options.dryRun) {
      options.signal?.throwIfAborted();
      await target.backend.put(names.signatures, { size: storedSignatures.size, localPath: storedSignatures.path, open: () => SpoolFile.open(storedSignatures.path) }, { signal: options.signal });
      // the manifest goes last: its presence is what makes the set complete (§1.7)
      await target.backend.put(names.manifest, { size: storedManifest.size, localPath: storedManifest.path, open: () => SpoolFile.open(storedManifest.path) }, { signal: options.signal });
      await mkdir(target.cacheDir, { recursive: true, mode: 0o700 });
      await copyFile(manifest.path, join(target.cacheDir, cacheNameFor(names.manifest)));
      const sigCache = join(target.cacheDir, cacheNameFor(names.signatures));
      if (options.compress || cipher) await copyFile(result.signatures.path, sigCache);
      else await writeFileAtomically(sigCache, createReadStream(result.signatures.path).pipe(createGzip({ level: 6 })), { force: true, mode: 0o600 });
      if (stateIndex) {
        const chainNames = [...(previous?.key?.signatures.map((s) => s.name) ?? []), cacheNameFor(names.signatures)];
        const key = await stateIndexKey(target.cacheDir, chainNames);
        // only a speed-up: without it the next backup reads the signature files
        if (key) await stateIndex.install(target.cacheDir, key).catch((err: Error) => options.info(`State index not written: ${err.message}`));
      }
    }
    await removeQuietly(manifest.path);
  } finally {
    await stateIndex?.discard();
    await manifestSpool.discard();
    await removeQuietly(result.signatures.path);
    if (remoteManifest) await removeQuietly(remoteManifest.path);
    if (remoteSignatures) await removeQuietly(remoteSignatures.path);
    await result.filelist.discard();
  }
  return { type, time: now, statistics: result.statistics };
}

/** Whether any file of the set these names make (volumes, signatures, manifest) is on the target already. */
export function namesTaken(names: { volume(n: number): string; signatures: string; manifest: string }, remoteNames: readonly string[]): boolean {
  const volumeStem = names.volume(1).replace(/vol1\.difftar.*$/, '');
  const signatureStem = names.signatures.replace(/sigtar.*$/, '');
  return remoteNames.some((n) => n.startsWith(volumeStem) || n.startsWith(signatureStem) || n === names.manifest);
}

/** An encrypted copy of a spooled file (the plain one stays for the archive dir). */
async function encryptSpooled(plain: Readable, cipher: ArchiveCipher, tempdir: string): Promise<SpoolResult> {
  const spool = new SpoolFile(tempdir, { compress: false, encryptor: cipher.encryptor() });
  try {
    for await (const chunk of plain) await spool.write(chunk as Buffer);
    return await spool.finish();
  } catch (err) {
    await spool.discard();
    throw err;
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** Before an incremental (§4.4): the chain's last manifest must name this host and this source. */
async function checkChainSource(target: Target, chain: BackupChain, hostname: string, source: string): Promise<void> {
  const last = chainSets(chain).at(-1)!;
  const manifest = await readManifestHead(target, last.localManifestName, last.manifestName);
  if (!manifest) return;
  const parsed = parseManifest(manifest);
  const recordedHost = parsed.hostname?.toString();
  if (recordedHost && recordedHost !== hostname) {
    throw new LifeboatError(`Fatal Error: Backup source host has changed.\nCurrent hostname: ${hostname}\nPrevious hostname: ${recordedHost}`, {
      code: 'hostname-mismatch', exitCode: ExitCode.hostnameMismatch,
      hint: 'use --allow-source-mismatch if this is really the same source, or back up to another target',
    });
  }
  const recordedDir = parsed.localDir?.toString();
  if (recordedDir && recordedDir !== source) {
    throw new LifeboatError(`Fatal Error: Backup source directory has changed.\nCurrent directory: ${source}\nPrevious directory: ${recordedDir}`, {
      code: 'source-mismatch', exitCode: ExitCode.sourceMismatch,
      hint: 'give the source exactly as before, or use --allow-source-mismatch',
    });
  }
}

// A whole restore command (specs §10): choose the chain and sets for --time, read their manifests,
// stream the needed volumes (hash-checked) through the replay, and write into a staging path beside
// the destination that is renamed into place only when everything restored, so a damaged archive
// leaves nothing at the destination. A durable restore is on disk before it is renamed into place (and
// the rename before this returns), so a crash leaves either no destination or all of it.
import { lstat, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { backupChainAt, lastFullBackupTime, setsToRestoreAt, type BackupSet } from '../duplicity/collection.js';
import { parseManifest, volumeMayContain } from '../duplicity/manifest.js';
import { indexToPath, pathToIndex } from '../duplicity/member-names.js';
import { formatHumanTime } from '../duplicity/time.js';
import { ExitCode } from '../errors/exit-codes.js';
import { IntegrityError, LifeboatError } from '../errors/lifeboat-error.js';
import { syncDirectory } from '../fsmeta/atomic-write.js';
import { formatPath } from '../fsmeta/entry.js';
import { FileSystemFlusher } from '../fsmeta/flush.js';
import { mountPointsBelow } from '../fsmeta/mounts.js';
import { readManifestHead } from './manifest-reader.js';
import { replaySets, type ReplayedObject } from './replay.js';
import { writeRestore, type RestoreWriteResult } from './restore.js';
import { readSetMembers, verifiedVolume, type SetVolume } from './set-reader.js';
import type { Target } from './target.js';

export interface RestoreFromTargetOptions {
  target: Target;
  destination: string;
  /** epoch seconds; default now */
  time?: number;
  fileToRestore?: string;
  force: boolean;
  restoreOwnership: boolean;
  numericOwner: boolean;
  tempdir: string;
  dryRun: boolean;
  /** flush the restored files to disk before returning (a user's restore; not a drill's scratch copy) */
  durable: boolean;
  signal?: AbortSignal;
  notice(line: string): void;
  warning(line: string): void;
  info(line: string): void;
}

/** The volumes of each set to read for a time and path prefix, manifests checked. */
export async function plannedSets(target: Target, time: number, prefix: Buffer[]): Promise<SetVolume[][]> {
  const chain = backupChainAt(target.collection, time);
  const sets = setsToRestoreAt(chain, time);
  const planned: SetVolume[][] = [];
  for (const set of sets) planned.push(await setVolumes(target, set, prefix));
  return planned;
}

async function setVolumes(target: Target, set: BackupSet, prefix: Buffer[]): Promise<SetVolume[]> {
  const bytes = await readManifestHead(target, set.localManifestName, set.manifestName);
  if (!bytes) throw new IntegrityError(`the backup set ending ${formatHumanTime(set.endTime)} has no manifest`);
  const label = set.localManifestName ?? set.manifestName ?? 'manifest';
  let manifest;
  try {
    manifest = parseManifest(bytes);
  } catch (err) {
    throw err instanceof IntegrityError ? new IntegrityError(`${label}: ${err.message}`, { hint: 'the manifest is damaged; restore an older backup with --time, or repair it from another copy' }) : err;
  }
  const byNumber = new Map(set.volumes.map((v) => [v.volumeNumber, v.name]));
  const out: SetVolume[] = [];
  for (const volume of manifest.volumes) {
    const name = byNumber.get(volume.volumeNumber);
    if (!name || !target.remoteNames.includes(name)) {
      throw new LifeboatError(`volume ${volume.volumeNumber} of ${label} is missing from the target`, {
        code: 'missing-volume', exitCode: ExitCode.backendNotFound,
        hint: 'copy the volume back from another copy of the archive, or restore an older backup with --time',
      });
    }
    if (prefix.length > 0 && !volumeMayContain(volume, prefix)) continue;
    out.push({ name, manifest: volume, compressed: /(gz|\.z)$/.test(name) });
  }
  for (const [number, name] of byNumber) {
    if (!manifest.volumes.some((v) => v.volumeNumber === number)) {
      throw new IntegrityError(`${label} does not list volume ${number} (${name})`, { hint: 'the manifest is truncated or damaged' });
    }
  }
  return out;
}

/**
 * duplicity refuses a restore destination that exists and is not an empty directory unless --force
 * (exit 11), before it touches the target or the cache; the CLI calls this first for the same reason.
 */
export async function checkRestoreDestination(destination: string, force: boolean): Promise<{ existing: Stats | null; emptyDir: boolean }> {
  const existing = await lstat(destination).catch(() => null);
  const emptyDir = existing !== null && existing.isDirectory() && (await readdir(destination)).length === 0;
  if (existing && !emptyDir && !force) {
    // duplicity's text is "...already exists.\nWill not overwrite.": one line here, as every error is
    throw new LifeboatError(`Restore destination directory ${destination} already exists. Will not overwrite.`, {
      code: 'destination-exists', exitCode: ExitCode.restoreTargetExists,
      hint: 'restore into a new directory, or pass --force to restore over what is there',
    });
  }
  return { existing, emptyDir };
}

export async function restoreFromTarget(options: RestoreFromTargetOptions): Promise<RestoreWriteResult> {
  const { target } = options;
  const lastFull = lastFullBackupTime(target.collection);
  options.notice(`Last full backup date: ${lastFull === null ? 'none' : formatHumanTime(lastFull)}`);
  const time = options.time ?? Math.floor(Date.now() / 1000);
  const prefix = pathToIndex(options.fileToRestore ?? '');
  const sets = await plannedSets(target, time, prefix);
  if (options.dryRun) {
    options.notice('Required volumes to restore:');
    for (const set of sets) for (const v of set) options.notice(`\t${v.name}`);
    return { objects: 0, bytes: 0 };
  }

  const { existing, emptyDir } = await checkRestoreDestination(options.destination, options.force);
  const readOptions = { signal: options.signal, cipher: target.cipher, tempdir: options.tempdir };
  // in place when --force meets existing files: then check every volume before writing anything
  const overExisting = existing !== null && !emptyDir;
  // and into an empty mount point (a new file system mounted for the restore), which a staging
  // directory could not be renamed onto: what the restore wrote there is removed if it fails
  const intoMount = emptyDir && (await isMountPoint(options.destination));
  const inPlace = overExisting || intoMount;
  if (overExisting) {
    for (const set of sets) for (const v of set) for await (const _ of verifiedVolume(target.backend, v, readOptions)) { /* hash only */ }
  }
  const staging = inPlace ? options.destination
    : join(dirname(options.destination), `.${basename(options.destination)}.lifeboat-restore-${randomBytes(4).toString('hex')}`);
  // duplicity creates missing parents of the destination; we remove the ones we made if we fail
  const madeParents = inPlace ? undefined : await mkdir(dirname(options.destination), { recursive: true });
  const objects = replaySets(sets.map((vols) => readSetMembers(target.backend, vols, readOptions)), {
    prefix, tempdir: options.tempdir, onWarning: options.warning,
  });
  let result: RestoreWriteResult;
  try {
    result = await writeRestore(objects as AsyncIterable<ReplayedObject>, {
      target: staging, restoreOwnership: options.restoreOwnership, numericOwner: options.numericOwner,
      force: options.force, existing: inPlace, onInfo: options.info,
      flusher: options.durable ? new FileSystemFlusher(await flushPath(options.destination, inPlace), options.warning) : undefined,
      // in place, the destination may hold other file systems (a new root at /mnt with its own /mnt/boot)
      mountsBelow: options.durable && inPlace ? await mountPointsBelow(options.destination) : undefined,
    });
    if (result.objects === 0) {
      const what = prefix.length > 0 ? formatPath(indexToPath(prefix)) : 'the archive';
      throw new LifeboatError(`${what} not found in archive - no files restored.`, {
        code: 'not-found', exitCode: prefix.length > 0 ? ExitCode.restorePathNotFound : ExitCode.nothingToRestore,
        hint: '"lifeboat duplicity list-current-files URL" lists what the archive holds',
      });
    }
    if (!inPlace) {
      if (emptyDir) await rmdir(options.destination);
      await rename(staging, options.destination);
    }
  } catch (err) {
    if (!inPlace) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (intoMount) await emptyDirectory(options.destination).catch(() => undefined);
    if (madeParents) await removeEmptyParents(dirname(options.destination), madeParents);
    throw err;
  }
  if (options.durable && !inPlace) {
    await syncDirectory(dirname(options.destination)).catch((err: NodeJS.ErrnoException) => {
      throw new LifeboatError(`${options.destination} is restored, but its new name may not survive a crash: ${err.syscall ?? 'fsync'} of ${dirname(options.destination)} failed (${err.code ?? err.message})`, {
        code: 'flush-failed', exitCode: ExitCode.userError, hint: 'check the disk and the kernel log (dmesg); run "sync" before relying on the restore',
      });
    });
  }
  return result;
}

/**
 * A path on the file system the restored files land on that exists throughout the restore: the
 * destination's parent (the staging directory is made there; in place, the destination itself may be
 * replaced by what is restored), or the destination itself when it is a mount point.
 */
async function flushPath(destination: string, inPlace: boolean): Promise<string> {
  const parent = dirname(resolve(destination));
  return inPlace && (await isMountPoint(destination)) ? resolve(destination) : parent;
}

/** A directory (not a symlink to one) on another file system than the directory it is in. */
async function isMountPoint(path: string): Promise<boolean> {
  const [own, above] = await Promise.all([lstat(path), stat(dirname(resolve(path)))]);
  return own.isDirectory() && own.dev !== above.dev;
}

/** Removes what is inside a directory, not the directory. */
async function emptyDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/** Removes `dir` and its parents up to and including `top` (the first one mkdir made), while empty. */
async function removeEmptyParents(dir: string, top: string): Promise<void> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false)) || d === resolve(top) || d === dirname(d)) return;
  }
}

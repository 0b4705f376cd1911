// The archive dir (specs §11): local copies of every set's manifest (plain) and signature file
// (gzipped), kept in step with the target, which is authoritative. Lost or stale copies are rebuilt
// from the target, so deleting the cache never loses anything.
import { createHash } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import type { Backend } from '../backend/types.js';
import { backupChainAt, buildCollection, type BackupChain } from '../duplicity/collection.js';
import { isMetadataName, metadataSyncKey, parseArchiveName } from '../duplicity/file-names.js';
import { writeFileAtomically } from '../fsmeta/atomic-write.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { streamStoredFile } from '../pipeline/set-reader.js';
import { decryptedStoredFile } from '../pipeline/set-reader.js';
import type { ArchiveCipher } from '../crypto/archive-cipher.js';
import { Readable } from 'node:stream';

export interface ArchiveDirOptions {
  /** --archive-dir; default $XDG_CACHE_HOME/duplicity or ~/.cache/duplicity */
  archiveDir?: string;
  /** --name; default the MD5 of the target URL exactly as typed, as duplicity names it */
  name?: string;
}

export function archiveDirPath(url: string, options: ArchiveDirOptions = {}): string {
  const base = options.archiveDir ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'duplicity');
  return join(base, options.name ?? createHash('md5').update(url).digest('hex'));
}

export async function listArchiveDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The cache's name for a remote metadata file: manifests plain, signature files gzipped. */
export function cacheNameFor(remoteName: string): string {
  const key = metadataSyncKey(remoteName);
  return key.endsWith('.sigtar') ? `${key}.gz` : key;
}

export interface SyncResult {
  copied: string[];
  deleted: string[];
}

/**
 * duplicity's default --metadata-sync-mode partial (dup_main.sync_archive.is_needed): only remote
 * metadata whose time range overlaps the backup chain chosen for `time` is copied; everything when no
 * single chain can be chosen.
 */
function neededForChainAt(remoteNames: readonly string[], localNames: readonly string[], time: number): (name: string) => boolean {
  let chain: BackupChain;
  try {
    chain = backupChainAt(buildCollection(remoteNames, localNames), time);
  } catch (err) {
    if (err instanceof LifeboatError) return () => true;
    throw err;
  }
  return (name) => {
    const parsed = parseArchiveName(name);
    if (!parsed) return true;
    const [start, end] = 'time' in parsed ? [parsed.time, parsed.time] : [parsed.startTime, parsed.endTime];
    return end >= chain.startTime && start <= chain.endTime;
  };
}

/**
 * Makes the cache hold exactly the target's metadata: copies what is missing, deletes local files the
 * target does not have. `notice` gets duplicity's lines ("Copying … to local cache.").
 */
export async function syncArchiveDir(
  backend: Backend, remoteNames: readonly string[], dir: string, notice: (line: string) => void,
  options: { time?: number; cipher?: ArchiveCipher; tempdir?: string } = {},
): Promise<SyncResult> {
  const remote = new Map<string, string>();
  for (const name of remoteNames) {
    const parsed = parseArchiveName(name);
    if (parsed && isMetadataName(parsed) && !parsed.partial) remote.set(metadataSyncKey(name), name);
  }
  const localNames = await listArchiveDir(dir);
  const local = new Map<string, string>();
  for (const name of localNames) {
    const parsed = parseArchiveName(name);
    if (parsed && isMetadataName(parsed) && !parsed.partial) local.set(metadataSyncKey(name), name);
  }
  const needed = neededForChainAt(remoteNames, localNames, options.time ?? Math.floor(Date.now() / 1000));
  const toCopy = [...remote.entries()].filter(([key, name]) => !local.has(key) && needed(name)).map(([, name]) => name).sort();
  const toDelete = [...local.entries()].filter(([key]) => !remote.has(key)).map(([, name]) => name).sort();
  if (toCopy.length === 0 && toDelete.length === 0) {
    notice('Local and Remote metadata are synchronized, no sync needed.');
    return { copied: [], deleted: [] };
  }
  notice('Synchronizing remote metadata to local cache...');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of toDelete) {
    // duplicity prints the local file's full path here (dup_main.remove_local), unlike in "Copying"
    notice(`Deleting local ${join(dir, name)} (not authoritative at backend).`);
    await unlink(join(dir, name)).catch(() => undefined);
  }
  for (const name of toCopy) {
    const parsed = parseArchiveName(name)!;
    notice(`Copying ${name} to local cache.`);
    const isSignature = parsed.kind === 'full-signature' || parsed.kind === 'new-signature';
    // encrypted metadata is cached decrypted: manifests plain, signature files gzipped, as duplicity's cache
    const body = parsed.encrypted
      ? Readable.from(decryptedStoredFile(backend, name, { cipher: options.cipher, tempdir: options.tempdir }))
      : streamStoredFile(backend, name);
    const data = isSignature && !parsed.compressed ? body.pipe(createGzip({ level: 6 })) : body;
    body.on('error', (err) => data.destroy(err));
    await writeFileAtomically(join(dir, cacheNameFor(name)), data, { force: true, mode: 0o600 });
  }
  return { copied: toCopy, deleted: toDelete };
}

// A target as one backup command sees it: the backend, the archive dir beside it, and the collection
// of sets and chains built from both listings.
import type { Backend } from '../backend/types.js';
import { archiveDirPath, listArchiveDir, syncArchiveDir } from '../cache/archive-dir.js';
import { buildCollection, type Collection } from '../duplicity/collection.js';
import { openBackend } from '../backend/registry.js';
import { defaultBackendContext, type BackendContext } from '../backend/url.js';
import type { ArchiveCipher } from '../crypto/archive-cipher.js';

export interface Target {
  url: string;
  backend: Backend;
  cacheDir: string;
  remoteNames: string[];
  collection: Collection;
  /** decrypts the target's `.gpg` files (and encrypts new ones when set up for it) */
  cipher?: ArchiveCipher;
}

export interface OpenTargetOptions {
  archiveDir?: string;
  name?: string;
  /** bring the archive dir in step with the target first (every command but collection-status) */
  sync: boolean;
  /** the time the command works at (--time; default now): the sync copies only that chain's metadata */
  time?: number;
  notice(line: string): void;
  /** backend options and the environment holding credentials; default: none and process.env */
  backend?: BackendContext;
  cipher?: ArchiveCipher;
  /** where encrypted metadata is fetched to before decryption */
  tempdir?: string;
}

export async function openTarget(url: string, options: OpenTargetOptions): Promise<Target> {
  const backend = await openBackend(url, { ...(options.backend ?? defaultBackendContext()), log: options.backend?.log ?? options.notice });
  const cacheDir = archiveDirPath(url, options);
  const remoteNames: string[] = [];
  for await (const { name } of backend.list()) remoteNames.push(name);
  if (options.sync) await syncArchiveDir(backend, remoteNames, cacheDir, options.notice, { time: options.time, cipher: options.cipher, tempdir: options.tempdir });
  const collection = buildCollection(remoteNames, await listArchiveDir(cacheDir));
  return { url, backend, cacheDir, remoteNames, collection, cipher: options.cipher };
}

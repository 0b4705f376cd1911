// Writes replayed objects into a directory (specs §10.3): in index order, regular files (when restoring
// in place over existing files) under a temporary name renamed into place, directories' own metadata applied after their contents.
// Synchronous file calls on purpose: see the note in selection/walk.ts.
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { applyMetadata, createSpecial } from '../fsmeta/apply.js';
import { pathOfIndex, type Entry } from '../fsmeta/entry.js';
import type { NameDatabase } from '../fsmeta/names.js';
import type { ReplayedObject } from './replay.js';

export interface RestoreWriteOptions {
  /** the path the restored root (or --file-to-restore object) becomes */
  target: string;
  /** set owners (only possible as root) */
  restoreOwnership: boolean;
  numericOwner: boolean;
  names?: NameDatabase;
  /** objects of another type in the way are replaced (the user said --force) */
  force: boolean;
  /** the target may already hold files (restore in place); false for a fresh staging path */
  existing: boolean;
  onInfo?(message: string): void;
}

export interface RestoreWriteResult {
  objects: number;
  bytes: number;
}

interface OpenDirectory {
  index: Buffer[];
  path: Buffer;
  entry: Entry;
}

function isInside(index: Buffer[], dir: Buffer[]): boolean {
  if (index.length <= dir.length) return false;
  for (let i = 0; i < dir.length; i++) if (!index[i].equals(dir[i])) return false;
  return true;
}

export async function writeRestore(objects: AsyncIterable<ReplayedObject>, options: RestoreWriteOptions): Promise<RestoreWriteResult> {
  const asRoot = options.restoreOwnership && process.getuid?.() === 0;
  const applyOptions = { asRoot, numericOwner: options.numericOwner, names: options.names };
  const open: OpenDirectory[] = [];
  const result: RestoreWriteResult = { objects: 0, bytes: 0 };
  const closeUntil = async (index: Buffer[] | null) => {
    while (open.length > 0 && (index === null || !isInside(index, open[open.length - 1].index))) {
      const dir = open.pop()!;
      await applyMetadata(dir.path, dir.entry, applyOptions);
    }
  };

  let serial = 0;
  const existingAt = (path: Buffer) => (options.existing ? lstatSync(path, { throwIfNoEntry: false }) : undefined);
  for await (const { entry, content } of objects) {
    await closeUntil(entry.index);
    const path = pathOfIndex(options.target, entry.index);
    options.onInfo?.(`Restoring ${path.toString()}`);
    result.objects++;
    switch (entry.type) {
      case 'dir': {
        const existing = existingAt(path);
        if (existing && !existing.isDirectory()) await replace(path, options.force);
        if (!existing || !existing.isDirectory()) mkdirSync(path, { mode: 0o700 });
        open.push({ index: entry.index, path, entry });
        break;
      }
      case 'reg': {
        // a fresh staging directory is renamed into place whole (or removed) at the end, so its files
        // need no temporary names of their own: a rename less per file
        const temporary = options.existing ? Buffer.concat([path, Buffer.from(`.lifeboat-${process.pid}-${serial++}.tmp`)]) : path;
        const fd = openSync(temporary, 'wx', 0o600);
        try {
          try {
            for await (const chunk of content ?? []) {
              for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
              result.bytes += chunk.length;
            }
          } finally {
            closeSync(fd);
          }
          await applyMetadata(temporary, entry, applyOptions);
          if (temporary !== path) {
            if (existingAt(path)?.isDirectory()) await replace(path, options.force);
            renameSync(temporary, path);
          }
        } catch (err) {
          try { unlinkSync(temporary); } catch { /* already gone */ }
          throw err;
        }
        break;
      }
      case 'sym': {
        if (existingAt(path)) await replace(path, options.force);
        symlinkSync(entry.linkTarget ?? Buffer.alloc(0), path);
        await applyMetadata(path, entry, applyOptions);
        break;
      }
      default: {
        if (existingAt(path)) await replace(path, options.force);
        await createSpecial(path, entry);
        await applyMetadata(path, entry, applyOptions);
      }
    }
  }
  await closeUntil(null);
  return result;
}

/** An object of the wrong type is in the way: only --force may remove it. */
async function replace(path: Buffer, force: boolean): Promise<void> {
  if (!force) throw Object.assign(new Error(`${path.toString()}: already exists`), { code: 'EEXIST', syscall: 'restore', path: path.toString() });
  await rm(path, { recursive: true, force: true });
}

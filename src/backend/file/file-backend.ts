// file:// targets: a directory on a local or mounted disk. A put writes a temporary name, fsyncs it,
// renames it into place and fsyncs the directory, so a crash never leaves a half volume under its name.
import { syncDirectory } from '../../fsmeta/atomic-write.js';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Backend, OperationOptions, PutSource } from '../types.js';
import { BackendError } from '../errors.js';

/** Temporary files carry this marker (file:// puts: as a prefix) so what an interrupted put left can be found. */
export const TEMPORARY_MARKER = '.lifeboat-part-';

export class FileBackend implements Backend {
  readonly displayUrl: string;
  readonly capabilities = { connections: 2, atomicPut: true };
  readonly #dir: string;

  constructor(directory: string, displayUrl = `file://${directory}`) {
    this.#dir = directory;
    this.displayUrl = displayUrl;
  }

  get directory(): string {
    return this.#dir;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      throw classify(err, this.#dir);
    }
    for (const name of names.sort()) {
      options.signal?.throwIfAborted();
      if (options.prefix && !name.startsWith(options.prefix)) continue;
      if (name.includes(TEMPORARY_MARKER)) continue;
      const s = await stat(join(this.#dir, name)).catch(() => null);
      if (s?.isFile()) yield { name, size: s.size };
    }
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    checkName(name);
    await mkdir(this.#dir, { recursive: true }).catch((err) => { throw classify(err, this.#dir); });
    // the marker leads the name: "duplicity-inc.….manifest.<anything>" would be a manifest to duplicity
    // (its names match at the start, any suffix after a dot), so a killed put would make a set look complete
    const temporary = join(this.#dir, `${TEMPORARY_MARKER}${randomBytes(4).toString('hex')}.${name}`);
    try {
      if (source.localPath !== undefined) {
        // a spooled volume: copied in the kernel (copy_file_range), not read through the event loop
        options.signal?.throwIfAborted();
        await copyFile(source.localPath, temporary, constants.COPYFILE_EXCL);
      } else {
        await pipeline(source.open(), createWriteStream(temporary, { flags: 'wx' }), { signal: options.signal });
      }
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
        const { size } = await handle.stat();
        if (size !== source.size) {
          throw new BackendError('permanent', `${name}: wrote ${size} bytes, expected ${source.size}`);
        }
      } finally {
        await handle.close();
      }
      await rename(temporary, join(this.#dir, name));
      await syncDirectory(this.#dir);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw err instanceof BackendError ? err : classify(err, join(this.#dir, name));
    }
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, _options: OperationOptions = {}): Promise<T> {
    checkName(name);
    const path = join(this.#dir, name);
    const handle = await open(path, 'r').catch((err) => { throw classify(err, path); });
    // the stream owns the handle and closes it when it ends or is destroyed
    const body = handle.createReadStream({ highWaterMark: 1 << 18 });
    try {
      return await consume(body);
    } finally {
      body.destroy();
    }
  }

  async delete(names: readonly string[], _options: OperationOptions = {}): Promise<void> {
    for (const name of names) {
      checkName(name);
      await unlink(join(this.#dir, name)).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw classify(err, join(this.#dir, name));
      });
    }
    if (names.length > 0) await syncDirectory(this.#dir);
  }

  /** opened read-write without truncation and closed again: nothing is written */
  async writableInPlace(name: string, _options: OperationOptions = {}): Promise<boolean | undefined> {
    checkName(name);
    try {
      await (await open(join(this.#dir, name), 'r+')).close();
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return false;
      if (code === 'ENOENT') return undefined;
      throw classify(err, join(this.#dir, name));
    }
  }

  async close(): Promise<void> {}
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}

function classify(err: unknown, path: string): BackendError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = (err as Error).message;
  switch (code) {
    case 'ENOENT': return new BackendError('not-found', `${path}: no such file or directory`, { cause: err, hint: 'check the target URL' });
    case 'EACCES': case 'EPERM': return new BackendError('auth', `${path}: permission denied`, { cause: err, hint: 'check the permissions of the target directory' });
    case 'ENOSPC': case 'EDQUOT': return new BackendError('no-space', `${path}: no space left on the target`, { cause: err, hint: 'free space on the target disk' });
    case 'ENOTDIR': return new BackendError('permanent', `${path}: a part of the target path is not a directory`, { cause: err, hint: 'the target URL must name a directory' });
    default: return new BackendError('permanent', `${path}: ${why}`, { cause: err });
  }
}

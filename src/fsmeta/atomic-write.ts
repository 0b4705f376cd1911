// Writes a stream to a file so that the final name only ever holds complete output: data goes to a
// temporary name beside it, is fsynced, then renamed. On any failure the temporary file is removed.
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

export interface AtomicWriteOptions {
  /** replace an existing file; @default false */
  force?: boolean;
  /** @default 0o666 (before umask) */
  mode?: number;
}

export function temporaryNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.lifeboat-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export async function refuseExisting(path: string): Promise<void> {
  try {
    await access(path, constants.F_OK);
  } catch {
    return;
  }
  throw new LifeboatError(`${path}: file exists; not overwriting it`, {
    code: 'exists',
    exitCode: ExitCode.userError,
    hint: 'remove it, choose another name, or pass --force',
  });
}

export async function writeFileAtomically(
  path: string, source: AsyncIterable<Uint8Array>, options: AtomicWriteOptions = {},
): Promise<void> {
  if (!options.force) await refuseExisting(path);
  const temporary = temporaryNameFor(path);
  try {
    await pipeline(Readable.from(source), createWriteStream(temporary, { flags: 'wx', mode: options.mode ?? 0o666 }));
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!options.force) await refuseExisting(path);
    await rename(temporary, path);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
}

/** fsyncs a directory, so a rename in it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

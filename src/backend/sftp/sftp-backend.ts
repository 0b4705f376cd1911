// sftp:// and scp:// targets: a directory on an SSH server, reached through its SFTP subsystem.
// A put writes a temporary name in the target directory and renames it into place, so a reader never
// sees half a volume; reads and writes keep several requests in flight, as a round trip per 64 KiB
// would make a distant server unusably slow.
import { randomBytes } from 'node:crypto';
import { Readable, addAbortSignal } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import type { Backend, OperationOptions, PutSource } from '../types.js';
import { BackendError } from '../errors.js';
import { TEMPORARY_MARKER } from '../file/file-backend.js';
import { SftpStatus, classifySftpError, sftpStatus } from './errors.js';
import type { SftpSession } from './connection.js';

const WRITE_PIECE = 128 * 1024;
const WRITE_WINDOW = 2 * 1024 * 1024;
const READ_PIECE = 64 * 1024;
const READ_REQUESTS = 16;

function call<T>(run: (callback: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    run((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

/** Marks a promise as handled (it is awaited later), so a failure while others run is no crash. */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}

export class SftpBackend implements Backend {
  readonly displayUrl: string;
  readonly capabilities = { connections: 4, atomicPut: true };
  readonly #dir: string;
  readonly #connect: () => Promise<SftpSession>;
  #session?: Promise<SftpSession>;
  #dirReady?: Promise<void>;
  #active = 0;

  /** `directory` as the server takes it: relative to the login directory, or absolute */
  constructor(directory: string, connect: () => Promise<SftpSession>, displayUrl: string) {
    this.#dir = directory === '' ? '.' : directory;
    this.#connect = connect;
    this.displayUrl = displayUrl;
  }

  /**
   * Runs an operation with the connection holding the process open; an idle connection does not, as
   * Node's HTTP agent unrefs its idle sockets: a command that is done exits without closing us.
   */
  async #busy<T>(operation: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await operation();
    } finally {
      if (--this.#active === 0) this.#idle();
    }
  }

  #idle(): void {
    this.#session?.then((s) => { if (this.#active === 0) s.socket.unref(); }, () => undefined);
  }

  /** The open SFTP channel; a connection that ended is replaced, so a retried operation can succeed. */
  async #sftp(): Promise<SFTPWrapper> {
    const current = this.#session;
    if (current) {
      const session = await current.catch(() => undefined);
      if (session && !session.closed) {
        session.socket.ref();
        return session.sftp;
      }
      if (this.#session === current) this.#session = undefined;
    }
    this.#session ??= this.#connect();
    const opening = this.#session;
    try {
      const session = await opening;
      session.socket.ref();
      return session.sftp;
    } catch (err) {
      if (this.#session === opening) this.#session = undefined;
      throw err;
    }
  }

  #path(name: string): string {
    return this.#dir === '.' ? name : `${this.#dir.replace(/\/+$/, '')}/${name}`;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    // the listing is read whole before the first name is yielded, so the connection is idle while callers iterate
    yield* await this.#busy(() => this.#list(options));
  }

  async #list(options: OperationOptions & { prefix?: string }): Promise<{ name: string; size: number }[]> {
    const sftp = await this.#sftp();
    let entries: Awaited<ReturnType<typeof readdir>>;
    try {
      entries = await readdir(sftp, this.#dir);
    } catch (err) {
      if (sftpStatus(err) === SftpStatus.noSuchFile) return [];
      throw classifySftpError(err, `list ${this.#dir}`);
    }
    options.signal?.throwIfAborted();
    return entries
      .filter((e) => !e.filename.includes(TEMPORARY_MARKER) && e.attrs.isFile())
      .filter((e) => !options.prefix || e.filename.startsWith(options.prefix))
      .map((e) => ({ name: e.filename, size: e.attrs.size }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    return this.#busy(() => this.#put(name, source, options));
  }

  async #put(name: string, source: PutSource, options: OperationOptions): Promise<void> {
    checkName(name);
    options.signal?.throwIfAborted();
    const sftp = await this.#sftp();
    await this.#ensureDirectory(sftp);
    const target = this.#path(name);
    // the marker leads the name: duplicity reads "<manifest name>.<anything>" as that manifest
    const temporary = this.#path(`${TEMPORARY_MARKER}${randomBytes(4).toString('hex')}.${name}`);
    let handle: Buffer | undefined;
    try {
      handle = await call<Buffer>((cb) => sftp.open(temporary, 'wx', cb));
      const written = await writeAll(sftp, handle, source.open(), options.signal);
      if (written !== source.size) {
        throw new BackendError('permanent', `${name}: the source gave ${written} bytes, ${source.size} were announced`);
      }
      await syncHandle(sftp, handle);
      const h = handle;
      handle = undefined;
      await call((cb) => sftp.close(h, cb));
      await renameOver(sftp, temporary, target);
    } catch (err) {
      if (handle) await call((cb) => sftp.close(handle!, cb)).catch(() => undefined);
      await call((cb) => sftp.unlink(temporary, cb)).catch(() => undefined);
      if ((err as Error).name === 'AbortError') throw err;
      throw classifySftpError(err, `put ${target}`);
    }
  }

  read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    return this.#busy(() => this.#read(name, consume, options));
  }

  async #read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions): Promise<T> {
    checkName(name);
    const sftp = await this.#sftp();
    const path = this.#path(name);
    const handle = await call<Buffer>((cb) => sftp.open(path, 'r', cb)).catch((err) => { throw classifySftpError(err, `read ${path}`); });
    let size: number;
    try {
      size = (await call<{ size: number }>((cb) => sftp.fstat(handle, cb))).size;
    } catch (err) {
      await call((cb) => sftp.close(handle, cb)).catch(() => undefined);
      throw classifySftpError(err, `read ${path}`);
    }
    const body = Readable.from(readAll(sftp, handle, size, path), { objectMode: false });
    if (options.signal) addAbortSignal(options.signal, body);
    try {
      return await consume(body);
    } finally {
      body.destroy();
    }
  }

  delete(names: readonly string[], _options: OperationOptions = {}): Promise<void> {
    return this.#busy(() => this.#delete(names));
  }

  async #delete(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    names.forEach(checkName);
    const sftp = await this.#sftp();
    for (const name of names) {
      const path = this.#path(name);
      await call((cb) => sftp.unlink(path, cb)).catch((err) => {
        if (sftpStatus(err) === SftpStatus.noSuchFile) return;
        if (sftpStatus(err) === SftpStatus.permissionDenied) {
          throw new BackendError('auth', `delete ${path}: permission denied by the server`, {
            cause: err, hint: 'this account may not delete (an append-only account?): purge and cleanup need one that may; a second profile, or LIFEBOAT_PURGE_USER (docs/hardening.md)',
          });
        }
        throw classifySftpError(err, `delete ${path}`);
      });
    }
  }

  writableInPlace(name: string, _options: OperationOptions = {}): Promise<boolean | undefined> {
    return this.#busy(async () => {
      checkName(name);
      const sftp = await this.#sftp();
      try {
        // read-write without truncation: opened and closed, nothing written
        const handle = await call<Buffer>((cb) => sftp.open(this.#path(name), 'r+', cb));
        await call((cb) => sftp.close(handle, cb)).catch(() => undefined);
        return true;
      } catch (err) {
        if (sftpStatus(err) === SftpStatus.permissionDenied) return false;
        if (sftpStatus(err) === SftpStatus.noSuchFile) return undefined;
        throw classifySftpError(err, `open ${this.#path(name)} for writing`);
      }
    });
  }

  async close(): Promise<void> {
    const session = await this.#session?.catch(() => undefined);
    this.#session = undefined;
    session?.client.end();
  }

  /** duplicity creates a missing target directory and its parents; done once, on the first put */
  #ensureDirectory(sftp: SFTPWrapper): Promise<void> {
    this.#dirReady ??= makeDirectories(sftp, this.#dir).catch((err) => {
      this.#dirReady = undefined;
      throw classifySftpError(err, `create directory ${this.#dir}`);
    });
    return this.#dirReady;
  }
}

function readdir(sftp: SFTPWrapper, dir: string) {
  return call<Parameters<Parameters<SFTPWrapper['readdir']>[1]>[1]>((cb) => sftp.readdir(dir, cb));
}

async function isDirectory(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    return (await call<{ isDirectory(): boolean }>((cb) => sftp.stat(path, cb))).isDirectory();
  } catch (err) {
    if (sftpStatus(err) === SftpStatus.noSuchFile) return false;
    throw err;
  }
}

async function makeDirectories(sftp: SFTPWrapper, dir: string): Promise<void> {
  if (dir === '.' || dir === '/' || dir === '' || await isDirectory(sftp, dir)) return;
  const parent = dir.replace(/\/+[^/]*\/*$/, '');
  if (parent !== dir) await makeDirectories(sftp, parent === '' && dir.startsWith('/') ? '/' : parent);
  try {
    await call((cb) => sftp.mkdir(dir, cb));
  } catch (err) {
    // another put, or another program, may have made it meanwhile
    if (!(await isDirectory(sftp, dir))) throw err;
  }
}

/** Writes the stream at increasing offsets with up to WRITE_WINDOW bytes unacknowledged. */
async function writeAll(sftp: SFTPWrapper, handle: Buffer, body: Readable, signal?: AbortSignal): Promise<number> {
  if (signal) addAbortSignal(signal, body);
  const pending = new Set<Promise<void>>();
  let inFlight = 0;
  let offset = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; at += WRITE_PIECE) {
        const piece = chunk.subarray(at, at + WRITE_PIECE);
        while (inFlight + piece.length > WRITE_WINDOW && pending.size > 0) await Promise.race(pending);
        const position = offset;
        offset += piece.length;
        inFlight += piece.length;
        const write = settleLater(call<void>((cb) => sftp.write(handle, piece, 0, piece.length, position, cb)).finally(() => {
          inFlight -= piece.length;
          pending.delete(write);
        }));
        pending.add(write);
      }
    }
    await Promise.all(pending);
  } finally {
    // the handle may not close while writes to it are still under way
    await Promise.allSettled(pending);
  }
  return offset;
}

/** Yields the file's `size` bytes in order while READ_REQUESTS reads run ahead. */
async function* readAll(sftp: SFTPWrapper, handle: Buffer, size: number, path: string): AsyncGenerator<Buffer> {
  type Request = { position: number; length: number; data: Promise<Buffer> };
  const queue: Request[] = [];
  let next = 0;
  const request = (position: number, length: number): Request => ({
    position,
    length,
    data: settleLater(call<Buffer>((cb) => {
      const buffer = Buffer.allocUnsafe(length);
      sftp.read(handle, buffer, 0, length, position, (err, bytesRead) => cb(err, buffer.subarray(0, bytesRead)));
    })),
  });
  const fill = () => {
    while (queue.length < READ_REQUESTS && next < size) {
      const length = Math.min(READ_PIECE, size - next);
      queue.push(request(next, length));
      next += length;
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const head = queue.shift()!;
      const data = await head.data.catch((err) => { throw classifySftpError(err, `read ${path}`); });
      if (data.length === 0) throw new BackendError('permanent', `read ${path}: the file ended early (it shrank while being read)`);
      // a server may answer with less than asked; the rest is asked for again, in order
      if (data.length < head.length) queue.unshift(request(head.position + data.length, head.length - data.length));
      fill();
      yield data;
    }
  } finally {
    await Promise.allSettled(queue.map((r) => r.data));
    await call((cb) => sftp.close(handle, cb)).catch(() => undefined);
  }
}

/** Makes the data durable before it gets its name, where the server can (fsync@openssh.com). */
async function syncHandle(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  try {
    await call((cb) => sftp.ext_openssh_fsync(handle, cb));
  } catch (err) {
    const status = sftpStatus(err);
    if (status === SftpStatus.unsupported || status === SftpStatus.permissionDenied) return;
    if (/does not support/.test((err as Error).message)) return;
    throw err;
  }
}

/**
 * posix-rename@openssh.com replaces the target in one step. A server may lack the extension, or list
 * it and refuse it (an append-only account: sftp-server -P posix-rename,remove). Then plain SFTP
 * rename, which OpenSSH never lets replace an existing file: a new name needs no more rights than
 * that. Only when the name exists already is the old file removed first (for a moment neither name
 * exists), where the account may remove files; backups never put a name that exists.
 */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    await call((cb) => sftp.ext_openssh_rename(from, to, cb));
    return;
  } catch (err) {
    const status = sftpStatus(err);
    const refused = status === SftpStatus.unsupported || status === SftpStatus.permissionDenied;
    if (!refused && !/does not support/.test((err as Error).message)) throw err;
  }
  try {
    await call((cb) => sftp.rename(from, to, cb));
    return;
  } catch (err) {
    if (!(await exists(sftp, to))) throw err;
  }
  await call((cb) => sftp.unlink(to, cb)).catch((err) => {
    if (sftpStatus(err) === SftpStatus.noSuchFile) return;
    if (sftpStatus(err) === SftpStatus.permissionDenied) {
      throw new BackendError('auth', `${to} exists already and this account may not replace it`, {
        cause: err, hint: 'an append-only account never replaces a stored file; backups use new names each run',
      });
    }
    throw err;
  });
  await call((cb) => sftp.rename(from, to, cb));
}

async function exists(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    await call((cb) => sftp.lstat(path, cb));
    return true;
  } catch {
    return false;
  }
}

// Restore side: creates FIFOs and device nodes and puts an entry's owner, mode and mtime on a path, or
// on a regular file's open descriptor (spec §10.3).
import { spawn, type StdioOptions } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmodSync, chownSync, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, utimesSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { formatPath, type Entry } from './entry.js';
import { resolveOwner, systemNames, type NameDatabase } from './names.js';

/** A restore step failed on one path; `operation` says which, the cause is the system error. */
export class MetadataError extends LifeboatError {
  readonly path: Buffer | string;
  readonly operation: string;

  constructor(path: Buffer | string, operation: string, cause: unknown) {
    const why = describe(cause);
    super(`${formatPath(path)}: cannot ${operation}: ${why}`, {
      code: 'restore-metadata',
      exitCode: ExitCode.userError,
      hint: 'check the permissions and the file system of the restore target',
      cause,
    });
    this.path = path;
    this.operation = operation;
  }

  override get name(): string {
    return 'MetadataError';
  }
}

// Node's messages repeat the path ("EPERM: operation not permitted, chown '/x'"); ours already leads with it
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as NodeJS.ErrnoException).code;
  return code && cause.message.startsWith(`${code}: `) ? cause.message.replace(/, \w+ '.*$/s, '') : cause.message;
}

export interface ApplyOptions {
  /** chown only as root: anyone else may only give files away to themselves, so it would just fail */
  asRoot: boolean;
  /** ignore uname/gname and use the archived ids (duplicity's --numeric-owner) */
  numericOwner?: boolean;
  /** defaults to the local passwd/group files */
  names?: NameDatabase;
}

/**
 * Creates a FIFO or device node at path. Node has no mknod(2), so coreutils' mkfifo/mknod run with
 * argv arrays (no shell). The node gets the default mode; applyMetadata sets the real one afterwards.
 */
export async function createSpecial(path: Buffer | string, entry: Entry): Promise<void> {
  const args = specialArgs(path, entry);
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  try {
    if (isUtf8(bytes)) {
      await run(args.command, ['--', bytes.toString('utf8'), ...args.rest]);
    } else {
      await createViaDirectoryFd(bytes, args);
    }
  } catch (err) {
    throw new MetadataError(path, `create ${entry.type === 'fifo' ? 'FIFO' : 'device node'}`, err);
  }
}

/**
 * Sets owner (root only), permissions and mtime, in that order: chown clears setuid/setgid, so chmod
 * must come after it. atime becomes "now", as duplicity's utime(time.time(), mtime) does. A symlink
 * gets only lchown: duplicity restores neither its mode nor its mtime. Directories should be given their
 * metadata after their contents are written, or writing the contents changes the mtime again.
 */
export async function applyMetadata(path: Buffer | string, entry: Entry, options: ApplyOptions): Promise<void> {
  let owner: { uid: number; gid: number } | undefined;
  if (options.asRoot) owner = resolveOwner(entry, options.names ?? (await systemNames()), options.numericOwner);
  if (entry.type === 'sym') {
    if (owner) step(path, `set owner to ${owner.uid}:${owner.gid}`, () => lchownSync(path, owner.uid, owner.gid));
    return;
  }
  // synchronous calls: three thread-pool round trips per restored file made restores of small files
  // several times slower (see selection/walk.ts)
  if (owner) step(path, `set owner to ${owner.uid}:${owner.gid}`, () => chownSync(path, owner.uid, owner.gid));
  const mode = entry.permissions & 0o7777;
  step(path, `set permissions to ${mode.toString(8).padStart(4, '0')}`, () => chmodSync(path, mode));
  // a Date, because Node silently turns a negative *number* into "now"
  step(path, `set modification time to ${entry.mtime}`, () => utimesSync(path, new Date(), new Date(entry.mtime * 1000)));
}

/**
 * applyMetadata for a regular file just created and written, still open as `fd` (the caller closes
 * it): through the descriptor, as GNU tar does, so no call looks the path up again, and chown only
 * where the new file's owner is not already the archived one. A restore as root makes mostly root's
 * files, and on a tree of small files the chown that changed nothing and the path lookups were a
 * tenth of the restore's CPU time (perf), most of it on the writer thread that bounds it.
 */
export async function applyFileMetadata(fd: number, path: Buffer | string, entry: Entry, options: ApplyOptions): Promise<void> {
  if (options.asRoot) {
    const owner = resolveOwner(entry, options.names ?? (await systemNames()), options.numericOwner);
    // a new file is the process's, or takes a setgid directory's group: look rather than assume
    let now!: { uid: number; gid: number };
    step(path, 'read its owner', () => { now = fstatSync(fd); });
    if (now.uid !== owner.uid || now.gid !== owner.gid) step(path, `set owner to ${owner.uid}:${owner.gid}`, () => fchownSync(fd, owner.uid, owner.gid));
  }
  const mode = entry.permissions & 0o7777;
  step(path, `set permissions to ${mode.toString(8).padStart(4, '0')}`, () => fchmodSync(fd, mode));
  step(path, `set modification time to ${entry.mtime}`, () => futimesSync(fd, new Date(), new Date(entry.mtime * 1000)));
}

function step(path: Buffer | string, operation: string, action: () => void): void {
  try {
    action();
  } catch (err) {
    throw new MetadataError(path, operation, err);
  }
}

interface SpecialArgs {
  command: 'mkfifo' | 'mknod';
  rest: string[];
}

function specialArgs(path: Buffer | string, entry: Entry): SpecialArgs {
  if (entry.type === 'fifo') return { command: 'mkfifo', rest: [] };
  if (entry.type === 'chr' || entry.type === 'blk') {
    if (entry.devMajor === undefined || entry.devMinor === undefined) {
      throw new LifeboatError(`${formatPath(path)}: device entry without major/minor numbers`, {
        code: 'restore-metadata',
        exitCode: ExitCode.userError,
      });
    }
    return { command: 'mknod', rest: [entry.type === 'chr' ? 'c' : 'b', String(entry.devMajor), String(entry.devMinor)] };
  }
  throw new LifeboatError(`${formatPath(path)}: createSpecial cannot make a '${entry.type}' entry`, { code: 'internal', exitCode: ExitCode.unexpected });
}

/**
 * argv strings are UTF-8 in Node, so a name that is not cannot be passed to mkfifo/mknod. Instead the
 * parent directory is opened here and handed to the child as fd 3; it creates an ASCII temporary name
 * through /dev/fd/3, and the rename to the real bytes happens here, where paths can be Buffers.
 */
async function createViaDirectoryFd(path: Buffer, args: SpecialArgs): Promise<void> {
  const slash = path.lastIndexOf(0x2f);
  const parent = slash < 0 ? Buffer.from('.') : slash === 0 ? Buffer.from('/') : path.subarray(0, slash);
  const temporary = `.lifeboat-${process.pid}-${randomBytes(6).toString('hex')}`;
  const temporaryPath = Buffer.concat([parent, Buffer.from(`/${temporary}`)]);
  const dir = await open(parent, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await run(args.command, ['--', `/dev/fd/3/${temporary}`, ...args.rest], dir.fd);
  } finally {
    await dir.close();
  }
  try {
    await rename(temporaryPath, path);
  } catch (err) {
    await unlink(temporaryPath).catch(() => undefined);
    throw err;
  }
}

function run(command: string, args: string[], directoryFd?: number): Promise<void> {
  const stdio: StdioOptions = directoryFd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', directoryFd];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new Error(`${command} failed (${how})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

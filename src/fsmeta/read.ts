// Reads one file system object into an Entry with lstat, the way duplicity's backup sees it (spec §3).
import { constants, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { formatPath, type Entry, type EntryType } from './entry.js';
import { systemNames, type NameDatabase } from './names.js';

export interface ReadEntryOptions {
  /** defaults to the local passwd/group files (systemNames()) */
  names?: NameDatabase;
  /** told about values that were adjusted, e.g. a negative mtime stored as 0 */
  onWarning?(message: string): void;
}

export const negativeMtimeMessage = 'has negative mtime, treating as 0';

/**
 * The entry for the object at absolutePath (never following a symlink), or null for a socket, which
 * duplicity skips ("Skipping socket"). File system errors (ENOENT when it vanished, EACCES, ...) are
 * thrown as Node's own errors so the caller can tell them apart by `code`.
 */
export async function readEntry(absolutePath: Buffer | string, index: Buffer[], options: ReadEntryOptions = {}): Promise<Entry | null> {
  // numbers are exact here: the kernel's device numbers fit in 32 bits (12-bit major, 20-bit minor),
  // sizes and ids below 2^53; only the mtime loses its last nanoseconds (mtimeSeconds)
  const stats = lstatSync(absolutePath);
  return entryFromStats(absolutePath, index, stats, options);
}

/** As readEntry, for a caller that already holds the lstat result (the walk needs st_dev first). */
export async function entryFromStats(
  absolutePath: Buffer | string,
  index: Buffer[],
  stats: Stats,
  options: ReadEntryOptions = {},
): Promise<Entry | null> {
  if (typeOf(stats.mode, absolutePath) === null) return null;
  return entryFromStatsWith(absolutePath, index, stats, options.names ?? (await systemNames()), options.onWarning);
}

/** entryFromStats with the names at hand, without a promise: the walk calls it for every object. */
export function entryFromStatsWith(
  absolutePath: Buffer | string,
  index: Buffer[],
  stats: Stats,
  names: NameDatabase,
  onWarning: ((message: string) => void) | undefined,
): Entry | null {
  const type = typeOf(stats.mode, absolutePath);
  if (type === null) return null;
  const uid = stats.uid;
  const gid = stats.gid;
  const entry: Entry = {
    index,
    type,
    permissions: stats.mode & 0o7777,
    uid,
    gid,
    uname: names.userName(uid),
    gname: names.groupName(gid),
    mtime: mtimeSeconds(stats.mtimeMs, onWarning),
    size: type === 'reg' ? stats.size : 0,
  };
  if (type === 'sym') entry.linkTarget = readlinkSync(absolutePath, { encoding: 'buffer' });
  if (type === 'chr' || type === 'blk') Object.assign(entry, deviceNumbers(BigInt(stats.rdev)));
  return entry;
}

/** Linux's dev_t layout (glibc gnu_dev_major/minor): 12+20 low bits, the rest above bit 32. */
export function deviceNumbers(rdev: bigint): { devMajor: number; devMinor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { devMajor: Number(major), devMinor: Number(minor) };
}

/** The inverse of deviceNumbers (glibc gnu_dev_makedev), for tests and for comparing with st_rdev. */
export function makeDevice(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/**
 * Whole seconds, as duplicity's int(st_mtime) nearly always gives them. Python's st_mtime is a float
 * (sec + nsec * 1e-9), so duplicity rounds a time within about 120 ns below a second up to it; the
 * float milliseconds (sec * 1000 + nsec / 1e6) round up there too, where the exact nanoseconds never
 * did. The two roundings are not the same: at today's dates they differ for about 3 ns below each
 * second, and in 2004 and 2038-39, where one float's precision changes before the other's, for about
 * half of Python's band. (lstat's BigInt form, for the exact value, was a quarter of a no-change
 * backup's garbage; read.test.ts compares with Python.)
 */
function mtimeSeconds(mtimeMs: number, onWarning: ((message: string) => void) | undefined): number {
  // duplicity tests the float st_mtime for < 0, so -0.5 s is also "negative", not truncated to 0 silently
  if (mtimeMs < 0) {
    onWarning?.(negativeMtimeMessage);
    return 0;
  }
  return Math.floor(mtimeMs / 1000);
}

function typeOf(mode: number, path: Buffer | string): EntryType | null {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFREG: return 'reg';
    case constants.S_IFDIR: return 'dir';
    case constants.S_IFLNK: return 'sym';
    case constants.S_IFIFO: return 'fifo';
    case constants.S_IFCHR: return 'chr';
    case constants.S_IFBLK: return 'blk';
    case constants.S_IFSOCK: return null;
    default:
      throw new LifeboatError(`${formatPath(path)}: unknown file type (mode 0o${mode.toString(8)})`, {
        code: 'unknown-file-type',
        exitCode: ExitCode.userError,
        hint: 'exclude it from the backup',
      });
  }
}

// Tar headers for archive members from file-system entries, and back (specs §5.5, §6): every stored
// member carries the object's metadata; deletions carry fixed zero values whatever was deleted.
import type { Entry, EntryType } from '../fsmeta/entry.js';
import type { TarEntryHeader, TarEntryType } from '../tar/header.js';

const tarTypeOf: Record<EntryType, TarEntryType> = {
  reg: 'file', dir: 'directory', sym: 'symlink', fifo: 'fifo', chr: 'char', blk: 'block',
};
const entryTypeOf: Partial<Record<TarEntryType, EntryType>> = {
  file: 'reg', directory: 'dir', symlink: 'sym', fifo: 'fifo', char: 'chr', block: 'blk',
};

const EMPTY = Buffer.alloc(0);

/** The header of a member storing `entry`, whose data is `size` bytes (payload, delta or signature). */
export function headerForEntry(entry: Entry, name: Buffer, size: number): TarEntryHeader {
  return {
    name,
    type: tarTypeOf[entry.type],
    mode: entry.permissions,
    uid: entry.uid,
    gid: entry.gid,
    size,
    mtime: entry.mtime,
    linkname: entry.type === 'sym' ? entry.linkTarget ?? EMPTY : EMPTY,
    uname: entry.uname,
    gname: entry.gname,
    devmajor: entry.devMajor ?? 0,
    devminor: entry.devMinor ?? 0,
  };
}

/** duplicity's deletion marker: type '0', mode 0, ids 0, mtime 0, no names (§5.5, §13.5). */
export function deletedHeader(name: Buffer): TarEntryHeader {
  return {
    name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, linkname: EMPTY,
    uname: '', gname: '', devmajor: 0, devminor: 0,
  };
}

/** The entry a member describes; null for member types duplicity never stores (hard links, ...). */
export function entryFromHeader(header: TarEntryHeader, index: Buffer[]): Entry | null {
  const type = entryTypeOf[header.type];
  if (!type) return null;
  const entry: Entry = {
    index,
    type,
    permissions: header.mode & 0o7777,
    uid: header.uid,
    gid: header.gid,
    uname: typeof header.uname === 'string' ? header.uname : header.uname.toString('utf8'),
    gname: typeof header.gname === 'string' ? header.gname : header.gname.toString('utf8'),
    mtime: Math.max(0, header.mtime),
    size: type === 'reg' ? header.size : 0,
  };
  if (type === 'sym') entry.linkTarget = header.linkname;
  if (type === 'chr' || type === 'blk') {
    entry.devMajor = header.devmajor;
    entry.devMinor = header.devminor;
  }
  return entry;
}

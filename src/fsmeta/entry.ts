// One file system object as duplicity's archives describe it (spec §3), shared by backup, restore and verify.
import { isUtf8 } from 'node:buffer';

export type EntryType = 'reg' | 'dir' | 'sym' | 'fifo' | 'chr' | 'blk';

export interface Entry {
  /** path components below the backup root, raw bytes; `[]` is the root itself */
  index: Buffer[];
  type: EntryType;
  /** `st_mode & 0o7777`: setuid, setgid and sticky included */
  permissions: number;
  uid: number;
  gid: number;
  /** user name for uid on the machine that read the entry; '' when it has none */
  uname: string;
  /** group name for gid; '' when it has none */
  gname: string;
  /** whole seconds, fraction truncated; never negative (spec §13.11) */
  mtime: number;
  /** content length for 'reg'; 0 for every other type, as tar headers carry it */
  size: number;
  /** raw target bytes, only for 'sym' (targets need not be valid UTF-8) */
  linkTarget?: Buffer;
  /** only for 'chr' and 'blk' */
  devMajor?: number;
  devMinor?: number;
}

/**
 * duplicity's one order (spec §5.6): indexes are tuples compared component by component as unsigned
 * bytes, a proper prefix first. Joining with '/' and comparing strings would put `a-b` before `a/b`,
 * and restore merges sets assuming this order, so no other comparison may be used for entries.
 */
export function compareIndex(a: readonly Buffer[], b: readonly Buffer[]): -1 | 0 | 1 {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    const c = compareBytes(a[i], b[i]);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Buffer.compare's order (unsigned bytes, a proper prefix first) as a sign: a loop here, since path
 * components are a few bytes and the call into Buffer.compare cost four times as much (a backup
 * compares every walked object with the previous state's).
 */
function compareBytes(x: Buffer, y: Buffer): number {
  if (x === y) return 0;
  const n = x.length < y.length ? x.length : y.length;
  for (let i = 0; i < n; i++) {
    const d = x[i] - y[i];
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The absolute path of an index below root, as bytes so names that are not UTF-8 survive. */
export function pathOfIndex(root: Buffer | string, index: readonly Buffer[]): Buffer {
  const base = typeof root === 'string' ? Buffer.from(root) : root;
  if (index.length === 0) return base;
  const parts: Buffer[] = [base];
  const slash = Buffer.from('/');
  if (base.length === 0 || base[base.length - 1] !== 0x2f) parts.push(slash);
  index.forEach((component, i) => {
    if (i > 0) parts.push(slash);
    parts.push(component);
  });
  return Buffer.concat(parts);
}

/**
 * A path for messages: valid UTF-8 as is, every byte that is not part of a valid sequence as `\xHH`,
 * so the user can tell which byte is odd (plain toString would print U+FFFD for any of them).
 */
export function formatPath(path: Buffer | string): string {
  if (typeof path === 'string') return path;
  if (isUtf8(path)) return path.toString('utf8');
  let out = '';
  let i = 0;
  while (i < path.length) {
    const lead = path[i];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    const sequence = length > 0 ? path.subarray(i, i + length) : undefined;
    if (sequence && sequence.length === length && isUtf8(sequence)) {
      out += sequence.toString('utf8');
      i += length;
    } else {
      out += `\\x${lead.toString(16).toUpperCase().padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

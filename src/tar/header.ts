// Tar member headers: the bytes CPython 3.11 tarfile (PAX_FORMAT, as duplicity 0.8 uses it) writes, and the ustar block decoded.
//
// Written by hand rather than on tar-stream: tar-stream turns names into JS strings (invalid UTF-8 is lost),
// formats numbers its own way (not CPython's "0000644\0"), never emits hdrcharset=BINARY, and skips zero
// blocks instead of stopping at the first one, so it can neither write duplicity's exact bytes nor read gpg
// volumes with junk after the footer.
import { isAscii } from 'node:buffer';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { asciiReplaced, octalLimit, readNumber, readString, writeOctal, writeString } from './fields.js';
import { encodePaxRecords, ownerName, type PaxRecord } from './pax.js';

export const BLOCK_SIZE = 512;

/** Types a member can have; 'other' is any typeflag this codec does not name (its body is still framed). */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'hardlink' | 'other';

export interface TarEntryHeader {
  /** full member name as raw bytes, e.g. `snapshot/dir1/a.txt`; directories as stored (usually with '/') */
  name: Buffer;
  type: TarEntryType;
  /** permission bits including setuid/setgid/sticky (only `& 0o7777` is stored) */
  mode: number;
  uid: number;
  gid: number;
  /** bytes of data that follow the header */
  size: number;
  /** integer seconds; any safe integer (outside 0…8^11-1 it travels in a pax record) */
  mtime: number;
  /** symlink or hard-link target, raw bytes; empty otherwise */
  linkname: Buffer;
  /** owner names; a string is written as UTF-8, a Buffer as is (the reader gives a Buffer only for non-UTF-8) */
  uname: string | Buffer;
  gname: string | Buffer;
  /** only written for 'char' and 'block' */
  devmajor: number;
  devminor: number;
}

export const TYPEFLAG = {
  file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, directory: 0x35, fifo: 0x36,
  contiguous: 0x37, oldFile: 0x00, paxExtended: 0x78, paxGlobal: 0x67, solarisExtended: 0x58,
  gnuLongName: 0x4c, gnuLongLink: 0x4b, gnuSparse: 0x53,
} as const;

const FLAG_OF_TYPE: Record<TarEntryType, number | undefined> = {
  file: TYPEFLAG.file, hardlink: TYPEFLAG.hardlink, symlink: TYPEFLAG.symlink, char: TYPEFLAG.char,
  block: TYPEFLAG.block, directory: TYPEFLAG.directory, fifo: TYPEFLAG.fifo, other: undefined,
};

/** Maps a typeflag byte to a type; CPython treats '\0' (old tars) and '7' (contiguous) as regular files. */
export function typeOfFlag(flag: number): TarEntryType {
  switch (flag) {
    case TYPEFLAG.file: case TYPEFLAG.oldFile: case TYPEFLAG.contiguous: return 'file';
    case TYPEFLAG.hardlink: return 'hardlink';
    case TYPEFLAG.symlink: return 'symlink';
    case TYPEFLAG.char: return 'char';
    case TYPEFLAG.block: return 'block';
    case TYPEFLAG.directory: return 'directory';
    case TYPEFLAG.fifo: return 'fifo';
    default: return 'other';
  }
}

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');
const PAX_HEADER_NAME = Buffer.from('././@PaxHeader', 'latin1');
const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/**
 * The bytes CPython 3.11 `TarInfo.tobuf(PAX_FORMAT)` gives for this header: an optional pax 'x' header
 * with its records, then the ustar block. Mirrors CPython in every detail, including appending '/' to a
 * directory name and writing each non-ASCII character as '?' in ustar fields that a pax record carries.
 * Throws RangeError for what CPython cannot write either (device numbers above 8^7-1, NUL in a name).
 */
export function encodeHeader(h: TarEntryHeader): Buffer {
  const typeflag = FLAG_OF_TYPE[h.type];
  if (typeflag === undefined) throw new RangeError(`cannot encode a tar member of type '${h.type}'`);
  checkInteger('mode', h.mode);
  const name = h.type === 'directory' && h.name[h.name.length - 1] !== 0x2f ? Buffer.concat([h.name, SLASH]) : h.name;
  const uname = ownerBytes(h.uname);
  const gname = ownerBytes(h.gname);

  // Same checks in the same order as CPython's create_pax_header(); that order is the record order.
  const records: PaxRecord[] = [];
  stringField('path', name, 100, records);
  stringField('linkpath', h.linkname, 100, records);
  stringField('uname', uname, 32, records);
  stringField('gname', gname, 32, records);
  if (h.size < 0) throw new RangeError(`tar size must not be negative (${h.size})`);
  const uid = numberField('uid', h.uid, OCTAL_7, records);
  const gid = numberField('gid', h.gid, OCTAL_7, records);
  const size = numberField('size', h.size, OCTAL_11, records);
  const mtime = numberField('mtime', h.mtime, OCTAL_11, records);
  const device = typeflag === TYPEFLAG.char || typeflag === TYPEFLAG.block;
  if (device) {
    checkDevice('devmajor', h.devmajor);
    checkDevice('devminor', h.devminor);
  }

  if (records.length === 0) {
    const out = allocZeroed(BLOCK_SIZE);
    writeBlock(out, 0, name, h.mode & 0o7777, uid, gid, size, mtime, typeflag, h.linkname, uname, gname, device ? h : undefined);
    return out;
  }
  const paxData = encodePaxRecords(records);
  const paxBlocks = 1 + Math.ceil(paxData.length / BLOCK_SIZE);
  const out = allocZeroed((paxBlocks + 1) * BLOCK_SIZE);
  writeBlock(out, 0, PAX_HEADER_NAME, 0, 0, 0, paxData.length, 0, TYPEFLAG.paxExtended, EMPTY, EMPTY, EMPTY, undefined);
  out.set(paxData, BLOCK_SIZE);
  // With a pax header CPython writes every ustar string as ASCII with errors='replace'.
  writeBlock(out, paxBlocks * BLOCK_SIZE, asciiReplaced(name), h.mode & 0o7777, uid, gid, size, mtime, typeflag,
    asciiReplaced(h.linkname), asciiReplaced(uname), asciiReplaced(gname), device ? h : undefined);
  return out;
}

const OCTAL_7 = octalLimit(8);
const OCTAL_11 = octalLimit(12);

function stringField(keyword: string, value: Buffer, length: number, records: PaxRecord[]): void {
  if (value.includes(0)) throw new RangeError(`tar ${keyword} contains a NUL byte`);
  if (value.length > length || !isAscii(value)) records.push({ keyword, value });
}

/** The value for the ustar field: itself if it fits, else 0 and a pax record with the decimal value. */
function numberField(keyword: string, value: number, limit: number, records: PaxRecord[]): number {
  checkInteger(keyword, value);
  if (value >= 0 && value <= limit) return value;
  records.push({ keyword, value: Buffer.from(String(value), 'latin1') });
  return 0;
}

function checkInteger(what: string, n: number): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`tar ${what} must be a safe integer (got ${n})`);
}

function checkDevice(what: string, n: number): void {
  checkInteger(what, n);
  if (n < 0 || n > OCTAL_7) throw new RangeError(`tar ${what} ${n} does not fit (0…${OCTAL_7})`);
}

// Owner names repeat on every header; converting 'root' afresh each time is measurable on the hot path.
const ownerCache = new Map<string, Buffer>();

function ownerBytes(value: string | Buffer): Buffer {
  if (typeof value !== 'string') return value;
  let bytes = ownerCache.get(value);
  if (bytes === undefined) {
    if (ownerCache.size >= 256) ownerCache.clear();
    bytes = Buffer.from(value, 'utf8');
    ownerCache.set(value, bytes);
  }
  return bytes;
}

// Headers are small and made by the hundred thousand: carve them out of zeroed slabs instead of
// allocating (and zeroing) an ArrayBuffer per header.
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.alloc(SLAB_SIZE);
let slabUsed = 0;

function allocZeroed(n: number): Buffer {
  if (n > SLAB_SIZE / 8) return Buffer.alloc(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = Buffer.alloc(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return out;
}

function writeBlock(out: Buffer, at: number, name: Buffer, mode: number, uid: number, gid: number, size: number,
  mtime: number, typeflag: number, linkname: Buffer, uname: Buffer, gname: Buffer, device: TarEntryHeader | undefined): void {
  writeString(out, at, 100, name);
  writeOctal(out, at + 100, 8, mode);
  writeOctal(out, at + 108, 8, uid);
  writeOctal(out, at + 116, 8, gid);
  writeOctal(out, at + 124, 12, size);
  writeOctal(out, at + 136, 12, mtime);
  for (let i = at + 148; i < at + 156; i++) out[i] = 0x20;
  out[at + 156] = typeflag;
  writeString(out, at + 157, 100, linkname);
  out.set(USTAR_MAGIC, at + 257);
  writeString(out, at + 265, 32, uname);
  writeString(out, at + 297, 32, gname);
  if (device) {
    writeOctal(out, at + 329, 8, device.devmajor);
    writeOctal(out, at + 337, 8, device.devminor);
  }
  // With the checksum field still spaces, the byte sum is the checksum; only the written parts can be
  // non-zero. CPython writes "%06o\0" over the first 7 of the 8 spaces; the 8th space stays.
  const sum = byteSum(out, at, at + Math.min(name.length, 100)) + byteSum(out, at + 100, at + 157) +
    byteSum(out, at + 157, at + 157 + Math.min(linkname.length, 100)) + byteSum(out, at + 257, at + 265) +
    byteSum(out, at + 265, at + 265 + Math.min(uname.length, 32)) + byteSum(out, at + 297, at + 297 + Math.min(gname.length, 32)) +
    (device ? byteSum(out, at + 329, at + 345) : 0);
  writeOctal(out, at + 148, 7, sum);
}

function byteSum(b: Buffer, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += b[i];
  return sum;
}

/** Header checksums with the checksum field counted as spaces; old tars used signed bytes, so both are accepted. */
function checksums(block: Buffer): { unsigned: number; signed: number } {
  let sum = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i === 148) i += 8;
    const b = block[i];
    sum += b;
    if (b >= 0x80) high++;
  }
  return { unsigned: sum, signed: sum - 256 * high };
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

/** True for an all-zero 512-byte block, which ends a tar stream. */
export function isZeroBlock(block: Buffer): boolean {
  return block.length === BLOCK_SIZE && block.equals(ZERO_BLOCK);
}

/** One ustar block decoded: the fields as stored, plus the raw typeflag. */
export interface DecodedBlock {
  header: TarEntryHeader;
  typeflag: number;
}

/**
 * Decodes one 512-byte header block after checking its checksum. The ustar `prefix` field is joined to
 * the name (except for GNU-magic headers, which keep other data there); pax and GNU long-name headers are
 * returned as they are, for the reader to apply. `offset` (of the block in the tar stream) is for errors.
 */
export function decodeHeader(block: Buffer, offset = 0): DecodedBlock {
  if (block.length !== BLOCK_SIZE) {
    throw new IntegrityError(`tar header at offset ${offset} is ${block.length} bytes, not ${BLOCK_SIZE}`, { offset });
  }
  const stored = readNumber(block, 148, 8, 'checksum', offset);
  const sums = checksums(block);
  if (stored !== sums.unsigned && stored !== sums.signed) {
    throw new IntegrityError(`bad tar header checksum at offset ${offset} (stored ${stored}, computed ${sums.unsigned})`, { offset });
  }
  const typeflag = block[156];
  let name = readString(block, 0, 100);
  const isGnu = block.subarray(257, 265).equals(GNU_MAGIC);
  if (!isGnu && typeflag !== TYPEFLAG.gnuLongName && typeflag !== TYPEFLAG.gnuLongLink && block[345] !== 0) {
    name = Buffer.concat([readString(block, 345, 155), SLASH, name]);
  }
  let type = typeOfFlag(typeflag);
  // Old V7 tars mark directories only by the trailing slash.
  if (typeflag === TYPEFLAG.oldFile && name[name.length - 1] === 0x2f) type = 'directory';
  const header: TarEntryHeader = {
    name,
    type,
    // Some tars store the file-type bits too; only permissions are meaningful here.
    mode: readNumber(block, 100, 8, 'mode', offset) & 0o7777,
    uid: readNumber(block, 108, 8, 'uid', offset),
    gid: readNumber(block, 116, 8, 'gid', offset),
    size: readNumber(block, 124, 12, 'size', offset),
    mtime: readNumber(block, 136, 12, 'mtime', offset),
    linkname: readString(block, 157, 100),
    uname: ownerName(readString(block, 265, 32)),
    gname: ownerName(readString(block, 297, 32)),
    devmajor: readNumber(block, 329, 8, 'devmajor', offset),
    devminor: readNumber(block, 337, 8, 'devminor', offset),
  };
  return { header, typeflag };
}

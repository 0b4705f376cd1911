// Pax extended-header records ("<len> <keyword>=<value>\n"), written and read as CPython 3.11 tarfile does.
import { isUtf8 } from 'node:buffer';
import { IntegrityError } from '../errors/lifeboat-error.js';

/** One record; the value is raw bytes because names may be any bytes (hdrcharset=BINARY). */
export interface PaxRecord {
  keyword: string;
  value: Buffer;
}

/** The header fields a pax 'x' header can override, already interpreted. */
export interface PaxOverrides {
  path?: Buffer;
  linkpath?: Buffer;
  uname?: string | Buffer;
  gname?: string | Buffer;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
}

const HDRCHARSET_BINARY = Buffer.from('21 hdrcharset=BINARY\n', 'latin1');

/**
 * Serialises records in the given order. Like CPython, when any value is not valid UTF-8 the block
 * starts with `hdrcharset=BINARY` and every value is written as its raw bytes (which is what CPython's
 * surrogateescape round trip yields for the UTF-8 values too).
 */
export function encodePaxRecords(records: readonly PaxRecord[]): Buffer {
  const parts: Buffer[] = [];
  if (records.some((r) => !isUtf8(r.value))) parts.push(HDRCHARSET_BINARY);
  for (const { keyword, value } of records) {
    const key = Buffer.from(keyword, 'utf8');
    const length = paxRecordLength(key.length, value.length);
    parts.push(Buffer.from(`${length} `, 'latin1'), key, EQUALS, value, NEWLINE);
  }
  return Buffer.concat(parts);
}

const EQUALS = Buffer.from('=');
const NEWLINE = Buffer.from('\n');

/**
 * The record length counts its own decimal digits; CPython iterates until the number is stable, which
 * can skip a value (a record is never 100 bytes long when 98 bytes are not the length).
 */
export function paxRecordLength(keywordLength: number, valueLength: number): number {
  const l = keywordLength + valueLength + 3;
  let p = 0;
  for (;;) {
    const n = l + String(p).length;
    if (n === p) return p;
    p = n;
  }
}

/**
 * Parses the data of an 'x' or 'g' header with CPython's framing checks: records until the data ends or a
 * NUL byte starts the padding. Values are copied out of `data`. `offset` (of the data in the tar stream) is
 * only for error messages.
 */
export function decodePaxRecords(data: Buffer, offset = 0): PaxRecord[] {
  const records: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    let digits = pos;
    while (digits < data.length && digits - pos < 20 && data[digits] >= 0x30 && data[digits] <= 0x39) digits++;
    if (digits === pos || data[digits] !== 0x20) throw badRecord(offset + pos, 'no length');
    const length = parseInt(data.toString('latin1', pos, digits), 10);
    const end = pos + length - 1; // the newline
    if (length < 5 || pos + length > data.length || end <= digits || data[end] !== 0x0a) {
      throw badRecord(offset + pos, `bad length ${length}`);
    }
    const equals = data.indexOf(0x3d, digits + 1);
    if (equals === -1 || equals >= end || equals === digits + 1) throw badRecord(offset + pos, 'no keyword');
    records.push({
      keyword: data.toString('utf8', digits + 1, equals),
      value: Buffer.from(data.subarray(equals + 1, end)),
    });
    pos += length;
  }
  return records;
}

function badRecord(offset: number, why: string): IntegrityError {
  return new IntegrityError(`invalid pax record at offset ${offset}: ${why}`, { offset });
}

/**
 * Interprets the records that override header fields; later records win, as in CPython's dict. Names stay
 * raw bytes whatever hdrcharset says; owner names become strings when they are valid UTF-8. GNU sparse
 * records are refused: duplicity never writes sparse members and reading them as plain data would be wrong.
 */
export function paxOverrides(records: readonly PaxRecord[], offset = 0): PaxOverrides {
  const o: PaxOverrides = {};
  for (const { keyword, value } of records) {
    switch (keyword) {
      case 'path': o.path = value; break;
      case 'linkpath': o.linkpath = value; break;
      case 'uname': o.uname = ownerName(value); break;
      case 'gname': o.gname = ownerName(value); break;
      case 'uid': o.uid = paxInteger(value) ?? 0; break;
      case 'gid': o.gid = paxInteger(value) ?? 0; break;
      case 'mtime': o.mtime = paxTime(value) ?? 0; break;
      case 'size': {
        // Unlike CPython (which takes 0), a bad size is fatal: the rest of the stream depends on it.
        const size = paxInteger(value);
        if (size === undefined || size < 0) throw badRecord(offset, `size=${value.toString('latin1')}`);
        o.size = size;
        break;
      }
      default:
        if (keyword.startsWith('GNU.sparse.')) {
          throw new IntegrityError(`GNU sparse tar member at offset ${offset} is not supported`, {
            offset,
            hint: 'duplicity never writes sparse members; this is not a duplicity volume',
          });
        }
    }
  }
  return o;
}

/** Owner names as strings when they are UTF-8 (always, in practice), else the raw bytes. */
export function ownerName(value: Buffer): string | Buffer {
  return isUtf8(value) ? value.toString('utf8') : value;
}

function paxInteger(value: Buffer): number | undefined {
  const text = value.toString('latin1').trim();
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

// CPython reads mtime as a float and duplicity truncates it with int().
function paxTime(value: Buffer): number | undefined {
  const text = value.toString('latin1').trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const n = Math.trunc(Number(text));
  return Number.isSafeInteger(n) ? n : undefined;
}

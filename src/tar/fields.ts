// Field codecs of the 512-byte tar header: octal and base-256 numbers, NUL-padded byte strings, and the
// ASCII-with-'?' rendering CPython's pax writer puts in the ustar fields.
import { isAscii } from 'node:buffer';
import { IntegrityError } from '../errors/lifeboat-error.js';

/** Writes `value` as (length - 1) octal digits and a NUL, as CPython's itn() does; the caller checks the range. */
export function writeOctal(target: Buffer, start: number, length: number, value: number): void {
  // Digit by digit, right to left: no string per field on the hot path. Values exceed 2^32, so no bit ops.
  let n = value;
  for (let i = start + length - 2; i >= start; i--) {
    target[i] = 0x30 + (n % 8);
    n = Math.floor(n / 8);
  }
  target[start + length - 1] = 0;
}

/** Largest value an octal field of `length` bytes holds (8^(length-1) - 1). */
export function octalLimit(length: number): number {
  return 8 ** (length - 1) - 1;
}

/**
 * Reads a number field the way CPython's nti() does: octal digits up to the first NUL, surrounded by
 * optional whitespace (empty means 0), or GNU base-256 when the first byte is 0x80 (positive) or 0xff
 * (negative). Other tars wrote base-256 for large uids and mtimes, so the reader must accept it.
 */
export function readNumber(block: Buffer, start: number, length: number, what: string, offset: number): number {
  const first = block[start];
  if (first === 0x80 || first === 0xff) return readBase256(block, start, length, what, offset);
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  const text = block.toString('latin1', start, end).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new IntegrityError(`tar header at offset ${offset}: ${what} field is not an octal number (${JSON.stringify(text)})`, { offset });
  }
  return parseInt(text, 8);
}

function readBase256(block: Buffer, start: number, length: number, what: string, offset: number): number {
  let n = 0n;
  for (let i = start + 1; i < start + length; i++) n = (n << 8n) | BigInt(block[i]);
  if (block[start] === 0xff) n -= 1n << BigInt(8 * (length - 1));
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new IntegrityError(`tar header at offset ${offset}: ${what} field ${n} is too large`, { offset });
  }
  return Number(n);
}

/** The bytes of a NUL-terminated field, copied so that the caller does not pin the input chunk. */
export function readString(block: Buffer, start: number, length: number): Buffer {
  const nul = block.indexOf(0, start);
  const end = nul === -1 || nul > start + length ? start + length : nul;
  return Buffer.from(block.subarray(start, end));
}

/** Copies `value` into a zero-filled field, truncated to the field's length as CPython's stn() does. */
export function writeString(target: Buffer, start: number, length: number, value: Buffer): void {
  target.set(value.length > length ? value.subarray(0, length) : value, start);
}

/**
 * What CPython writes into a ustar string field next to a pax header: the value decoded as UTF-8 with
 * surrogate escapes, then encoded as ASCII with errors='replace'. So every valid multi-byte character
 * becomes one '?', and so does every byte that is not part of a valid sequence.
 */
export function asciiReplaced(value: Buffer): Buffer {
  if (isAscii(value)) return value;
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; ) {
    if (value[i] < 0x80) {
      out[n++] = value[i++];
    } else {
      out[n++] = 0x3f;
      i += utf8SequenceLength(value, i) || 1;
    }
  }
  return out.subarray(0, n);
}

/** Length of the well-formed UTF-8 sequence at `i` (strict, as Python decodes), or 0 if there is none. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  if (c < 0xc2 || c > 0xf4) return 0;
  if (c < 0xe0) return isTail(b, i + 1, 0x80, 0xbf) ? 2 : 0;
  if (c < 0xf0) {
    // E0 excludes overlongs, ED excludes the UTF-16 surrogates.
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return isTail(b, i + 1, lo, hi) && isTail(b, i + 2, 0x80, 0xbf) ? 3 : 0;
  }
  // F0 excludes overlongs, F4 caps at U+10FFFF.
  const lo = c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xf4 ? 0x8f : 0xbf;
  return isTail(b, i + 1, lo, hi) && isTail(b, i + 2, 0x80, 0xbf) && isTail(b, i + 3, 0x80, 0xbf) ? 4 : 0;
}

function isTail(b: Buffer, i: number, lo: number, hi: number): boolean {
  return i < b.length && b[i] >= lo && b[i] <= hi;
}

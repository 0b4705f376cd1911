// librsync's "rollsum" weak checksum (a variant of Adler-32 with CHAR_OFFSET 31), specs §7.2.
// The rolling form lives inline in delta.ts, where it runs once per input byte.
import { LITTLE_ENDIAN, wordsOf } from './words.js';

export const CHAR_OFFSET = 31;

/** The weak sum of data[offset, offset+length) as librsync computes it: (s2 << 16) | s1. */
export function rollsum(data: Uint8Array, offset: number, length: number): number {
  let s1 = 0, s2 = 0;
  const end = offset + length;
  let i = offset;
  const at = data.byteOffset + offset;
  if (LITTLE_ENDIAN && (at & 3) === 0) {
    // a word a step (a signature's blocks are aligned): bytes a, b, c, d of each word summed in
    // 16-bit lanes, s1 += a+b+c+d and s2 += 4·s1 + 4a+3b+2c+d = 4·s1 + 3(a+b) + a + (c+d) + c; about
    // a third faster than four byte loads
    const w = wordsOf(data);
    for (let q = at >> 2, qEnd = q + (length >> 2); q < qEnd; q++) {
      const v = w[q];
      const ac = v & 0x00ff00ff;
      const pairs = ac + ((v >>> 8) & 0x00ff00ff);
      const ab = pairs & 0xffff, cd = pairs >>> 16;
      s2 = (s2 + 4 * s1 + 3 * ab + (ac & 0xffff) + cd + (ac >>> 16)) | 0;
      s1 = (s1 + ab + cd) | 0;
    }
    i += length & ~3;
  }
  // four bytes a step; only the low 16 bits are kept, so int32 wrap-around is harmless
  for (; i + 4 <= end; i += 4) {
    const a = data[i], b = data[i + 1], c = data[i + 2], d = data[i + 3];
    s2 = (s2 + 4 * s1 + 4 * a + 3 * b + 2 * c + d) | 0;
    s1 = (s1 + a + b + c + d) | 0;
  }
  for (; i < end; i++) {
    s1 = (s1 + data[i]) | 0;
    s2 = (s2 + s1) | 0;
  }
  // the CHAR_OFFSET terms in closed form: s1 += 31n, s2 += 31·n(n+1)/2 (mod 2^16)
  s1 += length * CHAR_OFFSET;
  s2 += length < 1 << 26
    ? (CHAR_OFFSET * length * (length + 1)) / 2 % 65536
    : Number((31n * BigInt(length) * BigInt(length + 1) / 2n) % 65536n);
  return (((s2 & 0xffff) << 16) | (s1 & 0xffff)) >>> 0;
}

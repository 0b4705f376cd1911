// librsync's "rollsum" weak checksum (a variant of Adler-32 with CHAR_OFFSET 31), specs §7.2.
// The rolling form lives inline in delta.ts, where it runs once per input byte.

export const CHAR_OFFSET = 31;

/** The weak sum of data[offset, offset+length) as librsync computes it: (s2 << 16) | s1. */
export function rollsum(data: Uint8Array, offset: number, length: number): number {
  let s1 = 0, s2 = 0;
  const end = offset + length;
  let i = offset;
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

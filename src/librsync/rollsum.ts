// librsync's "rollsum" weak checksum (a variant of Adler-32 with CHAR_OFFSET 31), specs §7.2.
// The rolling form lives inline in delta.ts, where it runs once per input byte.

export const CHAR_OFFSET = 31;

/** The weak sum of data[offset, offset+length) as librsync computes it: (s2 << 16) | s1. */
export function rollsum(data: Uint8Array, offset: number, length: number): number {
  let s1 = 0, s2 = 0;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    s1 += data[i];
    s2 += s1;
  }
  // the CHAR_OFFSET terms, summed in closed form: s1 += n*31, s2 += 31*n(n+1)/2
  s1 += length * CHAR_OFFSET;
  s2 += (CHAR_OFFSET * length * (length + 1)) / 2;
  return (((s2 & 0xffff) << 16) | (s1 & 0xffff)) >>> 0;
}

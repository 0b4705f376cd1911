// MD4 (RFC 1320), the strong sum of duplicity's signatures. Node 20's OpenSSL 3 refuses "md4", so it
// lives here. Written for speed: it hashes a slice of a caller's buffer in place, with no allocation
// per call, because signatures and deltas call it once per block. The 48 steps are unrolled with the
// message words and the state in locals (generated; RFC 1320 §3.4 gives the step table): this made it
// about a third faster than reading the words from a shared Int32Array (bench/README.md).

const tail = new Uint8Array(128);
const state = new Int32Array(4);

/** Runs the compression function over the 64-byte groups data[p, end). */
function compressBlocks(data: Uint8Array, p: number, end: number): void {
  let a = state[0], b = state[1], c = state[2], d = state[3];
  for (; p + 64 <= end; p += 64) {
    const x0 = data[p + 0] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24);
    const x1 = data[p + 4] | (data[p + 5] << 8) | (data[p + 6] << 16) | (data[p + 7] << 24);
    const x2 = data[p + 8] | (data[p + 9] << 8) | (data[p + 10] << 16) | (data[p + 11] << 24);
    const x3 = data[p + 12] | (data[p + 13] << 8) | (data[p + 14] << 16) | (data[p + 15] << 24);
    const x4 = data[p + 16] | (data[p + 17] << 8) | (data[p + 18] << 16) | (data[p + 19] << 24);
    const x5 = data[p + 20] | (data[p + 21] << 8) | (data[p + 22] << 16) | (data[p + 23] << 24);
    const x6 = data[p + 24] | (data[p + 25] << 8) | (data[p + 26] << 16) | (data[p + 27] << 24);
    const x7 = data[p + 28] | (data[p + 29] << 8) | (data[p + 30] << 16) | (data[p + 31] << 24);
    const x8 = data[p + 32] | (data[p + 33] << 8) | (data[p + 34] << 16) | (data[p + 35] << 24);
    const x9 = data[p + 36] | (data[p + 37] << 8) | (data[p + 38] << 16) | (data[p + 39] << 24);
    const x10 = data[p + 40] | (data[p + 41] << 8) | (data[p + 42] << 16) | (data[p + 43] << 24);
    const x11 = data[p + 44] | (data[p + 45] << 8) | (data[p + 46] << 16) | (data[p + 47] << 24);
    const x12 = data[p + 48] | (data[p + 49] << 8) | (data[p + 50] << 16) | (data[p + 51] << 24);
    const x13 = data[p + 52] | (data[p + 53] << 8) | (data[p + 54] << 16) | (data[p + 55] << 24);
    const x14 = data[p + 56] | (data[p + 57] << 8) | (data[p + 58] << 16) | (data[p + 59] << 24);
    const x15 = data[p + 60] | (data[p + 61] << 8) | (data[p + 62] << 16) | (data[p + 63] << 24);
    const a0 = a, b0 = b, c0 = c, d0 = d;
    a = a + ((b & c) | (~b & d)) + x0 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (~a & c)) + x1 | 0; d = (d << 7) | (d >>> 25);
    c = c + ((d & a) | (~d & b)) + x2 | 0; c = (c << 11) | (c >>> 21);
    b = b + ((c & d) | (~c & a)) + x3 | 0; b = (b << 19) | (b >>> 13);
    a = a + ((b & c) | (~b & d)) + x4 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (~a & c)) + x5 | 0; d = (d << 7) | (d >>> 25);
    c = c + ((d & a) | (~d & b)) + x6 | 0; c = (c << 11) | (c >>> 21);
    b = b + ((c & d) | (~c & a)) + x7 | 0; b = (b << 19) | (b >>> 13);
    a = a + ((b & c) | (~b & d)) + x8 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (~a & c)) + x9 | 0; d = (d << 7) | (d >>> 25);
    c = c + ((d & a) | (~d & b)) + x10 | 0; c = (c << 11) | (c >>> 21);
    b = b + ((c & d) | (~c & a)) + x11 | 0; b = (b << 19) | (b >>> 13);
    a = a + ((b & c) | (~b & d)) + x12 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (~a & c)) + x13 | 0; d = (d << 7) | (d >>> 25);
    c = c + ((d & a) | (~d & b)) + x14 | 0; c = (c << 11) | (c >>> 21);
    b = b + ((c & d) | (~c & a)) + x15 | 0; b = (b << 19) | (b >>> 13);
    a = a + ((b & c) | (b & d) | (c & d)) + x0 + 0x5a827999 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (a & c) | (b & c)) + x4 + 0x5a827999 | 0; d = (d << 5) | (d >>> 27);
    c = c + ((d & a) | (d & b) | (a & b)) + x8 + 0x5a827999 | 0; c = (c << 9) | (c >>> 23);
    b = b + ((c & d) | (c & a) | (d & a)) + x12 + 0x5a827999 | 0; b = (b << 13) | (b >>> 19);
    a = a + ((b & c) | (b & d) | (c & d)) + x1 + 0x5a827999 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (a & c) | (b & c)) + x5 + 0x5a827999 | 0; d = (d << 5) | (d >>> 27);
    c = c + ((d & a) | (d & b) | (a & b)) + x9 + 0x5a827999 | 0; c = (c << 9) | (c >>> 23);
    b = b + ((c & d) | (c & a) | (d & a)) + x13 + 0x5a827999 | 0; b = (b << 13) | (b >>> 19);
    a = a + ((b & c) | (b & d) | (c & d)) + x2 + 0x5a827999 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (a & c) | (b & c)) + x6 + 0x5a827999 | 0; d = (d << 5) | (d >>> 27);
    c = c + ((d & a) | (d & b) | (a & b)) + x10 + 0x5a827999 | 0; c = (c << 9) | (c >>> 23);
    b = b + ((c & d) | (c & a) | (d & a)) + x14 + 0x5a827999 | 0; b = (b << 13) | (b >>> 19);
    a = a + ((b & c) | (b & d) | (c & d)) + x3 + 0x5a827999 | 0; a = (a << 3) | (a >>> 29);
    d = d + ((a & b) | (a & c) | (b & c)) + x7 + 0x5a827999 | 0; d = (d << 5) | (d >>> 27);
    c = c + ((d & a) | (d & b) | (a & b)) + x11 + 0x5a827999 | 0; c = (c << 9) | (c >>> 23);
    b = b + ((c & d) | (c & a) | (d & a)) + x15 + 0x5a827999 | 0; b = (b << 13) | (b >>> 19);
    a = a + (b ^ c ^ d) + x0 + 0x6ed9eba1 | 0; a = (a << 3) | (a >>> 29);
    d = d + (a ^ b ^ c) + x8 + 0x6ed9eba1 | 0; d = (d << 9) | (d >>> 23);
    c = c + (d ^ a ^ b) + x4 + 0x6ed9eba1 | 0; c = (c << 11) | (c >>> 21);
    b = b + (c ^ d ^ a) + x12 + 0x6ed9eba1 | 0; b = (b << 15) | (b >>> 17);
    a = a + (b ^ c ^ d) + x2 + 0x6ed9eba1 | 0; a = (a << 3) | (a >>> 29);
    d = d + (a ^ b ^ c) + x10 + 0x6ed9eba1 | 0; d = (d << 9) | (d >>> 23);
    c = c + (d ^ a ^ b) + x6 + 0x6ed9eba1 | 0; c = (c << 11) | (c >>> 21);
    b = b + (c ^ d ^ a) + x14 + 0x6ed9eba1 | 0; b = (b << 15) | (b >>> 17);
    a = a + (b ^ c ^ d) + x1 + 0x6ed9eba1 | 0; a = (a << 3) | (a >>> 29);
    d = d + (a ^ b ^ c) + x9 + 0x6ed9eba1 | 0; d = (d << 9) | (d >>> 23);
    c = c + (d ^ a ^ b) + x5 + 0x6ed9eba1 | 0; c = (c << 11) | (c >>> 21);
    b = b + (c ^ d ^ a) + x13 + 0x6ed9eba1 | 0; b = (b << 15) | (b >>> 17);
    a = a + (b ^ c ^ d) + x3 + 0x6ed9eba1 | 0; a = (a << 3) | (a >>> 29);
    d = d + (a ^ b ^ c) + x11 + 0x6ed9eba1 | 0; d = (d << 9) | (d >>> 23);
    c = c + (d ^ a ^ b) + x7 + 0x6ed9eba1 | 0; c = (c << 11) | (c >>> 21);
    b = b + (c ^ d ^ a) + x15 + 0x6ed9eba1 | 0; b = (b << 15) | (b >>> 17);
    a = a + a0 | 0; b = b + b0 | 0; c = c + c0 | 0; d = d + d0 | 0;
  }
  state[0] = a; state[1] = b; state[2] = c; state[3] = d;
}

/**
 * Writes the first `outLength` (1..16) bytes of MD4(data[offset, offset+length)) to out[outOffset...].
 */
export function md4Into(
  data: Uint8Array, offset: number, length: number,
  out: Uint8Array, outOffset: number, outLength = 16,
): void {
  state[0] = 0x67452301; state[1] = 0xefcdab89 | 0; state[2] = 0x98badcfe | 0; state[3] = 0x10325476;
  const end = offset + length;
  const whole = offset + (length & ~63);
  compressBlocks(data, offset, whole);
  // padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian
  const rest = end - whole;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = data[whole + i];
  tail[rest] = 0x80;
  const tailLength = rest < 56 ? 64 : 128;
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000) >>> 0;
  const q = tailLength - 8;
  tail[q] = bitsLow; tail[q + 1] = bitsLow >>> 8; tail[q + 2] = bitsLow >>> 16; tail[q + 3] = bitsLow >>> 24;
  tail[q + 4] = bitsHigh; tail[q + 5] = bitsHigh >>> 8; tail[q + 6] = bitsHigh >>> 16; tail[q + 7] = bitsHigh >>> 24;
  compressBlocks(tail, 0, tailLength);
  for (let i = 0; i < outLength; i++) out[outOffset + i] = state[i >> 2] >>> ((i & 3) * 8);
}

/** MD4 of a whole buffer, 16 bytes. */
export function md4(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  md4Into(data, 0, data.length, out, 0, 16);
  return out;
}

// MD4 (RFC 1320), the strong sum of duplicity's signatures. Node 20's OpenSSL 3 refuses "md4", so it
// lives here. Written for speed: it hashes a slice of a caller's buffer in place, with no allocation
// per call, because signatures and deltas call it once per block.

const X = new Int32Array(16);
const tail = new Uint8Array(128);
const state = new Int32Array(4);

function compress(data: Uint8Array, p: number): void {
  for (let i = 0; i < 16; i++, p += 4) {
    X[i] = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24);
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  // round 1: F(x,y,z) = (x & y) | (~x & z)
  a = a + ((b & c) | (~b & d)) + X[0] | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (~a & c)) + X[1] | 0; d = (d << 7) | (d >>> 25);
  c = c + ((d & a) | (~d & b)) + X[2] | 0; c = (c << 11) | (c >>> 21);
  b = b + ((c & d) | (~c & a)) + X[3] | 0; b = (b << 19) | (b >>> 13);
  a = a + ((b & c) | (~b & d)) + X[4] | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (~a & c)) + X[5] | 0; d = (d << 7) | (d >>> 25);
  c = c + ((d & a) | (~d & b)) + X[6] | 0; c = (c << 11) | (c >>> 21);
  b = b + ((c & d) | (~c & a)) + X[7] | 0; b = (b << 19) | (b >>> 13);
  a = a + ((b & c) | (~b & d)) + X[8] | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (~a & c)) + X[9] | 0; d = (d << 7) | (d >>> 25);
  c = c + ((d & a) | (~d & b)) + X[10] | 0; c = (c << 11) | (c >>> 21);
  b = b + ((c & d) | (~c & a)) + X[11] | 0; b = (b << 19) | (b >>> 13);
  a = a + ((b & c) | (~b & d)) + X[12] | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (~a & c)) + X[13] | 0; d = (d << 7) | (d >>> 25);
  c = c + ((d & a) | (~d & b)) + X[14] | 0; c = (c << 11) | (c >>> 21);
  b = b + ((c & d) | (~c & a)) + X[15] | 0; b = (b << 19) | (b >>> 13);
  // round 2: G(x,y,z) = (x & y) | (x & z) | (y & z), constant sqrt(2)
  const k2 = 0x5a827999;
  a = a + ((b & c) | (b & d) | (c & d)) + X[0] + k2 | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (a & c) | (b & c)) + X[4] + k2 | 0; d = (d << 5) | (d >>> 27);
  c = c + ((d & a) | (d & b) | (a & b)) + X[8] + k2 | 0; c = (c << 9) | (c >>> 23);
  b = b + ((c & d) | (c & a) | (d & a)) + X[12] + k2 | 0; b = (b << 13) | (b >>> 19);
  a = a + ((b & c) | (b & d) | (c & d)) + X[1] + k2 | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (a & c) | (b & c)) + X[5] + k2 | 0; d = (d << 5) | (d >>> 27);
  c = c + ((d & a) | (d & b) | (a & b)) + X[9] + k2 | 0; c = (c << 9) | (c >>> 23);
  b = b + ((c & d) | (c & a) | (d & a)) + X[13] + k2 | 0; b = (b << 13) | (b >>> 19);
  a = a + ((b & c) | (b & d) | (c & d)) + X[2] + k2 | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (a & c) | (b & c)) + X[6] + k2 | 0; d = (d << 5) | (d >>> 27);
  c = c + ((d & a) | (d & b) | (a & b)) + X[10] + k2 | 0; c = (c << 9) | (c >>> 23);
  b = b + ((c & d) | (c & a) | (d & a)) + X[14] + k2 | 0; b = (b << 13) | (b >>> 19);
  a = a + ((b & c) | (b & d) | (c & d)) + X[3] + k2 | 0; a = (a << 3) | (a >>> 29);
  d = d + ((a & b) | (a & c) | (b & c)) + X[7] + k2 | 0; d = (d << 5) | (d >>> 27);
  c = c + ((d & a) | (d & b) | (a & b)) + X[11] + k2 | 0; c = (c << 9) | (c >>> 23);
  b = b + ((c & d) | (c & a) | (d & a)) + X[15] + k2 | 0; b = (b << 13) | (b >>> 19);
  // round 3: H(x,y,z) = x ^ y ^ z, constant sqrt(3)
  const k3 = 0x6ed9eba1;
  a = a + (b ^ c ^ d) + X[0] + k3 | 0; a = (a << 3) | (a >>> 29);
  d = d + (a ^ b ^ c) + X[8] + k3 | 0; d = (d << 9) | (d >>> 23);
  c = c + (d ^ a ^ b) + X[4] + k3 | 0; c = (c << 11) | (c >>> 21);
  b = b + (c ^ d ^ a) + X[12] + k3 | 0; b = (b << 15) | (b >>> 17);
  a = a + (b ^ c ^ d) + X[2] + k3 | 0; a = (a << 3) | (a >>> 29);
  d = d + (a ^ b ^ c) + X[10] + k3 | 0; d = (d << 9) | (d >>> 23);
  c = c + (d ^ a ^ b) + X[6] + k3 | 0; c = (c << 11) | (c >>> 21);
  b = b + (c ^ d ^ a) + X[14] + k3 | 0; b = (b << 15) | (b >>> 17);
  a = a + (b ^ c ^ d) + X[1] + k3 | 0; a = (a << 3) | (a >>> 29);
  d = d + (a ^ b ^ c) + X[9] + k3 | 0; d = (d << 9) | (d >>> 23);
  c = c + (d ^ a ^ b) + X[5] + k3 | 0; c = (c << 11) | (c >>> 21);
  b = b + (c ^ d ^ a) + X[13] + k3 | 0; b = (b << 15) | (b >>> 17);
  a = a + (b ^ c ^ d) + X[3] + k3 | 0; a = (a << 3) | (a >>> 29);
  d = d + (a ^ b ^ c) + X[11] + k3 | 0; d = (d << 9) | (d >>> 23);
  c = c + (d ^ a ^ b) + X[7] + k3 | 0; c = (c << 11) | (c >>> 21);
  b = b + (c ^ d ^ a) + X[15] + k3 | 0; b = (b << 15) | (b >>> 17);
  state[0] = state[0] + a | 0;
  state[1] = state[1] + b | 0;
  state[2] = state[2] + c | 0;
  state[3] = state[3] + d | 0;
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
  let p = offset;
  for (; p + 64 <= end; p += 64) compress(data, p);
  // padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian
  const rest = end - p;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = data[p + i];
  tail[rest] = 0x80;
  const tailLength = rest < 56 ? 64 : 128;
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000) >>> 0;
  const q = tailLength - 8;
  tail[q] = bitsLow; tail[q + 1] = bitsLow >>> 8; tail[q + 2] = bitsLow >>> 16; tail[q + 3] = bitsLow >>> 24;
  tail[q + 4] = bitsHigh; tail[q + 5] = bitsHigh >>> 8; tail[q + 6] = bitsHigh >>> 16; tail[q + 7] = bitsHigh >>> 24;
  compress(tail, 0);
  if (tailLength === 128) compress(tail, 64);
  for (let i = 0; i < outLength; i++) out[outOffset + i] = state[i >> 2] >>> ((i & 3) * 8);
}

/** MD4 of a whole buffer, 16 bytes. */
export function md4(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  md4Into(data, 0, data.length, out, 0, 16);
  return out;
}

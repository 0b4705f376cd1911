// MD4 (RFC 1320), the strong sum of duplicity's signatures. Node 20's OpenSSL 3 refuses "md4", so it
// lives here. Written for speed: signatures and deltas call it once per block (2 KiB for big files), so
// it allocates nothing per call. The 48 steps are unrolled with the state and the message words in
// locals (generated; RFC 1320 §3.4 gives the step table), and the words are read as 32-bit loads from
// an Int32Array view: a 4-aligned slice in place, any other one after a copy into an aligned scratch
// buffer. That was about 15 % faster on 2 KiB blocks than assembling each word from four byte loads,
// and the copy costs less than the byte loads it replaces (bench/README.md).

/** MD4's words are little-endian; an Int32Array reads the machine's order */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const SCRATCH_WORDS = 16 * 1024;
const scratch = new Int32Array(SCRATCH_WORDS);
const scratchBytes = new Uint8Array(scratch.buffer);
const tailWords = new Int32Array(32);
const tail = new Uint8Array(tailWords.buffer);
const state = new Int32Array(4);
/** the view over the last buffer hashed in place: a block at a time comes from the same buffer */
let lastBuffer: ArrayBufferLike | undefined;
let lastView: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** Runs the compression function over the 16-word groups w[q, end). */
function compressWords(w: Int32Array, q: number, end: number): void {
  let a = state[0], b = state[1], c = state[2], d = state[3];
  for (; q + 16 <= end; q += 16) {
    const x0 = w[q + 0];
    const x1 = w[q + 1];
    const x2 = w[q + 2];
    const x3 = w[q + 3];
    const x4 = w[q + 4];
    const x5 = w[q + 5];
    const x6 = w[q + 6];
    const x7 = w[q + 7];
    const x8 = w[q + 8];
    const x9 = w[q + 9];
    const x10 = w[q + 10];
    const x11 = w[q + 11];
    const x12 = w[q + 12];
    const x13 = w[q + 13];
    const x14 = w[q + 14];
    const x15 = w[q + 15];
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

function swapWords(w: Int32Array, end: number): void {
  for (let i = 0; i < end; i++) { const v = w[i]; w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); }
}

/** Compresses data[p, end), a whole number of 64-byte groups, in place when it is 4-aligned, else through the scratch buffer. */
function compressBytes(data: Uint8Array, p: number, end: number): void {
  const at = data.byteOffset + p;
  if (LITTLE_ENDIAN && (at & 3) === 0) {
    if (data.buffer !== lastBuffer || lastView.length * 4 < data.byteOffset + end) {
      lastBuffer = data.buffer;
      lastView = new Int32Array(data.buffer, 0, data.buffer.byteLength >> 2);
    }
    compressWords(lastView, at >> 2, (data.byteOffset + end) >> 2);
    return;
  }
  while (p < end) {
    const n = Math.min(end - p, SCRATCH_WORDS * 4);
    scratchBytes.set(data.subarray(p, p + n));
    if (!LITTLE_ENDIAN) swapWords(scratch, n >> 2);
    compressWords(scratch, 0, n >> 2);
    p += n;
  }
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
  compressBytes(data, offset, whole);
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
  if (!LITTLE_ENDIAN) swapWords(tailWords, tailLength >> 2);
  compressWords(tailWords, 0, tailLength >> 2);
  for (let i = 0; i < outLength; i++) out[outOffset + i] = state[i >> 2] >>> ((i & 3) * 8);
}

/** MD4 of a whole buffer, 16 bytes. */
export function md4(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  md4Into(data, 0, data.length, out, 0, 16);
  return out;
}

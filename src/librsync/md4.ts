// MD4 (RFC 1320), the strong sum of duplicity's signatures. Node 20's OpenSSL 3 refuses "md4", so it
// lives here. Written for speed: signatures and deltas call it once per block (2 KiB for big files), so
// it allocates nothing per call. The 48 steps are unrolled with the state and the message words in
// locals (generated; RFC 1320 §3.4 gives the step table), and the words are read as 32-bit loads from
// an Int32Array view: a 4-aligned slice in place, any other one after a copy into an aligned scratch
// buffer. That was about 15 % faster on 2 KiB blocks than assembling each word from four byte loads,
// and the copy costs less than the byte loads it replaces (bench/README.md).

import { LITTLE_ENDIAN, wordsOf } from './words.js';

const SCRATCH_WORDS = 16 * 1024;
const scratch = new Int32Array(SCRATCH_WORDS);
const scratchBytes = new Uint8Array(scratch.buffer);
const tailWords = new Int32Array(32);
const tail = new Uint8Array(tailWords.buffer);
const state = new Int32Array(4);
const state2 = new Int32Array(4);

/** Runs the compression function over the 16-word groups w[q, end), on the state `s`. */
function compressWords(w: Int32Array, q: number, end: number, s: Int32Array): void {
  let a = s[0], b = s[1], c = s[2], d = s[3];
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
  s[0] = a; s[1] = b; s[2] = c; s[3] = d;
}

/** compressWords for two runs of `count` words at once, interleaved step by step (generated from the same table) */
function compressWordsPair(w: Int32Array, q1: number, q2: number, count: number, s1: Int32Array, s2: Int32Array): void {
  let a1 = s1[0], b1 = s1[1], c1 = s1[2], d1 = s1[3], a2 = s2[0], b2 = s2[1], c2 = s2[2], d2 = s2[3];
  for (const end = q1 + count; q1 < end; q1 += 16, q2 += 16) {
    const a10 = a1, b10 = b1, c10 = c1, d10 = d1, a20 = a2, b20 = b2, c20 = c2, d20 = d2;
    a1 = a1 + ((b1 & c1) | (~b1 & d1)) + w[q1 + 0] | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (~b2 & d2)) + w[q2 + 0] | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (~a1 & c1)) + w[q1 + 1] | 0; d1 = (d1 << 7) | (d1 >>> 25);
    d2 = d2 + ((a2 & b2) | (~a2 & c2)) + w[q2 + 1] | 0; d2 = (d2 << 7) | (d2 >>> 25);
    c1 = c1 + ((d1 & a1) | (~d1 & b1)) + w[q1 + 2] | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + ((d2 & a2) | (~d2 & b2)) + w[q2 + 2] | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + ((c1 & d1) | (~c1 & a1)) + w[q1 + 3] | 0; b1 = (b1 << 19) | (b1 >>> 13);
    b2 = b2 + ((c2 & d2) | (~c2 & a2)) + w[q2 + 3] | 0; b2 = (b2 << 19) | (b2 >>> 13);
    a1 = a1 + ((b1 & c1) | (~b1 & d1)) + w[q1 + 4] | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (~b2 & d2)) + w[q2 + 4] | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (~a1 & c1)) + w[q1 + 5] | 0; d1 = (d1 << 7) | (d1 >>> 25);
    d2 = d2 + ((a2 & b2) | (~a2 & c2)) + w[q2 + 5] | 0; d2 = (d2 << 7) | (d2 >>> 25);
    c1 = c1 + ((d1 & a1) | (~d1 & b1)) + w[q1 + 6] | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + ((d2 & a2) | (~d2 & b2)) + w[q2 + 6] | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + ((c1 & d1) | (~c1 & a1)) + w[q1 + 7] | 0; b1 = (b1 << 19) | (b1 >>> 13);
    b2 = b2 + ((c2 & d2) | (~c2 & a2)) + w[q2 + 7] | 0; b2 = (b2 << 19) | (b2 >>> 13);
    a1 = a1 + ((b1 & c1) | (~b1 & d1)) + w[q1 + 8] | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (~b2 & d2)) + w[q2 + 8] | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (~a1 & c1)) + w[q1 + 9] | 0; d1 = (d1 << 7) | (d1 >>> 25);
    d2 = d2 + ((a2 & b2) | (~a2 & c2)) + w[q2 + 9] | 0; d2 = (d2 << 7) | (d2 >>> 25);
    c1 = c1 + ((d1 & a1) | (~d1 & b1)) + w[q1 + 10] | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + ((d2 & a2) | (~d2 & b2)) + w[q2 + 10] | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + ((c1 & d1) | (~c1 & a1)) + w[q1 + 11] | 0; b1 = (b1 << 19) | (b1 >>> 13);
    b2 = b2 + ((c2 & d2) | (~c2 & a2)) + w[q2 + 11] | 0; b2 = (b2 << 19) | (b2 >>> 13);
    a1 = a1 + ((b1 & c1) | (~b1 & d1)) + w[q1 + 12] | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (~b2 & d2)) + w[q2 + 12] | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (~a1 & c1)) + w[q1 + 13] | 0; d1 = (d1 << 7) | (d1 >>> 25);
    d2 = d2 + ((a2 & b2) | (~a2 & c2)) + w[q2 + 13] | 0; d2 = (d2 << 7) | (d2 >>> 25);
    c1 = c1 + ((d1 & a1) | (~d1 & b1)) + w[q1 + 14] | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + ((d2 & a2) | (~d2 & b2)) + w[q2 + 14] | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + ((c1 & d1) | (~c1 & a1)) + w[q1 + 15] | 0; b1 = (b1 << 19) | (b1 >>> 13);
    b2 = b2 + ((c2 & d2) | (~c2 & a2)) + w[q2 + 15] | 0; b2 = (b2 << 19) | (b2 >>> 13);
    a1 = a1 + ((b1 & c1) | (b1 & d1) | (c1 & d1)) + w[q1 + 0] + 0x5a827999 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (b2 & d2) | (c2 & d2)) + w[q2 + 0] + 0x5a827999 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (a1 & c1) | (b1 & c1)) + w[q1 + 4] + 0x5a827999 | 0; d1 = (d1 << 5) | (d1 >>> 27);
    d2 = d2 + ((a2 & b2) | (a2 & c2) | (b2 & c2)) + w[q2 + 4] + 0x5a827999 | 0; d2 = (d2 << 5) | (d2 >>> 27);
    c1 = c1 + ((d1 & a1) | (d1 & b1) | (a1 & b1)) + w[q1 + 8] + 0x5a827999 | 0; c1 = (c1 << 9) | (c1 >>> 23);
    c2 = c2 + ((d2 & a2) | (d2 & b2) | (a2 & b2)) + w[q2 + 8] + 0x5a827999 | 0; c2 = (c2 << 9) | (c2 >>> 23);
    b1 = b1 + ((c1 & d1) | (c1 & a1) | (d1 & a1)) + w[q1 + 12] + 0x5a827999 | 0; b1 = (b1 << 13) | (b1 >>> 19);
    b2 = b2 + ((c2 & d2) | (c2 & a2) | (d2 & a2)) + w[q2 + 12] + 0x5a827999 | 0; b2 = (b2 << 13) | (b2 >>> 19);
    a1 = a1 + ((b1 & c1) | (b1 & d1) | (c1 & d1)) + w[q1 + 1] + 0x5a827999 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (b2 & d2) | (c2 & d2)) + w[q2 + 1] + 0x5a827999 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (a1 & c1) | (b1 & c1)) + w[q1 + 5] + 0x5a827999 | 0; d1 = (d1 << 5) | (d1 >>> 27);
    d2 = d2 + ((a2 & b2) | (a2 & c2) | (b2 & c2)) + w[q2 + 5] + 0x5a827999 | 0; d2 = (d2 << 5) | (d2 >>> 27);
    c1 = c1 + ((d1 & a1) | (d1 & b1) | (a1 & b1)) + w[q1 + 9] + 0x5a827999 | 0; c1 = (c1 << 9) | (c1 >>> 23);
    c2 = c2 + ((d2 & a2) | (d2 & b2) | (a2 & b2)) + w[q2 + 9] + 0x5a827999 | 0; c2 = (c2 << 9) | (c2 >>> 23);
    b1 = b1 + ((c1 & d1) | (c1 & a1) | (d1 & a1)) + w[q1 + 13] + 0x5a827999 | 0; b1 = (b1 << 13) | (b1 >>> 19);
    b2 = b2 + ((c2 & d2) | (c2 & a2) | (d2 & a2)) + w[q2 + 13] + 0x5a827999 | 0; b2 = (b2 << 13) | (b2 >>> 19);
    a1 = a1 + ((b1 & c1) | (b1 & d1) | (c1 & d1)) + w[q1 + 2] + 0x5a827999 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (b2 & d2) | (c2 & d2)) + w[q2 + 2] + 0x5a827999 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (a1 & c1) | (b1 & c1)) + w[q1 + 6] + 0x5a827999 | 0; d1 = (d1 << 5) | (d1 >>> 27);
    d2 = d2 + ((a2 & b2) | (a2 & c2) | (b2 & c2)) + w[q2 + 6] + 0x5a827999 | 0; d2 = (d2 << 5) | (d2 >>> 27);
    c1 = c1 + ((d1 & a1) | (d1 & b1) | (a1 & b1)) + w[q1 + 10] + 0x5a827999 | 0; c1 = (c1 << 9) | (c1 >>> 23);
    c2 = c2 + ((d2 & a2) | (d2 & b2) | (a2 & b2)) + w[q2 + 10] + 0x5a827999 | 0; c2 = (c2 << 9) | (c2 >>> 23);
    b1 = b1 + ((c1 & d1) | (c1 & a1) | (d1 & a1)) + w[q1 + 14] + 0x5a827999 | 0; b1 = (b1 << 13) | (b1 >>> 19);
    b2 = b2 + ((c2 & d2) | (c2 & a2) | (d2 & a2)) + w[q2 + 14] + 0x5a827999 | 0; b2 = (b2 << 13) | (b2 >>> 19);
    a1 = a1 + ((b1 & c1) | (b1 & d1) | (c1 & d1)) + w[q1 + 3] + 0x5a827999 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + ((b2 & c2) | (b2 & d2) | (c2 & d2)) + w[q2 + 3] + 0x5a827999 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + ((a1 & b1) | (a1 & c1) | (b1 & c1)) + w[q1 + 7] + 0x5a827999 | 0; d1 = (d1 << 5) | (d1 >>> 27);
    d2 = d2 + ((a2 & b2) | (a2 & c2) | (b2 & c2)) + w[q2 + 7] + 0x5a827999 | 0; d2 = (d2 << 5) | (d2 >>> 27);
    c1 = c1 + ((d1 & a1) | (d1 & b1) | (a1 & b1)) + w[q1 + 11] + 0x5a827999 | 0; c1 = (c1 << 9) | (c1 >>> 23);
    c2 = c2 + ((d2 & a2) | (d2 & b2) | (a2 & b2)) + w[q2 + 11] + 0x5a827999 | 0; c2 = (c2 << 9) | (c2 >>> 23);
    b1 = b1 + ((c1 & d1) | (c1 & a1) | (d1 & a1)) + w[q1 + 15] + 0x5a827999 | 0; b1 = (b1 << 13) | (b1 >>> 19);
    b2 = b2 + ((c2 & d2) | (c2 & a2) | (d2 & a2)) + w[q2 + 15] + 0x5a827999 | 0; b2 = (b2 << 13) | (b2 >>> 19);
    a1 = a1 + (b1 ^ c1 ^ d1) + w[q1 + 0] + 0x6ed9eba1 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + (b2 ^ c2 ^ d2) + w[q2 + 0] + 0x6ed9eba1 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + (a1 ^ b1 ^ c1) + w[q1 + 8] + 0x6ed9eba1 | 0; d1 = (d1 << 9) | (d1 >>> 23);
    d2 = d2 + (a2 ^ b2 ^ c2) + w[q2 + 8] + 0x6ed9eba1 | 0; d2 = (d2 << 9) | (d2 >>> 23);
    c1 = c1 + (d1 ^ a1 ^ b1) + w[q1 + 4] + 0x6ed9eba1 | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + (d2 ^ a2 ^ b2) + w[q2 + 4] + 0x6ed9eba1 | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + (c1 ^ d1 ^ a1) + w[q1 + 12] + 0x6ed9eba1 | 0; b1 = (b1 << 15) | (b1 >>> 17);
    b2 = b2 + (c2 ^ d2 ^ a2) + w[q2 + 12] + 0x6ed9eba1 | 0; b2 = (b2 << 15) | (b2 >>> 17);
    a1 = a1 + (b1 ^ c1 ^ d1) + w[q1 + 2] + 0x6ed9eba1 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + (b2 ^ c2 ^ d2) + w[q2 + 2] + 0x6ed9eba1 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + (a1 ^ b1 ^ c1) + w[q1 + 10] + 0x6ed9eba1 | 0; d1 = (d1 << 9) | (d1 >>> 23);
    d2 = d2 + (a2 ^ b2 ^ c2) + w[q2 + 10] + 0x6ed9eba1 | 0; d2 = (d2 << 9) | (d2 >>> 23);
    c1 = c1 + (d1 ^ a1 ^ b1) + w[q1 + 6] + 0x6ed9eba1 | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + (d2 ^ a2 ^ b2) + w[q2 + 6] + 0x6ed9eba1 | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + (c1 ^ d1 ^ a1) + w[q1 + 14] + 0x6ed9eba1 | 0; b1 = (b1 << 15) | (b1 >>> 17);
    b2 = b2 + (c2 ^ d2 ^ a2) + w[q2 + 14] + 0x6ed9eba1 | 0; b2 = (b2 << 15) | (b2 >>> 17);
    a1 = a1 + (b1 ^ c1 ^ d1) + w[q1 + 1] + 0x6ed9eba1 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + (b2 ^ c2 ^ d2) + w[q2 + 1] + 0x6ed9eba1 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + (a1 ^ b1 ^ c1) + w[q1 + 9] + 0x6ed9eba1 | 0; d1 = (d1 << 9) | (d1 >>> 23);
    d2 = d2 + (a2 ^ b2 ^ c2) + w[q2 + 9] + 0x6ed9eba1 | 0; d2 = (d2 << 9) | (d2 >>> 23);
    c1 = c1 + (d1 ^ a1 ^ b1) + w[q1 + 5] + 0x6ed9eba1 | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + (d2 ^ a2 ^ b2) + w[q2 + 5] + 0x6ed9eba1 | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + (c1 ^ d1 ^ a1) + w[q1 + 13] + 0x6ed9eba1 | 0; b1 = (b1 << 15) | (b1 >>> 17);
    b2 = b2 + (c2 ^ d2 ^ a2) + w[q2 + 13] + 0x6ed9eba1 | 0; b2 = (b2 << 15) | (b2 >>> 17);
    a1 = a1 + (b1 ^ c1 ^ d1) + w[q1 + 3] + 0x6ed9eba1 | 0; a1 = (a1 << 3) | (a1 >>> 29);
    a2 = a2 + (b2 ^ c2 ^ d2) + w[q2 + 3] + 0x6ed9eba1 | 0; a2 = (a2 << 3) | (a2 >>> 29);
    d1 = d1 + (a1 ^ b1 ^ c1) + w[q1 + 11] + 0x6ed9eba1 | 0; d1 = (d1 << 9) | (d1 >>> 23);
    d2 = d2 + (a2 ^ b2 ^ c2) + w[q2 + 11] + 0x6ed9eba1 | 0; d2 = (d2 << 9) | (d2 >>> 23);
    c1 = c1 + (d1 ^ a1 ^ b1) + w[q1 + 7] + 0x6ed9eba1 | 0; c1 = (c1 << 11) | (c1 >>> 21);
    c2 = c2 + (d2 ^ a2 ^ b2) + w[q2 + 7] + 0x6ed9eba1 | 0; c2 = (c2 << 11) | (c2 >>> 21);
    b1 = b1 + (c1 ^ d1 ^ a1) + w[q1 + 15] + 0x6ed9eba1 | 0; b1 = (b1 << 15) | (b1 >>> 17);
    b2 = b2 + (c2 ^ d2 ^ a2) + w[q2 + 15] + 0x6ed9eba1 | 0; b2 = (b2 << 15) | (b2 >>> 17);
    a1 = a1 + a10 | 0; b1 = b1 + b10 | 0; c1 = c1 + c10 | 0; d1 = d1 + d10 | 0;
    a2 = a2 + a20 | 0; b2 = b2 + b20 | 0; c2 = c2 + c20 | 0; d2 = d2 + d20 | 0;
  }
  s1[0] = a1; s1[1] = b1; s1[2] = c1; s1[3] = d1;
  s2[0] = a2; s2[1] = b2; s2[2] = c2; s2[3] = d2;
}

function swapWords(w: Int32Array, end: number): void {
  for (let i = 0; i < end; i++) { const v = w[i]; w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); }
}

/** Compresses data[p, end), a whole number of 64-byte groups, in place when it is 4-aligned, else through the scratch buffer. */
function compressBytes(data: Uint8Array, p: number, end: number, s: Int32Array): void {
  const at = data.byteOffset + p;
  if (LITTLE_ENDIAN && (at & 3) === 0) {
    compressWords(wordsOf(data), at >> 2, (data.byteOffset + end) >> 2, s);
    return;
  }
  while (p < end) {
    const n = Math.min(end - p, SCRATCH_WORDS * 4);
    scratchBytes.set(data.subarray(p, p + n));
    if (!LITTLE_ENDIAN) swapWords(scratch, n >> 2);
    compressWords(scratch, 0, n >> 2, s);
    p += n;
  }
}

function initState(s: Int32Array): void {
  s[0] = 0x67452301; s[1] = 0xefcdab89 | 0; s[2] = 0x98badcfe | 0; s[3] = 0x10325476;
}

/** The padding (0x80, zeros to 56 mod 64, the bit length as 64-bit little-endian) after data[whole, whole+rest), then the digest. */
function finishInto(data: Uint8Array, whole: number, rest: number, length: number, s: Int32Array, out: Uint8Array, outOffset: number, outLength: number): void {
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
  compressWords(tailWords, 0, tailLength >> 2, s);
  for (let i = 0; i < outLength; i++) out[outOffset + i] = s[i >> 2] >>> ((i & 3) * 8);
}

/**
 * Writes the first `outLength` (1..16) bytes of MD4(data[offset, offset+length)) to out[outOffset...].
 */
export function md4Into(
  data: Uint8Array, offset: number, length: number,
  out: Uint8Array, outOffset: number, outLength = 16,
): void {
  initState(state);
  const whole = offset + (length & ~63);
  compressBytes(data, offset, whole, state);
  finishInto(data, whole, offset + length - whole, length, state, out, outOffset, outLength);
}

/**
 * md4Into for two slices of the same length (a signature's consecutive blocks), computed interleaved:
 * the two independent chains of steps keep more of the CPU busy, about 25 % faster than one after
 * the other on 2 KiB blocks. Slices that are not 4-aligned go one at a time.
 */
export function md4PairInto(
  data: Uint8Array, offset1: number, offset2: number, length: number,
  out: Uint8Array, outOffset1: number, outOffset2: number, outLength = 16,
): void {
  const at1 = data.byteOffset + offset1;
  const at2 = data.byteOffset + offset2;
  const wholeLength = length & ~63;
  if (!LITTLE_ENDIAN || ((at1 | at2) & 3) !== 0 || wholeLength === 0) {
    md4Into(data, offset1, length, out, outOffset1, outLength);
    md4Into(data, offset2, length, out, outOffset2, outLength);
    return;
  }
  initState(state);
  initState(state2);
  compressWordsPair(wordsOf(data), at1 >> 2, at2 >> 2, wholeLength >> 2, state, state2);
  finishInto(data, offset1 + wholeLength, length - wholeLength, length, state, out, outOffset1, outLength);
  finishInto(data, offset2 + wholeLength, length - wholeLength, length, state2, out, outOffset2, outLength);
}

/** MD4 of a whole buffer, 16 bytes. */
export function md4(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  md4Into(data, 0, data.length, out, 0, 16);
  return out;
}

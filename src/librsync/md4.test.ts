import assert from 'node:assert/strict';
import { test } from 'node:test';
import { md4, md4Into, md4PairInto } from './md4.js';

// RFC 1320, appendix A.5
const vectors: [string, string][] = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];

test('md4() matches the RFC 1320 test vectors', () => {
  for (const [input, hex] of vectors) assert.equal(md4(Buffer.from(input)).toString('hex'), hex, JSON.stringify(input));
});

test('md4Into() hashes a slice in place and truncates the digest', () => {
  const data = Buffer.from('xxabcyy');
  const out = Buffer.alloc(10, 0xee);
  md4Into(data, 2, 3, out, 1, 8);
  assert.equal(out.subarray(1, 9).toString('hex'), 'a448017aaf21d852');
  assert.equal(out[0], 0xee);
  assert.equal(out[9], 0xee);
});

test('md4() pads correctly at the 55/56/63/64-byte boundaries', () => {
  // the same data hashed directly and as a slice of a larger buffer must agree, and lengths differ
  const seen = new Set<string>();
  for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 128]) {
    const data = Buffer.alloc(n, 0x61);
    const direct = md4(data).toString('hex');
    const padded = Buffer.concat([Buffer.from('zz'), data, Buffer.from('zz')]);
    const out = Buffer.alloc(16);
    md4Into(padded, 2, n, out, 0);
    assert.equal(out.toString('hex'), direct, `length ${n}`);
    seen.add(direct);
  }
  assert.equal(seen.size, 9);
});

test('md4PairInto() gives each slice md4Into\'s digest, aligned or not, at every tail length', () => {
  const data = Buffer.alloc(20_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const length of [0, 1, 55, 56, 63, 64, 65, 512, 2047, 2048, 4100]) {
    for (const [a, b] of [[0, 4096], [4, 8192], [1, 9000], [12, 13]]) {
      const pair = Buffer.alloc(32, 0xee);
      md4PairInto(data, a, b, length, pair, 0, 16, 16);
      const one = Buffer.alloc(32, 0xee);
      md4Into(data, a, length, one, 0, 16);
      md4Into(data, b, length, one, 16, 16);
      assert.ok(pair.equals(one), `length ${length} at ${a}, ${b}`);
    }
  }
});

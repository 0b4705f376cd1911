// The WebAssembly block sums against the JavaScript ones (md4.test.ts checks MD4 against RFC 1320,
// signature.test.ts checks signatures made with both against rdiff).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { md4Into } from './md4.js';
import { BlockSums } from './block-sums.js';
import { rollsum } from './rollsum.js';

test('BlockSums gives every block the sums md4Into and rollsum give, for block lengths 64 to 16 KiB and unaligned input', () => {
  for (const blockLength of [64, 512, 2048, 16384]) {
    const sums = BlockSums.for(blockLength);
    assert.ok(sums, `WebAssembly SIMD is available in Node 20 (block length ${blockLength})`);
    const blocks = 12; // one md4x8 pair of groups, then one md4x4 group
    const data = randomBytes(blocks * blockLength + 3);
    const offset = 3; // an odd start: the input is copied into the module's memory
    const count = sums.take(blocks);
    assert.equal(count, 12);
    sums.hash(data, offset, count);
    for (let i = 0; i < count; i++) {
      const want = Buffer.alloc(16);
      md4Into(data, offset + i * blockLength, blockLength, want, 0, 16);
      const got = Buffer.alloc(16);
      sums.strongInto(i, got, 0, 16);
      assert.deepEqual(got, want, `block ${i} of ${blockLength} bytes`);
      const short = Buffer.alloc(8);
      sums.strongInto(i, short, 0, 8);
      assert.deepEqual(short, want.subarray(0, 8));
      assert.equal(sums.weak(i), rollsum(data, offset + i * blockLength, blockLength), `rollsum of block ${i} of ${blockLength} bytes`);
    }
  }
});

test('BlockSums gives md4Into\'s digest for a 64-byte message in all four lanes', () => {
  const block = Buffer.from('1234567890'.repeat(8)).subarray(0, 64);
  const sums = BlockSums.for(64)!;
  sums.hash(Buffer.concat([block, block, block, block]), 0, 4);
  const want = Buffer.alloc(16);
  md4Into(block, 0, 64, want, 0, 16);
  for (let i = 0; i < 4; i++) {
    const got = Buffer.alloc(16);
    sums.strongInto(i, got, 0, 16);
    assert.deepEqual(got, want);
  }
});

test('BlockSums takes whole groups of four within its input area, only lengths of 64-byte groups, and makes only the sums asked for', () => {
  const sums = BlockSums.for(2048)!;
  assert.equal(sums.take(3), 0);
  assert.equal(sums.take(7), 4);
  assert.equal(sums.take(100000), 128); // 256 KiB of 2 KiB blocks
  assert.equal(BlockSums.for(100), null);
  assert.equal(BlockSums.for(1000), null);
  assert.throws(() => sums.strongInto(200, Buffer.alloc(16), 0, 16), RangeError);
  // only the sums asked for are made, and only those can be read
  const data = randomBytes(4 * 2048);
  sums.hash(data, 0, 4, 'weak');
  assert.equal(sums.weak(3), rollsum(data, 3 * 2048, 2048));
  assert.throws(() => sums.strongInto(0, Buffer.alloc(16), 0, 16), RangeError);
  sums.hash(data, 0, 4, 'strong');
  const want = Buffer.alloc(16);
  md4Into(data, 2048, 2048, want, 0, 16);
  const got = Buffer.alloc(16);
  sums.strongInto(1, got, 0, 16);
  assert.deepEqual(got, want);
  assert.throws(() => sums.weak(0), RangeError);
});

test('BlockSums.hashWindows gives md4Into\'s digest of windows anywhere in the data, 1 to 8 of them, for blocks up to 64 KiB', () => {
  for (const blockLength of [64, 2048, 65536]) {
    const sums = BlockSums.for(blockLength)!;
    const data = randomBytes(3 * blockLength + 1000);
    for (let count = 1; count <= 8; count++) {
      // overlapping, unaligned, out of order: as a delta's windows that share a weak sum with some block
      const starts = Int32Array.from({ length: 8 }, (_, i) => (i * 997 * (count + 1)) % (data.length - blockLength));
      sums.hashWindows(data, starts, count);
      for (let i = 0; i < count; i++) {
        const want = Buffer.alloc(16);
        md4Into(data, starts[i], blockLength, want, 0, 16);
        const got = Buffer.alloc(16);
        sums.strongInto(i, got, 0, 16);
        assert.deepEqual(got, want, `window ${i} of ${count}, blocks of ${blockLength} bytes`);
      }
      assert.throws(() => sums.strongInto(count, Buffer.alloc(16), 0, 16), RangeError);
    }
    assert.throws(() => sums.hashWindows(data, new Int32Array(9), 9), RangeError);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { rollsum } from './rollsum.js';
import {
  BLAKE2_SIG_MAGIC, duplicityBlockLength, generateSignature, parseSignature, parseSignatureBytes, SignatureBuilder, SignatureParser,
} from './signature.js';
import { randomBytes } from '../../test/support/random.js';

async function* chunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function signatureOf(data: Buffer, blockLength = 512, chunkSize = 1 << 16): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of generateSignature(chunks(data, chunkSize), { blockLength, strongLength: 8 })) parts.push(part);
  return Buffer.concat(parts);
}

test('rollsum() matches the worked examples of the spec (§7.2)', () => {
  assert.equal(rollsum(Buffer.from('abc\n'), 0, 4).toString(16).padStart(8, '0'), '04b001ac');
  assert.equal(rollsum(Buffer.from('hello world\n'), 0, 12).toString(16).padStart(8, '0'), '27d805da');
  assert.equal(rollsum(Buffer.alloc(0), 0, 0), 0);
});

test('generateSignature() gives the bytes duplicity and rdiff give (§7.2 examples)', async () => {
  assert.equal((await signatureOf(Buffer.from('abc\n'))).toString('hex'), '7273013600000200000000080' + '4b001ac365383baa5e34ce9');
  assert.equal((await signatureOf(Buffer.from('hello world\n'))).toString('hex'), '727301360000020000000008' + '27d805da97668ab2f29d0115');
  assert.equal((await signatureOf(Buffer.alloc(0))).toString('hex'), '727301360000020000000008');
});

test('generateSignature() does not depend on how the input is chunked', async () => {
  const data = randomBytes(7, 5000);
  const whole = await signatureOf(data, 512, data.length);
  for (const size of [1, 7, 511, 512, 513, 4096]) assert.deepEqual(await signatureOf(data, 512, size), whole, `chunk ${size}`);
  assert.equal(whole.length, 12 + 12 * Math.ceil(5000 / 512));
});

test('duplicityBlockLength() follows duplicity 0.8 (§7.3)', () => {
  const cases: [number, number][] = [
    [0, 512], [1_023_999, 512], [1_024_000, 512], [1_200_000, 512], [2_047_999, 512], [2_048_000, 1024],
    [2_600_000, 1024], [3_072_000, 1536], [3_600_000, 1536], [4_095_999, 1536], [4_096_000, 2048], [10 ** 12, 2048],
  ];
  for (const [size, expected] of cases) assert.equal(duplicityBlockLength(size), expected, `size ${size}`);
  assert.equal(duplicityBlockLength(10_240_000, 4096), 4096);
});

test('parseSignature() reads back what the builder wrote, whatever the chunking', async () => {
  const data = randomBytes(11, 3000);
  const sig = await signatureOf(data, 256);
  for (const size of [1, 5, 12, 13, 100, sig.length]) {
    const parsed = await parseSignature(chunks(sig, size));
    assert.equal(parsed.blockLength, 256);
    assert.equal(parsed.strongLength, 8);
    assert.equal(parsed.blockCount, Math.ceil(3000 / 256));
    assert.equal(parsed.weak[0], rollsum(data, 0, 256));
    assert.equal(parsed.weak[parsed.blockCount - 1], rollsum(data, 256 * (parsed.blockCount - 1), 3000 % 256));
  }
});

test('parseSignatureBytes() sizes its arrays from the length, in shared memory when asked, and still checks the signature', async () => {
  const data = randomBytes(12, 5000);
  const sig = await signatureOf(data, 256);
  const plain = await parseSignature(chunks(sig, 100));
  for (const shared of [false, true]) {
    const parsed = parseSignatureBytes(sig, shared);
    assert.equal(parsed.weak.buffer instanceof SharedArrayBuffer, shared);
    assert.equal(parsed.strong.buffer instanceof SharedArrayBuffer, shared);
    assert.equal(parsed.blockCount, plain.blockCount);
    // exactly the blocks there are: no doubling past them
    assert.equal(parsed.weak.buffer.byteLength, plain.blockCount * 4);
    assert.deepEqual([...parsed.weak], [...plain.weak]);
    assert.deepEqual([...parsed.strong], [...plain.strong]);
  }
  assert.throws(() => parseSignatureBytes(sig.subarray(0, sig.length - 3), true), /last block record is incomplete/);
});

test('parseSignature() reports a truncated signature with its offset', async () => {
  const sig = await signatureOf(randomBytes(3, 2000));
  await assert.rejects(parseSignature(chunks(sig.subarray(0, sig.length - 3), 64)), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.offset, 12 + 12 * 3);
    assert.match(err.message, /truncated at offset 48/);
    return true;
  });
  await assert.rejects(parseSignature(chunks(sig.subarray(0, 7), 64)), /header is incomplete/);
});

test('parseSignature() rejects other magics with a clear message', async () => {
  const blake = Buffer.alloc(12);
  blake.writeUInt32BE(BLAKE2_SIG_MAGIC, 0);
  blake.writeUInt32BE(512, 4);
  blake.writeUInt32BE(32, 8);
  await assert.rejects(parseSignature(chunks(blake, 12)), /BLAKE2 strong sums, which Lifeboat does not support/);
  await assert.rejects(parseSignature(chunks(Buffer.from('not a signature at all'), 64)), /bad magic 0x6e6f7420 at offset 0/);
  const zeroBlock = Buffer.from('727301360000000000000008', 'hex');
  await assert.rejects(parseSignature(chunks(zeroBlock, 64)), /bad block length 0/);
});

test('SignatureBuilder rejects impossible options', () => {
  assert.throws(() => new SignatureBuilder({ blockLength: 0, strongLength: 8 }), /bad block length/);
  assert.throws(() => new SignatureBuilder({ blockLength: 512, strongLength: 17 }), /bad strong sum length/);
  const parser = new SignatureParser();
  assert.throws(() => parser.finish(), IntegrityError);
});

test('rollsum() gives the same sum on aligned slices (a word at a time) as a byte-by-byte reference', () => {
  const data = Buffer.alloc(70_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const reference = (offset: number, length: number) => {
    let s1 = 0, s2 = 0;
    for (let i = offset; i < offset + length; i++) { s1 = (s1 + data[i] + 31) & 0xffff; s2 = (s2 + s1) & 0xffff; }
    return ((s2 << 16) | s1) >>> 0;
  };
  for (const length of [0, 1, 3, 4, 5, 511, 512, 2048, 2051, 65536]) {
    for (const offset of [0, 1, 2, 3, 4, 2048]) assert.equal(rollsum(data, offset, length), reference(offset, length), `length ${length} at ${offset}`);
  }
});

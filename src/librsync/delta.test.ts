import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOf, collect, deltaBytes, patchBytes, signatureBytes } from '../../test/support/librsync.js';
import { mutate, randomBytes, randomText } from '../../test/support/random.js';
import { encodeCopy, encodeLiteralHeader, generateDelta, type KnownStrongSum } from './delta.js';
import { BlockSums } from './block-sums.js';
import { parseSignature, SignatureBuilder } from './signature.js';

const parseSignatureBytes = (bytes: Buffer) => parseSignature(chunksOf(bytes));

async function roundTrip(basis: Buffer, target: Buffer, blockLength = 512, chunk?: number): Promise<Buffer> {
  const sig = await signatureBytes(basis, { blockLength, strongLength: 8 });
  const delta = await deltaBytes(sig, target, chunk);
  assert.deepEqual(await patchBytes(basis, delta, chunk), target);
  return delta;
}

test('encodeCopy() picks the smallest width for each operand (§7.4)', () => {
  assert.equal(encodeCopy(0, 4).toString('hex'), '450004');
  assert.equal(encodeCopy(512, 65024).toString('hex'), '4a0200fe00');
  assert.equal(encodeCopy(0, 599552).toString('hex'), '470000092600');
  // the spec's hex for this example reads 000927c0 (600000), but its decimals (600064) are the true
  // offset: 599552 + 512 = 600064 = 0x92800, and 600064 + 599936 is the file's 1,200,000 bytes
  assert.equal(encodeCopy(600064, 599936).toString('hex'), '4f0009280000092780');
  assert.equal(encodeCopy(2 ** 32, 1).toString('hex'), '510000000100000000' + '01');
});

test('encodeLiteralHeader() uses one byte up to 64, then N1/N2/N4', () => {
  assert.equal(encodeLiteralHeader(1).toString('hex'), '01');
  assert.equal(encodeLiteralHeader(64).toString('hex'), '40');
  assert.equal(encodeLiteralHeader(65).toString('hex'), '4141');
  assert.equal(encodeLiteralHeader(512).toString('hex'), '420200');
  assert.equal(encodeLiteralHeader(70000).toString('hex'), '4300011170');
});

test('generateDelta() reproduces duplicity\'s deltas for the spec\'s examples', async () => {
  // "hello world\n" -> appended: the 12-byte basis is one short block that never matches
  const d1 = await roundTrip(Buffer.from('hello world\n'), Buffer.from('hello world\nappended line\n'));
  assert.equal(d1.toString('hex'), '727302361a68656c6c6f20776f726c640a617070656e646564206c696e650a00');
  // identical 4-byte file: one copy of the short block
  assert.equal((await roundTrip(Buffer.from('old\n'), Buffer.from('old\n'))).toString('hex'), '7273023645000400');
  // one byte changed at offset 100 of 64 KiB: literal block then one merged copy
  const basis = randomBytes(1, 65536);
  const target = Buffer.from(basis);
  target[100] ^= 0xff;
  const d3 = await roundTrip(basis, target);
  assert.equal(d3.subarray(0, 7).toString('hex'), '72730236420200');
  assert.equal(d3.subarray(7 + 512).toString('hex'), '4a0200fe0000');
});

test('generateDelta() of an empty target is magic + END', async () => {
  assert.equal((await roundTrip(randomBytes(2, 1000), Buffer.alloc(0))).toString('hex'), '7273023600');
  assert.equal((await roundTrip(Buffer.alloc(0), Buffer.alloc(0))).toString('hex'), '7273023600');
});

test('generateDelta() merges runs of identical blocks into one copy', async () => {
  const zeros = Buffer.alloc(1 << 20);
  const delta = await roundTrip(zeros, zeros);
  assert.equal(delta.toString('hex'), '72730236' + '47' + '00' + '00100000' + '00');
});

test('generateDelta() output patches back for block, block±1, and tiny sizes', async () => {
  for (const size of [0, 1, 511, 512, 513, 1023, 1024, 1025]) {
    const basis = randomBytes(size + 1, size);
    await roundTrip(basis, basis);
    await roundTrip(basis, randomBytes(size + 2, size));
    await roundTrip(basis, Buffer.concat([Buffer.from('x'), basis]));
    await roundTrip(basis, basis.subarray(1));
  }
});

test('generateDelta() finds moved blocks and matches the short last block', async () => {
  const basis = randomBytes(5, 512 * 20 + 100);
  const moved = Buffer.concat([basis.subarray(512 * 10), basis.subarray(0, 512 * 10)]);
  const delta = await roundTrip(basis, moved);
  // two copies plus the 100-byte short block as a literal: like librsync, a short last block only
  // matches at the very end of the new data, where the window shrinks
  assert.ok(delta.length < 130, `a block move should be a handful of copies, got ${delta.length} bytes`);
  const tail = Buffer.concat([Buffer.from('new head'), basis.subarray(512 * 20)]);
  const d2 = await roundTrip(basis, tail);
  assert.ok(d2.length < 30, `the 100-byte last block should be copied, got ${d2.length} bytes`);
});

test('generateDelta() and applyPatch() agree under seeded random edits and chunkings', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const basis = seed % 2 ? randomBytes(seed, 20000 + seed * 997) : randomText(seed, 30000 + seed * 131);
    const target = mutate(seed * 7919, basis, 1 + (seed % 9));
    const blockLength = [64, 512, 1024, 1536, 2048][seed % 5];
    await roundTrip(basis, target, blockLength, [1, 100, 4096, 1 << 16][seed % 4]);
  }
});

test('generateDelta() keeps deltas small for small edits of large data', async () => {
  const basis = randomText(99, 4 << 20);
  const target = mutate(100, basis, 20);
  const delta = await roundTrip(basis, target, 2048);
  assert.ok(delta.length < 20 * (2000 + 2 * 2048) + 1000, `delta is ${delta.length} bytes`);
});

test('a delta fed the new signature\'s MD4 sums (as a backup does) is the same delta, and most matches use them', async () => {
  const basis = randomBytes(31, 700_000);
  // in-place edits keep matches block-aligned; the insertion shifts the rest off the new signature's blocks
  const edited = Buffer.from(basis);
  for (let i = 0; i < 20; i++) randomBytes(40 + i, 100).copy(edited, 1000 + i * 30_000);
  const target = Buffer.concat([edited.subarray(0, 500_000), Buffer.from('inserted'), edited.subarray(500_000)]);
  const signature = parseSignatureBytes(await signatureBytes(basis, { blockLength: 512, strongLength: 8 }));
  const plain = await collect(generateDelta(await signature, chunksOf(target, 65536)));

  const builder = new SignatureBuilder({ blockLength: 512, strongLength: 8, rememberRecent: true });
  let known = 0;
  let asked = 0;
  const counted: KnownStrongSum = (offset, length, into, strongLength) => {
    asked++;
    const hit = builder.recentStrongSum(offset, length, into, strongLength);
    if (hit) known++;
    return hit;
  };
  async function* fedToSignatureFirst(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunksOf(target, 65536)) { builder.push(chunk); yield chunk; }
  }
  const withKnown = await collect(generateDelta(await signature, fedToSignatureFirst(), counted));
  assert.deepEqual(withKnown, plain);
  assert.deepEqual(await patchBytes(basis, withKnown), target);
  // before the insertion (500,000 of 700,000 bytes) every match is aligned with the new blocks
  assert.ok(known > 0.6 * asked && known < asked, `${known} of ${asked} strong sums known`);
  // a builder that does not remember answers nothing
  const forgetful = new SignatureBuilder({ blockLength: 512, strongLength: 8 });
  forgetful.push(target);
  assert.equal(forgetful.recentStrongSum(0, 512, Buffer.alloc(16), 8), false);
});

test('the windows\' sums computed a batch at a time (BlockSums) change no delta: the same bytes as with the JavaScript sums alone', async () => {
  // table rows make rolling sums collide (the look-ahead's case), edits shift the rest (the windows ahead)
  const rows = (n: number, edit: (i: number) => number) => Buffer.from(Array.from({ length: n }, (_, i) => `${i + 1}\t1\t${edit(i)}\t${' '.repeat(84)}\n`).join(''));
  const cases: [string, Buffer, Buffer][] = [];
  const table = rows(8000, () => 0);
  cases.push(['table', table, rows(8000, (i) => (i % 37 === 0 ? i % 900 : 0))]);
  const text = randomText(51, 400_000);
  cases.push(['text', text, mutate(52, Buffer.concat([randomText(53, 777), text]), 12)]);
  const binary = randomBytes(54, 300_000);
  cases.push(['random', binary, mutate(55, binary, 6)]);
  const deltas = async (basis: Buffer, target: Buffer, blockLength: number, chunk: number) =>
    collect(generateDelta(await parseSignatureBytes(await signatureBytes(basis, { blockLength, strongLength: 8 })), chunksOf(target, chunk)));
  const original = BlockSums.for;
  for (const [name, basis, target] of cases) {
    for (const blockLength of [64, 512, 2048, 65536]) {
      for (const chunk of name === 'random' ? [1000, 65536] : [100, 4096, 65536]) {
        let plain: Buffer;
        try {
          BlockSums.for = () => null;
          plain = await deltas(basis, target, blockLength, chunk);
        } finally {
          BlockSums.for = original;
        }
        const batched = await deltas(basis, target, blockLength, chunk);
        assert.ok(batched.equals(plain), `${name}, block ${blockLength}, chunks of ${chunk}: ${batched.length} B against ${plain.length} B`);
        assert.ok((await patchBytes(basis, batched)).equals(target), `${name}, block ${blockLength}: patches back`);
      }
    }
  }
});

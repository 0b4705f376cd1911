import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { chunksOf, collect, deltaBytes, patchBytes, signatureBytes } from '../../test/support/librsync.js';
import { randomBytes } from '../../test/support/random.js';
import { applyPatch, copiesMoveForward, streamBasisReader } from './patch.js';

const basis = Buffer.from('0123456789abcdef');
const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

function rejectsWith(delta: Buffer, pattern: RegExp, offset: number) {
  return assert.rejects(patchBytes(basis, delta), (err: unknown) => {
    assert.ok(err instanceof IntegrityError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.offset, offset);
    return true;
  });
}

test('applyPatch() applies literals and copies of every operand width', async () => {
  const delta = hex('72730236 03 78797a 45 0004 4a 0001 0002 4f 00000000 00000001 41 02 2d2d 00 ffff');
  assert.equal((await patchBytes(basis, delta, 1)).toString(), 'xyz0123120--');
  assert.equal((await patchBytes(basis, hex('72730236 54 0000000000000002 0000000000000003 00'))).toString(), '234');
});

test('applyPatch() reports bad magic, bogus commands and zero lengths with their offset', async () => {
  await rejectsWith(hex('72730136 00'), /not a librsync delta: bad magic 0x72730136/, 0);
  await rejectsWith(hex('72730236 01 41 55'), /bogus command byte 0x55 at offset 6/, 6);
  await rejectsWith(hex('72730236 41 00'), /zero-length literal at offset 4/, 4);
  await rejectsWith(hex('72730236 45 00 00 00'), /bad copy command \(offset 0, length 0\) at offset 4/, 4);
});

test('applyPatch() reports truncation wherever the delta ends early', async () => {
  const whole = hex('72730236 05 6162636465 45 02 03 00');
  for (let cut = 0; cut < whole.length; cut++) {
    await assert.rejects(patchBytes(basis, whole.subarray(0, cut)), /truncated at offset|bad magic/, `cut at ${cut}`);
  }
  assert.equal((await patchBytes(basis, whole)).toString(), 'abcde234');
});

test('applyPatch() refuses a copy past the end of the basis', async () => {
  await rejectsWith(hex('72730236 45 0e 03 00'), /copies past the end of the basis file/, 4);
});

test('a delta whose copies move forward applies to its basis as a stream; one that copies backward is told apart', async () => {
  const old = randomBytes(1, 300_000);
  // edited in place, with a run inserted and one deleted: every copy starts at or after the one before ends
  const edited = Buffer.concat([old.subarray(0, 50_000), randomBytes(2, 777), old.subarray(50_000, 120_000), old.subarray(140_000, 299_000), randomBytes(3, 5_000)]);
  const signature = await signatureBytes(old, { blockLength: 2048, strongLength: 8 });
  const forward = await deltaBytes(signature, edited);
  assert.equal(await copiesMoveForward(chunksOf(forward, 7)), true);
  for (const chunk of [1, 4096, 65_536, 1 << 20]) {
    const streamed = await collect(applyPatch(streamBasisReader(chunksOf(old, chunk)), chunksOf(forward, 999)));
    assert.ok(streamed.equals(edited), `basis streamed in chunks of ${chunk}`);
  }
  // the halves swapped: the second half's copies come first, the first half's go back
  const swapped = Buffer.concat([old.subarray(150_000), old.subarray(0, 150_000)]);
  const backward = await deltaBytes(signature, swapped);
  assert.equal(await copiesMoveForward(chunksOf(backward)), false);
  assert.ok((await patchBytes(old, backward)).equals(swapped));
  await assert.rejects(collect(applyPatch(streamBasisReader(chunksOf(old)), chunksOf(backward))), /streams forward only/);
  // a malformed delta is not called forward: applyPatch reports it instead
  assert.equal(await copiesMoveForward(chunksOf(forward.subarray(0, forward.length - 1))), false);
  assert.equal(await copiesMoveForward(chunksOf(hex('72730136 00'))), false);
});

test('a stream basis that ends before a copy does gives the same error as a file basis', async () => {
  const delta = hex('72730236 45 0e 03 00');
  await assert.rejects(collect(applyPatch(streamBasisReader(chunksOf(basis, 5)), chunksOf(delta))), /copies past the end of the basis file/);
});

test('applyPatch() refuses a copy beyond 2^53, where positions are no longer exact', async () => {
  await rejectsWith(hex('72730236 51 0020000000000001 02 45 00 02 00'), /bad copy command \(offset 900719925474099\d, length 2\) at offset 4/, 4);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { constants, deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { requireProgram } from '../../test/support/programs.js';
import { ParallelGzip, planRuns, storedBlocks } from './parallel-gzip.js';

async function gzipOf(parts: Buffer[], options: { level: number; blockBytes?: number; flushAfter?: number[] }): Promise<Buffer> {
  const out: Buffer[] = [];
  // copied as it comes: stored parts are views of an input block that is reused once the sink settles
  const gzip = new ParallelGzip(async (parts) => { out.push(Buffer.concat(parts)); }, options);
  for (let i = 0; i < parts.length; i++) {
    await gzip.write(parts[i]);
    if (options.flushAfter?.includes(i)) await gzip.flush();
  }
  await gzip.end();
  return Buffer.concat(out);
}

/** text that compresses like source code: lines from a small vocabulary, seeded */
function text(bytes: number, seed: number): Buffer {
  const words = ['function', 'return', 'const', 'value', 'index', 'buffer', 'length', '{', '}', '(', ')', ';', 'if', 'else', 'for'];
  let x = seed >>> 0 || 1;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const n = 3 + (x % 9);
    const line: string[] = [];
    for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; line.push(words[x % words.length]); }
    const s = `${line.join(' ')} ${x % 1000}\n`;
    lines.push(s);
    size += s.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** python's gzip module (what duplicity reads volumes with) decompresses it to the same bytes */
function pythonGunzipDigest(t: import('node:test').TestContext, gz: Buffer): string | undefined {
  if (!requireProgram(t, 'python3')) return undefined;
  const run = spawnSync('python3', ['-c', 'import gzip,hashlib,sys; print(hashlib.sha256(gzip.decompress(sys.stdin.buffer.read())).hexdigest())'],
    { input: gz, maxBuffer: 1 << 20 });
  assert.equal(run.status, 0, run.stderr.toString());
  return run.stdout.toString().trim();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('parallel blocks, stored incompressible runs and flushes make one gzip member python reads back', async (t) => {
  // text, then random bytes, then text again, written in odd sizes, over several 256 KiB blocks
  const input = Buffer.concat([text(700_000, 1), randomBytes(600_000), text(300_000, 2), randomBytes(1000), text(50_000, 3)]);
  const parts: Buffer[] = [];
  for (let at = 0; at < input.length;) { const n = Math.min(input.length - at, 1 + ((at * 7919) % 90_000)); parts.push(input.subarray(at, at + n)); at += n; }
  const gz = await gzipOf(parts, { level: 6, blockBytes: 256 * 1024, flushAfter: [3, 4, 40] });
  assert.equal(gz.readUInt32BE(0) >>> 8, 0x1f8b08, 'gzip magic and deflate method');
  assert.ok(gunzipSync(gz).equals(input), 'zlib reads it back');
  const digest = pythonGunzipDigest(t, gz);
  if (digest !== undefined) assert.equal(digest, sha256(input), 'python gzip reads it back');
  // the random 600 kB are stored (no larger than input + a few bytes per 64 KiB), the text deflated
  // about as well as one gzip stream at the same level
  const single = gzipSync(input, { level: 6 }).length;
  assert.ok(gz.length <= single * 1.01, `${gz.length} bytes, one stream: ${single}`);
});

test('an empty input and a tiny input are valid gzip', async (t) => {
  for (const input of [Buffer.alloc(0), Buffer.from('x')]) {
    const gz = await gzipOf([input], { level: 6 });
    assert.ok(gunzipSync(gz).equals(input));
    const digest = pythonGunzipDigest(t, gz);
    if (digest !== undefined) assert.equal(digest, sha256(input));
  }
});

test('only near-random segments are stored, mostly random ones run-length coded; level 0 stores everything', async (t) => {
  const block = Buffer.concat([text(65536, 4), randomBytes(2 * 65536), text(65536, 5)]);
  assert.deepEqual(planRuns(block, 6).map((r) => [r.start / 65536, r.end / 65536, r.level]), [[0, 1, 6], [1, 3, 0], [3, 4, 6]]);
  assert.ok(planRuns(block, 6).every((r) => !r.rle));
  // a tar-like mix: small random files between 512-byte headers of mostly zeros: run-length coding squeezes the zeros
  const tarLike = Buffer.concat(Array.from({ length: 8 }, () => [Buffer.alloc(512), randomBytes(7680)]).flat());
  assert.deepEqual(planRuns(tarLike, 6).map((r) => [r.level, r.rle]), [[1, true]]);
  assert.deepEqual(planRuns(block, 0).map((r) => r.level), [0]);
  assert.deepEqual(planRuns(block, 1).map((r) => [r.level, r.rle]), [[1, false], [0, false], [1, false]]);
  // the zeros do shrink: most of the 8 x 512 bytes of headers are gone
  const tarGz = await gzipOf([tarLike], { level: 6 });
  assert.ok(tarGz.length < tarLike.length - 8 * 512 * 0.9, `${tarGz.length} bytes for ${tarLike.length}`);
  // all three kinds in one member, read back by python's gzip module (duplicity's reader)
  const mixed = Buffer.concat([text(65536, 6), tarLike, randomBytes(65536), tarLike, text(65536, 7)]);
  const gz = await gzipOf([mixed], { level: 6 });
  assert.ok(gunzipSync(gz).equals(mixed));
  const digest = pythonGunzipDigest(t, gz);
  if (digest !== undefined) assert.equal(digest, sha256(mixed));
});

test('stored blocks written by hand inflate like zlib level 0, at 0, 1, 65535, 65536 and 200,000 bytes', () => {
  for (const n of [0, 1, 65535, 65536, 200_000]) {
    const data = Buffer.alloc(n, 0x5a);
    for (let i = 0; i < n; i += 977) data[i] = i & 0xff;
    // a stored run between two deflated pieces, ended the way end() ends a member
    const head = deflateRawSync(Buffer.from('before '), { finishFlush: constants.Z_SYNC_FLUSH });
    const tail = deflateRawSync(Buffer.from(' after'), { finishFlush: constants.Z_FINISH, dictionary: Buffer.concat([Buffer.from('before '), data]).subarray(-32768) });
    const joined = Buffer.concat([head, ...storedBlocks(data), tail]);
    assert.ok(inflateRawSync(joined).equals(Buffer.concat([Buffer.from('before '), data, Buffer.from(' after')])), `${n} bytes`);
  }
});

test('the bytes do not depend on timing: a block deflated while the one before is still on the pool sizes zlib\'s buffer as if it had finished', async () => {
  // zlib's output buffer is sized from the ratio of the last run deflated the same way. Block 2 below
  // deflates (after block 1's tail) to exactly the size block 1's ratio gives, and a sync flush that
  // ends at a buffer's end makes zlib add an empty stored block: had the ratio been read as deflates
  // finished, waiting for block 1 before writing block 2 would change the output by 5 bytes.
  const L = 256 * 1024;
  let x = 12345;
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>>= 0); };
  const words = ['function', 'return', 'const', 'value', 'index', 'buffer', 'length', '{', '}', '(', ')', ';', 'if', 'else', 'for'];
  const wordsOf = (n: number) => {
    const s: string[] = [];
    let length = 0;
    while (length < n) { const w = words[next() % words.length] + (next() % 7 === 0 ? '\n' : ' '); s.push(w); length += w.length; }
    return Buffer.from(s.join('')).subarray(0, n);
  };
  const block1 = wordsOf(L);
  const block2 = Buffer.from(wordsOf(L));
  // found by a search with this generator: edits that bring block 2's deflate to the exact size
  const positions = Array.from({ length: 20000 }, () => next() % L);
  const values = Array.from({ length: 20000 }, () => next() & 255);
  for (let i = 0; i < 4491; i++) block2[positions[i]] = values[i];
  block2[(positions[4491] + 14 * 977) % L] = 0;
  const run = async (waitForBlock1: boolean) => {
    const out: Buffer[] = [];
    const gzip = new ParallelGzip(async (parts) => { out.push(Buffer.concat(parts)); }, { level: 5, parallel: 1, blockBytes: L });
    await gzip.write(block1);
    if (waitForBlock1) await new Promise((resolve) => setTimeout(resolve, 300));
    await gzip.write(block2);
    await gzip.end();
    return Buffer.concat(out);
  };
  const atOnce = await run(false);
  const afterWait = await run(true);
  assert.deepEqual(gunzipSync(atOnce), Buffer.concat([block1, block2]));
  assert.equal(afterWait.length, atOnce.length);
  assert.ok(afterWait.equals(atOnce), 'the same input gave other bytes');
});

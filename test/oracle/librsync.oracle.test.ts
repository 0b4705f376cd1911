// Oracle: the real rdiff (librsync 2.3.2) judges our signatures, deltas and patches, both directions.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { duplicityBlockLength } from '../../src/librsync/signature.js';
import { deltaBytes, patchBytes, signatureBytes } from '../support/librsync.js';
import { requireProgram } from '../support/programs.js';
import { mutate, randomBytes, randomText } from '../support/random.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-rdiff-oracle-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const lifeboat = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;

function rdiff(...args: string[]): void {
  execFileSync('rdiff', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

let counter = 0;
function file(data: Buffer): string {
  const path = join(dir, `f${counter++}`);
  writeFileSync(path, data);
  return path;
}

/** Checks all three directions for one basis/target pair. */
async function judge(name: string, basis: Buffer, target: Buffer): Promise<void> {
  const blockLength = duplicityBlockLength(basis.length);
  const basisPath = file(basis);
  const targetPath = file(target);

  const ourSig = await signatureBytes(basis, { blockLength, strongLength: 8 });
  const rdiffSigPath = join(dir, `s${counter++}`);
  rdiff('signature', '-b', String(blockLength), '-S', '8', '-H', 'md4', '-R', 'rollsum', basisPath, rdiffSigPath);
  assert.ok(ourSig.equals(readFileSync(rdiffSigPath)), `${name}: signature differs from rdiff's`);

  const ourDelta = await deltaBytes(ourSig, target);
  const outPath = join(dir, `o${counter++}`);
  rdiff('patch', basisPath, file(ourDelta), outPath);
  assert.ok(readFileSync(outPath).equals(target), `${name}: rdiff patch with our delta does not give the new file`);

  const rdiffDeltaPath = join(dir, `d${counter++}`);
  rdiff('delta', rdiffSigPath, targetPath, rdiffDeltaPath);
  const rdiffDelta = readFileSync(rdiffDeltaPath);
  assert.ok((await patchBytes(basis, rdiffDelta)).equals(target), `${name}: our patch with rdiff's delta does not give the new file`);
  // our deltas should not be much bigger than librsync's for the same input
  assert.ok(ourDelta.length <= rdiffDelta.length * 1.1 + 64, `${name}: our delta ${ourDelta.length} B vs rdiff's ${rdiffDelta.length} B`);
}

test('rdiff agrees with us on small and block-boundary sizes', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  for (const size of [0, 1, 511, 512, 513, 1023, 1024, 1025]) {
    const basis = randomBytes(size + 10, size);
    await judge(`${size} B identical`, basis, basis);
    await judge(`${size} B unrelated`, basis, randomBytes(size + 20, size + 3));
  }
});

test('rdiff agrees with us around duplicity\'s block-length thresholds', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  for (const size of [1_023_999, 1_024_000, 2_047_999, 2_048_000, 3_071_999, 3_072_000, 4_095_999, 4_096_000]) {
    const basis = randomBytes(size % 1000 + 1, size);
    await judge(`${size} B edited`, basis, mutate(size, basis, 5));
  }
});

test('rdiff agrees with us on 1 MiB random and 10 MiB text with inserts, deletes and moves', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const random = randomBytes(42, 1 << 20);
  await judge('1 MiB random, edited', random, mutate(43, random, 10));
  await judge('1 MiB random vs unrelated', random, randomBytes(44, 1 << 20));
  const text = randomText(45, 10 << 20);
  await judge('10 MiB text, edited', text, mutate(46, text, 50));
  await judge('10 MiB text, identical', text, text);
});

test('a delta of text shifted by an insert and a delete is rdiff\'s, byte for byte (runs of matches found a batch at a time)', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const basis = randomText(47, 6 << 20);
  // the matches after each edit are not block-aligned in the new data, and run for megabytes
  const target = Buffer.concat([randomText(48, 1001), basis.subarray(0, 2_000_000), basis.subarray(2_000_777, 4_000_000), Buffer.from('hello '.repeat(37)), basis.subarray(4_000_000)]);
  const sigPath = join(dir, `s${counter++}`);
  rdiff('signature', '-b', '2048', '-S', '8', '-H', 'md4', '-R', 'rollsum', file(basis), sigPath);
  const rdiffDeltaPath = join(dir, `d${counter++}`);
  rdiff('delta', sigPath, file(target), rdiffDeltaPath);
  const ours = await deltaBytes(readFileSync(sigPath), target);
  assert.ok(ours.equals(readFileSync(rdiffDeltaPath)), `our delta (${ours.length} B) is not rdiff's (${readFileSync(rdiffDeltaPath).length} B)`);
});

test('a delta of a table dump whose rolling sums collide all the time is as small as rdiff\'s and patches back', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  // pgbench_accounts rows: windows of such text share weak sums with many blocks they do not match,
  // so most windows that need an MD4 are told apart by it (gathered four at a time, delta.ts)
  const rows = (edit: (aid: number) => number) => Buffer.from(Array.from({ length: 60_000 }, (_, i) => `${i + 1}\t${1 + Math.floor(i / 100_000)}\t${edit(i)}\t${' '.repeat(84)}\n`).join(''));
  const basis = rows(() => 0);
  const target = rows((i) => (i % 97 === 0 ? (i * 7919) % 5000 - 2500 : 0));
  const sigPath = join(dir, `s${counter++}`);
  const basisPath = file(basis);
  rdiff('signature', '-b', '2048', '-S', '8', '-H', 'md4', '-R', 'rollsum', basisPath, sigPath);
  const rdiffDeltaPath = join(dir, `d${counter++}`);
  rdiff('delta', sigPath, file(target), rdiffDeltaPath);
  const ours = await deltaBytes(readFileSync(sigPath), target);
  const outPath = join(dir, `o${counter++}`);
  rdiff('patch', basisPath, file(ours), outPath);
  assert.ok(readFileSync(outPath).equals(target), 'rdiff patch with our delta does not give the new file');
  const theirs = readFileSync(rdiffDeltaPath).length;
  assert.ok(ours.length <= theirs * 1.001 + 64, `our delta ${ours.length} B, rdiff's ${theirs} B`);
});

test('rdiff agrees with us under seeded random edits', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  for (let seed = 1; seed <= 25; seed++) {
    const basis = seed % 3 ? randomText(seed, 50_000 + seed * 7001) : randomBytes(seed, 40_000 + seed * 5003);
    await judge(`seed ${seed}`, basis, mutate(seed * 31, basis, 1 + (seed % 12)));
  }
});

test('lifeboat rdiff and rdiff interoperate from the shell', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const basis = randomText(7, 3_000_000);
  const target = mutate(8, basis, 15);
  const a = file(basis), b = file(target);
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [lifeboat, 'rdiff', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  const sig = join(dir, 'cli.sig'), rsig = join(dir, 'cli.rsig');
  run('signature', a, sig);
  rdiff('signature', '-b', '1024', '-S', '8', '-H', 'md4', '-R', 'rollsum', a, rsig);
  assert.ok(readFileSync(sig).equals(readFileSync(rsig)), 'CLI signature differs from rdiff\'s');
  const delta = join(dir, 'cli.delta'), out = join(dir, 'cli.out');
  run('delta', sig, b, delta);
  rdiff('patch', a, delta, out);
  assert.ok(readFileSync(out).equals(target));
  const rdelta = join(dir, 'cli.rdelta'), out2 = join(dir, 'cli.out2');
  rdiff('delta', rsig, b, rdelta);
  run('patch', a, rdelta, out2);
  assert.ok(readFileSync(out2).equals(target));
});

test('lifeboat rdiff patch with a corrupt delta fails cleanly and leaves no output file', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const sub = mkdtempSync(join(dir, 'corrupt-'));
  const basis = randomBytes(9, 100_000);
  const a = join(sub, 'basis'); writeFileSync(a, basis);
  const b = join(sub, 'new'); writeFileSync(b, mutate(10, basis, 3));
  const sig = join(sub, 'sig'), delta = join(sub, 'delta');
  rdiff('signature', '-b', '512', '-S', '8', '-H', 'md4', '-R', 'rollsum', a, sig);
  rdiff('delta', sig, b, delta);
  const bytes = readFileSync(delta);
  const cut = join(sub, 'cut.delta'); writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
  const r = spawnSync(process.execPath, [lifeboat, 'rdiff', 'patch', a, cut, join(sub, 'out')], { encoding: 'utf8' });
  assert.equal(r.status, 21);
  assert.match(r.stderr, /^lifeboat: .*cut\.delta: delta is truncated at offset \d+/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(!existsSync(join(sub, 'out')));
  assert.deepEqual(readdirSync(sub).sort(), ['basis', 'cut.delta', 'delta', 'new', 'sig']);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomText, mutate } from '../../test/support/random.js';
import { requireProgram } from '../../test/support/programs.js';
import { indexSignature } from '../librsync/delta.js';
import { parseSignatureBytes } from '../librsync/signature.js';
import { PIECE_SIZE } from '../duplicity/difftar.js';
import { DeltaWorkers } from './delta-workers.js';

/** an rdiff signature file, parsed and indexed into shared memory as the backup does for big files */
const sharedIndex = (path: string) => indexSignature(parseSignatureBytes(readFileSync(path), true), true);

const RDIFF_SIGNATURE = ['signature', '-b', '2048', '-S', '8', '-H', 'md4', '-R', 'rollsum'];

/** Reads a delta job to its end; rdiff must patch `dir`/basis with it into `dir`/new. */
async function patchesBack(dir: string, job: ReturnType<DeltaWorkers['diff']>): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of job.payload) parts.push(Buffer.from(part));
  await job.result;
  writeFileSync(join(dir, 'delta'), Buffer.concat(parts));
  execFileSync('rdiff', ['patch', join(dir, 'basis'), join(dir, 'delta'), join(dir, 'patched')]);
  assert.ok(readFileSync(join(dir, 'patched')).equals(readFileSync(join(dir, 'new'))), 'rdiff patch of the delta differs from the new file');
}

/** Runs a DeltaWorkers delta of `newData` against rdiff's signature of `basis`; rdiff checks the result. */
async function checkAgainstRdiff(basis: Buffer, newData: Buffer, options: { workers: number; segmentMinBytes: number; sizeHint?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-delta-workers-'));
  const workers = new DeltaWorkers(options.workers, options.segmentMinBytes);
  try {
    const at = (name: string) => join(dir, name);
    writeFileSync(at('basis'), basis);
    writeFileSync(at('new'), newData);
    execFileSync('rdiff', [...RDIFF_SIGNATURE, at('basis'), at('basis.sig')]);
    execFileSync('rdiff', [...RDIFF_SIGNATURE, at('new'), at('new.sig')]);
    const fd = openSync(at('new'), 'r');
    try {
      const job = workers.diff(fd, options.sizeHint ?? newData.length, 2048, sharedIndex(at('basis.sig')));
      const parts: Buffer[] = [];
      // copied as they come: one buffer holds every piece in turn (DeltaJob.payload)
      for await (const part of job.payload) parts.push(Buffer.from(part));
      const { contentBytes, signature } = await job.result;
      // in pieces of a difftar member's size, which the difftar passes on without copying them again
      assert.ok(parts.slice(0, -1).every((part) => part.length === PIECE_SIZE), `parts of ${[...new Set(parts.map((p) => p.length))].join(', ')} bytes`);
      writeFileSync(at('delta'), Buffer.concat(parts));
      assert.equal(contentBytes, newData.length);
      // the joined segment signatures are librsync's signature of the whole file, byte for byte
      assert.ok(signature.equals(readFileSync(at('new.sig'))), 'signature differs from rdiff signature');
      // and the joined deltas rebuild the file with librsync's own patch
      execFileSync('rdiff', ['patch', at('basis'), at('delta'), at('patched')]);
      assert.ok(readFileSync(at('patched')).equals(newData), 'rdiff patch of the joined delta differs from the new file');
      return Buffer.concat(parts).length;
    } finally {
      closeSync(fd);
    }
  } finally {
    await workers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a file cut into segments on two workers: rdiff patches the joined delta and gets the same signature', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const basis = randomText(1, 5 << 20);
  // edits everywhere, some shifting the rest of the file, and growth at the end
  const newData = Buffer.concat([mutate(2, basis, 40), randomText(3, 300_000)]);
  const deltaBytes = await checkAgainstRdiff(basis, newData, { workers: 2, segmentMinBytes: 1 << 20 });
  // most of the file is copied from the basis: the delta is far smaller than the file
  assert.ok(deltaBytes < newData.length / 4, `delta of ${deltaBytes} bytes`);
  // segments of at most 512 KiB: 11 of them, more than the four that may wait unread at once
  await checkAgainstRdiff(basis, newData, { workers: 2, segmentMinBytes: 256 << 10 });
});

test('one segment, and a file that shrank after its lstat (the later segments read nothing)', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const basis = randomText(4, 3 << 20);
  const newData = mutate(5, basis, 10);
  await checkAgainstRdiff(basis, newData, { workers: 1, segmentMinBytes: 64 << 20 });
  // planned as 4 MiB in 4 segments; the file has 3 MiB: the last segment is empty, and one ends short
  await checkAgainstRdiff(basis, newData.subarray(0, 2_500_000), { workers: 2, segmentMinBytes: 1 << 20, sizeHint: 4 << 20 });
});

test('an empty new file and a new file unlike the basis (all literal)', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const basis = randomText(6, 2 << 20);
  await checkAgainstRdiff(basis, Buffer.alloc(0), { workers: 2, segmentMinBytes: 1 << 20, sizeHint: 2 << 20 });
  await checkAgainstRdiff(basis, randomText(7, 3 << 20), { workers: 2, segmentMinBytes: 1 << 20 });
  // one segment whose delta goes round its 1 MiB ring five times, ending mid-ring
  await checkAgainstRdiff(basis, randomText(11, (5 << 20) + 12_345), { workers: 1, segmentMinBytes: 64 << 20 });
});

test('a reader that stops early cancels the segments still running; the workers take the next file', async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-delta-workers-'));
  const workers = new DeltaWorkers(2, 1 << 20);
  try {
    const basis = randomText(8, 4 << 20);
    writeFileSync(join(dir, 'basis'), basis);
    execFileSync('rdiff', [...RDIFF_SIGNATURE, join(dir, 'basis'), join(dir, 'basis.sig')]);
    const signature = sharedIndex(join(dir, 'basis.sig'));
    // all literal: every segment fills its read-ahead and waits for the reader
    writeFileSync(join(dir, 'other'), randomText(9, 24 << 20));
    const fd = openSync(join(dir, 'other'), 'r');
    try {
      const abandoned = workers.diff(fd, 24 << 20, 2048, signature);
      for await (const _ of abandoned.payload) break;
      // both workers must be free again: this file's delta completes
      writeFileSync(join(dir, 'new'), mutate(10, basis, 5));
      const fd2 = openSync(join(dir, 'new'), 'r');
      try {
        await patchesBack(dir, workers.diff(fd2, 4 << 20, 2048, signature));
      } finally {
        closeSync(fd2);
      }
    } finally {
      await workers.close();
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that dies mid-file fails that file in one line; the next file gets a new worker', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-delta-workers-'));
  const marker = join(dir, 'die-once');
  process.env.LIFEBOAT_TEST_DIE_ONCE = marker;
  const workers = new DeltaWorkers(1, 1 << 20, new URL('../../test/support/dying-delta-worker.js', import.meta.url));
  try {
    const basis = randomText(12, 4 << 20);
    writeFileSync(join(dir, 'basis'), basis);
    execFileSync('rdiff', [...RDIFF_SIGNATURE, join(dir, 'basis'), join(dir, 'basis.sig')]);
    const signature = sharedIndex(join(dir, 'basis.sig'));
    writeFileSync(join(dir, 'new'), mutate(13, basis, 5));
    const fd = openSync(join(dir, 'new'), 'r');
    try {
      writeFileSync(marker, '');
      // three segments on one worker, which dies on the first: the reader gets the error, not a hang
      const doomed = workers.diff(fd, 4 << 20, 2048, signature);
      await assert.rejects(async () => { for await (const _ of doomed.payload) { /* read */ } }, /^Error: delta worker: stopped \(exit code 3\)$/);
      assert.equal(existsSync(marker), false, 'the worker did not die');
      // the same file again: a new worker, a whole delta
      await patchesBack(dir, workers.diff(fd, 4 << 20, 2048, signature));
    } finally {
      closeSync(fd);
    }
  } finally {
    await workers.close();
    delete process.env.LIFEBOAT_TEST_DIE_ONCE;
    rmSync(dir, { recursive: true, force: true });
  }
});

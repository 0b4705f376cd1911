import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaultyBackend } from '../../test/support/faulty-backend.js';
import { BackendError } from '../backend/errors.js';
import { FileBackend } from '../backend/file/file-backend.js';
import { withRetry } from '../backend/retry.js';
import { backupToTarget } from './backup-to-target.js';
import { openTarget } from './target.js';
import { UploadQueue } from './upload-queue.js';
import { VolumeSplitter, type VolumeRecord } from './volume-splitter.js';

let work: string;
before(async () => { work = await mkdtemp(join(tmpdir(), 'lifeboat-upload-queue-test-')); });
after(async () => { await rm(work, { recursive: true, force: true }); });

let counter = 0;
async function fresh(): Promise<{ target: string; spool: string; faulty: FaultyBackend }> {
  const n = ++counter;
  const spool = join(work, `spool-${n}`);
  await mkdir(spool);
  const target = join(work, `target-${n}`);
  return { target, spool, faulty: new FaultyBackend(new FileBackend(target)) };
}

const ENTRY = 300 * 1024;
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

/** Feeds `entries` incompressible entries of 300 KiB into 1 MiB volumes; records when each add returned. */
async function split(splitter: VolumeSplitter, entries: number, onAdded?: (i: number) => Promise<void> | void): Promise<number[]> {
  const addedAt: number[] = [];
  for (let i = 0; i < entries; i++) {
    await splitter.add([randomBytes(ENTRY)], { index: [Buffer.from(`f${String(i).padStart(3, '0')}`)] });
    addedAt.push(performance.now());
    await onAdded?.(i);
  }
  return addedAt;
}

const entryNumber = (v: VolumeRecord) => Number(v.start.index[0].toString().slice(1));

describe('upload queue', () => {
  it('builds volume N+1 while volume N uploads', async () => {
    const { target, spool, faulty } = await fresh();
    faulty.delay('put', 400);
    const splitter = new VolumeSplitter({ backend: faulty, tempdir: spool, compress: false, volumeSizeBytes: 1 << 20, nameOf: (n) => `vol${n}` });
    const started = performance.now();
    const addedAt = await split(splitter, 12);
    const volumes = await splitter.finish();
    assert.ok(volumes.length >= 3, `${volumes.length} volumes`);
    const put1 = faulty.callsOf('put').find((c) => c.name === 'vol1')!;
    // the entries of volume 2 were written into its spool while volume 1 was still uploading
    const firstOfVolume2 = entryNumber(volumes[1]);
    assert.ok(addedAt[firstOfVolume2] > put1.start && addedAt[firstOfVolume2] < put1.end!,
      `volume 2's first entry at ${addedAt[firstOfVolume2] - started} ms; put vol1 from ${put1.start - started} to ${put1.end! - started} ms`);
    for (const v of volumes) assert.equal(sha1(await readFile(join(target, v.name))), v.sha1, v.name);
    assert.deepEqual(await readdir(spool), [], 'every spool file is deleted after its upload');
  });

  it('keeps at most two finished volumes waiting, so the spool stays bounded', async () => {
    const { spool, faulty } = await fresh();
    faulty.delay('put', 150);
    const splitter = new VolumeSplitter({ backend: faulty, tempdir: spool, compress: false, volumeSizeBytes: 1 << 20, nameOf: (n) => `vol${n}` });
    let most = 0;
    await split(splitter, 24, async () => { most = Math.max(most, (await readdir(spool)).length); });
    const volumes = await splitter.finish();
    assert.ok(volumes.length >= 6);
    assert.ok(most <= 3, `${most} spool files at once (2 finished + the one being built)`);
    assert.ok(most >= 2, 'a finished volume did wait while the next was built');
    assert.equal(faulty.maxInFlight, 1, 'one upload at a time: volumes land in order');
    assert.deepEqual(faulty.callsOf('put').map((c) => c.name), volumes.map((v) => v.name));
  });

  it('a failed upload stops the build with that error and leaves no spool files', async () => {
    const { target, spool, faulty } = await fresh();
    faulty.fail({ op: 'put', name: 'vol2', kind: 'no-space' });
    const splitter = new VolumeSplitter({ backend: faulty, tempdir: spool, compress: false, volumeSizeBytes: 1 << 20, nameOf: (n) => `vol${n}` });
    let added = 0;
    const error = await split(splitter, 40, () => { added++; }).then(() => splitter.finish()).catch((err: unknown) => err);
    await splitter.abort();
    assert.ok(error instanceof BackendError && error.kind === 'no-space', String(error));
    assert.match((error as Error).message, /vol2/);
    assert.ok(added < 40, `the build stopped early (after ${added} entries)`);
    assert.deepEqual(await readdir(spool), []);
    assert.ok(!(await readdir(target)).includes('vol2'));
  });

  it('abort stops a running upload and deletes the files still waiting', async () => {
    const { target, spool, faulty } = await fresh();
    faulty.delay('put', 5000);
    const queue = new UploadQueue({ backend: faulty, maxQueued: 3 });
    for (const name of ['a', 'b', 'c']) {
      await writeFile(join(spool, name), name);
      await queue.add({ name, path: join(spool, name), size: 1 });
    }
    const started = performance.now();
    await queue.abort(new Error('stopped'));
    assert.ok(performance.now() - started < 2000);
    assert.deepEqual(await readdir(spool), []);
    await assert.rejects(readdir(target), { code: 'ENOENT' });
    await assert.rejects(queue.finish(), /stopped/);
  });

  it('the caller\'s abort stops a running upload and finish() reports it', async () => {
    const { target, spool, faulty } = await fresh();
    faulty.delay('put', 5000);
    const controller = new AbortController();
    const queue = new UploadQueue({ backend: faulty, signal: controller.signal });
    await writeFile(join(spool, 'a'), 'a');
    await queue.add({ name: 'a', path: join(spool, 'a'), size: 1 });
    const interrupted = new Error('Interrupted');
    setTimeout(() => controller.abort(interrupted), 30);
    const started = performance.now();
    await assert.rejects(queue.finish(), (err) => err === interrupted);
    assert.ok(performance.now() - started < 2000);
    assert.deepEqual(await readdir(spool), []);
    await assert.rejects(readdir(target), { code: 'ENOENT' });
  });
});

describe('backup with background uploads', () => {
  it('a volume that cannot be stored fails the backup clearly and no manifest or signatures are written', async () => {
    const { target, spool } = await fresh();
    const source = join(work, `source-${counter}`);
    await mkdir(source);
    for (let i = 0; i < 6; i++) await writeFile(join(source, `file${i}`), randomBytes(400 * 1024));
    const opened = await openTarget(`file://${target}`, { archiveDir: join(work, `cache-${counter}`), name: 'x', sync: true, notice: () => undefined });
    const faulty = new FaultyBackend(opened.backend);
    faulty.fail({ op: 'put', name: /vol2\.difftar/, kind: 'transient', times: 100 });
    const retries: string[] = [];
    const backend = withRetry(faulty, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1000, onRetry: (e) => retries.push(e.name!) });
    const error = await backupToTarget({
      source, target: { ...opened, backend }, mode: 'full', compress: true, volumeSizeBytes: 1 << 20, tempdir: spool,
      maxBlockSize: 2048, allowSourceMismatch: false, dryRun: false, notice: () => undefined, warning: () => undefined, info: () => undefined,
    }).catch((err: unknown) => err);
    assert.ok(error instanceof BackendError, String(error));
    assert.match(error.message, /^Giving up after 3 attempts: put duplicity-full\.\d{8}T\d{6}Z\.vol2\.difftar\.gz: injected transient fault$/);
    assert.equal(retries.length, 2);
    const stored = await readdir(target);
    assert.ok(stored.some((n) => /vol1\.difftar/.test(n)), stored.join(' '));
    assert.ok(!stored.some((n) => /manifest|sigtar|vol2/.test(n)), `nothing after the failed volume: ${stored.join(' ')}`);
    assert.deepEqual(await readdir(spool), []);
  });
});

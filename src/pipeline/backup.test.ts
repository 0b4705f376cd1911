import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:net';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileBackend } from '../backend/file/file-backend.js';
import { readTar } from '../tar/volume-reader.js';
import { runBackup } from './backup.js';
import { ReadAhead } from './read-ahead.js';
import { overlaySignatures, type SignatureStateEntry } from './signature-state.js';

test('the negative-mtime warning names the path relative to the source, as duplicity does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-backup-test-'));
  try {
    const source = join(dir, 'src');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'sub', 'old'), 'x');
    const sixties = new Date(-315619200 * 1000); // a Date: Node takes a negative number of seconds as "now"
    await utimes(join(source, 'sub', 'old'), sixties, sixties);
    const warnings: string[] = [];
    const result = await runBackup({
      source, backend: new FileBackend(join(dir, 'target')), compress: true, volumeSizeBytes: 1 << 20,
      tempdir: dir, maxBlockSize: 2048, dryRun: true, onWarning: (m) => warnings.push(m),
      names: { volume: (n) => `duplicity-full.20260101T000000Z.vol${n}.difftar.gz`, signatures: 'duplicity-full-signatures.20260101T000000Z.sigtar.gz' },
    });
    await result.filelist.discard();
    await rm(result.signatures.path, { force: true });
    assert.deepEqual(warnings, ['Warning: sub/old has negative mtime, treating as 0.']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Filelist and statistics follow what is stored, as duplicity counts them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-backup-test-'));
  try {
    const source = join(dir, 'src');
    await mkdir(join(source, 'was-dir'), { recursive: true });
    await writeFile(join(source, 'edited'), 'first\n');
    await writeFile(join(source, 'was-dir', 'x'), 'x\n');
    await symlink('edited', join(source, 'was-link'));
    const t1 = new Date(1_700_000_000_000);
    for (const p of ['edited', 'was-dir/x', 'was-dir', '.']) await utimes(join(source, p), t1, t1);
    const run = (previous?: AsyncIterable<SignatureStateEntry>) => runBackup({
      source, backend: new FileBackend(join(dir, 'target')), compress: false, volumeSizeBytes: 1 << 20, previous,
      tempdir: dir, maxBlockSize: 2048, dryRun: true, onWarning: () => undefined,
      names: { volume: (n) => `v${n}`, signatures: 's' },
    });
    const filelist = async (result: Awaited<ReturnType<typeof run>>) => {
      const parts: Buffer[] = [];
      for await (const chunk of result.filelist.open()) parts.push(chunk as Buffer);
      await result.filelist.discard();
      return Buffer.concat(parts).toString();
    };

    const full = await run();
    assert.equal(await filelist(full), '    new      edited\n    new      was-dir/x\n');
    const dirSizes = (await lstat(source)).size + (await lstat(join(source, 'was-dir'))).size;
    // SourceFileSize and NewFileSize count directories' and symlinks' st_size; RawDeltaSize only data
    assert.equal(full.statistics.sourceFileSize, 6 + 2 + 'edited'.length + dirSizes);
    assert.equal(full.statistics.newFileSize, full.statistics.sourceFileSize);
    assert.equal(full.statistics.rawDeltaSize, 8);
    assert.equal(full.statistics.newFiles, 5);

    await writeFile(join(source, 'edited'), 'second\n');
    await rm(join(source, 'was-dir'), { recursive: true });
    await writeFile(join(source, 'was-dir'), 'now a file\n');
    await unlink(join(source, 'was-link'));
    await writeFile(join(source, 'was-link'), 'now a file too\n');
    const t2 = new Date(1_700_000_100_000);
    for (const p of ['edited', 'was-dir', 'was-link', '.']) await utimes(join(source, p), t2, t2);
    const previous = overlaySignatures([readTar(createReadStream(full.signatures.path))]);
    const inc = await run(previous);
    await rm(full.signatures.path, { force: true });
    await rm(inc.signatures.path, { force: true });
    // a regular file replacing a directory or a symlink is a snapshot, so "new"; only a diff is "changed"
    assert.equal(await filelist(inc), '    changed  edited\n    new      was-dir\n    deleted  was-dir/x\n    new      was-link\n');
    assert.equal(inc.statistics.changedFiles, 1);
    assert.equal(inc.statistics.newFiles, 3); // the root directory, was-dir, was-link
    assert.equal(inc.statistics.deletedFiles, 1);
    assert.equal(inc.statistics.changedDeltaSize, 0); // duplicity 0.8 never counts it
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file rewritten within the second the previous backup started is backed up again (same mtime)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-backup-test-'));
  try {
    const source = join(dir, 'src');
    await mkdir(source, { recursive: true });
    const second = new Date(1_700_000_000_000);
    const write = async (name: string, text: string) => {
      await writeFile(join(source, name), text);
      await utimes(join(source, name), second, second);
    };
    await write('racy', 'before\n');
    await write('older', 'kept\n');
    await utimes(join(source, 'older'), new Date(1_699_999_000_000), new Date(1_699_999_000_000));
    await utimes(source, second, second);
    const run = (previous?: AsyncIterable<SignatureStateEntry>, racyWindow?: { from: number; to: number }) => runBackup({
      source, backend: new FileBackend(join(dir, 'target')), compress: false, volumeSizeBytes: 1 << 20, previous, racyWindow,
      tempdir: dir, maxBlockSize: 2048, dryRun: true, onWarning: () => undefined,
      names: { volume: (n) => `v${n}`, signatures: 's' },
    });
    const full = await run();
    await full.filelist.discard();
    // the full backup "started" in the file's second; the file is then rewritten in that same second
    await write('racy', 'after!\n');
    const filelistOf = async (racyWindow?: { from: number; to: number }) => {
      const result = await run(overlaySignatures([readTar(createReadStream(full.signatures.path))]), racyWindow);
      const parts: Buffer[] = [];
      for await (const chunk of result.filelist.open()) parts.push(chunk as Buffer);
      await result.filelist.discard();
      await rm(result.signatures.path, { force: true });
      return Buffer.concat(parts).toString();
    };
    // duplicity's rule alone misses it; with the previous backup's time the same-second file is diffed again
    assert.equal(await filelistOf(undefined), '');
    const t = second.getTime() / 1000;
    assert.equal(await filelistOf({ from: t, to: t + 60 }), '    changed  racy\n');
    // a file last written before that second is still skipped, and so is one dated after this backup's start
    assert.equal(await filelistOf({ from: t + 1, to: t + 60 }), '');
    assert.equal(await filelistOf({ from: t - 60, to: t }), '');
    await rm(full.signatures.path, { force: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a full backup with its read-ahead thread running writes the same archive, output and statistics', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-backup-test-'));
  const server = createServer();
  try {
    // more objects than the read-ahead holds at once, a big file, a negative mtime, a socket: the walk's
    // reports must come out where they do without reading ahead
    const source = join(dir, 'src');
    for (let d = 0; d < 4; d++) {
      await mkdir(join(source, `d${d}`), { recursive: true });
      for (let f = 0; f < 300; f++) await writeFile(join(source, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(f));
    }
    // incompressible, so the archive has several volumes
    await writeFile(join(source, 'd1', 'big'), randomBytes(5 << 20));
    const sixties = new Date(-315619200 * 1000);
    await utimes(join(source, 'd2', 'f7'), sixties, sixties);
    await new Promise<void>((resolve) => server.listen(join(source, 'd3', 'sock'), resolve));
    const run = async (target: string, readAhead?: ReadAhead) => {
      const said: string[] = [];
      const result = await runBackup({
        source, backend: new FileBackend(join(dir, target)), compress: true, volumeSizeBytes: 1 << 20,
        tempdir: dir, maxBlockSize: 2048, readAhead,
        onWarning: (m) => said.push(`warning ${m}`), onInfo: (m) => said.push(`info ${m}`),
        // once per object, so the reports' place among the objects shows
        onProgress: (statistics) => said.push(`at ${statistics.sourceFiles}`),
        names: { volume: (n) => `duplicity-full.20260101T000000Z.vol${n}.difftar.gz`, signatures: 'duplicity-full-signatures.20260101T000000Z.sigtar.gz' },
      });
      await result.filelist.discard();
      const signatures = await readFile(result.signatures.path);
      await rm(result.signatures.path, { force: true });
      const volumes = await Promise.all(result.volumes.map((v) => readFile(join(dir, target, v.name))));
      return { said, statistics: { ...result.statistics, startTime: 0, endTime: 0 }, signatures, volumes };
    };
    const plain = await run('plain');
    const readAhead = (await ReadAhead.start())!;
    for (let i = 0; i < 24; i++) readAhead.timed(2);
    assert.ok(readAhead.reading, 'the read-ahead thread runs');
    const ahead = await run('ahead', readAhead);
    assert.deepEqual(ahead.said, plain.said);
    assert.ok(plain.said.includes('warning Warning: d2/f7 has negative mtime, treating as 0.'), plain.said.join('\n'));
    assert.ok(plain.said.some((line) => line.startsWith('info Skipping socket')), plain.said.join('\n'));
    assert.deepEqual(ahead.statistics, plain.statistics);
    assert.ok(ahead.signatures.equals(plain.signatures), 'the signature files differ');
    assert.equal(ahead.volumes.length, plain.volumes.length);
    assert.ok(plain.volumes.length > 1);
    ahead.volumes.forEach((v, i) => assert.ok(v.equals(plain.volumes[i]), `volume ${i + 1} differs`));
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

// writeRestore hands the file system calls to a worker thread in batches: everything must arrive in
// order and whole (a file bigger than a batch, more objects than a batch holds, directory metadata
// after the contents), and a failure on either side must stop the writing, remove the file being
// written and reach the caller as the error it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../fsmeta/entry.js';
import { FileSystemFlusher } from '../fsmeta/flush.js';
import type { ReplayedObject } from './replay.js';
import { writeRestore } from './restore.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-restore-write-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (path: string, type: Entry['type'], extra: Partial<Entry> = {}): Entry => ({
  index: path === '' ? [] : path.split('/').map((p) => Buffer.from(p)), type, permissions: type === 'dir' ? 0o750 : 0o640,
  uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, uname: '', gname: '', mtime: 1_600_000_000, size: 0, ...extra,
});

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const options = (target: string, existing = false) => ({ target, restoreOwnership: false, numericOwner: true, force: false, existing });

test('files bigger than a batch, more objects than a batch holds, links and directory times all arrive', async () => {
  const target = join(dir, 'a');
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir', { mtime: 1_500_000_000 }) };
    yield { entry: entry('big', 'reg', { size: big.length, permissions: 0o600 }), content: chunks(big, 100_000) };
    yield { entry: entry('empty', 'reg'), content: chunks(Buffer.alloc(0), 1) };
    yield { entry: entry('link', 'sym', { linkTarget: Buffer.from('big') }) };
    yield { entry: entry('many', 'dir', { mtime: 1_400_000_000 }) };
    for (let i = 0; i < 5000; i++) {
      const name = `many/f${String(i).padStart(5, '0')}`;
      yield { entry: entry(name, 'reg', { mtime: 1_300_000_000 + i }), content: chunks(Buffer.from(name), 4) };
    }
  }
  const result = await writeRestore(objects(), options(target));
  assert.equal(result.objects, 5005);
  assert.equal(createHash('sha1').update(readFileSync(join(target, 'big'))).digest('hex'), createHash('sha1').update(big).digest('hex'));
  assert.equal(lstatSync(join(target, 'big')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(target, 'empty')).length, 0);
  assert.equal(readlinkSync(join(target, 'link')), 'big');
  assert.equal(readdirSync(join(target, 'many')).length, 5000);
  assert.equal(readFileSync(join(target, 'many', 'f04999'), 'utf8'), 'many/f04999');
  assert.equal(lstatSync(join(target, 'many', 'f04999')).mtimeMs, (1_300_000_000 + 4999) * 1000);
  // directories get their times after their contents are written
  assert.equal(lstatSync(join(target, 'many')).mtimeMs, 1_400_000_000 * 1000);
  assert.equal(lstatSync(target).mtimeMs, 1_500_000_000 * 1000);
  assert.equal(lstatSync(target).mode & 0o777, 0o750);
});

test('a stream that fails in the middle of a file: the error reaches the caller, the partial file is gone, nothing after it is made', async () => {
  const target = join(dir, 'b');
  async function* broken(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(600_000, 1);
    throw new Error('volume damaged');
  }
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir') };
    yield { entry: entry('first', 'reg'), content: chunks(Buffer.from('whole'), 2) };
    yield { entry: entry('partial', 'reg'), content: broken() };
    yield { entry: entry('after', 'reg'), content: chunks(Buffer.from('never'), 2) };
  }
  await assert.rejects(writeRestore(objects(), options(target)), /volume damaged/);
  assert.equal(readFileSync(join(target, 'first'), 'utf8'), 'whole');
  assert.equal(existsSync(join(target, 'partial')), false);
  assert.equal(existsSync(join(target, 'after')), false);
});

test('a failure on the worker (an object of another type in the way, no --force) reaches the caller as that error', async () => {
  const target = join(dir, 'c');
  mkdirSync(join(target, 'in-the-way'), { recursive: true });
  writeFileSync(join(target, 'keep'), 'old');
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir') };
    yield { entry: entry('in-the-way', 'reg'), content: chunks(Buffer.from('new'), 3) };
    for (let i = 0; i < 3000; i++) yield { entry: entry(`later${i}`, 'reg'), content: chunks(Buffer.alloc(1000), 1000) };
  }
  await assert.rejects(writeRestore(objects(), options(target, true)), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'EEXIST');
    assert.match(err.message, /in-the-way: already exists/);
    return true;
  });
  assert.ok(lstatSync(join(target, 'in-the-way')).isDirectory());
  assert.equal(existsSync(join(target, 'later0')), false);
  assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'old');
  // no temporary file of the refused object is left behind
  assert.deepEqual(readdirSync(target).filter((n) => n.includes('.lifeboat-')), []);
});

test('as root, owners arrive on files made in place under temporary names, in a setgid directory too', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('setting owners needs root');
  const target = join(dir, 'd');
  mkdirSync(join(target, 'shared'), { recursive: true });
  writeFileSync(join(target, 'old'), 'replaced');
  // a new file in a setgid directory takes the directory's group, not the process's: the writer must see that
  chownSync(join(target, 'shared'), 0, 5678);
  chmodSync(join(target, 'shared'), 0o2775);
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir', { uid: 0, gid: 0 }) };
    yield { entry: entry('old', 'reg', { uid: 1234, gid: 4321, permissions: 0o4750 }), content: chunks(Buffer.from('new'), 3) };
    yield { entry: entry('shared', 'dir', { uid: 0, gid: 5678, permissions: 0o2775 }) };
    yield { entry: entry('shared/root', 'reg', { uid: 0, gid: 0, permissions: 0o600, mtime: -1 }), content: chunks(Buffer.from('r'), 1) };
    yield { entry: entry('shared/other', 'reg', { uid: 1234, gid: 5678, permissions: 0o2711 }), content: chunks(Buffer.from('o'), 1) };
  }
  await writeRestore(objects(), { ...options(target, true), restoreOwnership: true });
  const seen = (name: string) => { const s = lstatSync(join(target, name)); return [s.uid, s.gid, s.mode & 0o7777, s.mtimeMs]; };
  assert.deepEqual(seen('old'), [1234, 4321, 0o4750, 1_600_000_000_000]);
  assert.equal(readFileSync(join(target, 'old'), 'utf8'), 'new');
  assert.deepEqual(seen('shared/root'), [0, 0, 0o600, -1000]);
  assert.deepEqual(seen('shared/other'), [1234, 5678, 0o2711, 1_600_000_000_000]);
  assert.deepEqual(readdirSync(target).concat(readdirSync(join(target, 'shared'))).filter((n) => n.includes('.lifeboat-')), []);
});

/** A `sync` first on PATH that logs each call (with how much of `file` is written) and runs the real one. */
function recordingSync(t: { after(fn: () => void): void }, name: string, file: string, body = 'exec /bin/sync "$@"'): string {
  const bin = join(dir, name);
  mkdirSync(bin);
  const log = join(bin, 'log');
  writeFileSync(join(bin, 'sync'), `#!/bin/sh\necho "$* $(stat -c %s '${file}' 2>/dev/null || echo none)" >> '${log}'\n${body}\n`);
  chmodSync(join(bin, 'sync'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  t.after(() => { process.env.PATH = path; });
  return log;
}

test('a flusher is fed the bytes as they go: flushes run while a file is written, and the last one after it all', async (t) => {
  const target = join(dir, 'flushed');
  const log = recordingSync(t, 'sync-recording', join(target, 'big'));
  const warnings: string[] = [];
  const big = Buffer.alloc(8 << 20, 7);
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir') };
    // the rest of the file waits until a flush started on the way has run
    async function* slowly(): AsyncGenerator<Buffer> {
      let sent = 0;
      for await (const c of chunks(big, 1 << 20)) {
        yield c;
        if ((sent += c.length) !== 4 << 20) continue;
        // begin()'s flush ran before the file was made; wait for one that sees part of it
        const midway = () => existsSync(log) && readFileSync(log, 'utf8').split('\n').some((c) => / [0-9]+$/.test(c));
        for (const deadline = Date.now() + 10_000; Date.now() < deadline && !midway(); ) await new Promise((r) => setTimeout(r, 20));
      }
    }
    yield { entry: entry('big', 'reg', { size: big.length }), content: slowly() };
  }
  const result = await writeRestore(objects(), { ...options(target), flusher: new FileSystemFlusher(dir, (l) => warnings.push(l), 2 << 20) });
  assert.equal(result.bytes, big.length);
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(calls.length >= 3, calls.join('\n'));
  assert.equal(calls[0], `-f ${dir} none`, 'begin flushed before anything was written');
  assert.ok(calls.slice(1, -1).every((c) => c.startsWith(`-f ${dir} `)) && calls.slice(1, -1).some((c) => Number(c.split(' ')[2]) < big.length),
    `a flush ran while the file was being written:\n${calls.join('\n')}`);
  assert.equal(calls[calls.length - 1], `-f ${dir} ${big.length}`, 'the last flush ran with the file complete');
  assert.deepEqual(warnings, []);
});

test('a restore that fails while a flush runs waits for it, reports its own error, and flushes no more', async (t) => {
  const target = join(dir, 'flush-abandoned');
  const log = recordingSync(t, 'sync-slow', join(target, 'big'), `sleep 0.3; echo end >> '${join(dir, 'sync-slow', 'log')}'`);
  const warnings: string[] = [];
  async function* objects(): AsyncGenerator<ReplayedObject> {
    yield { entry: entry('', 'dir') };
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(2 << 20, 1);
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('volume 2 is damaged');
    }
    yield { entry: entry('big', 'reg', { size: 4 << 20 }), content: failing() };
  }
  await assert.rejects(writeRestore(objects(), { ...options(target), flusher: new FileSystemFlusher(dir, (l) => warnings.push(l), 1 << 20) }), /volume 2 is damaged/);
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  // begin's flush and its end, then the one under way when the stream failed and its end
  assert.equal(calls.length, 4, calls.join('\n'));
  assert.deepEqual([calls[0], calls[1]], [`-f ${dir} none`, 'end']);
  assert.match(calls[2], new RegExp(`^-f ${dir} [0-9]+$`));
  assert.equal(calls[3], 'end', 'the flush under way had ended when the restore returned');
  assert.deepEqual(warnings, []);
});

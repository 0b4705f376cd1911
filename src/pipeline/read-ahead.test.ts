// The read-ahead thread must start only when the backup's reads come from disk, hand the walk on
// unchanged and really read the next files while the backup is still at an earlier one;
// /proc/self/io's rchar (bytes read by every thread of the process) shows its reads. A FIFO where
// the walk saw a file must not stop it. What the walk reports while it runs ahead, and an error that
// ends it, reach the backup where they would have without reading ahead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../fsmeta/entry.js';
import { NameDatabase } from '../fsmeta/names.js';
import { walkSourceSync } from '../selection/walk.js';
import { ReadAhead } from './read-ahead.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-read-ahead-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FILE = 100 * 1024;
const FILES = 40;

/** what this process has read, less this function's own reads of /proc/self/io */
let ownReads = 0;
function bytesRead(): number {
  const io = readFileSync('/proc/self/io', 'latin1');
  ownReads += io.length;
  return Number(/^rchar: (\d+)$/m.exec(io)![1]) - ownReads;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition();) {
    if (Date.now() - started > 10_000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A ReadAhead whose backup has just read a run of small files from disk: its thread runs. */
async function slowReads(): Promise<ReadAhead> {
  const readAhead = (await ReadAhead.start())!;
  for (let i = 0; i < 24; i++) readAhead.timed(2);
  return readAhead;
}

const describe = (e: Entry) => `${e.type} ${Buffer.concat(e.index.flatMap((c, i) => (i > 0 ? [Buffer.from('/'), c] : [c]))).toString()} ${e.size}`;

test('the walk passes through unchanged while the files after the current one are read ahead', async () => {
  const root = join(dir, 'tree');
  mkdirSync(join(root, 'sub'), { recursive: true });
  // long names: 40 paths of 200 bytes and more outgrow a message's first 8 KiB of paths
  for (let i = 0; i < FILES; i++) writeFileSync(join(root, 'sub', `f${String(i).padStart(2, '0')}${'x'.repeat(180)}`), Buffer.alloc(FILE, i));
  writeFileSync(join(root, 'empty'), '');
  symlinkSync('sub/f00', join(root, 'link'));
  const walk = () => walkSourceSync(root, { names: new NameDatabase(), onWarning: (path, message) => assert.fail(`${message} ${path}`) });

  const readAhead = await slowReads();
  try {
    const before = bytesRead();
    const entries = readAhead.entries(root, walk());
    const seen = [entries.next().value as Entry];
    // the backup "is" at the root: every file after it gets read ahead, none of it by this thread
    await until(() => bytesRead() - before >= FILES * FILE, `${FILES * FILE} bytes read ahead`);
    for (const entry of entries) seen.push(entry);
    assert.deepEqual(seen.map(describe), [...walk()].map(describe));
    assert.equal(seen.length, FILES + 4);
  } finally {
    readAhead.close();
  }
});

test('a FIFO where the walk saw a regular file is skipped, and the files after it are still read', async () => {
  const root = join(dir, 'fifo');
  mkdirSync(root);
  execFileSync('mkfifo', [join(root, 'a-fifo')]);
  writeFileSync(join(root, 'b-file'), Buffer.alloc(FILE, 1));
  const reg = (name: string, size: number): Entry => ({
    index: [Buffer.from(name)], type: 'reg', size, permissions: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0,
  });
  const dirEntry: Entry = { ...reg('', 0), index: [], type: 'dir' };

  const readAhead = await slowReads();
  try {
    const before = bytesRead();
    // the root with a trailing slash: the paths have one slash there all the same
    const entries = readAhead.entries(`${root}/`, [dirEntry, reg('a-fifo', FILE), reg('b-file', FILE)]);
    assert.equal(entries.next().value, dirEntry);
    // opening the FIFO without O_NONBLOCK would wait for a writer for ever, and b-file never be read
    await until(() => bytesRead() - before >= FILE, 'b-file read ahead past the FIFO');
    assert.deepEqual([...entries].map(describe), ['reg a-fifo 102400', 'reg b-file 102400']);
  } finally {
    readAhead.close();
  }
});

test('past the first fill: hundreds of objects and files bigger than the per-file limit arrive whole and in order', async () => {
  const root = join(dir, 'many');
  mkdirSync(join(root, 'small'), { recursive: true });
  for (let i = 0; i < 1500; i++) writeFileSync(join(root, 'small', `s${String(i).padStart(4, '0')}`), `file ${i}\n`);
  for (let i = 0; i < 12; i++) writeFileSync(join(root, `big${String(i).padStart(2, '0')}`), Buffer.alloc(5 << 20, i));
  const walk = () => walkSourceSync(root, { names: new NameDatabase(), onWarning: (path, message) => assert.fail(`${message} ${path}`) });

  const readAhead = await slowReads();
  try {
    const before = bytesRead();
    const seen: string[] = [];
    for (const entry of readAhead.entries(root, walk())) seen.push(describe(entry));
    assert.deepEqual(seen, [...walk()].map(describe));
    assert.equal(seen.length, 1 + 12 + 1 + 1500);
    // the thread ran (how far it got depends on the machine: the loop above does not wait for it)
    await until(() => bytesRead() - before > 0, 'any read ahead');
  } finally {
    readAhead.close();
  }
});

for (const startAt of [0, 100]) test(`the walk's reports and the error that ends it come where they would without reading ahead (thread started at object ${startAt})`, async () => {
  const readAhead = (await ReadAhead.start())!;
  const log: string[] = [];
  const reg = (i: number): Entry => ({
    index: [Buffer.from(`f${i}`)], type: 'reg', size: 10, permissions: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0,
  });
  // a walk that reports something before every third object and after its last, then fails
  function* walk(report: (line: string) => void): Generator<Entry> {
    for (let i = 0; i < 1200; i++) {
      if (i % 3 === 0) report(`warning before f${i}`);
      yield reg(i);
    }
    report('warning at the end');
    throw new Error('the walk failed');
  }
  const run = (entries: Iterable<Entry>, reading?: ReadAhead) => {
    let n = 0;
    try {
      for (const entry of entries) {
        log.push(`store ${entry.index[0].toString()}`);
        // the backup's reads turn slow here: the thread starts and the walk runs ahead from the next object
        if (n++ === startAt && reading) for (let i = 0; i < 24; i++) reading.timed(2);
      }
    } catch (err) {
      log.push(`error: ${(err as Error).message}`);
    }
  };
  try {
    run(walk((line) => log.push(line)));
    const expected = log.splice(0);
    run(readAhead.entries(join(dir, 'nowhere'), walk((line) => readAhead.later(() => log.push(line)))), readAhead);
    assert.deepEqual(log, expected);
    assert.equal(expected.at(-1), 'error: the walk failed');
    assert.ok(readAhead.reading, 'the slow reads started the thread');
  } finally {
    readAhead.close();
  }
});

test('while the backup\'s reads come from the page cache, no thread starts and nothing is read ahead', async () => {
  const root = join(dir, 'warm');
  mkdirSync(root);
  for (let i = 0; i < 100; i++) writeFileSync(join(root, `w${String(i).padStart(3, '0')}`), Buffer.alloc(FILE, i));
  const walk = () => walkSourceSync(root, { names: new NameDatabase(), onWarning: (path, message) => assert.fail(`${message} ${path}`) });
  const readAhead = (await ReadAhead.start())!;
  try {
    const before = bytesRead();
    const seen: string[] = [];
    // fast reads, and now and then one slowed by a thread switch: not enough to start
    let n = 0;
    for (const entry of readAhead.entries(root, walk())) {
      seen.push(describe(entry));
      readAhead.timed(n++ % 10 === 0 ? 2 : 0.005);
    }
    assert.deepEqual(seen, [...walk()].map(describe));
    assert.equal(readAhead.reading, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(bytesRead() - before < FILE, `${bytesRead() - before} bytes were read ahead`);
  } finally {
    readAhead.close();
  }
});

// readEntry against real objects in a temporary directory: every type, odd modes, odd mtimes, devices.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { requireProgram } from '../../test/support/programs.js';
import { deviceNumbers, makeDevice, negativeMtimeMessage, readEntry } from './read.js';

let dir: string;
const isRoot = process.getuid?.() === 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-read-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a regular file: size, setuid permissions, mtime truncated, owner names', async () => {
  const path = join(dir, 'odd-perms');
  await writeFile(path, 'hello');
  await chmod(path, 0o4751);
  await utimes(path, 1000, 981173106.75);
  const entry = await readEntry(path, [Buffer.from('odd-perms')]);
  assert.ok(entry);
  assert.equal(entry.type, 'reg');
  assert.equal(entry.size, 5);
  assert.equal(entry.permissions, 0o4751);
  assert.equal(entry.mtime, 981173106);
  assert.equal(entry.uid, process.getuid?.());
  if (isRoot) assert.equal(entry.uname, 'root');
  assert.equal(entry.linkTarget, undefined);
});

test('mode 000, a sticky directory, and an owner without a name', async (t) => {
  const none = join(dir, 'no-perms');
  await writeFile(none, 'secret!');
  await chmod(none, 0);
  assert.equal((await readEntry(none, []))?.permissions, 0);
  const sticky = join(dir, 'sticky');
  await mkdir(sticky);
  await chmod(sticky, 0o1777);
  const entry = await readEntry(sticky, []);
  assert.equal(entry?.type, 'dir');
  assert.equal(entry?.permissions, 0o1777);
  assert.equal(entry?.size, 0);
  if (!isRoot) return t.skip('chown to 1234:5678 needs root');
  const owned = join(dir, 'owned-by-1234');
  await writeFile(owned, 'x');
  await chown(owned, 1234, 5678);
  const o = await readEntry(owned, []);
  assert.deepEqual([o?.uid, o?.gid, o?.uname, o?.gname], [1234, 5678, '', '']);
});

test('a symlink is read, not followed: dangling, to a directory, with a non-UTF-8 target', async () => {
  const target = Buffer.from([...Buffer.from('/nonexistent/'), 0xff]);
  const link = join(dir, 'dangling');
  await symlink(target, link);
  const entry = await readEntry(link, []);
  assert.equal(entry?.type, 'sym');
  assert.deepEqual(entry?.linkTarget, target);
  assert.equal(entry?.size, 0);
  const toDir = join(dir, 'to-dir');
  await symlink('.', toDir);
  assert.equal((await readEntry(toDir, []))?.type, 'sym');
});

test('a negative mtime is stored as 0 with a warning, even when above -1 s', async () => {
  for (const [i, seconds] of [-100, -0.5].entries()) {
    const path = join(dir, `negative-${i}`);
    await writeFile(path, 'old');
    await utimes(path, 0, new Date(seconds * 1000)); // a negative *number* means "now" to Node
    const warnings: string[] = [];
    const entry = await readEntry(path, [], { onWarning: (m) => warnings.push(m) });
    assert.equal(entry?.mtime, 0);
    assert.deepEqual(warnings, [negativeMtimeMessage]);
  }
});

test('an mtime of 2^33 s and more (needs pax) is exact', async () => {
  const path = join(dir, 'future');
  await writeFile(path, '');
  // ext4 stops at 2446, so not much beyond
  await utimes(path, 0, 2 ** 33 + 7);
  assert.equal((await readEntry(path, []))?.mtime, 2 ** 33 + 7);
});

test("the mtime is duplicity's int(st_mtime) where the two float roundings agree: .999999999 s rounds up as in Python", async (t) => {
  if (!requireProgram(t, 'python3')) return;
  // touch sets the nanoseconds exactly (Node's utimes goes through a double); .999999999 s is within
  // Python's rounding of the next second, so duplicity stores sec + 1 there, and so do we (a few
  // nanoseconds further down the two roundings differ: read.ts)
  const paths: string[] = [];
  for (const seconds of [1234567890, 1700000000, 4102444800]) {
    for (const nanos of ['000000001', '500000000', '999999000', '999999999']) {
      const path = join(dir, `ns-${seconds}-${nanos}`);
      await writeFile(path, '');
      const touched = spawnSync('touch', ['-d', `@${seconds}.${nanos}`, path], { encoding: 'utf8' });
      assert.equal(touched.status, 0, touched.stderr);
      paths.push(path);
    }
  }
  const python = spawnSync('python3', ['-c', 'import os, sys\nfor p in sys.argv[1:]: print(int(os.lstat(p).st_mtime))', ...paths], { encoding: 'utf8' });
  assert.equal(python.status, 0, python.stderr);
  const ours = await Promise.all(paths.map(async (path) => `${(await readEntry(path, []))?.mtime}\n`));
  assert.equal(ours.join(''), python.stdout);
  assert.match(python.stdout, /^1700000001$/m); // the case that rounds up is in the set
});

test('a FIFO; a socket gives null', async () => {
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.equal((await readEntry(fifo, []))?.type, 'fifo');
  const sock = join(dir, 'socket');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    assert.equal(await readEntry(sock, []), null);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('device numbers: /dev/null, and nodes made with mknod (as root)', async (t) => {
  const devNull = await readEntry('/dev/null', []);
  assert.deepEqual([devNull?.type, devNull?.devMajor, devNull?.devMinor], ['chr', 1, 3]);
  if (!isRoot) return t.skip('mknod needs root');
  const cases: [string, string, number, number][] = [['chardev', 'c', 1, 3], ['blockdev', 'b', 7, 200], ['wide', 'c', 300, 70000]];
  for (const [name, kind, major, minor] of cases) {
    const path = join(dir, name);
    const made = spawnSync('mknod', [path, kind, String(major), String(minor)], { encoding: 'utf8' });
    if (made.status !== 0) return t.skip(`mknod failed (no CAP_MKNOD?): ${made.stderr}`);
    const entry = await readEntry(path, []);
    assert.deepEqual([entry?.type, entry?.devMajor, entry?.devMinor], [kind === 'c' ? 'chr' : 'blk', major, minor]);
  }
});

test('deviceNumbers decodes the high bits of Linux dev_t', () => {
  assert.deepEqual(deviceNumbers(makeDevice(0x12345, 0x6789abc)), { devMajor: 0x12345, devMinor: 0x6789abc });
  assert.deepEqual(deviceNumbers(0x0103n), { devMajor: 1, devMinor: 3 });
  assert.equal(makeDevice(7, 200), 0x07c8n);
});

test('a vanished path throws ENOENT', async () => {
  await assert.rejects(readEntry(join(dir, 'missing'), []), { code: 'ENOENT' });
});

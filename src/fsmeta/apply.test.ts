// What readEntry sees must survive createSpecial + applyMetadata unchanged (symlink mtimes excepted, as in duplicity).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { applyFileMetadata, applyMetadata, createSpecial, MetadataError } from './apply.js';
import type { Entry } from './entry.js';
import { NameDatabase } from './names.js';
import { readEntry } from './read.js';

let dir: string;
const isRoot = process.getuid?.() === 0;
const names = NameDatabase.parse('root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n', 'root:x:0:\nstaff:x:50:\n');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-apply-'));
  await mkdir(join(dir, 'src'));
  await mkdir(join(dir, 'dst'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const withoutIndex = (e: Entry | null): Partial<Entry> | null => (e ? { ...e, index: undefined } : null);

/** A regular file made the way the restore's writer makes it: created, written, its metadata set through the descriptor. */
async function writeLikeRestore(dst: string, data: string, entry: Entry, asRoot: boolean): Promise<void> {
  const fd = openSync(dst, 'wx', 0o600);
  try {
    writeSync(fd, data);
    await applyFileMetadata(fd, dst, entry, { asRoot, names });
  } finally {
    closeSync(fd);
  }
}

/** Makes the object at dst the way a restore would: create, then applyMetadata (applyFileMetadata for a regular file). */
async function restoreCopy(entry: Entry, dst: string): Promise<void> {
  if (entry.type === 'reg') return writeLikeRestore(dst, 'x'.repeat(entry.size), entry, isRoot);
  if (entry.type === 'dir') await mkdir(dst);
  else if (entry.type === 'sym') await symlink(entry.linkTarget!, dst);
  else await createSpecial(dst, entry);
  await applyMetadata(dst, entry, { asRoot: isRoot, names });
}

test('round trip: create -> readEntry -> apply to a copy -> readEntry gives the same entry', async (t) => {
  const src = join(dir, 'src');
  const made: [string, () => Promise<unknown>][] = [
    ['setuid', async () => { await writeFile(join(src, 'setuid'), 'hello'); await chmod(join(src, 'setuid'), 0o4751); }],
    ['setgid', async () => { await writeFile(join(src, 'setgid'), ''); await chmod(join(src, 'setgid'), 0o2755); }],
    ['no-perms', async () => { await writeFile(join(src, 'no-perms'), 'secret!'); await chmod(join(src, 'no-perms'), 0); }],
    ['sticky', async () => { await mkdir(join(src, 'sticky')); await chmod(join(src, 'sticky'), 0o1777); }],
    ['fifo', async () => { assert.equal(spawnSync('mkfifo', ['-m', '0640', join(src, 'fifo')]).status, 0); }],
    ['link', () => symlink('/nonexistent/target', join(src, 'link'))],
  ];
  if (isRoot) {
    made.push(['chardev', async () => { assert.equal(spawnSync('mknod', [join(src, 'chardev'), 'c', '1', '3']).status, 0); }]);
    made.push(['blockdev', async () => { assert.equal(spawnSync('mknod', [join(src, 'blockdev'), 'b', '7', '200']).status, 0); }]);
  } else {
    t.diagnostic('not root: device nodes and ownership are not round-tripped');
  }
  for (const [name, make] of made) {
    await make();
    const path = join(src, name);
    if (name !== 'link') await utimes(path, 1, 981173106);
    if (isRoot && name !== 'link') await chown(path, 1234, 5678);
    if (isRoot && name !== 'link') await chmod(path, (await lstat(path)).mode & 0o7777); // chown cleared setuid
    if (isRoot && name === 'link') await lchown(path, 1234, 5678);
  }
  for (const [name] of made) {
    const original = await readEntry(join(src, name), [Buffer.from(name)], { names });
    assert.ok(original, name);
    const copy = join(dir, 'dst', name);
    await restoreCopy(original, copy);
    const restored = await readEntry(copy, [Buffer.from(name)], { names });
    if (original.type === 'sym') {
      // duplicity restores neither a symlink's mtime nor (Linux has none) its mode
      assert.deepEqual({ ...withoutIndex(restored), mtime: 0 }, { ...withoutIndex(original), mtime: 0 }, name);
    } else {
      assert.deepEqual(withoutIndex(restored), withoutIndex(original), name);
    }
  }
});

test('atime becomes "now", as duplicity sets it', async () => {
  const path = join(dir, 'dst', 'atime');
  await writeFile(path, '');
  const entry: Entry = { index: [], type: 'reg', permissions: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 1000, size: 0 };
  await applyMetadata(path, entry, { asRoot: false });
  const stats = await lstat(path);
  assert.equal(stats.mtimeMs, 1000_000);
  assert.ok(Math.abs(stats.atimeMs - Date.now()) < 60_000);
});

test('owner by name first, numeric id when the name is unknown or numericOwner is set', async (t) => {
  if (!isRoot) return t.skip('chown needs root');
  const path = join(dir, 'dst', 'owner');
  await writeFile(path, '');
  const entry: Entry = { index: [], type: 'reg', permissions: 0o644, uid: 4321, gid: 8765, uname: 'alice', gname: 'staff', mtime: 0, size: 0 };
  await applyMetadata(path, entry, { asRoot: true, names });
  assert.deepEqual([(await lstat(path)).uid, (await lstat(path)).gid], [1000, 50]);
  await applyMetadata(path, { ...entry, uname: 'ghost', gname: '' }, { asRoot: true, names });
  assert.deepEqual([(await lstat(path)).uid, (await lstat(path)).gid], [4321, 8765]);
  await applyMetadata(path, entry, { asRoot: true, names, numericOwner: true });
  assert.equal((await lstat(path)).uid, 4321);
});

test('applyFileMetadata: a file already owned right keeps its owner and still gets mode and mtime; one in a setgid directory gets the archived group', async (t) => {
  const mine: Entry = { index: [], type: 'reg', permissions: 0o4750, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, uname: '', gname: '', mtime: -86_400, size: 2 };
  const path = join(dir, 'dst', 'file-owned-right');
  await writeLikeRestore(path, 'hi', mine, isRoot);
  const stats = await lstat(path);
  assert.deepEqual([stats.mode & 0o7777, stats.mtimeMs, stats.size], [0o4750, -86_400_000, 2]);
  // (not root: the group is the temporary directory's if it is setgid, and cannot be changed)
  if (!isRoot) return t.skip('chown needs root');
  assert.deepEqual([stats.uid, stats.gid], [mine.uid, mine.gid]);
  // a new file takes a setgid directory's group, not the process's: the owner must be looked at, not assumed
  const shared = join(dir, 'dst', 'setgid-dir');
  await mkdir(shared);
  await chown(shared, 0, 5678);
  await chmod(shared, 0o2775);
  const inShared = join(shared, 'file');
  await writeLikeRestore(inShared, '', { ...mine, uid: 0, gid: 0, permissions: 0o644, mtime: 5 }, true);
  assert.deepEqual([(await lstat(inShared)).uid, (await lstat(inShared)).gid, (await lstat(inShared)).mode & 0o7777], [0, 0, 0o644]);
  const other = join(dir, 'dst', 'file-for-someone-else');
  await writeLikeRestore(other, '', { ...mine, uid: 1234, gid: 5678, uname: '', gname: '', permissions: 0o2711 }, true);
  assert.deepEqual([(await lstat(other)).uid, (await lstat(other)).gid, (await lstat(other)).mode & 0o7777], [1234, 5678, 0o2711]);
});

test('createSpecial handles a name that is not UTF-8 (argv cannot carry it)', async () => {
  const path = Buffer.concat([Buffer.from(join(dir, 'dst', 'bad')), Buffer.from([0xff]), Buffer.from('fifo')]);
  const entry: Entry = { index: [], type: 'fifo', permissions: 0o600, uid: 0, gid: 0, uname: '', gname: '', mtime: 5, size: 0 };
  await createSpecial(path, entry);
  await applyMetadata(path, entry, { asRoot: false });
  const read = await readEntry(path, []);
  assert.deepEqual([read?.type, read?.permissions, read?.mtime], ['fifo', 0o600, 5]);
});

test('failures are MetadataErrors naming the path and the step', async () => {
  const missing = join(dir, 'dst', 'missing');
  const entry: Entry = { index: [], type: 'reg', permissions: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, size: 0 };
  await assert.rejects(applyMetadata(missing, entry, { asRoot: false }), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.equal(err.message, `${missing}: cannot set permissions to 0644: ENOENT: no such file or directory`);
    return true;
  });
  const fifo: Entry = { ...entry, type: 'fifo' };
  await assert.rejects(createSpecial(join(dir, 'no-such-dir', 'fifo'), fifo), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.match(err.message, /no-such-dir\/fifo: cannot create FIFO: mkfifo failed \(exit status 1\): .*No such file/);
    return true;
  });
});

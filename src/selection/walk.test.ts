// The walk on real trees: order, symlinks, sockets, and objects that vanish or cannot be read mid-walk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmdirSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compareIndex, formatPath, type Entry } from '../fsmeta/entry.js';
import { walkSource, type WalkOptions } from './walk.js';

let dir: string;
let server: Server | undefined;
const isRoot = process.getuid?.() === 0;
const ff = Buffer.from([0xff]);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-walk-'));
});
after(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await rm(dir, { recursive: true, force: true });
});

const show = (e: Entry): string => e.index.map((c) => formatPath(c)).join('/') || '.';

interface Seen {
  entries: Entry[];
  warnings: string[];
  skips: string[];
}

async function walk(root: string, extra: Partial<WalkOptions> = {}, onEntry?: (e: Entry) => Promise<void>): Promise<Seen> {
  const seen: Seen = { entries: [], warnings: [], skips: [] };
  const options: WalkOptions = {
    onWarning: (path, _message, detail) => seen.warnings.push(`${detail.code} ${formatPath(path).slice(root.length + 1)}`),
    onSkip: (path, reason) => seen.skips.push(`${reason} ${formatPath(path).slice(root.length + 1)}`),
    ...extra,
  };
  for await (const entry of walkSource(root, options)) {
    seen.entries.push(entry);
    await onEntry?.(entry);
  }
  return seen;
}

test('yields the root first, then index order: per component, bytewise, symlinks not followed', async () => {
  const root = join(dir, 'order');
  await mkdir(join(root, 'a'), { recursive: true });
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  for (const name of ['B', 'a/b', 'a-b', 'a.c', 'ab', 'ünï', 'sub/deeper/file']) await writeFile(join(root, name), name);
  await writeFile(Buffer.concat([Buffer.from(`${root}/`), ff]), 'raw');
  await symlink('.', join(root, 'loop'));
  await symlink('l2', join(root, 'l1'));
  await symlink('l1', join(root, 'l2'));
  await symlink('/nonexistent/target', join(root, 'dangling'));
  assert.equal(spawnSync('mkfifo', [join(root, 'fifo')]).status, 0);
  server = createServer();
  await new Promise<void>((resolve) => server!.listen(join(root, 'sock'), resolve));

  const seen = await walk(root);
  assert.deepEqual(seen.entries.map(show), [
    '.', 'B', 'a', 'a/b', 'a-b', 'a.c', 'ab', 'dangling', 'fifo', 'l1', 'l2', 'loop',
    'sub', 'sub/deeper', 'sub/deeper/file', 'ünï', '\\xFF',
  ]);
  for (let i = 1; i < seen.entries.length; i++) assert.equal(compareIndex(seen.entries[i - 1].index, seen.entries[i].index), -1);
  const byName = new Map(seen.entries.map((e) => [show(e), e]));
  assert.equal(byName.get('.')?.type, 'dir');
  assert.deepEqual(byName.get('.')?.index, []);
  assert.equal(byName.get('loop')?.type, 'sym');
  assert.equal(byName.get('loop')?.linkTarget?.toString(), '.');
  assert.equal(byName.get('l1')?.type, 'sym');
  assert.equal(byName.get('fifo')?.type, 'fifo');
  assert.deepEqual(byName.get('\\xFF')?.index, [ff]);
  assert.equal(byName.get('sub/deeper/file')?.size, 'sub/deeper/file'.length);
  assert.deepEqual(seen.skips, ['socket sock']);
  assert.deepEqual(seen.warnings, []);
});

test('shouldDescend prunes a subtree but the directory itself is still yielded', async () => {
  const seen = await walk(join(dir, 'order'), { shouldDescend: (e) => show(e) !== 'sub' });
  assert.ok(seen.entries.map(show).includes('sub'));
  assert.ok(!seen.entries.map(show).some((p) => p.startsWith('sub/')));
});

test('a file that vanishes after readdir and a directory that vanishes before listing are warned about', async () => {
  const root = join(dir, 'vanish');
  await mkdir(join(root, 'a'), { recursive: true });
  await mkdir(join(root, 'gone-dir'));
  await writeFile(join(root, 'b'), '');
  await writeFile(join(root, 'c'), '');
  const seen = await walk(root, {
    shouldDescend: (e) => {
      if (show(e) === 'a') rmdirSync(join(root, 'gone-dir'));
      return true;
    },
  }, async (e) => {
    if (show(e) === 'a') await unlink(join(root, 'b'));
  });
  assert.deepEqual(seen.entries.map(show), ['.', 'a', 'c']);
  assert.deepEqual(seen.warnings, ['vanished b', 'vanished gone-dir']);
});

test('a directory removed between yield and listing gives "cannot-list" (fails even for root)', async () => {
  const root = join(dir, 'unlisted');
  await mkdir(join(root, 'd'), { recursive: true });
  const seen = await walk(root, {
    shouldDescend: (e) => {
      if (show(e) === 'd') rmdirSync(join(root, 'd'));
      return true;
    },
  });
  assert.deepEqual(seen.entries.map(show), ['.', 'd']);
  assert.deepEqual(seen.warnings, ['cannot-list d']);
});

test('negative mtimes reach onWarning and become 0', async () => {
  const root = join(dir, 'negative');
  await mkdir(root);
  await writeFile(join(root, 'old'), '');
  await utimes(join(root, 'old'), 0, new Date('1960-01-01T00:00:00Z'));
  const seen = await walk(root);
  assert.equal(seen.entries[1].mtime, 0);
  assert.deepEqual(seen.warnings, ['negative-mtime old']);
});

/** walks root in a child process started by `launcher` (setpriv ...) and returns what it saw */
function walkInChild(root: string, launcher: string[]): { status: number | null; stderr: string; seen?: { entries: string[]; warnings: string[] } } {
  const script = `
    import { walkSource } from ${JSON.stringify(new URL('./walk.js', import.meta.url).href)};
    const out = { entries: [], warnings: [] };
    const root = ${JSON.stringify(root)};
    for await (const e of walkSource(root, { onWarning: (p, m, d) => out.warnings.push(d.code + ' ' + p.toString().slice(root.length + 1)) }))
      out.entries.push(e.index.map(String).join('/') || '.');
    console.log(JSON.stringify(out));`;
  const child = spawnSync(launcher[0], [...launcher.slice(1), process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: child.status, stderr: child.stderr, seen: child.status === 0 ? JSON.parse(child.stdout) : undefined };
}

test('unreadable files and directories are left out with a warning', async (t) => {
  const root = join(dir, 'locked');
  await mkdir(join(root, 'locked-dir'), { recursive: true });
  await writeFile(join(root, 'locked-dir', 'inside'), '');
  await writeFile(join(root, 'locked-file'), '');
  await writeFile(join(root, 'open-file'), '');
  await chmod(join(root, 'locked-dir'), 0o300); // enterable, not readable: os.access(R_OK) fails
  await chmod(join(root, 'locked-file'), 0o200);
  const expected = { entries: ['.', 'open-file'], warnings: ['unreadable locked-dir', 'unreadable locked-file'] };
  if (!isRoot) {
    const seen = await walk(root);
    assert.deepEqual({ entries: seen.entries.map(show), warnings: seen.warnings }, expected);
    return;
  }
  // root may read everything (the walk then need not ask access()): as root, all of it is kept
  const asRoot = await walk(root);
  assert.deepEqual({ entries: asRoot.entries.map(show), warnings: asRoot.warnings }, { entries: ['.', 'locked-dir', 'locked-dir/inside', 'locked-file', 'open-file'], warnings: [] });
  await chmod(dir, 0o755);
  // as nobody, and as root without the capabilities that override permissions, access() refuses
  const launchers = [['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], ['setpriv', '--bounding-set=-dac_override,-dac_read_search']];
  for (const launcher of launchers) {
    const child = walkInChild(root, launcher);
    if (child.status !== 0) return t.skip(`cannot run ${launcher.join(' ')}: ${child.stderr}`);
    assert.deepEqual(child.seen, expected, launcher.join(' '));
  }
});

test('oneFileSystem leaves out mount points (checked on /dev when /dev/pts is a separate mount)', async (t) => {
  const [dev, pts] = await Promise.all([lstat('/dev').catch(() => null), lstat('/dev/pts').catch(() => null)]);
  if (!dev || !pts || dev.dev === pts.dev) return t.skip('no separate /dev/pts mount here');
  const shallow = { shouldDescend: (e: Entry) => e.index.length === 0 };
  const crossing = await walk('/dev', shallow);
  assert.ok(crossing.entries.some((e) => show(e) === 'pts'));
  const staying = await walk('/dev', { ...shallow, oneFileSystem: true });
  assert.ok(!staying.entries.some((e) => show(e) === 'pts'));
  assert.ok(staying.skips.includes('other-filesystem pts'));
});

test('a missing root is an error with the source-missing exit code', async () => {
  await assert.rejects(walk(join(dir, 'no-such-root')), { code: 'source-missing', exitCode: 13 });
});

// `lifeboat duplicity restore` puts the restored files on disk before it names them: coreutils' `sync -f`
// runs on the destination's file system while the files still sit in the staging directory, and only
// then is the staging directory renamed to the destination. A failed flush is a failed restore (the
// destination is not made), but for the one run before anything is written: what it reports is an
// older error of other files, and a warning. A machine without `sync` gets a warning and the restore.
// The real `sync` runs behind a recording wrapper on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { isCi, requireProgram } from '../support/programs.js';

const lifeboat = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-restore-durable-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = join(dir, 'src');
const url = `file://${join(dir, 'target')}`;
const env = { ...process.env, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') };
const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [lifeboat, 'duplicity', ...args], { encoding: 'utf8', env: { ...env, ...extraEnv } });

before(() => {
  mkdirSync(join(source, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(source, 'sub', `file${i}`), `content ${i}\n`.repeat(1000));
  symlinkSync('nowhere', join(source, 'dangling'));
  const backup = run(['full', '--no-encryption', source, url]);
  assert.equal(backup.status, 0, backup.stderr);
});

/** A directory holding only a `sync` script with this body, for the front of PATH. */
function wrapper(name: string, body: string): string {
  const bin = join(dir, name);
  mkdirSync(bin);
  writeFileSync(join(bin, 'sync'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, 'sync'), 0o755);
  return bin;
}

/** A restore with a `sync` on PATH that records its arguments (then runs the real one); returns the flushes too. */
function recordedRestore(name: string, args: string[]): { status: number | null; stderr: string; flushes: string } {
  const log = join(dir, `${name}.log`);
  const bin = wrapper(`recording-${name}`, `echo "$*" >> '${log}'\nexec /bin/sync "$@"`);
  const restore = run(['restore', '--no-encryption', ...args], { PATH: `${bin}:${process.env.PATH}` });
  return { status: restore.status, stderr: restore.stderr, flushes: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

test('the restored files are flushed while they are still under the staging name, then renamed into place', (t) => {
  if (!requireProgram(t, 'sync', 'coreutils')) return;
  const log = join(dir, 'sync.log');
  const destination = join(dir, 'out', 'restored');
  // each call records its arguments, whether the destination exists yet and how many files the staging
  // directories beside it hold, then runs the real sync
  const bin = wrapper('recording', `{ echo "$*"; [ -e '${destination}' ] && echo destination-exists; find "$2" -path '*lifeboat-restore-*' -type f | wc -l; } >> '${log}'\nexec /bin/sync "$@"`);
  const restore = run(['restore', '--no-encryption', url, destination], { PATH: `${bin}:${process.env.PATH}` });
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(restore.stderr, '');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines.slice(-2), [`-f ${join(dir, 'out')}`, '5'], `the last flush ran on the destination's parent with all 5 files staged:\n${lines.join('\n')}`);
  assert.ok(!lines.includes('destination-exists'), 'no flush ran after the rename');
  for (let i = 0; i < 5; i++) assert.equal(readFileSync(join(destination, 'sub', `file${i}`), 'utf8'), `content ${i}\n`.repeat(1000));
});

/** A `sync` that runs the real one the first time (the flush before the restore writes), then fails. */
const failingAfterBegin = (name: string) => wrapper(name, `if [ ! -e '${join(dir, name)}/began' ]; then touch '${join(dir, name)}/began'; exec /bin/sync "$@"; fi
echo "sync: error syncing '$2': Input/output error" >&2\nexit 1`);

test('a failed flush fails the restore with one line and a hint, and makes no destination', () => {
  const bin = failingAfterBegin('failing');
  const parent = join(dir, 'failed');
  const restore = run(['restore', '--no-encryption', url, join(parent, 'restored')], { PATH: `${bin}:${process.env.PATH}` });
  assert.equal(restore.status, 23, restore.stderr);
  const lines = restore.stderr.trim().split('\n');
  assert.match(lines[0], /^lifeboat: the restored files could not be flushed to disk \(sync: error syncing '.*': Input\/output error\)$/);
  assert.match(lines[1], /^hint: check the disk/);
  assert.equal(lines.length, 2, restore.stderr);
  // neither the destination nor the staging directory is left, nor the parent the restore made
  assert.ok(!existsSync(parent), existsSync(parent) ? readdirSync(parent).join(', ') : '');
});

test('without a sync program the restore warns on stderr and succeeds', () => {
  const destination = join(dir, 'no-sync');
  // node by its own path, and a PATH where no sync is found
  const restore = run(['restore', '--no-encryption', url, destination], { PATH: join(dir, 'empty-path') });
  assert.equal(restore.status, 0, restore.stderr);
  assert.match(restore.stderr, /cannot flush the restored files to disk: there is no "sync" program/);
  assert.equal(restore.stderr.trim().split('\n').length, 1, restore.stderr);
  assert.equal(readFileSync(join(destination, 'sub', 'file4'), 'utf8'), 'content 4\n'.repeat(1000));
});

test('an old write error reported by the flush before the restore writes is a warning, and the restore succeeds', (t) => {
  if (!requireProgram(t, 'sync', 'coreutils')) return;
  const log = join(dir, 'old-error.log');
  // the first call reports an error, as syncfs does to the first opener that has not seen an old one
  const bin = wrapper('old-error', `echo "$*" >> '${log}'
if [ ! -e '${log}.seen' ]; then touch '${log}.seen'; echo "sync: error syncing '$2': Input/output error" >&2; exit 1; fi
exec /bin/sync "$@"`);
  const destination = join(dir, 'old-error', 'restored');
  const restore = run(['restore', '--no-encryption', url, destination], { PATH: `${bin}:${process.env.PATH}` });
  assert.equal(restore.status, 0, restore.stderr);
  assert.match(restore.stderr, /^the file system of .* reported a write error from before this restore \(sync: error syncing '.*': Input\/output error\); the restore goes on: check the disk and the kernel log \(dmesg\)\n$/);
  assert.equal(readFileSync(log, 'utf8'), `-f ${join(dir, 'old-error')}\n-f ${join(dir, 'old-error')}\n`, 'the flush before, and the last one');
  assert.equal(readFileSync(join(destination, 'sub', 'file4'), 'utf8'), 'content 4\n'.repeat(1000));
});

test('a restore in place (--force) flushes the file system through the destination\'s parent', (t) => {
  if (!requireProgram(t, 'sync', 'coreutils')) return;
  const destination = join(dir, 'in-place');
  mkdirSync(destination);
  writeFileSync(join(destination, 'kept'), 'not in the archive\n');
  const restore = recordedRestore('in-place', ['--force', url, destination]);
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(restore.flushes, `-f ${dir}\n`.repeat(2), 'before and after the restore');
  assert.equal(readFileSync(join(destination, 'sub', 'file0'), 'utf8'), 'content 0\n'.repeat(1000));
  assert.equal(readFileSync(join(destination, 'kept'), 'utf8'), 'not in the archive\n');
});

test('--force -r of a file or a dangling link onto an existing directory replaces it and flushes through the parent', (t) => {
  if (!requireProgram(t, 'sync', 'coreutils')) return;
  for (const [path, name] of [['sub/file3', 'replaced-by-file'], ['dangling', 'replaced-by-link']]) {
    const destination = join(dir, name);
    mkdirSync(destination);
    writeFileSync(join(destination, 'old'), 'old\n');
    const restore = recordedRestore(name, ['--force', '-r', path, url, destination]);
    assert.equal(restore.status, 0, restore.stderr);
    assert.equal(restore.flushes, `-f ${dir}\n`.repeat(2));
    if (path === 'dangling') assert.equal(readlinkSync(destination), 'nowhere');
    else assert.equal(readFileSync(destination, 'utf8'), 'content 3\n'.repeat(1000));
  }
});

/** A new tmpfs mounted on a new directory; false (the test skipped) where this may not mount, unless under CI. */
function mountTmpfs(t: TestContext, destination: string): boolean {
  mkdirSync(destination);
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', destination]).status === 0;
  if (!mounted) {
    if (isCi()) throw new Error('this test mounts a tmpfs: it needs root and mount under CI=true');
    t.skip('cannot mount a tmpfs here (needs root outside a container)');
    return false;
  }
  t.after(() => spawnSync('umount', [destination]));
  return true;
}

test('a restore in place onto a mount point flushes the mounted file system', (t) => {
  const destination = join(dir, 'mounted');
  if (!mountTmpfs(t, destination)) return;
  writeFileSync(join(destination, 'kept'), 'kept\n');
  const restore = recordedRestore('mounted', ['--force', url, destination]);
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(restore.flushes, `-f ${destination}\n`.repeat(2));
  assert.ok(lstatSync(join(destination, 'sub')).isDirectory());
  assert.notEqual(lstatSync(destination).dev, lstatSync(dir).dev, 'the destination is still the mount point');
});

test('an empty mount point is restored into, not replaced; a failure leaves it empty and mounted', (t) => {
  const destination = join(dir, 'empty-mount');
  if (!mountTmpfs(t, destination)) return;
  const restore = recordedRestore('empty-mount', [url, destination]);
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(restore.flushes, `-f ${destination}\n`.repeat(2), 'the mounted file system is flushed, before and after');
  assert.equal(readFileSync(join(destination, 'sub', 'file2'), 'utf8'), 'content 2\n'.repeat(1000));
  assert.notEqual(lstatSync(destination).dev, lstatSync(dir).dev, 'still the mount point');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('lifeboat-restore')), [], 'no staging directory beside it');

  const second = join(dir, 'empty-mount-failing');
  if (!mountTmpfs(t, second)) return;
  const failing = failingAfterBegin('failing-empty-mount');
  const failed = run(['restore', '--no-encryption', url, second], { PATH: `${failing}:${process.env.PATH}` });
  assert.equal(failed.status, 23, failed.stderr);
  assert.deepEqual(readdirSync(second), [], 'what the restore wrote is removed');
  assert.notEqual(lstatSync(second).dev, lstatSync(dir).dev, 'still mounted');
});

test('--force will not replace a mount point with a file: it fails before touching what is mounted', (t) => {
  const destination = join(dir, 'mounted-keep');
  if (!mountTmpfs(t, destination)) return;
  writeFileSync(join(destination, 'precious'), 'keep me\n');
  for (const given of [destination, `${destination}/`]) {
    const restore = run(['restore', '--no-encryption', '--force', '-r', 'sub/file1', url, given]);
    assert.equal(restore.status, 23, restore.stderr);
    assert.match(restore.stderr, /^lifeboat: .*mounted-keep\/? is a mount point, and the archive holds another type of object there\nhint: restore into a directory inside it, or unmount it first\n$/);
    assert.equal(readFileSync(join(destination, 'precious'), 'utf8'), 'keep me\n');
  }
});

test('a file restored onto an empty mount point is refused as a mount point, not sent to --force', (t) => {
  const destination = join(dir, 'mounted-empty-file');
  if (!mountTmpfs(t, destination)) return;
  const restore = run(['restore', '--no-encryption', '-r', 'sub/file1', url, destination]);
  assert.equal(restore.status, 23, restore.stderr);
  assert.match(restore.stderr, /^lifeboat: .*mounted-empty-file is a mount point, and the archive holds another type of object there\nhint: restore into a directory inside it, or unmount it first\n$/);
  assert.deepEqual(readdirSync(destination), []);
  assert.notEqual(lstatSync(destination).dev, lstatSync(dir).dev, 'still mounted');
});

test('--force over a directory holding a mount point stops at the mount point with a hint, and leaves what is mounted', (t) => {
  const destination = join(dir, 'holds-mount');
  mkdirSync(destination);
  const inner = join(destination, 'sub');
  if (!mountTmpfs(t, inner)) return;
  writeFileSync(join(inner, 'precious'), 'keep me\n');
  // the archive's `sub` is a directory too, but `-r sub/file1` onto `holds-mount` puts a file where the directory is
  const restore = run(['restore', '--no-encryption', '--force', '-r', 'sub/file1', url, destination]);
  assert.equal(restore.status, 23, restore.stderr);
  assert.match(restore.stderr, /^lifeboat: .*holds-mount\/sub: device or resource busy\nhint: something is mounted there or it is in use: unmount it, or give another path\n$/);
  assert.equal(readFileSync(join(inner, 'precious'), 'utf8'), 'keep me\n');
});

test('a restore in place also flushes, at the end, the file systems mounted below the destination that it wrote to', (t) => {
  if (!requireProgram(t, 'sync', 'coreutils')) return;
  // a new root with its own /boot: the archive's `sub` lands on the file system mounted there; nothing
  // of the archive lands on `other`, which is not flushed (a hung network mount must not hang the restore)
  const destination = join(dir, 'new-root');
  mkdirSync(destination);
  const inner = join(destination, 'sub');
  if (!mountTmpfs(t, inner)) return;
  if (!mountTmpfs(t, join(destination, 'other'))) return;
  const restore = recordedRestore('new-root', ['--force', url, destination]);
  assert.equal(restore.status, 0, restore.stderr);
  assert.equal(restore.flushes, `-f ${dir}\n-f ${dir}\n-f ${inner}\n`, 'before the restore writes, then at the end');
  assert.equal(readFileSync(join(inner, 'file0'), 'utf8'), 'content 0\n'.repeat(1000));
  assert.notEqual(lstatSync(inner).dev, lstatSync(destination).dev, 'written into the mounted file system');
});

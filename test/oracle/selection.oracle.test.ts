// Oracle: file selection (issue #4, specs/duply.md §15.4). For each case the same selection options
// go to `duplicity full` and `lifeboat duplicity full` over the same generated root-like tree (with
// /proc-, /dev- and /sys-like directories, device files, a fifo, a socket, symlinks, old files and,
// when it can be mounted, a tmpfs as a second file system); the set of paths each archive holds
// (`list-current-files`, duplicity's listing of its own archive, ours of ours) must be equal. Cases
// duplicity rejects must leave Lifeboat with the same exit code.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runProgram, type Run } from '../support/run.js';
import { after, before, test } from 'node:test';
import { hasProgram, requireProgram } from '../support/programs.js';
import { runMain } from '../support/run-main.js';

// lowercase on purpose: duplicity checks `ignorecase:` globs against the root case-sensitively
const base = `/tmp/lifeboat-selection-oracle-${randomBytes(6).toString('hex')}`;
const root = join(base, 'root');
const upper = join(base, 'UP');
const bin = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
const env = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
let mounted = false;
let devices = false;


const run = (command: string, args: string[]) => runProgram(command, args, env);

function file(path: string, content = path): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
}

function makeTree(): void {
  mkdirSync(root, { recursive: true });
  for (const f of [
    'bin/sh', 'boot/vmlinuz', 'dev/shm/x', 'etc/passwd', 'etc/hosts', 'etc/ssh/sshd_config', 'etc/app.conf', 'etc/.hidden',
    'home/alice/notes.txt', 'home/alice/.cache/thumb.png', 'home/alice/Music/Song.MP3', 'home/alice/photos/a.JPG',
    'home/alice/photos/b.jpg', 'home/alice/project/.nobackup', 'home/alice/project/build/out.o', 'home/alice/project/src.txt',
    'home/bob/doc.txt', 'home/bob/old.log', 'media/usb/file', 'mnt/data/file', 'proc/1/status', 'proc/cpuinfo',
    'run/lock/x', 'sys/kernel/x', 'tmp/t1', 'usr/bin/tool', 'usr/local/bin/script', 'usr/share/doc/readme.txt',
    'var/cache/apt/pkg', 'var/crash/c', 'var/lib/mysql/db', 'var/lib/postgresql/14/main/base', 'var/lib/dpkg/status',
    'var/log/syslog', 'var/log/old.log', 'var/swap', 'var/swapfile', 'var/swap.img', 'var/tmp/x', 'br[ket', 'weird',
    'weird\n', 'sp ace.txt', 'ünï.txt',
  ]) file(f);
  for (const d of ['dev/pts', 'lost+found', 'tmp/.X11-unix', 'srv/tmpfs']) mkdirSync(join(root, d), { recursive: true });
  symlinkSync('1', join(root, 'proc/self'));
  symlinkSync('../run/lock', join(root, 'var/lock'));
  symlinkSync('../run', join(root, 'var/run'));
  symlinkSync('/etc/passwd', join(root, 'home/bob/link-out'));
  // device files need root and CAP_MKNOD; without them the device cases still run, on a tree without devices
  devices = spawnSync('mknod', ['-m', '0666', join(root, 'dev/null'), 'c', '1', '3']).status === 0
    && spawnSync('mknod', ['-m', '0660', join(root, 'dev/sda'), 'b', '8', '0']).status === 0;
  execFileSync('mkfifo', [join(root, 'run/initctl')]);
  // a socket: duplicity skips it ("Skipping socket"), so must we
  spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(root, 'run/app.sock')]);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'lifeboat-oracle', join(root, 'srv/tmpfs')], { stdio: 'ignore' }).status === 0;
  file('srv/tmpfs/a');
  file('srv/tmpfs/sub/b');
  const old = new Date('2001-02-03T04:05:06Z');
  for (const f of ['home/bob/old.log', 'var/log/old.log', 'etc/hosts']) utimesSync(join(root, f), old, old);
  utimesSync(join(root, 'usr/share'), old, old); // an old directory stays: only regular files are tested
  mkdirSync(upper);
  writeFileSync(join(upper, 'x'), 'x');
}

before(() => {
  if (hasProgram('duplicity')) makeTree();
});
after(() => {
  if (mounted) spawnSync('umount', [join(root, 'srv/tmpfs')]);
  rmSync(base, { recursive: true, force: true });
});

/** the list of the issue, one per line, for a tree rooted at `root` instead of `/` */
const issueList = ['/dev', '/proc', '/sys', '/run', '/var/lock', '/var/run', '/lost+found', '/boot', '/tmp', '/var/tmp',
  '/media', '/mnt', '/var/cache', '/var/crash', '/var/swap', '/var/swapfile', '/var/swap.img', '/var/lib/mysql',
  '/var/lib/postgresql'].map((p) => root + p);

let listCounter = 0;
function list(content: string): string {
  const path = join(base, `list-${listCounter++}`);
  writeFileSync(path, content);
  return path;
}

interface Case {
  name: string;
  args: () => string[];
  /** the source, default the root-like tree */
  source?: string;
}

const R = () => root;
const cases: Case[] = [
  { name: 'no selection options', args: () => [] },
  { name: "the issue's exclude list (--exclude-filelist)", args: () => ['--exclude-filelist', list(issueList.map((p) => `- ${p}`).join('\n'))] },
  { name: "the issue's list + --exclude-other-filesystems", args: () => ['--exclude-filelist', list(issueList.map((p) => `- ${p}`).join('\n')), '--exclude-other-filesystems'] },
  { name: "the issue's list + --exclude-device-files", args: () => ['--exclude-device-files', '--exclude-filelist', list(issueList.map((p) => `- ${p}`).join('\n'))] },
  { name: "the issue's list as --exclude options", args: () => issueList.flatMap((p) => ['--exclude', p]) },
  { name: "the issue's list without prefixes, CRLF, comments, quotes", args: () => ['--exclude-filelist', list(`# system\r\n\r\n${issueList.map((p, i) => (i % 3 === 0 ? `"${p}"` : i % 3 === 1 ? `'${p}'` : `  ${p}  `)).join('\r\n')}\r\n`)] },
  { name: '--exclude-other-filesystems', args: () => ['--exclude-other-filesystems'] },
  { name: 'include on another file system before --exclude-other-filesystems', args: () => ['--include', `${R()}/srv/tmpfs/sub`, '--exclude-other-filesystems'] },
  { name: '--exclude-device-files', args: () => ['--exclude-device-files'] },
  { name: '--exclude-if-present', args: () => ['--exclude-if-present', '.nobackup'] },
  { name: '--exclude-if-present goes first whatever its position', args: () => ['--include', `${R()}/home`, '--exclude-if-present', '.nobackup', '--exclude', '**'] },
  { name: '--exclude-older-than (epoch)', args: () => ['--exclude-older-than', '1262304000'] },
  { name: "+ **/*.txt - **", args: () => ['--include', '**/*.txt', '--exclude', '**'] },
  { name: '+ ignorecase:**/*.jpg - **', args: () => ['--include', 'ignorecase:**/*.jpg', '--exclude', '**'] },
  { name: '- **/*.log', args: () => ['--exclude', '**/*.log'] },
  { name: '- **.log', args: () => ['--exclude', '**.log'] },
  { name: '+ root/home/*/photos - **', args: () => ['--include', `${R()}/home/*/photos`, '--exclude', '**'] },
  { name: '+ root/home/alice/photos/?.jpg - **', args: () => ['--include', `${R()}/home/alice/photos/?.jpg`, '--exclude', '**'] },
  { name: '- [!b].* class', args: () => ['--exclude', `${R()}/home/alice/photos/[!b].*`] },
  { name: '- var/lib/[mp]*', args: () => ['--exclude', `${R()}/var/lib/[mp]*`] },
  { name: 'unclosed [ is literal', args: () => ['--exclude', `${R()}/br[ket`] },
  { name: 'trailing / matches directories only', args: () => ['--exclude', `${R()}/etc/passwd/`, '--exclude', `${R()}/etc/ssh/`] },
  { name: 'a symlink to a directory is excluded as itself', args: () => ['--exclude', `${R()}/var/run`, '--exclude', `${R()}/proc/self`] },
  { name: '- root/weird also takes "weird\\n" (Python $)', args: () => ['--exclude', `${R()}/weird`] },
  { name: '--include-regexp has no parent implication', args: () => ['--include-regexp', 'sshd', '--exclude', '**'] },
  { name: '--include-regexp on a directory name', args: () => ['--include-regexp', 'home', '--exclude', '**'] },
  { name: '--exclude-regexp', args: () => ['--exclude-regexp', '\\.(log|o)$'] },
  { name: '--exclude-regexp hidden files', args: () => ['--exclude-regexp', '/\\.[^/]*$'] },
  { name: 'include before exclude: first match wins', args: () => ['--include', `${R()}/home/alice`, '--exclude', `${R()}/home`] },
  { name: 'exclude before include: not descended', args: () => ['--exclude', `${R()}/home`, '--include', `${R()}/home/alice`, '--exclude', '**'] },
  { name: 'scan survives a later exclude', args: () => ['--include', `${R()}/home/alice/photos`, '--exclude', `${R()}/home`, '--exclude', '**'] },
  { name: '- root', args: () => ['--exclude', R()] },
  { name: '- root/*', args: () => ['--exclude', `${R()}/*`] },
  { name: '--include / (everything)', args: () => ['--exclude', `${R()}/tmp`, '--include', '/', '--exclude', '**'] },
  { name: 'filelist with +/-, default, comments', args: () => ['--exclude-filelist', list(`# comment\n+ ${R()}/var/log\n${R()}/var\n- ${R()}/usr/local\n\n+ ${R()}/usr\n- **\n`)] },
  { name: 'include-filelist', args: () => ['--include-filelist', list(`${R()}/etc\n"${R()}/home/bob"\n- **\n`)] },
  { name: '--null-separator filelist', args: () => ['--null-separator', '--exclude-filelist', list(`${R()}/dev\0- ${R()}/sp ace.txt\0${R()}/weird\n\0`)] },
  { name: 'ignorecase: exclude', args: () => ['--exclude', `ignorecase:${R()}/HOME/ALICE/music`] },
  { name: 'trailing / on include: file not included', args: () => ['--include', `${R()}/home/alice/notes.txt/`, '--include', `${R()}/etc/`, '--exclude', '**'] },
  { name: 'nonexistent include does not pull in parents', args: () => ['--include', `${R()}/home/nobody/file`, '--exclude', '**'] },
  { name: '- ** (only the root)', args: () => ['--exclude', '**'] },
  { name: '- root/usr/** keeps usr itself', args: () => ['--exclude', `${R()}/usr/**`] },
  { name: '+ root/usr/**/bin - **', args: () => ['--include', `${R()}/usr/**/bin`, '--exclude', '**'] },
  { name: '- root/var/swa?', args: () => ['--exclude', `${R()}/var/swa?`] },
  { name: '- root/var/swap* and unicode names', args: () => ['--exclude', `${R()}/var/swap*`, '--exclude', `${R()}/ün?.txt`] },
];

const rejected: (Case & { code: number })[] = [
  { name: 'relative glob', code: 14, args: () => ['--exclude', 'dev'] },
  { name: '// in a glob', code: 15, args: () => ['--exclude', `${R()}//dev`] },
  { name: 'last rule includes', code: 16, args: () => ['--include', `${R()}/home`] },
  { name: 'missing filelist', code: 7, args: () => ['--exclude-filelist', join(base, 'no-such-list')] },
  { name: 'filelist "-/x" without the space', code: 14, args: () => ['--exclude-filelist', list(`-${R()}/dev\n`)] },
  { name: '--exclude-if-present moved before the last include', code: 16, args: () => ['--include', `${R()}/home`, '--exclude-if-present', '.nobackup'] },
  { name: 'ignorecase: against an upper-case root', code: 14, source: upper, args: () => ['--exclude', `ignorecase:${upper}/x`] },
  { name: 'regexp that does not compile', code: 30, args: () => ['--exclude-regexp', '('] },
  { name: 'bad character range', code: 30, args: () => ['--exclude', `${R()}/[z-a]`] },
  { name: 'bad --exclude-older-than time', code: 2, args: () => ['--exclude-older-than', '2 D'] },
  { name: 'a filelist with a BOM', code: 14, args: () => ['--exclude-filelist', list(`\ufeff${R()}/dev\n`)] },
];

let runCounter = 0;
function paths(listing: string): string[] {
  // "Thu Nov 26 08:11:19 2026 path": keep the paths (a name may hold a newline: keep line breaks)
  return listing.split(/\n(?=[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} )/)
    .map((l) => /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} ([\s\S]*)$/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\n$/, ''));
}

async function side(program: 'duplicity' | 'lifeboat', args: string[], source: string): Promise<{ backup: Pick<Run, 'code' | 'stdout' | 'stderr'>; files?: string[] }> {
  const dir = join(base, `run-${runCounter++}`);
  mkdirSync(dir);
  const url = `file://${dir}/target`;
  const common = ['--no-encryption', '--archive-dir', join(dir, 'cache')];
  // ours runs in-process: node's start-up would double the time of the matrix
  const exec = (argv: string[]) => (program === 'duplicity' ? run('duplicity', argv) : runMain(['duplicity', ...argv]));
  const backup = await exec(['full', ...common, ...args, source, url]);
  if (backup.code !== 0) return { backup };
  const listing = await exec(['list-current-files', ...common, url]);
  assert.equal(listing.code, 0, listing.stderr);
  return { backup, files: paths(listing.stdout) };
}

/** runs jobs at most `limit` at a time */
async function pool<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await job(items[next++]);
  }));
}

test('selection: the same files as duplicity, case by case', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  t.diagnostic(mounted ? 'a tmpfs is mounted at root/srv/tmpfs' : 'could not mount a tmpfs: the other-file-system cases run on one file system');
  t.diagnostic(devices ? 'device files made with mknod' : 'mknod failed: the tree has no device files');
  const failures: string[] = [];
  await pool(cases, 4, async (c) => {
    const args = c.args();
    const [theirs, ours] = await Promise.all([side('duplicity', args, c.source ?? root), side('lifeboat', args, c.source ?? root)]);
    if (theirs.backup.code !== 0) failures.push(`${c.name}: duplicity failed (${theirs.backup.code}): ${theirs.backup.stderr.slice(-300)}`);
    else if (ours.backup.code !== 0) failures.push(`${c.name}: lifeboat failed (${ours.backup.code}): ${ours.backup.stderr}`);
    else {
      try {
        assert.deepEqual(ours.files, theirs.files);
      } catch {
        const extra = ours.files!.filter((f) => !theirs.files!.includes(f));
        const missing = theirs.files!.filter((f) => !ours.files!.includes(f));
        failures.push(`${c.name}: extra ${JSON.stringify(extra)} missing ${JSON.stringify(missing)}`);
      }
    }
  });
  assert.deepEqual(failures, []);
  assert.ok(cases.length >= 40);
});

test('selection: rejected rules leave with duplicity exit codes', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const failures: string[] = [];
  await pool(rejected, 4, async (c) => {
    const args = c.args();
    const [theirs, ours] = await Promise.all([side('duplicity', args, c.source ?? root), side('lifeboat', args, c.source ?? root)]);
    if (theirs.backup.code !== c.code) failures.push(`${c.name}: duplicity exit ${theirs.backup.code}, expected ${c.code}`);
    if (ours.backup.code !== c.code) failures.push(`${c.name}: lifeboat exit ${ours.backup.code}, expected ${c.code}: ${ours.backup.stderr}`);
    // one clean line (and a hint), no stack trace
    if (ours.backup.code !== 0) assert.doesNotMatch(ours.backup.stderr, /\n\s+at /, c.name);
  });
  assert.deepEqual(failures, []);
});

test('selection: an object excluded now but present before becomes a deletion, as in duplicity', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const result: Record<string, string[]> = {};
  await Promise.all((['duplicity', 'lifeboat'] as const).map(async (program) => {
    const dir = join(base, `incr-${program}`);
    mkdirSync(dir);
    const url = `file://${dir}/target`;
    const common = ['--no-encryption', '--archive-dir', join(dir, 'cache')];
    const [cmd, pre] = program === 'duplicity' ? ['duplicity', []] : [process.execPath, [bin, 'duplicity']];
    assert.equal((await run(cmd, [...pre, 'full', ...common, '--exclude', `${root}/dev`, root, url])).code, 0);
    const incr = await run(cmd, [...pre, 'incremental', ...common, '--exclude', `${root}/home`, '--exclude', `${root}/var`, root, url]);
    assert.equal(incr.code, 0, incr.stderr);
    const listing = await run(cmd, [...pre, 'list-current-files', ...common, url]);
    result[program] = paths(listing.stdout);
  }));
  assert.deepEqual(result.lifeboat, result.duplicity);
  assert.ok(!result.lifeboat.some((p) => p.startsWith('home')));
  assert.ok(result.lifeboat.some((p) => p.startsWith('dev')));
});

test('selection: verify applies the same selection to the local tree, as duplicity does', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const codes: Record<string, number[]> = {};
  await Promise.all((['duplicity', 'lifeboat'] as const).map(async (program) => {
    const dir = join(base, `verify-${program}`);
    mkdirSync(dir);
    const url = `file://${dir}/target`;
    const common = ['--no-encryption', '--archive-dir', join(dir, 'cache')];
    const exec = (argv: string[]) => (program === 'duplicity' ? run('duplicity', argv) : runMain(['duplicity', ...argv]));
    const sel = ['--exclude', `${root}/home`, '--exclude', `${root}/srv`];
    assert.equal((await exec(['full', ...common, ...sel, root, url])).code, 0);
    const same = await exec(['verify', '--compare-data', ...common, ...sel, url, root]);
    const without = await exec(['verify', '--compare-data', ...common, '--exclude', `${root}/srv`, url, root]);
    codes[program] = [same.code, without.code];
  }));
  assert.deepEqual(codes.lifeboat, codes.duplicity);
  assert.deepEqual(codes.lifeboat, [0, 1]);
});

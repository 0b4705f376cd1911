// The selection driving the walk: first match wins, scanned directories appear only before something
// kept inside them, excluded directories are not entered, and duplicity's fatal errors.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../errors/exit-codes.js';
import { formatPath } from '../fsmeta/entry.js';
import { buildSelector, duplicityCanonical, type SelectionRule } from './selector.js';
import { walkSource } from './walk.js';

let root: string;
before(async () => {
  // lowercase: ignorecase: globs are checked against the root case-sensitively after lowercasing
  root = (await mkdtemp(join(tmpdir(), 'lifeboat-selector-'))).toLowerCase();
  await mkdir(root, { recursive: true });
  for (const f of ['a.txt', 'c.txt', 'dir/bar/b.txt', 'dir/bar/q1.txt', 'dir/bar/foo/f.txt', 'dir/baz/z.txt', 'other/o.log', 'Other2/X.LOG', 'keep/.nobackup', 'keep/x', 'empty/deep/nothing.bin']) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(join(root, f), f);
  }
  await utimes(join(root, 'c.txt'), 1000, 1000);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const g = (include: 0 | 1, pattern: string): SelectionRule => ({ kind: 'glob', include, pattern: pattern.replace('ROOT', root) });

async function selected(rules: SelectionRule[], source = root): Promise<string[]> {
  const selection = buildSelector(rules, source);
  const out: string[] = [];
  for await (const e of walkSource(source, { onWarning: () => undefined, selection })) out.push(e.index.map((c) => formatPath(c)).join('/') || '.');
  return out;
}

test('the spec examples (specs/duply.md §15.4)', async () => {
  assert.deepEqual(await selected([g(0, 'ROOT/dir/bar/foo'), g(1, 'ROOT/dir/bar'), g(0, '**')]), ['.', 'dir', 'dir/bar', 'dir/bar/b.txt', 'dir/bar/q1.txt']);
  assert.deepEqual(await selected([g(1, 'ROOT/dir/ba?'), g(0, '**')]), ['.', 'dir', 'dir/bar', 'dir/bar/b.txt', 'dir/bar/foo', 'dir/bar/foo/f.txt', 'dir/bar/q1.txt', 'dir/baz', 'dir/baz/z.txt']);
  assert.deepEqual(await selected([g(1, 'ROOT/dir/bar/b.txt'), g(0, '**')]), ['.', 'dir', 'dir/bar', 'dir/bar/b.txt']);
  assert.deepEqual(await selected([g(1, 'ROOT/other/'), g(1, 'ROOT/dir/bar/b.txt/'), g(0, '**')]), ['.', 'other', 'other/o.log']);
  assert.deepEqual(await selected([g(0, 'ignorecase:**/*.log'), g(0, 'ROOT/keep'), g(0, 'ROOT/empty'), g(0, 'ROOT/dir')]), ['.', 'Other2', 'a.txt', 'c.txt', 'other']);
  assert.deepEqual(await selected([g(0, 'ROOT')]), ['.']);
});

test('a scanned directory with nothing kept inside is left out', async () => {
  assert.deepEqual(await selected([g(1, '**/*.txt'), g(0, '**')]), ['.', 'a.txt', 'c.txt', 'dir', 'dir/bar', 'dir/bar/b.txt', 'dir/bar/foo', 'dir/bar/foo/f.txt', 'dir/bar/q1.txt', 'dir/baz', 'dir/baz/z.txt']);
});

test('exclude-if-present goes first; device files; older than', async () => {
  assert.deepEqual(await selected([g(1, 'ROOT/keep'), { kind: 'exclude-if-present', name: '.nobackup' }, g(0, '**')]), ['.']);
  const older = await selected([{ kind: 'exclude-older-than', time: 2000 }]);
  assert.ok(!older.includes('c.txt') && older.includes('a.txt'));
});

test('a relative source matches relative globs', async () => {
  const cwd = process.cwd();
  process.chdir(join(root, '..'));
  try {
    const name = root.split('/').at(-1)!;
    assert.deepEqual(await selected([{ kind: 'glob', include: 0, pattern: `${name}/[!d]*` }], `./${name}/`), ['.', 'dir', 'dir/bar', 'dir/bar/b.txt', 'dir/bar/foo', 'dir/bar/foo/f.txt', 'dir/bar/q1.txt', 'dir/baz', 'dir/baz/z.txt']);
  } finally {
    process.chdir(cwd);
  }
});

test("duplicity's fatal errors", () => {
  const code = (rules: SelectionRule[]) => {
    try {
      buildSelector(rules, root);
      return 0;
    } catch (err) {
      return (err as { exitCode: number }).exitCode;
    }
  };
  assert.equal(code([g(0, 'dir/bar')]), ExitCode.selectionOutsideSource);
  assert.equal(code([g(0, 'ROOT//dir')]), ExitCode.globbingError);
  assert.equal(code([g(1, 'ROOT/dir')]), ExitCode.redundantInclusion);
  assert.equal(code([g(1, 'ROOT/dir'), { kind: 'exclude-device-files' }]), ExitCode.redundantInclusion);
  assert.equal(code([{ kind: 'filelist', include: 0, name: 'l', text: `- ${root}/x\n+ **\n` }]), ExitCode.redundantInclusion);
  assert.equal(code([g(0, '**'), { kind: 'regexp', include: 0, pattern: '(' }]), ExitCode.unexpected);
  assert.equal(code([]), 0);
});

test("get_canonical: '.' and empty parts dropped, '..' kept", () => {
  assert.equal(duplicityCanonical('/a/./b//c/'), '/a/b/c');
  assert.equal(duplicityCanonical('a/../b/'), 'a/../b');
  assert.equal(duplicityCanonical('./'), '.');
  assert.equal(duplicityCanonical('/'), '/');
});

test('an excluded directory is not entered (nothing inside is even looked at)', async () => {
  const inner = join(root, 'excluded-dir');
  await mkdir(inner, { recursive: true });
  // a socket inside: the walk reports sockets it meets, so a report would show it went in
  const { spawnSync } = await import('node:child_process');
  spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(inner, 's.sock')]);
  const skips: string[] = [];
  const walkIt = async (rules: SelectionRule[]) => {
    for await (const _ of walkSource(root, { onWarning: () => undefined, onSkip: (p) => skips.push(formatPath(p)), selection: buildSelector(rules, root) })) { /* */ }
  };
  await walkIt([g(0, 'ROOT/excluded-dir')]);
  await walkIt([g(1, 'ROOT/dir'), g(0, '**')]);
  assert.deepEqual(skips, []);
  await walkIt([g(1, 'ROOT/excluded-dir/nothing'), g(0, '**')]);
  assert.equal(skips.length, 1, 'a scanned directory is entered');
  await rm(inner, { recursive: true });
});

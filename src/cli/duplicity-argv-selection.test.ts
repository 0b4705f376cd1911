// The selection options on duplicity's command line: kept in order, filelists read at once (exit 7).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode } from '../errors/exit-codes.js';
import { parseDuplicityArgv } from './duplicity-argv.js';

test('selection options keep their command-line order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-argv-sel-'));
  try {
    const list = join(dir, 'list');
    writeFileSync(list, '\ufeff- /x\n');
    const { options } = parseDuplicityArgv([
      'full', '--include', '/a', '--exclude-device-files', '--exclude=/b', '--exclude-filelist', list, '--null-separator',
      '--include-regexp', 'r', '--exclude-if-present', '.nb', '--exclude-other-filesystems', '--exclude-older-than', '10',
      '/src', 'file:///t',
    ]);
    assert.deepEqual(options.selection, [
      { kind: 'glob', include: 1, pattern: '/a' }, { kind: 'exclude-device-files' }, { kind: 'glob', include: 0, pattern: '/b' },
      { kind: 'filelist', include: 0, name: list, text: '\ufeff- /x\n' }, { kind: 'regexp', include: 1, pattern: 'r' },
      { kind: 'exclude-if-present', name: '.nb' }, { kind: 'exclude-other-filesystems' }, { kind: 'exclude-older-than', time: 10 },
    ]);
    assert.equal(options.nullSeparator, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a filelist that cannot be opened is exit 7; a bad time is exit 2', () => {
  assert.throws(() => parseDuplicityArgv(['full', '--exclude-filelist', '/nonexistent/list', '/s', 'file:///t']),
    (e: { exitCode: number }) => e.exitCode === ExitCode.cannotOpenFilelist);
  assert.throws(() => parseDuplicityArgv(['full', '--exclude-older-than', '2 D', '/s', 'file:///t']),
    (e: { exitCode: number }) => e.exitCode === ExitCode.usage);
});

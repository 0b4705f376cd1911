// The glob translation on its own (no file system, no duplicity): duplicity 0.8's globmatch rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitCode } from '../errors/exit-codes.js';
import { globTest, globToRegexSource } from './glob.js';

const full = (glob: string) => new RegExp(`^${globToRegexSource(glob)}$`, 'su');

test('* and ? stop at /, ** crosses it', () => {
  assert.ok(full('/a/*.txt').test('/a/x.txt'));
  assert.ok(!full('/a/*.txt').test('/a/b/x.txt'));
  assert.ok(full('/a/**.txt').test('/a/b/c/x.txt'));
  assert.ok(full('/a/?').test('/a/x'));
  assert.ok(!full('/a/?').test('/a//'));
  assert.ok(full('/a/?').test('/a/😀'), '? is one code point, as in Python');
  assert.ok(full('/a/*').test('/a/line\nbreak'), '* takes newlines (re.S)');
});

test('character classes: ranges, ! and ^ negate, ] first is literal, unclosed [ is literal, no escapes', () => {
  assert.ok(full('/[a-c]x').test('/bx'));
  assert.ok(!full('/[a-c]x').test('/dx'));
  assert.ok(full('/[!a]x').test('/bx') && !full('/[!a]x').test('/ax'));
  assert.ok(full('/[^a]x').test('/bx') && !full('/[^a]x').test('/ax'));
  assert.ok(full('/[]a]').test('/]') && full('/[]a]').test('/a'));
  assert.ok(full('/br[ket').test('/br[ket'));
  assert.ok(full('/[\\]').test('/\\'), 'a backslash is an ordinary character');
  assert.ok(full('/a\\*').test('/a\\xyz'), 'no escape mechanism: \\* is a backslash then *');
  assert.ok(full('/[[]').test('/['));
  assert.ok(full('/[a-]').test('/-'));
  assert.ok(full('/[!a]').test('//'), 'a negated class may match / (as in duplicity)');
  assert.ok(full('/(x)+{1}|.$^').test('/(x)+{1}|.$^'), 'regex syntax is literal');
});

test('a match covers everything below; include answers scan for the directories above', () => {
  const inc = globTest('/src/dir/ba?', 1);
  assert.equal(inc('/src/dir/bar', true), 1);
  assert.equal(inc('/src/dir/bar/deep/file', false), 1);
  assert.equal(inc('/src/dir', true), 2);
  assert.equal(inc('/src', true), 2);
  assert.equal(inc('/src/other', true), null);
  assert.equal(inc('/src/dir/barn', false), null);
  const exc = globTest('/src/dir/ba?', 0);
  assert.equal(exc('/src/dir', true), null, 'excludes never scan');
  assert.equal(exc('/src/dir/bar/x', false), 0);
});

test('** in an include scans everything below the part before it', () => {
  const inc = globTest('/src/**/bin', 1);
  assert.equal(inc('/src/a/b/c', true), 2);
  assert.equal(inc('/src/a/bin', true), 1);
  assert.equal(inc('/other', true), null);
});

test('a trailing / matches directories only (their contents always)', () => {
  const exc = globTest('/src/a/', 0);
  assert.equal(exc('/src/a', true), 0);
  assert.equal(exc('/src/a', false), null);
  assert.equal(exc('/src/a/x', false), 0);
  assert.equal(globTest('/', 1)('/anything/at/all', false), 1, '/ means everything');
});

test("Python's $: a name ending in a newline matches as if it were not there", () => {
  const exc = globTest('/src/weird', 0);
  assert.equal(exc('/src/weird\n', false), 0);
  assert.equal(exc('/src/weird\nx', false), null);
});

test('ignorecase', () => {
  const exc = globTest('/src/**.log', 0, true);
  assert.equal(exc('/SRC/X.LOG', false), 0);
  assert.equal(globTest('/src/**.log', 0)('/src/X.LOG', false), null);
});

test('// inside a glob is a globbing error (15), unless after **; bad ranges are exit 30', () => {
  assert.throws(() => globTest('/src//a', 0), (e: { exitCode: number }) => e.exitCode === ExitCode.globbingError);
  assert.doesNotThrow(() => globTest('/src/**//a', 0));
  assert.doesNotThrow(() => globTest('/src//', 0), 'trailing // is accepted (and matches nothing)');
  assert.throws(() => globTest('/src/[z-a]', 0), (e: { exitCode: number }) => e.exitCode === ExitCode.unexpected);
});

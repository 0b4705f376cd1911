import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitCode } from '../errors/exit-codes.js';
import { pythonRegExp } from './regexp.js';

test('Python regular expressions mean the same here', () => {
  assert.ok(pythonRegExp('\\.log$').test('/a/x.log\n'), '$ before a final newline');
  assert.ok(!pythonRegExp('a.b').test('a\nb') && pythonRegExp('a.b').test('a\rb'), '. stops only at \\n');
  assert.ok(pythonRegExp('(?s)a.b').test('a\nb'));
  assert.ok(pythonRegExp('(?i)ABC').test('/x/abc'));
  assert.ok(pythonRegExp('(?P<n>x)(?P=n)').test('xx'));
  assert.ok(pythonRegExp('\\Ax\\Z').test('x') && !pythonRegExp('x\\Z').test('x\n'));
  assert.ok(pythonRegExp('\\d').test('٣') && pythonRegExp('\\w').test('ü'), 'Unicode \\d and \\w');
  assert.ok(pythonRegExp('a{,2}b{x}').test('aab{x}'));
  assert.ok(pythonRegExp('\\-\\,\\ ').test('-, '));
  assert.ok(pythonRegExp('[]a]').test(']') && pythonRegExp('[\\-x]').test('-'));
  assert.ok(pythonRegExp('x]').test('x]'));
});

test('a pattern that does not compile is exit 30, as duplicity\'s traceback', () => {
  assert.throws(() => pythonRegExp('('), (e: { exitCode: number }) => e.exitCode === ExitCode.unexpected);
  assert.throws(() => pythonRegExp('[z-a]'), (e: { exitCode: number }) => e.exitCode === ExitCode.unexpected);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilelist, pythonStrip } from './filelist.js';

test('prefixes, defaults, comments, blank lines, quotes, CRLF', () => {
  const text = '# comment\r\n\r\n+ /a\r\n- /b\r\n/c\r\n  "/d e"  \r\n\'/f\'\r\n-/g\r\n+  /h\r\n"/i\'\r\n';
  assert.deepEqual(parseFilelist(text, 0), [
    { pattern: '/a', include: 1 }, { pattern: '/b', include: 0 }, { pattern: '/c', include: 0 },
    { pattern: '/d e', include: 0 }, { pattern: '/f', include: 0 }, { pattern: '-/g', include: 0 },
    { pattern: ' /h', include: 1 }, { pattern: '"/i\'', include: 0 },
  ]);
  assert.deepEqual(parseFilelist('/x\n', 1), [{ pattern: '/x', include: 1 }]);
  assert.deepEqual(parseFilelist(' # not a comment\n', 1), [], 'comments are found after stripping');
});

test('NUL separated; a lone CR is a line break too (universal newlines)', () => {
  assert.deepEqual(parseFilelist('/a\0- /b\n\0', 1, true), [{ pattern: '/a', include: 1 }, { pattern: '/b', include: 0 }]);
  assert.deepEqual(parseFilelist('/a\r/b', 0).map((l) => l.pattern), ['/a', '/b']);
});

test("Python's strip: keeps a BOM, removes \\x1c and \\x85", () => {
  assert.equal(pythonStrip('\ufeff/a '), '\ufeff/a');
  assert.equal(pythonStrip('\x1c\x85/a\u3000'), '/a');
});

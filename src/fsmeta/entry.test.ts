// compareIndex must reproduce duplicity's tuple-of-bytes order exactly; restore merges rely on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareIndex, formatPath, pathOfIndex } from './entry.js';

const ix = (...parts: (string | Buffer)[]): Buffer[] => parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
const show = (index: Buffer[]): string => index.map((c) => formatPath(c)).join('/') || '.';

test('compareIndex orders per component, not by the joined string (spec §5.6 example)', () => {
  const expected = [ix(), ix('B'), ix('a'), ix('a', 'b'), ix('a-b'), ix('a.c')];
  const shuffled = [expected[4], expected[1], expected[5], expected[3], expected[0], expected[2]];
  assert.deepEqual(shuffled.sort(compareIndex).map(show), expected.map(show));
  // as flat strings 'a-b' < 'a/b'; as indexes ('a','b') < ('a-b')
  assert.ok('a-b' < 'a/b');
  assert.equal(compareIndex(ix('a', 'b'), ix('a-b')), -1);
});

test('compareIndex: a proper prefix first, a directory right before its contents', () => {
  assert.equal(compareIndex(ix('a'), ix('a', 'b')), -1);
  assert.equal(compareIndex(ix('a', 'b'), ix('a')), 1);
  assert.equal(compareIndex(ix('a', 'z'), ix('ab')), -1);
  assert.equal(compareIndex(ix('a', 'b'), ix('a', 'b')), 0);
  assert.equal(compareIndex(ix(), ix()), 0);
});

test('compareIndex compares unsigned bytes: uppercase, then UTF-8, then a raw 0xFF', () => {
  const bad = Buffer.from([0x62, 0x61, 0x64, 0xff]); // 'bad\xff'
  const names = [ix('ünïcødé'), ix(Buffer.from([0xff])), ix('big.bin'), ix(bad), ix('LLLL.txt'), ix('Z')];
  assert.deepEqual(names.sort(compareIndex).map(show), ['LLLL.txt', 'Z', 'bad\\xFF', 'big.bin', 'ünïcødé', '\\xFF']);
});

test('pathOfIndex joins raw bytes under the root, without doubling a trailing slash', () => {
  assert.deepEqual(pathOfIndex('/src', ix('a', Buffer.from([0xff]))), Buffer.from([...Buffer.from('/src/a/'), 0xff]));
  assert.equal(pathOfIndex('/', ix('etc')).toString(), '/etc');
  assert.equal(pathOfIndex('/src/', []).toString(), '/src/');
});

test('formatPath escapes only the bytes that are not valid UTF-8', () => {
  assert.equal(formatPath(Buffer.from('plain/ü')), 'plain/ü');
  assert.equal(formatPath(Buffer.from([0x61, 0xff, 0xc3, 0xbc, 0xc3])), 'a\\xFFü\\xC3');
  assert.equal(formatPath('as-is'), 'as-is');
});

test('compareIndex agrees with Buffer.compare, component by component, on random names that share prefixes', () => {
  let seed = 12345;
  const next = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  // few distinct bytes (0x00, 0x61, 0x62, 0xff) and short lengths, so components often share prefixes or are equal
  const component = () => Buffer.from(Array.from({ length: next() % 4 }, () => [0x00, 0x61, 0x62, 0xff][next() % 4]));
  const index = () => Array.from({ length: next() % 4 }, component);
  const reference = (a: Buffer[], b: Buffer[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = Buffer.compare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return Math.sign(a.length - b.length);
  };
  for (let n = 0; n < 20_000; n++) {
    const a = index();
    const b = n % 3 === 0 ? a.map((c) => Buffer.from(c)) : index();
    assert.equal(compareIndex(a, b), reference(a, b), `${a.map((c) => c.toString('hex')).join('/')} vs ${b.map((c) => c.toString('hex')).join('/')}`);
    assert.equal(compareIndex(a, a), 0);
  }
});

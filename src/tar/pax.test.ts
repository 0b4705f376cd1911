import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { decodePaxRecords, encodePaxRecords, paxOverrides, paxRecordLength, type PaxRecord } from './pax.js';

const rec = (keyword: string, value: string | Buffer): PaxRecord => ({ keyword, value: typeof value === 'string' ? Buffer.from(value) : value });

test('paxRecordLength() counts its own digits, as CPython iterates it', () => {
  for (let n = 0; n < 1200; n++) {
    const length = paxRecordLength(4, n);
    assert.equal(length, String(length).length + 1 + 4 + 1 + n + 1, `value length ${n}`);
  }
  // 'path' + 91-byte value: 98 + 2 digits would be 100, which needs 3 digits, so the record is 101 long.
  assert.equal(paxRecordLength(4, 90), 99);
  assert.equal(paxRecordLength(4, 91), 101);
  assert.equal(paxRecordLength(4, 92), 102);
  assert.equal(paxRecordLength(10, 6), 21); // "21 hdrcharset=BINARY\n"
});

test('encodePaxRecords() writes the records of the spec examples (§5.3)', () => {
  assert.equal(encodePaxRecords([rec('path', Buffer.from('snapshot/bad\xffname.bin', 'latin1'))]).toString('latin1'),
    '21 hdrcharset=BINARY\n30 path=snapshot/bad\xffname.bin\n');
  assert.deepEqual(encodePaxRecords([rec('path', 'snapshot/ünïcødé-文件.txt')]),
    Buffer.from('40 path=snapshot/ünïcødé-文件.txt\n'));
  // one invalid value makes the whole header binary, and it goes first
  assert.equal(encodePaxRecords([rec('path', 'ok'), rec('linkpath', Buffer.from([0xc3])), rec('mtime', '8589934592')]).toString('latin1'),
    '21 hdrcharset=BINARY\n11 path=ok\n14 linkpath=\xc3\n20 mtime=8589934592\n');
});

test('decodePaxRecords() reads what encodePaxRecords() wrote, up to the NUL padding', () => {
  const records = [rec('path', Buffer.from([0x61, 0xff, 0x0a, 0x3d])), rec('uid', '3000000'), rec('comment', '')];
  const data = Buffer.concat([encodePaxRecords(records), Buffer.alloc(100)]);
  const decoded = decodePaxRecords(data);
  assert.deepEqual(decoded.map((r) => r.keyword), ['hdrcharset', 'path', 'uid', 'comment']);
  assert.deepEqual(decoded[1].value, records[0].value);
  assert.equal(decoded[3].value.length, 0);
});

test('decodePaxRecords() rejects bad framing with the offset', () => {
  const bad = ['12path=abcd\n', '5 x=\n3 a=\n', '30 path=abc\n', '12 path=abcd ', '13 pathXabcd\n', '12 =pathabc\n', 'x2 path=abcd\n'];
  for (const text of bad) {
    assert.throws(() => decodePaxRecords(Buffer.from(text), 1000),
      (e: unknown) => e instanceof IntegrityError && e.offset !== undefined && e.offset >= 1000, JSON.stringify(text));
  }
  assert.deepEqual(decodePaxRecords(Buffer.from('5 x=\n')).map((r) => [r.keyword, r.value.length]), [['x', 0]]);
});

test('paxOverrides() interprets the fields duplicity cares about', () => {
  const o = paxOverrides([
    rec('path', 'first'), rec('path', Buffer.from([0xff])), rec('linkpath', 'target'),
    rec('uname', 'jöhn'), rec('gname', Buffer.from([0x67, 0xff])), rec('uid', '3000000'), rec('gid', 'junk'),
    rec('mtime', '1700000000.987654'), rec('size', '8589934592'), rec('atime', '1.5'), rec('comment', 'x'),
  ]);
  assert.deepEqual(o.path, Buffer.from([0xff]));
  assert.deepEqual(o.linkpath, Buffer.from('target'));
  assert.equal(o.uname, 'jöhn');
  assert.deepEqual(o.gname, Buffer.from([0x67, 0xff]));
  assert.equal(o.uid, 3000000);
  assert.equal(o.gid, 0); // CPython takes 0 for an unparsable number
  assert.equal(o.mtime, 1700000000);
  assert.equal(o.size, 8589934592);
  assert.equal(paxOverrides([rec('mtime', '-1.5')]).mtime, -1);
  assert.equal(paxOverrides([rec('mtime', '253402300799000')]).mtime, 253402300799000);
});

test('paxOverrides() refuses a bad size and GNU sparse records', () => {
  assert.throws(() => paxOverrides([rec('size', 'x')], 7), IntegrityError);
  assert.throws(() => paxOverrides([rec('size', '-1')]), IntegrityError);
  assert.throws(() => paxOverrides([rec('size', '99999999999999999999')]), IntegrityError);
  assert.throws(() => paxOverrides([rec('GNU.sparse.map', '0,1')]), IntegrityError);
});

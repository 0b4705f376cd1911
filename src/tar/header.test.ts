import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { decodeHeader, encodeHeader, isZeroBlock, type TarEntryHeader, type TarEntryType } from './header.js';
import { pythonHeaderCases } from './python-fixtures.js';
import { allSampleTars, fileHeader, haveSamples, readAll, sampleTar } from './test-helpers.js';

const b64 = (s: string) => Buffer.from(s, 'base64');

test('encodeHeader() gives the bytes of the tiny example of §5.9', (t) => {
  if (!haveSamples(t)) return;
  const volume = sampleTar('nocomp/duplicity-full.20261126T060435Z.vol1.difftar');
  const mtime = 0o15301745763;
  const root = fileHeader('snapshot/./', { type: 'directory', mode: 0o755, mtime });
  const a = fileHeader('snapshot/a', { size: 4, mtime });
  assert.deepEqual(encodeHeader(root), volume.subarray(0, 512));
  assert.deepEqual(encodeHeader(a), volume.subarray(512, 1024));
  assert.equal(volume.toString('latin1', 148, 156), '011623\0 ');
});

test('re-encoding every header of every sample gives the original bytes (pax headers included)', async (t) => {
  if (!haveSamples(t)) return;
  let headers = 0;
  let withPax = 0;
  for (const file of allSampleTars()) {
    const data = sampleTar(file);
    const { entries } = await readAll(data);
    for (const e of entries) {
      const original = data.subarray(e.offset, e.dataOffset);
      assert.deepEqual(encodeHeader(e.header), original, `${file} at ${e.offset}: ${e.header.name.toString()}`);
      headers++;
      if (original.length > 512) withPax++;
    }
  }
  // plain full vol1 and its sigtar (+ the cached copy) each carry 4 pax headers.
  assert.ok(headers > 200, `only ${headers} headers`);
  assert.ok(withPax >= 12, `only ${withPax} pax headers`);
});

test('encodeHeader() matches CPython 3.11 tarfile byte for byte on the fixture cases', () => {
  for (const c of pythonHeaderCases) {
    const h: TarEntryHeader = {
      name: b64(c.name), type: c.type as TarEntryType, mode: c.mode, uid: c.uid, gid: c.gid, size: c.size,
      mtime: c.mtime, linkname: b64(c.linkname), uname: b64(c.uname), gname: b64(c.gname),
      devmajor: c.devmajor, devminor: c.devminor,
    };
    assert.deepEqual(encodeHeader(h).toString('hex'), b64(c.bytes).toString('hex'), c.title);
    // owner names given as strings must give the same bytes
    assert.deepEqual(encodeHeader({ ...h, uname: h.uname.toString(), gname: h.gname.toString() }), b64(c.bytes), c.title);
  }
  assert.ok(pythonHeaderCases.length >= 40);
});

test('encodeHeader() puts ? for each non-ASCII character or invalid byte, as Python does', () => {
  const bytes = encodeHeader(fileHeader(Buffer.from('snapshot/bad\xffname.bin', 'latin1')));
  assert.equal(bytes.length, 1536);
  assert.equal(bytes.toString('latin1', 1024, 1024 + 21), 'snapshot/bad?name.bin');
  assert.equal(bytes.toString('latin1', 512, 512 + 51), '21 hdrcharset=BINARY\n30 path=snapshot/bad\xffname.bin\n');
  const utf8 = encodeHeader(fileHeader('snapshot/ünïcødé-文件.txt'));
  assert.equal(utf8.toString('latin1', 1024, 1024 + 24), 'snapshot/?n?c?d?-??.txt\0');
});

test('encodeHeader() emits pax for mtime >= 2^33 and negative mtime, plain ustar for 0', () => {
  const big = encodeHeader(fileHeader('f', { mtime: 2 ** 33 }));
  assert.equal(big.toString('latin1', 512, 532), '20 mtime=8589934592\n');
  assert.equal(big.toString('latin1', 1024 + 136, 1024 + 148), '00000000000\0');
  assert.equal(encodeHeader(fileHeader('f', { mtime: -3 })).toString('latin1', 512, 524), '12 mtime=-3\n');
  assert.equal(encodeHeader(fileHeader('f', { mtime: 0 })).length, 512);
  assert.equal(encodeHeader(fileHeader('f', { mtime: 2 ** 33 - 1 })).length, 512);
});

test('encodeHeader() refuses what CPython cannot write either', () => {
  assert.throws(() => encodeHeader(fileHeader('d', { type: 'char', devmajor: 2 ** 21 })), RangeError);
  assert.throws(() => encodeHeader(fileHeader('d', { type: 'block', devminor: -1 })), RangeError);
  assert.throws(() => encodeHeader(fileHeader(Buffer.from('a\0b'))), RangeError);
  assert.throws(() => encodeHeader(fileHeader('f', { size: -1 })), RangeError);
  assert.throws(() => encodeHeader(fileHeader('f', { mtime: 1.5 })), RangeError);
  assert.throws(() => encodeHeader(fileHeader('f', { uid: 2 ** 53 })), RangeError);
  assert.throws(() => encodeHeader(fileHeader('f', { type: 'other' })), RangeError);
  // device numbers of non-devices are not written, so they cannot overflow
  assert.equal(encodeHeader(fileHeader('f', { devmajor: 2 ** 30 })).length, 512);
});

test('decodeHeader() reads back what encodeHeader() wrote', () => {
  const h = fileHeader('snapshot/blockdev', { type: 'block', mode: 0o4751, uid: 1234, gid: 5678, mtime: 981173106, uname: '', gname: 'disk', devmajor: 7, devminor: 200 });
  const { header, typeflag } = decodeHeader(encodeHeader(h));
  assert.equal(typeflag, 0x34);
  assert.deepEqual(header, h);
});

test('decodeHeader() checks the checksum, accepting the signed variant old tars wrote', () => {
  const block = encodeHeader(fileHeader('snapshot/high-byte-in-uname', { uname: 'x' }));
  block[265] = 0xe4; // a high byte makes signed and unsigned sums differ
  assert.throws(() => decodeHeader(block, 4096), (e: unknown) => e instanceof IntegrityError && e.offset === 4096 && /checksum/.test(e.message));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  block.write(unsigned.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.deepEqual(decodeHeader(block).header.uname, Buffer.from([0xe4]));
  block.write(signed.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.deepEqual(decodeHeader(block).header.uname, Buffer.from([0xe4]));
});

test('decodeHeader() accepts base-256 numbers and rejects garbage in number fields', () => {
  const block = encodeHeader(fileHeader('f'));
  block.fill(0, 108, 116);
  block[108] = 0x80;
  block.writeUIntBE(3000000, 110, 6);
  block.fill(0xff, 136, 148); // -1 as GNU base-256
  rewriteChecksum(block);
  const { header } = decodeHeader(block);
  assert.equal(header.uid, 3000000);
  assert.equal(header.mtime, -1);
  block.write('12x4567\0', 116, 'latin1');
  rewriteChecksum(block);
  assert.throws(() => decodeHeader(block, 512), (e: unknown) => e instanceof IntegrityError && /gid/.test(e.message) && e.offset === 512);
});

test('decodeHeader() joins the ustar prefix and detects V7 directories', () => {
  const block = encodeHeader(fileHeader('name'));
  block.write('some/prefix', 345, 'latin1');
  block[156] = 0;
  block.write('dir/', 0, 'latin1');
  rewriteChecksum(block);
  const { header } = decodeHeader(block);
  assert.equal(header.name.toString(), 'some/prefix/dir/');
  assert.equal(header.type, 'directory');
});

test('isZeroBlock() only accepts a full block of zeros', () => {
  assert.ok(isZeroBlock(Buffer.alloc(512)));
  assert.ok(!isZeroBlock(Buffer.alloc(511)));
  const b = Buffer.alloc(512);
  b[511] = 1;
  assert.ok(!isZeroBlock(b));
});

function rewriteChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i];
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}

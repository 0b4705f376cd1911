import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeader } from './header.js';
import { encodeEntry, encodeEntryStream, encodedEntryLength, endOfArchive, entryPadding, RECORD_SIZE, TarWriter } from './tar-writer.js';
import { allSampleTars, chunked, fileHeader, haveSamples, readAll, sampleTar } from './test-helpers.js';

test('rewriting every sample tar from its decoded entries gives the identical stream', async (t) => {
  if (!haveSamples(t)) return;
  const files = allSampleTars();
  assert.ok(files.length >= 20, `only ${files.length} sample tars`);
  for (const file of files) {
    const data = sampleTar(file);
    const { entries, endMarkerSeen } = await readAll(data);
    const writer = new TarWriter();
    const parts: Buffer[] = [];
    for (const e of entries) parts.push(...writer.add(e.header, e.body));
    // sigtars end with TarFile.close()'s footer, difftar volumes end right after the last entry (§5.8)
    assert.equal(endMarkerSeen, file.includes('sigtar'), file);
    if (endMarkerSeen) parts.push(writer.end());
    const rebuilt = Buffer.concat(parts);
    assert.equal(rebuilt.length, data.length, file);
    assert.ok(rebuilt.equals(data), `${file} differs`);
    assert.equal(writer.offset, data.length);
  }
});

test('encodeEntry() gives header, body and padding, leaving out empty parts', () => {
  const h = fileHeader('snapshot/a', { size: 4 });
  const parts = encodeEntry(h, Buffer.from('abc\n'));
  assert.deepEqual(parts.map((p) => p.length), [512, 4, 508]);
  assert.equal(parts[1].toString(), 'abc\n');
  assert.deepEqual(encodeEntry(fileHeader('snapshot/empty')).map((p) => p.length), [512]);
  assert.deepEqual(encodeEntry(fileHeader('b', { size: 512 }), new Uint8Array(512)).map((p) => p.length), [512, 512]);
  assert.throws(() => encodeEntry(h, Buffer.from('abc')), RangeError);
  assert.throws(() => encodeEntry(h), RangeError);
  assert.equal(encodedEntryLength(encodeHeader(h), 4), 1024);
});

test('encodeEntry() does not copy the body', () => {
  const body = new Uint8Array(1000);
  const parts = encodeEntry(fileHeader('x', { size: 1000 }), body);
  assert.equal(parts[1].buffer, body.buffer);
});

test('encodeEntryStream() streams the body and checks its length', async () => {
  const body = Buffer.alloc(70000, 7);
  const out: Buffer[] = [];
  for await (const p of encodeEntryStream(fileHeader('big', { size: body.length }), chunked(body, 4096))) out.push(p);
  const all = Buffer.concat(out);
  assert.equal(all.length, 512 + 70000 + entryPadding(70000).length);
  assert.equal(all.length % 512, 0);
  assert.ok(all.subarray(512, 512 + 70000).equals(body));
  const drain = async (size: number, length: number) => { for await (const _ of encodeEntryStream(fileHeader('f', { size }), chunked(Buffer.alloc(length), 100))); };
  await assert.rejects(drain(10, 11), RangeError);
  await assert.rejects(drain(10, 9), RangeError);
  await drain(0, 0);
});

test('endOfArchive() pads like TarFile.close(): two zero blocks, then to a multiple of 10240', () => {
  assert.equal(RECORD_SIZE, 10240);
  assert.equal(endOfArchive(0).length, 10240);
  assert.equal(endOfArchive(1024).length, 9216);
  assert.equal(endOfArchive(9216).length, 1024);
  assert.equal(endOfArchive(9728).length, 1024 + 9728);
  assert.ok(endOfArchive(512).every((b) => b === 0));
  const writer = new TarWriter();
  assert.equal(writer.end().length, 10240, 'an empty sigtar is 10240 zero bytes (§6)');
});

test('entryPadding() fills to the next block', () => {
  assert.equal(entryPadding(0).length, 0);
  assert.equal(entryPadding(1).length, 511);
  assert.equal(entryPadding(512).length, 0);
  assert.equal(entryPadding(65536 + 20352).length, 512 - (20352 % 512));
});

test('TarWriter.addStream() output reads back, names as raw bytes', async () => {
  const writer = new TarWriter();
  const names = [Buffer.from('snapshot/./'), Buffer.from('snapshot/\xff\xfe-raw', 'latin1'), Buffer.from(`snapshot/${'é'.repeat(200)}`)];
  const parts: Buffer[] = [];
  parts.push(...writer.add(fileHeader(names[0], { type: 'directory', mode: 0o755 })));
  for await (const p of writer.addStream(fileHeader(names[1], { size: 5, mtime: 2 ** 34, uid: 2 ** 32 }), chunked(Buffer.from('hello'), 2))) parts.push(p);
  parts.push(...writer.add(fileHeader(names[2], { type: 'symlink', mode: 0o777, linkname: Buffer.from([0x80, 0x2f]) })));
  parts.push(writer.end());
  const data = Buffer.concat(parts);
  assert.equal(data.length % RECORD_SIZE, 0);
  const { entries, endMarkerSeen } = await readAll(data, 333);
  assert.ok(endMarkerSeen);
  assert.deepEqual(entries.map((e) => e.header.name), names);
  assert.equal(entries[1].body.toString(), 'hello');
  assert.deepEqual([entries[1].header.mtime, entries[1].header.uid], [2 ** 34, 2 ** 32]);
  assert.deepEqual(entries[2].header.linkname, Buffer.from([0x80, 0x2f]));
});

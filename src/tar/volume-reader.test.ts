import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { encodeHeader } from './header.js';
import { gnuArchive, gnuLongLink, gnuLongName, paxGlobalArchive, ustarArchive } from './python-fixtures.js';
import { chunked, fileHeader, haveSamples, readAll, sampleTar, type ReadEntry } from './test-helpers.js';
import { readTar, TarReader } from './volume-reader.js';

const PLAIN_FULL = 'plain/duplicity-full.20261126T060425Z.vol1.difftar.gz';
const NOCOMP_VOL = 'nocomp/duplicity-full.20261126T060435Z.vol1.difftar';
const NOCOMP_SIG = 'nocomp/duplicity-full-signatures.20261126T060435Z.sigtar';

const byName = (entries: ReadEntry[], name: string | Buffer) => {
  const wanted = typeof name === 'string' ? Buffer.from(name) : name;
  const e = entries.find((x) => x.header.name.equals(wanted));
  assert.ok(e, `no entry ${wanted.toString()}`);
  return e;
};
const isIntegrity = (offset?: number, pattern?: RegExp) => (e: unknown) =>
  e instanceof IntegrityError && (offset === undefined || e.offset === offset) && (pattern === undefined || pattern.test(e.message));

test('reads the tiny example volume of §5.9: two entries, no end marker', async (t) => {
  if (!haveSamples(t)) return;
  const data = sampleTar(NOCOMP_VOL);
  const { entries, endMarkerSeen, offset } = await readAll(data, 1);
  assert.deepEqual(entries.map((e) => e.header.name.toString()), ['snapshot/./', 'snapshot/a']);
  assert.equal(entries[0].header.type, 'directory');
  assert.equal(entries[0].header.mode, 0o755);
  assert.equal(entries[1].body.toString(), 'abc\n');
  assert.equal(entries[1].header.mtime, 0o15301745763);
  assert.equal(entries[1].header.uname, 'root');
  assert.equal(endMarkerSeen, false);
  assert.equal(offset, 1536);
});

test('reads the tiny sigtar of §6: root named snapshot/, a 24-byte signature, then the end marker', async (t) => {
  if (!haveSamples(t)) return;
  const { entries, endMarkerSeen, offset } = await readAll(sampleTar(NOCOMP_SIG));
  assert.deepEqual(entries.map((e) => e.header.name.toString()), ['snapshot/', 'signature/a']);
  assert.equal(entries[1].body.toString('hex'), '7273013600000200000000080' + '4b001ac365383baa5e34ce9');
  assert.equal(endMarkerSeen, true);
  assert.equal(offset, 10240); // drained the record padding too
});

test('reads the plain full volume with the metadata of §5.5', async (t) => {
  if (!haveSamples(t)) return;
  const data = sampleTar(PLAIN_FULL);
  const { entries, endMarkerSeen, offset } = await readAll(data);
  assert.equal(entries.length, 56);
  assert.equal(endMarkerSeen, false);
  assert.equal(offset, 1715200);
  const last = entries[entries.length - 1];
  assert.equal(last.dataOffset + 512, data.length, 'the last entry ends the stream');

  const root = byName(entries, 'snapshot/./');
  assert.deepEqual([root.header.type, root.header.mode, root.header.uname, root.header.gname], ['directory', 0o755, 'root', 'root']);
  assert.equal(byName(entries, 'snapshot/sticky/').header.mode, 0o1777);
  assert.equal(byName(entries, 'snapshot/hello.txt').body.toString(), 'hello world\n');
  assert.equal(byName(entries, 'snapshot/empty').header.size, 0);
  assert.equal(byName(entries, 'snapshot/odd-perms').header.mode, 0o4751);
  assert.equal(byName(entries, 'snapshot/no-perms').header.mode, 0);
  const owned = byName(entries, 'snapshot/owned-by-1234').header;
  assert.deepEqual([owned.uid, owned.gid, owned.uname, owned.gname, owned.size], [1234, 5678, '', '', 6]);
  const link = byName(entries, 'snapshot/dangling-link').header;
  assert.deepEqual([link.type, link.mode, link.linkname.toString(), link.size], ['symlink', 0o777, '/nonexistent/target', 0]);
  assert.equal(byName(entries, 'snapshot/fifo').header.type, 'fifo');
  const chr = byName(entries, 'snapshot/chardev').header;
  assert.deepEqual([chr.type, chr.devmajor, chr.devminor], ['char', 1, 3]);
  const blk = byName(entries, 'snapshot/blockdev').header;
  assert.deepEqual([blk.type, blk.devmajor, blk.devminor], ['block', 7, 200]);
  assert.equal(byName(entries, 'snapshot/old.txt').header.mtime, 981173106);
  assert.equal(byName(entries, 'snapshot/negative-mtime').header.mtime, 0);
  assert.equal(byName(entries, 'snapshot/owned-by-nobody').header.uname, 'nobody');

  // §5.7: chunking of big files, 0-byte final chunk of an exactly-64-KiB file
  const big = entries.filter((e) => e.header.name.toString().startsWith('multivol_snapshot/big.bin/'));
  assert.equal(big.length, 19);
  assert.deepEqual(big.map((e) => e.body.length), [...Array(18).fill(65536), 20352]);
  assert.equal(byName(entries, 'multivol_snapshot/exact64k.bin/2').header.size, 0);
  assert.equal(byName(entries, 'multivol_snapshot/dir1/numbers.txt/2').header.size, 43358);

  // the four pax names of §5.3, as raw bytes
  // §5.3 calls it "155 chars"; make-samples.sh makes 150 L + '.txt' (154), so the member name is 163 bytes
  assert.equal(byName(entries, `snapshot/${'L'.repeat(150)}.txt`).body.toString(), 'long\n');
  assert.equal(byName(entries, Buffer.from('snapshot/bad\xffname.bin', 'latin1')).body.length, 7);
  byName(entries, 'snapshot/ünïcødé-文件.txt');
  assert.equal(byName(entries, `snapshot/dir1/sub/deeper/${'d'.repeat(60)}/${'f'.repeat(60)}`).body.toString(), 'longpath\n');
});

test('reads the new-signatures sigtar listed in §6', async (t) => {
  if (!haveSamples(t)) return;
  const { entries, endMarkerSeen } = await readAll(sampleTar('plain/duplicity-new-signatures.20261126T060425Z.to.20261126T060427Z.sigtar.gz'));
  assert.equal(endMarkerSeen, true);
  assert.deepEqual(entries.map((e) => `${e.header.type} ${e.header.size} ${e.header.name}${e.header.linkname.length ? ' -> ' + e.header.linkname : ''}`), [
    'directory 0 snapshot/', 'file 28140 signature/big.bin', 'directory 0 snapshot/dir1/', 'file 24 signature/dir1/new-file.txt',
    'file 2652 signature/dir1/numbers.txt', 'file 24 signature/dir1/sub/deeper/deepfile', 'file 0 deleted/empty',
    'file 0 deleted/emptydir', 'file 1548 signature/exact64k.bin', 'file 24 signature/file with space.txt',
    'directory 0 snapshot/hard2/', 'file 24 signature/hello.txt', 'symlink 0 snapshot/link-to-hello -> old.txt',
    'file 24 signature/old.txt',
  ]);
  const deleted = byName(entries, 'deleted/empty').header;
  assert.deepEqual([deleted.mode, deleted.uid, deleted.gid, deleted.mtime, deleted.uname, deleted.gname], [0, 0, 0, 0, '', '']);
});

test('multi volumes: a volume starts with the next entry (§5.8)', async (t) => {
  if (!haveSamples(t)) return;
  const vol2 = await readAll(sampleTar('multi/duplicity-full.20261126T060433Z.vol2.difftar.gz'));
  assert.equal(vol2.entries[0].header.name.toString(), 'multivol_snapshot/big.bin/16');
  assert.equal(vol2.entries[0].offset, 0);
});

test('the result does not depend on how the input is chunked, and bodies are views of the input', async (t) => {
  if (!haveSamples(t)) return;
  const data = sampleTar(PLAIN_FULL);
  const digest = (entries: ReadEntry[]) => {
    const h = createHash('sha256');
    for (const e of entries) h.update(encodeHeader(e.header)).update(e.body).update(String(e.offset));
    return h.digest('hex');
  };
  const reference = digest((await readAll(data, data.length)).entries);
  for (const size of [100, 511, 512, 513, 4096, 65536]) assert.equal(digest((await readAll(data, size)).entries), reference, `chunk ${size}`);
  for await (const e of readTar(chunked(data, 1 << 20))) {
    for await (const part of e.body) assert.equal(part.buffer, data.buffer, 'body chunk is not a view of the input');
  }
});

test('bodies left unread (or half read) are skipped', async (t) => {
  if (!haveSamples(t)) return;
  const data = sampleTar(PLAIN_FULL);
  const names: string[] = [];
  let i = 0;
  for await (const e of readTar(chunked(data, 1000))) {
    names.push(e.header.name.toString('latin1'));
    if (i++ % 2 === 0) continue;
    for await (const part of e.body) { assert.ok(part.length > 0); break; }
  }
  const full = (await readAll(data)).entries.map((e) => e.header.name.toString('latin1'));
  assert.deepEqual(names, full);
});

test('reading a body after moving to the next entry is an error', async (t) => {
  if (!haveSamples(t)) return;
  const it = readTar(chunked(sampleTar(NOCOMP_VOL), 100))[Symbol.asyncIterator]();
  const first = (await it.next()).value!;
  await it.next();
  await assert.rejects(async () => { for await (const _ of first.body) { /* nothing */ } }, /moved past/);
});

test('stops at the first zero block and ignores junk after it (gpg volumes, §8.3)', async (t) => {
  if (!haveSamples(t)) return;
  const junk = Buffer.from('8c0d0409030211223344', 'hex');
  const data = Buffer.concat([sampleTar(NOCOMP_VOL), Buffer.alloc(6656), junk, encodeHeader(fileHeader('x')), Buffer.alloc(100)]);
  const drained = await readAll(data, 300);
  assert.equal(drained.entries.length, 2);
  assert.equal(drained.endMarkerSeen, true);
  assert.equal(drained.offset, data.length);

  let returned = false;
  async function* source() {
    try { yield* chunked(data, 512); } finally { returned = true; }
  }
  const reader = readTar(source(), { drain: false });
  let n = 0;
  for await (const _ of reader) n++;
  assert.equal(n, 2);
  assert.equal(reader.offset, 1536 + 512);
  assert.equal(returned, true, 'the input was not told to stop');
});

test('an empty input has no entries; input ending between entries is a normal end', async () => {
  assert.deepEqual((await readAll(Buffer.alloc(0))).entries, []);
  const one = Buffer.concat([encodeHeader(fileHeader('a', { size: 3 })), Buffer.from('abc'), Buffer.alloc(509)]);
  assert.equal((await readAll(one)).entries.length, 1);
});

test('truncated input throws IntegrityError with the offset', async (t) => {
  if (!haveSamples(t)) return;
  const data = sampleTar(NOCOMP_VOL);
  await assert.rejects(readAll(data.subarray(0, 1000)), isIntegrity(512, /ends 488 bytes into the header at offset 512/));
  await assert.rejects(readAll(data.subarray(0, 1026)), isIntegrity(1026, /inside the data of "snapshot\/a"/));
  await assert.rejects(readAll(data.subarray(0, 1030)), isIntegrity(1030, /inside the padding after "snapshot\/a"/));
  // the same when the consumer skips the body instead of reading it
  await assert.rejects(async () => { for await (const _ of readTar(chunked(data.subarray(0, 1026), 64))); }, isIntegrity(1026));
  // inside a pax header's records, and a pax header followed by the end marker
  const pax = encodeHeader(fileHeader(`snapshot/${'n'.repeat(120)}`));
  await assert.rejects(readAll(pax.subarray(0, 700)), isIntegrity(undefined, /extended header at offset 0/));
  await assert.rejects(readAll(Buffer.concat([pax.subarray(0, 1024), Buffer.alloc(512)])), isIntegrity(1024, /zero block after the extended header/));
});

test('a bad header checksum throws IntegrityError naming the offset', async (t) => {
  if (!haveSamples(t)) return;
  const data = Buffer.from(sampleTar(NOCOMP_VOL));
  data[512 + 9] ^= 0x01; // 'snapshot/a' -> 'snapshot/`'
  await assert.rejects(readAll(data), isIntegrity(512, /bad tar header checksum at offset 512/));
});

test('reads GNU long names and links, and base-256 numbers, as older Pythons wrote them', async () => {
  const { entries, endMarkerSeen } = await readAll(gunzipSync(Buffer.from(gnuArchive, 'base64')), 100);
  const longName = Buffer.from(gnuLongName, 'base64');
  const longLink = Buffer.from(gnuLongLink, 'base64');
  assert.equal(endMarkerSeen, true);
  assert.deepEqual(entries[0].header.name, longName);
  assert.equal(entries[0].body.toString(), 'long name body\n');
  assert.deepEqual([entries[1].header.name.toString(), entries[1].header.type], ['snapshot/sym', 'symlink']);
  assert.deepEqual(entries[1].header.linkname, longLink);
  assert.deepEqual(entries[2].header.name, Buffer.from(`snapshot/both${'B'.repeat(100)}`));
  assert.deepEqual(entries[2].header.linkname, longLink);
  assert.deepEqual([entries[3].header.uid, entries[3].header.gid, entries[3].header.mtime], [3000000, 2 ** 40, 2 ** 40]);
  assert.equal(entries[4].header.mtime, -5);
  assert.deepEqual([entries[5].header.name.toString(), entries[5].header.type], [`snapshot/dir${'D'.repeat(100)}/`, 'directory']);
  assert.equal(entries.length, 6);
});

test('reads ustar names split into prefix and name', async () => {
  const { entries } = await readAll(gunzipSync(Buffer.from(ustarArchive, 'base64')));
  assert.equal(entries[0].header.name.toString(), `snapshot/${'p'.repeat(120)}/${'q'.repeat(60)}`);
  assert.equal(entries[0].body.toString(), 'prefixed\n');
  assert.equal(entries[1].header.name.toString(), 'snapshot/short');
});

test('skips pax global headers', async () => {
  const { entries } = await readAll(gunzipSync(Buffer.from(paxGlobalArchive, 'base64')));
  assert.deepEqual(entries.map((e) => e.header.name.toString()), ['snapshot/after-global']);
  assert.equal(entries[0].offset, 0, 'the entry starts at its first header block');
});

test('pax records override the ustar fields, hard links and unknown types are reported', async () => {
  const h = fileHeader(Buffer.from('snapshot/\xff', 'latin1'), { uid: 2 ** 40, mtime: 2 ** 35, size: 2, uname: 'ü', linkname: Buffer.alloc(0) });
  const link = fileHeader('snapshot/h2', { type: 'hardlink', linkname: Buffer.from('snapshot/h1'), size: 0 });
  const odd = Buffer.from(encodeHeader(fileHeader('snapshot/v', { size: 3 })));
  odd[156] = 0x56; // 'V': a GNU volume label, unknown here
  odd.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of odd) sum += b;
  odd.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const data = Buffer.concat([encodeHeader(h), Buffer.from('hi'), Buffer.alloc(510), encodeHeader(link), odd, Buffer.from('xyz'), Buffer.alloc(509)]);
  const { entries } = await readAll(data);
  assert.deepEqual(entries[0].header, h);
  assert.equal(entries[0].body.toString(), 'hi');
  assert.deepEqual(entries[1].header, link);
  assert.deepEqual([entries[2].header.type, entries[2].typeflag, entries[2].body.toString()], ['other', 0x56, 'xyz']);
});

test('entryAt reads the entries at given offsets, GNU long names included, skipping what lies between; going back is an IntegrityError', async () => {
  const data = gunzipSync(Buffer.from(gnuArchive, 'base64'));
  const { entries } = await readAll(data, 100);
  const reader = new TarReader(chunked(data, 100), { drain: false });
  // the first entry has a long-name header before it; the second is skipped unread
  const first = (await reader.entryAt(entries[0].offset))!;
  assert.deepEqual(first.header.name, Buffer.from(gnuLongName, 'base64'));
  const third = (await reader.entryAt(entries[2].offset))!;
  assert.deepEqual(third.header.name, entries[2].header.name);
  assert.equal(third.dataOffset, entries[2].dataOffset);
  // an offset inside an entry's header blocks has no header of its own
  await assert.rejects(reader.entryAt(entries[4].offset + 1), isIntegrity(entries[4].offset + 1, /checksum/));
  await assert.rejects(reader.entryAt(entries[0].offset), isIntegrity(entries[0].offset, /asked for after offset/));
  await reader.close();
  const past = new TarReader(chunked(data, 100), { drain: false });
  await assert.rejects(past.entryAt(data.length + 512), /ends before offset/);
});

import { samplesDir } from '../../test/support/samples.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import {
  bestVolumeHash,
  compareIndexes,
  formatFilelistLine,
  formatManifest,
  formatManifestHead,
  parseManifest,
  quoteManifestPath,
  unquoteManifestPath,
  volumeMayContain,
  type Index,
  type ManifestVolume,
} from './manifest.js';

const SAMPLES = samplesDir();
const MANIFEST_DIRS = ['plain', 'multi', 'nocomp', 'cache/plain', 'cache/multi', 'cache/nocomp', 'cache/enc'];

const idx = (path: string): Index => (path === '' ? [] : path.split('/').map((c) => Buffer.from(c, 'latin1')));
const text = (index: Index): string => index.map((c) => c.toString('latin1')).join('/');
const sample = (path: string): Buffer => readFileSync(join(SAMPLES, path));

function volume(volumeNumber: number, start: string, end: string, extra: Partial<ManifestVolume> = {}): ManifestVolume {
  return { volumeNumber, startIndex: idx(start), startBlock: null, endIndex: idx(end), endBlock: null, hashes: new Map([['SHA1', 'ab'.repeat(20)]]), ...extra };
}

const HEAD = 'Hostname vm\nLocaldir /src\n';
const block = (n: number, hash: string): string =>
  `Volume ${n}:\n    StartingPath   .  \n    EndingPath     .  \n    Hash SHA1 ${hash}\n`;

test('formatManifest() reproduces every sample manifest byte for byte from its parse', () => {
  let count = 0;
  for (const dir of MANIFEST_DIRS) {
    for (const name of readdirSync(join(SAMPLES, dir)).filter((n) => n.endsWith('.manifest'))) {
      const bytes = sample(join(dir, name));
      const manifest = parseManifest(bytes);
      assert.deepEqual(manifest.warnings, [], name);
      assert.ok(formatManifest(manifest).equals(bytes), `${dir}/${name}`);
      count++;
    }
  }
  assert.ok(count >= 12);
});

test('parseManifest() reads the multi-volume sample: block numbers, blank blocks, hashes', () => {
  const full = parseManifest(sample('multi/duplicity-full.20261126T060433Z.manifest'));
  assert.equal(full.hostname?.toString(), 'vm');
  assert.equal(full.localDir?.toString(), '/tmp/x2/msrc');
  assert.deepEqual(
    full.volumes.map((v) => [v.volumeNumber, text(v.startIndex), v.startBlock, text(v.endIndex), v.endBlock]),
    [
      [1, '', null, 'big.bin', 15],
      [2, 'big.bin', 16, 'big.bin', 30],
      [3, 'big.bin', 31, 'zzz.txt', null],
    ],
  );
  assert.deepEqual(full.volumes[0].hashes, new Map([['SHA1', '18e8446cb643f15e693b26e6c51fd0a2900b01bd']]));
  assert.deepEqual(full.changedFiles.map((f) => [f.kind, text(f.index)]), [['new', 'aaa.txt'], ['new', 'big.bin'], ['new', 'zzz.txt']]);

  // §13.8: the final chunk of a multivol file has no block number
  const inc = parseManifest(sample('multi/duplicity-inc.20261126T060433Z.to.20261126T060435Z.manifest'));
  assert.deepEqual([text(inc.volumes[1].startIndex), inc.volumes[1].startBlock, inc.volumes[1].endBlock], ['big.bin', null, null]);
});

test('parseManifest() keeps paths as raw bytes, unquoted, including non-UTF-8 names', () => {
  const full = parseManifest(sample('plain/duplicity-full.20261126T060425Z.manifest'));
  const paths = full.changedFiles.map((f) => text(f.index));
  assert.ok(paths.includes('bad\xffname.bin'));
  assert.ok(paths.includes('file with space.txt'));
  assert.ok(full.changedFiles.some((f) => f.index[0]?.equals(Buffer.from('ünïcødé-文件.txt'))));
  assert.equal(text(full.volumes[0].endIndex), Buffer.from('ünïcødé-文件.txt').toString('latin1'));
  const inc = parseManifest(sample('plain/duplicity-inc.20261126T060425Z.to.20261126T060427Z.manifest'));
  assert.deepEqual(inc.changedFiles.filter((f) => f.kind === 'deleted').map((f) => text(f.index)), ['empty']);
  assert.deepEqual(inc.changedFiles.find((f) => f.kind === 'new')?.index, idx('dir1/new-file.txt'));
});

test('parseManifest() lets the last duplicate volume win and drops volumes after a restart', () => {
  const restarted = Buffer.from(HEAD + block(1, 'a1') + block(2, 'b1') + block(3, 'c1') + block(2, 'b2') + 'Filelist 0\n');
  const m = parseManifest(restarted);
  assert.deepEqual(m.volumes.map((v) => [v.volumeNumber, v.hashes.get('SHA1')]), [[1, 'a1'], [2, 'b2']]);
  const repeatedLast = parseManifest(Buffer.from(HEAD + block(1, 'a1') + block(2, 'b1') + block(2, 'b2')));
  assert.deepEqual(repeatedLast.volumes.map((v) => [v.volumeNumber, v.hashes.get('SHA1')]), [[1, 'a1'], [2, 'b2']]);
});

test('parseManifest() accepts the Filelist before the volumes and field names in any case', () => {
  const bytes = Buffer.from(
    'HOSTNAME vm\nlocaldir "/my\\x20src"\nFILELIST 2\n    new      a\n    changed  "b\\x20c"\n' +
      'volume 1:\n    startingpath   .  \n    ENDINGPATH     a 3\n    hash SHA1 ff\n',
  );
  const m = parseManifest(bytes);
  assert.equal(m.hostname?.toString(), 'vm');
  assert.equal(m.localDir?.toString(), '/my src');
  assert.deepEqual(m.changedFiles.map((f) => [f.kind, text(f.index)]), [['new', 'a'], ['changed', 'b c']]);
  assert.deepEqual(m.volumes.map((v) => [text(v.endIndex), v.endBlock]), [['a', 3]]);
  assert.deepEqual(m.warnings, []);
});

test('parseManifest() treats Hostname and Localdir as optional', () => {
  const m = parseManifest(Buffer.from(block(1, 'a1') + 'Filelist 0\n'));
  assert.equal(m.hostname, null);
  assert.equal(m.localDir, null);
  assert.equal(formatManifest(m).toString(), block(1, 'a1') + 'Filelist 0\n');
});

test('parseManifest() warns, without failing, when the Filelist count disagrees', () => {
  const m = parseManifest(Buffer.from(HEAD + block(1, 'a1') + 'Filelist 3\n    new      a\n    new      b\n'));
  assert.equal(m.changedFiles.length, 2);
  assert.deepEqual(m.warnings, ['Filelist count says 3, file list contains 2']);
});

test('parseManifest() throws IntegrityError for a volume block it cannot read', () => {
  const broken = [
    'Volume 1:\n    EndingPath     a  \n    Hash SHA1 ff\n', // no StartingPath
    'Volume 1:\n    StartingPath   .  \n', // no EndingPath
    'Volume x:\n    StartingPath   .  \n    EndingPath     a  \n',
    'Volume 1:\n    StartingPath\n    EndingPath     a  \n',
    'Volume 1:\n    StartingPath   . x\n    EndingPath     a  \n',
    'Volume 1:\n    StartingPath   "a\\x2\n    EndingPath     a  \n',
    'Volume 1:\n    StartingPath   .  \n    EndingPath     a  \n    Hash SHA1\n',
  ];
  for (const manifest of broken) {
    assert.throws(() => parseManifest(Buffer.from(HEAD + manifest)), IntegrityError, JSON.stringify(manifest));
  }
});

test('formatManifest() writes blank block numbers as a single space and the root as "."', () => {
  const bytes = formatManifest({
    hostname: Buffer.from('vm'),
    localDir: Buffer.from('/tmp/x2/src'),
    volumes: [volume(2, 'big.bin', 'zzz.txt', { startBlock: 31 }), volume(1, '', 'big.bin', { endBlock: 15 })],
    changedFiles: [{ kind: 'deleted', index: idx('file with space.txt') }],
  });
  const hash = 'ab'.repeat(20);
  assert.equal(
    bytes.toString(),
    'Hostname vm\nLocaldir /tmp/x2/src\n' +
      `Volume 1:\n    StartingPath   .  \n    EndingPath     big.bin 15\n    Hash SHA1 ${hash}\n` +
      `Volume 2:\n    StartingPath   big.bin 31\n    EndingPath     zzz.txt  \n    Hash SHA1 ${hash}\n` +
      'Filelist 1\n    deleted  "file\\x20with\\x20space.txt"\n',
  );
});

test('formatManifestHead() and formatFilelistLine() compose into formatManifest()', () => {
  const m = parseManifest(sample('plain/duplicity-inc.20261126T060425Z.to.20261126T060427Z.manifest'));
  const streamed = Buffer.concat([formatManifestHead(m, m.changedFiles.length), ...m.changedFiles.map(formatFilelistLine)]);
  assert.ok(streamed.equals(formatManifest(m)));
  assert.equal(formatFilelistLine({ kind: 'new', index: idx('dir1/new-file.txt') }).toString(), '    new      dir1/new-file.txt\n');
});

test('formatManifest() omits empty Hostname and Localdir lines', () => {
  const bytes = formatManifest({ hostname: Buffer.alloc(0), localDir: null, volumes: [], changedFiles: [] });
  assert.equal(bytes.toString(), 'Filelist 0\n');
});

test('quoteManifestPath() escapes whitespace, backslash and quotes only (§4.3)', () => {
  const q = (s: string): string => quoteManifestPath(Buffer.from(s, 'latin1')).toString('latin1');
  assert.equal(q('file with space.txt'), '"file\\x20with\\x20space.txt"');
  assert.equal(q('a\tb\nc\rd\fe\vf\\g"h\'i'), '"a\\x09b\\x0ac\\x0dd\\x0ce\\x0bf\\x5cg\\x22h\\x27i"');
  assert.equal(q('bad\xffname.bin'), 'bad\xffname.bin');
  assert.equal(q('no\xa0break'), 'no\xa0break'); // 0xA0 is not ASCII whitespace
  assert.equal(q('\x1c'), '\x1c');
});

test('unquoteManifestPath() reverses quoting and leaves unquoted strings alone', () => {
  for (const raw of ['plain', 'with space', 'all\t\n\r\f\v\\"\'', 'bad\xffname', '']) {
    const bytes = Buffer.from(raw, 'latin1');
    assert.ok(unquoteManifestPath(quoteManifestPath(bytes)).equals(bytes), JSON.stringify(raw));
  }
  assert.equal(unquoteManifestPath(Buffer.from("'single'")).toString(), "'single'");
  assert.equal(unquoteManifestPath(Buffer.from('"\\x41\\x4A"')).toString(), 'AJ');
  assert.throws(() => unquoteManifestPath(Buffer.from('"open')), IntegrityError);
  assert.throws(() => unquoteManifestPath(Buffer.from('"\\y20"')), IntegrityError);
});

test('compareIndexes() orders by components in byte order, not by the joined string (§13.2)', () => {
  assert.ok(compareIndexes(idx('a/b'), idx('a.b')) < 0); // as strings "a/b" > "a.b"
  assert.ok(compareIndexes(idx('a'), idx('a/b')) < 0);
  assert.ok(compareIndexes([], idx('a')) < 0);
  assert.ok(compareIndexes(idx('Z'), idx('a')) < 0);
  assert.ok(compareIndexes(idx('z'), [Buffer.from('ü')]) < 0);
  assert.equal(compareIndexes(idx('a/b'), idx('a/b')), 0);
});

test('volumeMayContain() selects the volumes a --file-to-restore prefix needs (§10.1)', () => {
  const m = parseManifest(sample('multi/duplicity-full.20261126T060433Z.manifest'));
  const containing = (path: string): number[] => m.volumes.filter((v) => volumeMayContain(v, idx(path))).map((v) => v.volumeNumber);
  assert.deepEqual(containing('big.bin'), [1, 2, 3]);
  assert.deepEqual(containing('aaa.txt'), [1]);
  assert.deepEqual(containing('zzz.txt'), [3]);
  assert.deepEqual(containing(''), [1, 2, 3]);
});

test('bestVolumeHash() prefers SHA1, then MD5, then the first hash listed', () => {
  const v = (pairs: [string, string][]): ManifestVolume => volume(1, '', '', { hashes: new Map(pairs) });
  assert.deepEqual(bestVolumeHash(v([['MD5', 'm'], ['SHA1', 's']])), { algorithm: 'SHA1', hex: 's' });
  assert.deepEqual(bestVolumeHash(v([['SHA256', 'x'], ['MD5', 'm']])), { algorithm: 'MD5', hex: 'm' });
  assert.deepEqual(bestVolumeHash(v([['SHA256', 'x']])), { algorithm: 'SHA256', hex: 'x' });
  assert.equal(bestVolumeHash(v([])), null);
});

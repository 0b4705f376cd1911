import { samplesDir } from '../../test/support/samples.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildCollection, type Collection } from './collection.js';
import {
  collectionWarnings,
  formatCollectionStatus,
  lastFullBackupLine,
  renderCollectionStatus,
  renderCollectionStatusMachine,
} from './collection-status.js';
import { formatArchiveName, type NameFormatOptions } from './file-names.js';

const SAMPLES = samplesDir();
const gz: NameFormatOptions = { compressed: true };
const day = (d: number): number => Date.UTC(2024, 0, d) / 1000;

function sampleCollection(name: string): Collection {
  return buildCollection(readdirSync(join(SAMPLES, name)), readdirSync(join(SAMPLES, 'cache', name)));
}
const sampleLog = (name: string): string => readFileSync(join(SAMPLES, 'logs', name), 'utf8');

function fullSet(d: number, volumes = 1, options = gz): string[] {
  const time = day(d);
  const vols = Array.from({ length: volumes }, (_, i) => formatArchiveName({ kind: 'full-volume', time, volumeNumber: i + 1 }, options));
  return [...vols, formatArchiveName({ kind: 'full-manifest', time }, options), formatArchiveName({ kind: 'full-signature', time }, options)];
}
function incSet(from: number, to: number, { volumes = 1, signature = true, manifest = true } = {}): string[] {
  const [startTime, endTime] = [day(from), day(to)];
  const vols = Array.from({ length: volumes }, (_, i) => formatArchiveName({ kind: 'inc-volume', startTime, endTime, volumeNumber: i + 1 }, gz));
  return [
    ...vols,
    ...(manifest ? [formatArchiveName({ kind: 'inc-manifest', startTime, endTime })] : []),
    ...(signature ? [formatArchiveName({ kind: 'new-signature', startTime, endTime }, gz)] : []),
  ];
}
const newSig = (from: number, to: number): string => formatArchiveName({ kind: 'new-signature', startTime: day(from), endTime: day(to) }, gz);

const HEADER = (dir: string): string =>
  `Collection Status\n-----------------\nConnecting with backend: BackendWrapper\nArchive dir: ${dir}\n\n`;

test('renderCollectionStatus() reproduces duplicity 0.8.22 output for the sample archives', () => {
  for (const name of ['plain', 'enc', 'multi']) {
    const text = renderCollectionStatus(sampleCollection(name), { archiveDir: `/tmp/x2/cache/${name}`, timeZone: 'UTC' });
    assert.equal(text, sampleLog(`collection-status-${name}.txt`), name);
  }
});

test('renderCollectionStatusMachine() reproduces the sample --log-fd output', () => {
  const text = renderCollectionStatusMachine(sampleCollection('plain'), { archiveDir: '/tmp/x2/cache/plain', timeZone: 'UTC' });
  assert.equal(text, sampleLog('collection-status-plain.machine.txt'));
});

// The expected texts below are what duplicity 0.8.22 printed for the same file names (empty files).
test('renderCollectionStatus() prints secondary chains, orphans and incomplete sets like duplicity', () => {
  const names = [
    ...fullSet(1), ...incSet(1, 2), ...fullSet(3, 2), ...incSet(3, 4),
    ...incSet(5, 6, { signature: false }), ...incSet(4, 7, { manifest: false, signature: false }), newSig(8, 9),
  ];
  const text = renderCollectionStatus(buildCollection(names, []), { archiveDir: '/tmp/lbcheck/sc/B/cache/B', timeZone: 'UTC' });
  assert.equal(
    text,
    'Warning, found the following remote orphaned signature file:\n' +
      'duplicity-new-signatures.20240108T000000Z.to.20240109T000000Z.sigtar.gz\n' +
      'Warning, found incomplete backup sets, probably left from aborted session\n' +
      'Warning, found the following orphaned backup file:\n' +
      '[duplicity-inc.20240105T000000Z.to.20240106T000000Z.manifest, duplicity-inc.20240105T000000Z.to.20240106T000000Z.vol1.difftar.gz]\n' +
      'Last full backup date: Wed Jan  3 00:00:00 2024\n' +
      HEADER('/tmp/lbcheck/sc/B/cache/B') +
      'Found 1 secondary backup chain.\n' +
      'Secondary chain 1 of 1:\n' +
      '-------------------------\n' +
      'Chain start time: Mon Jan  1 00:00:00 2024\n' +
      'Chain end time: Tue Jan  2 00:00:00 2024\n' +
      'Number of contained backup sets: 2\n' +
      'Total number of contained volumes: 2\n' +
      ' Type of backup set:                            Time:      Num volumes:\n' +
      '                Full         Mon Jan  1 00:00:00 2024                 1\n' +
      '         Incremental         Tue Jan  2 00:00:00 2024                 1\n' +
      '-------------------------\n' +
      '\n' +
      '\n' +
      'Found primary backup chain with matching signature chain:\n' +
      '-------------------------\n' +
      'Chain start time: Wed Jan  3 00:00:00 2024\n' +
      'Chain end time: Thu Jan  4 00:00:00 2024\n' +
      'Number of contained backup sets: 2\n' +
      'Total number of contained volumes: 3\n' +
      ' Type of backup set:                            Time:      Num volumes:\n' +
      '                Full         Wed Jan  3 00:00:00 2024                 2\n' +
      '         Incremental         Thu Jan  4 00:00:00 2024                 1\n' +
      '-------------------------\n' +
      'Also found 1 backup set not part of any chain,\n' +
      'and 1 incomplete backup set.\n' +
      'These may be deleted by running duplicity with the "cleanup" command.\n',
  );
});

test('renderCollectionStatus() keeps the discarded set\'s time as chain end, as duplicity does', () => {
  const names = [...fullSet(1), ...incSet(1, 2), ...incSet(2, 3, { signature: false })];
  const text = renderCollectionStatus(buildCollection(names, []), { archiveDir: '/tmp/lbcheck/sc/C/cache/C', timeZone: 'America/St_Johns' });
  assert.equal(
    text,
    'Warning, discarding last backup set, because of missing signature file.\n' +
      'Warning, found incomplete backup sets, probably left from aborted session\n' +
      'Last full backup date: Sun Dec 31 20:30:00 2023\n' +
      HEADER('/tmp/lbcheck/sc/C/cache/C') +
      'Found 0 secondary backup chains.\n' +
      '\n' +
      'Found primary backup chain with matching signature chain:\n' +
      '-------------------------\n' +
      'Chain start time: Sun Dec 31 20:30:00 2023\n' +
      'Chain end time: Tue Jan  2 20:30:00 2024\n' +
      'Number of contained backup sets: 2\n' +
      'Total number of contained volumes: 2\n' +
      ' Type of backup set:                            Time:      Num volumes:\n' +
      '                Full         Sun Dec 31 20:30:00 2023                 1\n' +
      '         Incremental         Mon Jan  1 20:30:00 2024                 1\n' +
      '-------------------------\n' +
      'Also found 0 backup sets not part of any chain,\n' +
      'and 1 incomplete backup set.\n' +
      'These may be deleted by running duplicity with the "cleanup" command.\n',
  );
});

test('renderCollectionStatus() reports a chain without matching signatures like duplicity', () => {
  const names = [...fullSet(1), ...incSet(1, 2, { signature: false })];
  const text = renderCollectionStatus(buildCollection(names, []), { archiveDir: '/tmp/lbcheck/sc/D/cache/D', timeZone: 'UTC' });
  assert.equal(
    text,
    'Warning, found signatures but no corresponding backup files\n' +
      'Last full backup date: Mon Jan  1 00:00:00 2024\n' +
      HEADER('/tmp/lbcheck/sc/D/cache/D') +
      'Found 1 secondary backup chain.\n' +
      'Secondary chain 1 of 1:\n' +
      '-------------------------\n' +
      'Chain start time: Mon Jan  1 00:00:00 2024\n' +
      'Chain end time: Tue Jan  2 00:00:00 2024\n' +
      'Number of contained backup sets: 2\n' +
      'Total number of contained volumes: 2\n' +
      ' Type of backup set:                            Time:      Num volumes:\n' +
      '                Full         Mon Jan  1 00:00:00 2024                 1\n' +
      '         Incremental         Tue Jan  2 00:00:00 2024                 1\n' +
      '-------------------------\n' +
      '\n' +
      'No backup chains with active signatures found\n' +
      'No orphaned or incomplete backup sets found.\n',
  );
});

test('renderCollectionStatus() prints an empty archive like duplicity', () => {
  const text = renderCollectionStatus(buildCollection(['unrelated.txt'], []), { archiveDir: '/c/J', timeZone: 'UTC' });
  assert.equal(
    text,
    'Last full backup date: none\n' +
      HEADER('/c/J') +
      'Found 0 secondary backup chains.\n' +
      'No backup chains with active signatures found\n' +
      'No orphaned or incomplete backup sets found.\n',
  );
  assert.match(formatCollectionStatus(buildCollection([], []), { archiveDir: null }), /^Archive dir: None$/m);
});

test('collectionWarnings() uses plural forms and --log-fd warning codes', () => {
  const names = [...fullSet(1), ...incSet(1, 2), ...incSet(6, 7, { signature: false }), ...incSet(8, 9, { signature: false })];
  const local = [newSig(5, 6), newSig(6, 7)];
  assert.deepEqual(collectionWarnings(buildCollection(names, local)), [
    {
      code: 2,
      text:
        'Warning, found the following local orphaned signature files:\n' +
        'duplicity-new-signatures.20240105T000000Z.to.20240106T000000Z.sigtar.gz\n' +
        'duplicity-new-signatures.20240106T000000Z.to.20240107T000000Z.sigtar.gz',
    },
    {
      code: 6,
      text:
        'Warning, found the following orphaned backup files:\n' +
        '[duplicity-inc.20240106T000000Z.to.20240107T000000Z.manifest, duplicity-inc.20240106T000000Z.to.20240107T000000Z.vol1.difftar.gz]\n' +
        '[duplicity-inc.20240108T000000Z.to.20240109T000000Z.manifest, duplicity-inc.20240108T000000Z.to.20240109T000000Z.vol1.difftar.gz]',
    },
  ]);
});

test('renderCollectionStatusMachine() lists sets with enc/noenc and warnings as records', () => {
  const names = [...fullSet(1, 1, { encrypted: true }), ...incSet(1, 2), ...incSet(3, 4, { signature: false })];
  const text = renderCollectionStatusMachine(buildCollection(names, []), { archiveDir: '/c', timeZone: 'UTC' });
  assert.ok(text.startsWith('WARNING 6\n. Warning, found the following orphaned backup file:\n. [duplicity-inc.20240103T000000Z'));
  assert.ok(text.includes('\n\nNOTICE 1\n. Last full backup date: Mon Jan  1 00:00:00 2024\n\nINFO 3 \nbackend BackendWrapper\n'));
  assert.ok(text.includes('chain-complete\n full 20240101T000000Z 1 enc\n inc 20240102T000000Z 1 noenc\norphaned-sets-num 1\nincomplete-sets-num 0\n. Collection Status\n'));
  assert.ok(text.endsWith('. These may be deleted by running duplicity with the "cleanup" command.\n\n'));
});

test('lastFullBackupLine() uses the newest full set of any chain, in the given zone', () => {
  const c = buildCollection([...fullSet(1), ...fullSet(3)], []);
  assert.equal(lastFullBackupLine(c, 'UTC'), 'Last full backup date: Wed Jan  3 00:00:00 2024');
  assert.equal(lastFullBackupLine(c, 'Europe/Berlin'), 'Last full backup date: Wed Jan  3 01:00:00 2024');
});

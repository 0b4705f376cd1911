import { samplesDir } from '../../test/support/samples.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IntegrityError, LifeboatError } from '../errors/lifeboat-error.js';
import {
  backupChainAt,
  buildCollection,
  chainSets,
  lastFullBackupTime,
  remoteSetNames,
  setsToRestoreAt,
  signatureChainAt,
  signatureNamesAt,
  type Collection,
} from './collection.js';
import { formatArchiveName, type NameFormatOptions } from './file-names.js';

const SAMPLES = samplesDir();
const gz: NameFormatOptions = { compressed: true };
const day = (d: number): number => Date.UTC(2024, 0, d) / 1000;
const volumes = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);

function fullSet(d: number, count = 1, options = gz): string[] {
  const time = day(d);
  return [
    ...volumes(count).map((volumeNumber) => formatArchiveName({ kind: 'full-volume', time, volumeNumber }, options)),
    formatArchiveName({ kind: 'full-manifest', time }, options),
  ];
}
function incSet(from: number, to: number, count = 1, options = gz): string[] {
  const [startTime, endTime] = [day(from), day(to)];
  return [
    ...volumes(count).map((volumeNumber) => formatArchiveName({ kind: 'inc-volume', startTime, endTime, volumeNumber }, options)),
    formatArchiveName({ kind: 'inc-manifest', startTime, endTime }, options),
  ];
}
const fullSig = (d: number, options = gz): string => formatArchiveName({ kind: 'full-signature', time: day(d) }, options);
const newSig = (from: number, to: number, options = gz): string =>
  formatArchiveName({ kind: 'new-signature', startTime: day(from), endTime: day(to) }, options);

function sampleCollection(name: string): Collection {
  return buildCollection(readdirSync(join(SAMPLES, name)), readdirSync(join(SAMPLES, 'cache', name)));
}

const setTimes = (c: Collection): number[][] =>
  c.backupChains.map((chain) => chainSets(chain).map((s) => s.endTime));

test('buildCollection() finds one primary chain in each sample archive', () => {
  const plain = sampleCollection('plain');
  assert.ok(plain.primary !== null);
  const chain = plain.primary.backupChain;
  assert.deepEqual(chainSets(chain).map((s) => [s.type, s.volumes.length]), [['full', 1], ['inc', 1], ['inc', 1]]);
  assert.equal(chain.startTime, 1795673065);
  assert.equal(chain.endTime, 1795673069);
  assert.equal(plain.primary.signatureChain.location, 'local'); // local wins a tie with remote
  assert.equal(plain.primary.signatureChain.newSignatures.length, 2);
  assert.deepEqual([plain.secondaryChains, plain.orphanedSets, plain.incompleteSets], [[], [], []]);
  assert.equal(chain.fullSet.localManifestName, 'duplicity-full.20261126T060425Z.manifest');

  const multi = sampleCollection('multi');
  assert.deepEqual(chainSets(multi.primary!.backupChain).map((s) => s.volumes.map((v) => v.volumeNumber)), [[1, 2, 3], [1, 2]]);

  const enc = sampleCollection('enc');
  assert.ok(chainSets(enc.primary!.backupChain).every((s) => s.encrypted));
  assert.equal(enc.primary!.backupChain.fullSet.manifestName, 'duplicity-full.20261126T060429Z.manifest.gpg');
  assert.equal(enc.primary!.backupChain.fullSet.localManifestName, 'duplicity-full.20261126T060429Z.manifest');
  assert.equal(sampleCollection('nocomp').primary!.backupChain.fullSet.encrypted, false);
});

test('remoteSetNames() lists volumes in order, then the manifest', () => {
  const set = sampleCollection('multi').primary!.backupChain.fullSet;
  assert.deepEqual(remoteSetNames(set), [
    'duplicity-full.20261126T060433Z.vol1.difftar.gz',
    'duplicity-full.20261126T060433Z.vol2.difftar.gz',
    'duplicity-full.20261126T060433Z.vol3.difftar.gz',
    'duplicity-full.20261126T060433Z.manifest',
  ]);
});

test('buildCollection() separates secondary chains, orphaned and incomplete sets, orphaned signatures', () => {
  const c = buildCollection(
    [
      ...fullSet(1), fullSig(1), ...incSet(1, 2), newSig(1, 2),
      ...fullSet(3, 2), fullSig(3), ...incSet(3, 4), newSig(3, 4),
      ...incSet(5, 6), // orphan: starts where no chain ends
      incSet(4, 7)[0], // volume without manifest: incomplete
      newSig(8, 9),
      'unrelated.txt', 'duplicity-full.garbage.manifest',
    ],
    [],
  );
  assert.deepEqual(setTimes(c), [[day(1), day(2)], [day(3), day(4)]]);
  assert.equal(c.primary?.backupChain, c.backupChains[1]);
  assert.deepEqual(c.secondaryChains, [c.backupChains[0]]);
  assert.deepEqual(c.orphanedSets.map((s) => [s.startTime, s.endTime]), [[day(5), day(6)]]);
  assert.deepEqual(c.incompleteSets.map((s) => [s.endTime, s.manifestName, s.volumes.length]), [[day(7), null, 1]]);
  assert.deepEqual(c.orphanedRemoteSignatureNames, [newSig(8, 9)]);
  assert.equal(lastFullBackupTime(c), day(3));
});

test('buildCollection() discards the last incremental when only its signature file is missing (§1.6)', () => {
  const c = buildCollection([...fullSet(1), fullSig(1), ...incSet(1, 2), newSig(1, 2), ...incSet(2, 3)], []);
  assert.deepEqual(setTimes(c), [[day(1), day(2)]]);
  assert.equal(c.primary?.backupChain.endTime, day(2));
  assert.equal(c.discardedSet?.endTime, day(3));
  assert.deepEqual(c.incompleteSets, [c.discardedSet]);
});

test('buildCollection() does not discard a lone incremental whose signature is missing, as duplicity', () => {
  // duplicity compares with the full set's end time, which it leaves unset: no match at all
  const c = buildCollection([...fullSet(1), fullSig(1), ...incSet(1, 2)], []);
  assert.equal(c.primary, null);
  assert.equal(c.discardedSet, null);
  assert.deepEqual(setTimes(c), [[day(1), day(2)]]);
  assert.deepEqual(c.secondaryChains, c.backupChains);
});

test('buildCollection() prefers a later incremental with the same start ("Preferring Backupset")', () => {
  const c = buildCollection([...fullSet(1), fullSig(1), ...incSet(1, 2), ...incSet(1, 3, 2), newSig(1, 3)], []);
  assert.deepEqual(setTimes(c), [[day(1), day(3)]]);
  assert.equal(c.primary?.backupChain.incrementalSets[0].volumes.length, 2);
  assert.deepEqual(c.supersededSets.map((s) => s.endTime), [day(2)]);
  assert.deepEqual([c.orphanedSets, c.incompleteSets], [[], []]);
});

test('buildCollection() takes a cache .part manifest as the manifest of an interrupted set (§1.5)', () => {
  const partManifest = formatArchiveName({ kind: 'full-manifest', time: day(1) }, { partial: true });
  const partSig = formatArchiveName({ kind: 'full-signature', time: day(1) }, { partial: true });
  const c = buildCollection(fullSet(1, 2).slice(0, 2), [partManifest, partSig]);
  const set = c.primary?.backupChain.fullSet;
  assert.ok(set !== undefined);
  assert.equal(set.partial, true);
  assert.equal(set.manifestName, partManifest);
  assert.equal(c.primary?.signatureChain.fullSignatureName, partSig);
  assert.deepEqual(remoteSetNames(set), fullSet(1, 2).slice(0, 2)); // the .part stays out of remote names
});

test('buildCollection() reports signatures that match no chain', () => {
  const c = buildCollection([...fullSet(1), fullSig(2)], []);
  assert.equal(c.primary, null);
  assert.equal(c.signatureChains.length, 1);
  assert.equal(c.secondaryChains.length, 1);
});

test('buildCollection() builds local and remote signature chains separately', () => {
  const enc = { encrypted: true };
  const c = buildCollection(
    [...fullSet(1, 1, enc), fullSig(1, enc)],
    [formatArchiveName({ kind: 'full-manifest', time: day(1) }), fullSig(1), newSig(5, 6), newSig(6, 7)],
  );
  assert.deepEqual(c.signatureChains.map((s) => s.location), ['remote', 'local']);
  assert.equal(c.primary?.signatureChain.location, 'local');
  assert.deepEqual(c.orphanedLocalSignatureNames, [newSig(5, 6), newSig(6, 7)]);
  assert.deepEqual(c.orphanedRemoteSignatureNames, []);
});

test('buildCollection() lets a set of a partly encrypted chain keep its own encryption flag', () => {
  const c = buildCollection([...fullSet(1, 1, { encrypted: true }), fullSig(1, { encrypted: true }), ...incSet(1, 2), newSig(1, 2)], []);
  assert.deepEqual(chainSets(c.primary!.backupChain).map((s) => s.encrypted), [true, false]);
});

test('buildCollection() throws IntegrityError when two files claim one volume or manifest', () => {
  const twice = [...fullSet(1), formatArchiveName({ kind: 'full-volume', time: day(1), volumeNumber: 1 }, { encrypted: true })];
  assert.throws(() => buildCollection(twice, []), IntegrityError);
  const manifests = [...fullSet(1), formatArchiveName({ kind: 'full-manifest', time: day(1) }, { encrypted: true })];
  assert.throws(() => buildCollection(manifests, []), IntegrityError);
});

test('backupChainAt() picks the covering chain, else the newest older one, else the oldest (§10.1)', () => {
  const c = buildCollection([...fullSet(1), ...incSet(1, 2), ...fullSet(5), ...incSet(5, 6), ...incSet(6, 8)], []);
  const [first, second] = c.backupChains;
  assert.equal(backupChainAt(c, day(2)), first);
  assert.equal(backupChainAt(c, day(3)), first); // between chains: the one ending before
  assert.equal(backupChainAt(c, day(7)), second);
  assert.equal(backupChainAt(c, day(20)), second);
  assert.equal(backupChainAt(c, 0), first); // before everything: the oldest
});

test('backupChainAt() refuses a time covered by two chains', () => {
  // chain 1 to 5 and chain 3 to 6 both cover day 4
  const c = buildCollection([...fullSet(1), ...incSet(1, 5), ...fullSet(3), ...incSet(3, 6)], []);
  assert.equal(c.backupChains.length, 2);
  assert.throws(() => backupChainAt(c, day(4)), (err: unknown) => err instanceof LifeboatError && err.code === 'overlapping-chains');
  assert.equal(backupChainAt(c, day(2)), c.backupChains.find((chain) => chain.fullSet.startTime === day(1)));
});

test('setsToRestoreAt() replays the full set and the incrementals ending by then, even before the full (§13.21)', () => {
  const c = buildCollection([...fullSet(1), ...incSet(1, 2), ...incSet(2, 3)], []);
  const chain = c.backupChains[0];
  const ends = (time: number): number[] => setsToRestoreAt(chain, time).map((s) => s.endTime);
  assert.deepEqual(ends(day(3)), [day(1), day(2), day(3)]);
  assert.deepEqual(ends(day(2) + 1), [day(1), day(2)]);
  assert.deepEqual(ends(day(1)), [day(1)]);
  assert.deepEqual(ends(0), [day(1)]);
});

test('backupChainAt() fails with "No backup chains found" on an empty archive', () => {
  const empty = buildCollection(['unrelated.txt'], []);
  assert.throws(() => backupChainAt(empty, day(1)), (err: unknown) => err instanceof LifeboatError && err.code === 'no-backup-chains');
  assert.equal(lastFullBackupTime(empty), null);
});

test('signatureChainAt() and signatureNamesAt() choose the signature files for list-current-files', () => {
  const c = sampleCollection('plain');
  const chain = signatureChainAt(c, 1795673065);
  assert.equal(chain.location, 'local');
  assert.deepEqual(signatureNamesAt(chain, 1795673065), ['duplicity-full-signatures.20261126T060425Z.sigtar.gz']);
  assert.equal(signatureNamesAt(chain, 1795673069).length, 3);
  assert.throws(() => signatureChainAt(buildCollection([], []), 0), (err: unknown) => err instanceof LifeboatError && err.code === 'no-signature-chains');
});

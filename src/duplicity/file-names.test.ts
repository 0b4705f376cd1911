import { samplesDir } from '../../test/support/samples.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatArchiveName, isMetadataName, metadataSyncKey, parseArchiveName, type ArchiveName } from './file-names.js';

const SAMPLES = samplesDir();
const SAMPLE_DIRS = ['plain', 'multi', 'nocomp', 'enc', 'cache/plain', 'cache/multi', 'cache/nocomp', 'cache/enc'];
const T0425 = 1795673065; // 20261126T060425Z
const T0427 = T0425 + 2;

function sampleNames(dir: string): string[] {
  return readdirSync(join(SAMPLES, dir)).sort();
}

function parsed(name: string): ArchiveName {
  const result = parseArchiveName(name);
  assert.ok(result !== null, `${name} should parse`);
  return result;
}

test('parseArchiveName() recognises every file of the sample archives and caches', () => {
  for (const dir of SAMPLE_DIRS) {
    for (const name of sampleNames(dir)) {
      const p = parsed(name);
      assert.equal(p.partial, false, name);
      assert.equal(p.encrypted, name.endsWith('.gpg'), name);
      assert.equal(p.compressed, name.endsWith('.gz'), name);
    }
  }
});

test('parseArchiveName() reads kinds, times and volume numbers of long names (§1.1)', () => {
  assert.deepEqual(parsed('duplicity-full.20261126T060425Z.vol1.difftar.gz'), {
    kind: 'full-volume', time: T0425, volumeNumber: 1, name: 'duplicity-full.20261126T060425Z.vol1.difftar.gz',
    compressed: true, encrypted: false, partial: false, short: false,
  });
  const inc = parsed('duplicity-inc.20261126T060425Z.to.20261126T060427Z.manifest');
  assert.equal(inc.kind, 'inc-manifest');
  assert.ok(inc.kind === 'inc-manifest' && inc.startTime === T0425 && inc.endTime === T0427);
  const vol3 = parsed('duplicity-full.20261126T060433Z.vol3.difftar.gz');
  assert.ok(vol3.kind === 'full-volume' && vol3.volumeNumber === 3);
  assert.equal(parsed('duplicity-new-signatures.20261126T060425Z.to.20261126T060427Z.sigtar.gz').kind, 'new-signature');
  assert.equal(parsed('duplicity-full-signatures.20261126T060429Z.sigtar.gpg').kind, 'full-signature');
});

test('formatArchiveName() reproduces every sample name from its parse', () => {
  for (const dir of SAMPLE_DIRS) {
    for (const name of sampleNames(dir)) {
      const p = parsed(name);
      assert.equal(formatArchiveName(p, { encrypted: p.encrypted, compressed: p.compressed }), name);
    }
  }
});

test('formatArchiveName() applies the suffix table of §1.1 (manifests are never gzipped)', () => {
  const full = { kind: 'full-volume', time: T0425, volumeNumber: 2 } as const;
  const manifest = { kind: 'inc-manifest', startTime: T0425, endTime: T0427 } as const;
  const sig = { kind: 'new-signature', startTime: T0425, endTime: T0427 } as const;
  assert.equal(formatArchiveName(full, { compressed: true }), 'duplicity-full.20261126T060425Z.vol2.difftar.gz');
  assert.equal(formatArchiveName(full, { compressed: true, encrypted: true }), 'duplicity-full.20261126T060425Z.vol2.difftar.gpg');
  assert.equal(formatArchiveName(full), 'duplicity-full.20261126T060425Z.vol2.difftar');
  assert.equal(formatArchiveName(manifest, { compressed: true }), 'duplicity-inc.20261126T060425Z.to.20261126T060427Z.manifest');
  assert.equal(formatArchiveName(manifest, { encrypted: true }), 'duplicity-inc.20261126T060425Z.to.20261126T060427Z.manifest.gpg');
  assert.equal(formatArchiveName(sig, { compressed: true }), 'duplicity-new-signatures.20261126T060425Z.to.20261126T060427Z.sigtar.gz');
});

test('formatArchiveName() writes cache .part names for manifests and sigtars only (§1.5)', () => {
  assert.equal(formatArchiveName({ kind: 'full-manifest', time: T0425 }, { partial: true }), 'duplicity-full.20261126T060425Z.manifest.part');
  assert.equal(formatArchiveName({ kind: 'full-signature', time: T0425 }, { partial: true }), 'duplicity-full-signatures.20261126T060425Z.sigtar.part');
  assert.throws(() => formatArchiveName({ kind: 'full-volume', time: T0425, volumeNumber: 1 }, { partial: true }), RangeError);
  assert.throws(() => formatArchiveName({ kind: 'full-volume', time: T0425, volumeNumber: 0 }), RangeError);
});

test('parseArchiveName() marks .part manifests and sigtars partial, never volumes', () => {
  assert.equal(parsed('duplicity-full.20261126T060109Z.manifest.part').partial, true);
  assert.equal(parsed('duplicity-full-signatures.20261126T060109Z.sigtar.part').partial, true);
  assert.equal(parsed('duplicity-new-signatures.20261126T060109Z.to.20261126T060209Z.sigtar.part').partial, true);
  assert.equal(parsed('duplicity-full.20261126T060109Z.vol1.difftar.part').partial, false);
  // the incremental volume pattern has no .part group: the name still parses, as an ordinary volume
  assert.equal(parsed('duplicity-inc.20261126T060109Z.to.20261126T060209Z.vol1.difftar.part').kind, 'inc-volume');
});

test('parseArchiveName() reads --old-filenames times, epoch times and lower-case times', () => {
  const old = parsed('duplicity-full.2026-11-26T07:01:24+01:00.vol1.difftar.gz');
  assert.ok(old.kind === 'full-volume' && old.time === Date.UTC(2026, 10, 26, 6, 1, 24) / 1000);
  const mixed = parsed('duplicity-inc.2026-11-26T07:01:24+01:00.to.2026-11-26T07:05:00Z.manifest');
  assert.ok(mixed.kind === 'inc-manifest' && mixed.endTime === Date.UTC(2026, 10, 26, 7, 5, 0) / 1000);
  assert.ok(parsed('duplicity-full.1795673065.manifest').kind === 'full-manifest');
  const lower = parsed('duplicity-full.20261126t060425z.manifest');
  assert.ok(lower.kind === 'full-manifest' && lower.time === T0425);
});

test('parseArchiveName() reads --short-filenames names with base-36 times and volume numbers (§1.3)', () => {
  const vol = parsed('df.tp3i2a.1.dt.z');
  assert.ok(vol.kind === 'full-volume' && vol.time === parseInt('tp3i2a', 36) && vol.volumeNumber === 1 && vol.short);
  assert.equal(vol.compressed, true);
  assert.equal(parsed('df.tp3i2a.m').kind, 'full-manifest');
  assert.equal(parsed('dfs.tp3i2a.st.z').kind, 'full-signature');
  const inc = parsed('di.tp3i2a.tp3i3b.a.dt.g');
  assert.ok(inc.kind === 'inc-volume' && inc.volumeNumber === 10 && inc.encrypted);
  assert.equal(parsed('di.tp3i2a.tp3i3b.m.p').partial, true);
  const sig = parsed('dns.tp3i2a.tp3i3b.st.p.z');
  assert.ok(sig.kind === 'new-signature' && sig.partial && sig.compressed);
});

test('parseArchiveName() only recognises prefixed names with the same prefixes', () => {
  const prefixes = { file: 'host1_', archive: 'A_', manifest: 'M_', signature: 'S_' };
  assert.equal(parseArchiveName('host1_A_duplicity-full.20261126T060425Z.vol1.difftar.gz'), null);
  assert.equal(parseArchiveName('host1_A_duplicity-full.20261126T060425Z.vol1.difftar.gz', prefixes)?.kind, 'full-volume');
  assert.equal(parseArchiveName('host1_M_duplicity-full.20261126T060425Z.manifest', prefixes)?.kind, 'full-manifest');
  assert.equal(parseArchiveName('host1_S_duplicity-full-signatures.20261126T060425Z.sigtar.gz', prefixes)?.kind, 'full-signature');
  assert.equal(parseArchiveName('host1_duplicity-full.20261126T060425Z.manifest', prefixes), null);
  assert.equal(parseArchiveName('duplicity-full.20261126T060425Z.manifest', prefixes), null);
  const name = formatArchiveName({ kind: 'full-manifest', time: T0425 }, { prefixes });
  assert.equal(name, 'host1_M_duplicity-full.20261126T060425Z.manifest');
});

test('parseArchiveName() detects compression by a trailing "gz" without a dot, as duplicity does', () => {
  assert.equal(parsed('duplicity-full.20261126T060425Z.manifest.xgz').compressed, true);
  assert.equal(parsed('duplicity-full.20261126T060425Z.vol1.difftar.z').compressed, true);
  assert.equal(parsed('duplicity-full.20261126T060425Z.vol1.difftar.g').encrypted, true);
});

test('parseArchiveName() returns null for names duplicity ignores', () => {
  const ignored = [
    'unrelated.txt', 'lockfile', 'duplicity-full.0.manifest', 'duplicity-full.garbage.manifest',
    'duplicity-full.20261126T060425Z.manifestX', 'df.0.1.dt', 'dfs.TP3I2A.st',
    // duplicity asserts on volume 0; we ignore the file
    'duplicity-full.20261126T060425Z.vol0.difftar.gz',
    // the volume pattern wins and its time "…Z.manifest" does not parse
    'duplicity-full.20261126T060425Z.manifest.vol1.difftar',
  ];
  for (const name of ignored) assert.equal(parseArchiveName(name), null, name);
});

test('metadataSyncKey() strips one compression, encryption or .part suffix (§11)', () => {
  assert.equal(metadataSyncKey('duplicity-full.20261126T060429Z.manifest.gpg'), 'duplicity-full.20261126T060429Z.manifest');
  assert.equal(metadataSyncKey('duplicity-full-signatures.20261126T060429Z.sigtar.gz'), 'duplicity-full-signatures.20261126T060429Z.sigtar');
  assert.equal(metadataSyncKey('duplicity-full-signatures.20261126T060109Z.sigtar.part'), 'duplicity-full-signatures.20261126T060109Z.sigtar');
  assert.equal(metadataSyncKey('duplicity-full.20261126T060429Z.manifest'), 'duplicity-full.20261126T060429Z.manifest');
});

test('isMetadataName() is true for manifests and signatures only', () => {
  assert.equal(isMetadataName(parsed('duplicity-full.20261126T060429Z.manifest.gpg')), true);
  assert.equal(isMetadataName(parsed('duplicity-full-signatures.20261126T060429Z.sigtar.gpg')), true);
  assert.equal(isMetadataName(parsed('duplicity-full.20261126T060429Z.vol1.difftar.gpg')), false);
});

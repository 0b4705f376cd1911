import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partSizeFor, uploadSettings } from './upload-settings.js';

const settings = (options: Record<string, string | true> = {}) => uploadSettings(new Map(Object.entries(options)));
const MiB = 1024 * 1024;

test('defaults: standard class (no header), no encryption, 25 MiB parts as duplicity', () => {
  const s = settings();
  assert.equal(s.storageClass('duplicity-full.20240101T000000Z.vol1.difftar.gz'), undefined);
  assert.deepEqual(s.encryption, {});
  assert.equal(s.partSize, 25 * MiB);
  assert.equal(s.partConcurrency, 2);
});

test('infrequent-access classes apply to every file', () => {
  assert.equal(settings({ 's3-use-ia': true }).storageClass('x.manifest'), 'STANDARD_IA');
  assert.equal(settings({ 's3-use-onezone-ia': true }).storageClass('x.vol1.difftar.gz'), 'ONEZONE_IA');
  assert.equal(settings({ 's3-use-rrs': true }).storageClass('x'), 'REDUCED_REDUNDANCY');
});

test('archive classes leave manifests in the standard class, as duplicity does', () => {
  for (const [option, cls] of [['s3-use-glacier', 'GLACIER'], ['s3-use-deep-archive', 'DEEP_ARCHIVE'], ['s3-use-glacier-ir', 'GLACIER_IR']]) {
    const s = settings({ [option]: true });
    assert.equal(s.storageClass('duplicity-full.20240101T000000Z.vol1.difftar.gz'), cls);
    assert.equal(s.storageClass('duplicity-full.20240101T000000Z.manifest'), undefined);
  }
});

test('two storage classes at once are refused', () => {
  assert.throws(() => settings({ 's3-use-ia': true, 's3-use-glacier': true }), /only one storage class/);
});

test('server-side encryption: AES256, or KMS with its key id and grant', () => {
  assert.deepEqual(settings({ 's3-use-server-side-encryption': true }).encryption, { ServerSideEncryption: 'AES256' });
  assert.deepEqual(settings({ 's3-use-server-side-kms-encryption': true, 's3-kms-key-id': 'k1', 's3-kms-grant': 'id=abc' }).encryption,
    { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k1', GrantFullControl: 'id=abc' });
  assert.throws(() => settings({ 's3-use-server-side-kms-encryption': true }), /needs --s3-kms-key-id/);
});

test('part size and parallelism from the multipart options, checked', () => {
  const s = settings({ 's3-multipart-chunk-size': '8', 's3-multipart-max-procs': '6' });
  assert.equal(s.partSize, 8 * MiB);
  assert.equal(s.partConcurrency, 6);
  assert.throws(() => settings({ 's3-multipart-chunk-size': '4' }), /at least 5/);
  assert.throws(() => settings({ 's3-multipart-max-procs': 'many' }), /whole number/);
});

test('parts grow so a huge volume fits in 10,000 parts', () => {
  assert.equal(partSizeFor(100 * MiB, 25 * MiB), 25 * MiB);
  assert.equal(partSizeFor(500_000 * MiB, 25 * MiB), 50 * MiB);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuplicityArgv } from './duplicity-argv.js';

test('parseDuplicityArgv() takes actions by unique prefix and infers backup or restore', () => {
  assert.equal(parseDuplicityArgv(['incr', 'src', 'file:///t']).action, 'incremental');
  assert.equal(parseDuplicityArgv(['coll', 'file:///t']).action, 'collection-status');
  assert.equal(parseDuplicityArgv(['src', 'file:///t']).action, 'backup');
  assert.equal(parseDuplicityArgv(['file:///t', 'dst']).action, 'restore');
  assert.throws(() => parseDuplicityArgv(['remove-all', '1', 'file:///t']), /ambiguous/);
});

test('parseDuplicityArgv() reads options anywhere, with = or a separate value, and short forms', () => {
  const { options, args } = parseDuplicityArgv(['--volsize=5', 'full', '-v9', 'src', '--no-encryption', 'file:///t', '-t', '3D']);
  assert.equal(options.volsizeMiB, 5);
  assert.equal(options.verbosity, 9);
  assert.equal(options.encryption, false);
  assert.equal(options.time, '3D');
  assert.deepEqual(args, ['src', 'file:///t']);
});

test('parseDuplicityArgv() takes unique prefixes of long options, as optparse does', () => {
  const { options } = parseDuplicityArgv(['full', '--no-encr', '--vols', '7', 'src', 'file:///t']);
  assert.equal(options.encryption, false);
  assert.equal(options.volsizeMiB, 7);
  assert.throws(() => parseDuplicityArgv(['full', '--no-', 'src', 'file:///t']), /ambiguous option: --no-/);
  assert.throws(() => parseDuplicityArgv(['full', '--frobnicate', 'src', 'file:///t']), /no such option: --frobnicate/);
});

test('parseDuplicityArgv() takes the encryption options, and refuses the gpg ones it has no use for', () => {
  const { options } = parseDuplicityArgv(['full', '--encrypt-key', 'ABC', '--hidden-encrypt-key=DEF', '--encrypt-sign-key', '0x12', '--use-agent',
    '--key-file', '/p/gpgkey.ABC.pub.asc', '--key-file=/p/gpgkey.ABC.sec.asc', 'src', 'file:///t']);
  assert.deepEqual(options.encryptKeys, ['ABC', '0x12']);
  assert.deepEqual(options.keyFiles, ['/p/gpgkey.ABC.pub.asc', '/p/gpgkey.ABC.sec.asc']);
  assert.deepEqual(options.hiddenEncryptKeys, ['DEF']);
  assert.equal(options.signKey, '0x12');
  assert.throws(() => parseDuplicityArgv(['full', '--gpg-options', '--compress-algo=bzip2', 'src', 'file:///t']), /not supported yet/);
});

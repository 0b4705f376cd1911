// The names b2:// sends decode, under the rules of B2's "String Encoding" page (as the protocol test
// server written from B2's docs applies them), to exactly the names Lifeboat meant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFileName, folderOf } from '../../src/backend/b2/names.js';
import { decodeB2 } from '../servers/b2-server.js';

test('file names survive B2\'s percent-decoding, "+" and "/" included', () => {
  for (const name of ['plain.vol1.difftar.gz', 'with space', 'a+b', 'percent%20', "q'u\"o$(x)&;#?", 'ünïcødé-日本語', 'dir/sub/file', '~!*()', '\u{10400}']) {
    assert.equal(decodeB2(encodeFileName(name)), name, name);
  }
});

test('the folder is the URL path\'s non-empty segments, with one trailing slash', () => {
  assert.equal(folderOf(''), '');
  assert.equal(folderOf('/'), '');
  assert.equal(folderOf('backups'), 'backups/');
  assert.equal(folderOf('/backups//host%20one/'), 'backups/host one/');
});

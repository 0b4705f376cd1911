import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../errors/lifeboat-error.js';
import { open, parseHeaders } from './open.js';
import { parseTargetUrl } from '../url.js';

test('--webdav-headers takes CSV pairs of name and value', () => {
  assert.deepEqual(parseHeaders('X-Token,abc,User-Agent,"backup, nightly"'), { 'X-Token': 'abc', 'User-Agent': 'backup, nightly' });
  assert.deepEqual(parseHeaders(undefined), {});
  assert.throws(() => parseHeaders('X-Token'), UsageError);
  assert.throws(() => parseHeaders('Bad Name,v'), UsageError);
});

test('the displayed URL shows no password, not even a placeholder for one', async () => {
  const backend = await open(parseTargetUrl('webdavs://me:s3cret@dav.example:8443/a%20b/c'), { env: {}, options: new Map() });
  assert.equal(backend.displayUrl, 'webdavs://me@dav.example:8443/a%20b/c');
  await backend.close();
});

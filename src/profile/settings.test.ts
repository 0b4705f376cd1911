import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purgeCredentials, pythonQuote, splitKeys, targetCredentials } from './settings.js';
import { ProfileError } from './conf.js';

test("moves the password out of TARGET as duply does (specs/duply.md §6.3's verified examples)", () => {
  const a = targetCredentials('sftp://host.example.com//backup/dir', 'bob@corp', 'p@ss w:rd$x');
  assert.equal(a.url, 'sftp://bob%40corp@host.example.com//backup/dir');
  assert.deepEqual(a.passwordEnv, { name: 'FTP_PASSWORD', value: 'p@ss w:rd$x' });
  const b = targetCredentials('sftp://bob%40corp:p%40ss%20w@host.example.com:2222/rel/dir', undefined, undefined);
  assert.equal(b.url, 'sftp://bob%40corp@host.example.com:2222/rel/dir');
  assert.equal(b.passwordEnv?.value, 'p@ss w');
  assert.equal(targetCredentials('s3://AKID:SECRET@bucket/path', undefined, undefined).url, 's3://AKID@bucket/path');
  assert.equal(targetCredentials('imaps://user@mail.example.com/INBOX', undefined, 'secret').passwordEnv?.name, 'IMAP_PASSWORD');
  const file = targetCredentials('file:///tmp/target', 'bob', 'secret');
  assert.equal(file.url, 'file:///tmp/target');
  assert.equal(file.passwordEnv?.value, 'secret');
  const odd = targetCredentials('webdav://user:pa:ss@word@host/dir', undefined, undefined);
  assert.deepEqual([odd.scriptVars.TARGET_URL_USER, odd.scriptVars.TARGET_URL_PASS, odd.scriptVars.TARGET_URL_HOSTPATH], ['user', 'pa:ss', 'word@host/dir']);
  assert.equal(targetCredentials('webdav://user:@host/dir', undefined, undefined).passwordEnv, undefined);
});

test('TARGET_USER or TARGET_PASS that contradict the URL are fatal', () => {
  assert.throws(() => targetCredentials('ftp://bob%40corp@host', 'bob@corp', undefined), ProfileError, 'the URL user is compared still encoded');
  assert.throws(() => targetCredentials('ftp://bob:one@host', undefined, 'two'), ProfileError);
  assert.doesNotThrow(() => targetCredentials('ftp://bob:p%40ss@host', undefined, 'p@ss'));
});

test("python's quote() and duply's key lists", () => {
  assert.equal(pythonQuote('a/b:c d~e+f&g=h%i!j*k(l)'), 'a/b%3Ac%20d~e%2Bf%26g%3Dh%25i%21j%2Ak%28l%29');
  assert.deepEqual(splitKeys('89470DFB,5CF96C84,,two@example.com,with\\,comma'), ['89470DFB', '5CF96C84', 'two@example.com', 'with,comma']);
});

test('purge credentials from the environment replace the ones in TARGET', () => {
  assert.equal(purgeCredentials('sftp://bob:backup@host/dir', undefined, undefined, {}), undefined);
  const both = purgeCredentials('sftp://bob:backup@host/dir', undefined, undefined, { LIFEBOAT_PURGE_USER: 'admin', LIFEBOAT_PURGE_PASS: 'purge' })!;
  assert.equal(both.target.url, 'sftp://admin@host/dir');
  assert.equal(both.target.passwordEnv?.value, 'purge');
  // only a password: the URL's user stays, its password is replaced (not a "there can be only one" error)
  const pass = purgeCredentials('sftp://bob:backup@host/dir', undefined, undefined, { LIFEBOAT_PURGE_PASS: 'purge' })!;
  assert.equal(pass.target.url, 'sftp://bob@host/dir');
  assert.equal(pass.target.passwordEnv?.value, 'purge');
  assert.deepEqual(purgeCredentials('s3://bucket/dir', undefined, undefined, { LIFEBOAT_PURGE_AWS_ACCESS_KEY_ID: 'AK', LIFEBOAT_PURGE_AWS_SECRET_ACCESS_KEY: 'SK' })!.env,
    { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
});

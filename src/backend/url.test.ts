import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTargetUrl, redactUrl } from './url.js';
import { openBackend } from './registry.js';
import { BadUrlError } from './url.js';

test('parses the parts of duplicity URLs', () => {
  const sftp = parseTargetUrl('sftp://backup:p%40ss@host.example:2222//srv/backups');
  assert.deepEqual([sftp.scheme, sftp.user, sftp.password, sftp.host, sftp.port, sftp.path], ['sftp', 'backup', 'p@ss', 'host.example', 2222, '/srv/backups']);
  const b2 = parseTargetUrl('b2://0012ab:K001secret@my-bucket/host/dir');
  assert.deepEqual([b2.user, b2.password, b2.host, b2.path], ['0012ab', 'K001secret', 'my-bucket', 'host/dir']);
  const s3 = parseTargetUrl('boto3+s3://bucket/prefix');
  assert.deepEqual([s3.scheme, s3.host, s3.path, s3.user], ['boto3+s3', 'bucket', 'prefix', undefined]);
  assert.equal(parseTargetUrl('rclone://remote:/some_dir').rest, 'remote:/some_dir');
});

test('never shows a password', () => {
  assert.equal(redactUrl('b2://id:K001secret@bucket/x'), 'b2://id:***@bucket/x');
  assert.equal(redactUrl('file:///srv/x@y'), 'file:///srv/x@y');
  assert.equal(parseTargetUrl('webdavs://u:pw@h/d').display, 'webdavs://u:***@h/d');
});

test('an unknown scheme is a bad URL that names the known ones, without the password', async () => {
  await assert.rejects(openBackend('gopher://u:secret@h/x'), (err: unknown) => {
    assert.ok(err instanceof BadUrlError);
    assert.match(err.message, /no "gopher" backend/);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTargetUrl } from '../url.js';
import { parseS3Location } from './location.js';

const at = (url: string, options: Record<string, string | true> = {}) =>
  parseS3Location(parseTargetUrl(url), new Map(Object.entries(options)));

test('boto3+s3://bucket/prefix: AWS endpoint, virtual-host style, folded empty parts', () => {
  assert.deepEqual(at('boto3+s3://my-bucket//a///b/'), { bucket: 'my-bucket', keyPrefix: 'a/b/', forcePathStyle: false });
  assert.deepEqual(at('boto3+s3://my-bucket'), { bucket: 'my-bucket', keyPrefix: '', forcePathStyle: false });
});

test('a custom endpoint addresses the bucket in the path unless --s3-use-new-style', () => {
  assert.deepEqual(at('boto3+s3://b/p', { 's3-endpoint-url': 'http://127.0.0.1:9000/' }),
    { bucket: 'b', keyPrefix: 'p/', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  assert.equal(at('boto3+s3://b/p', { 's3-endpoint-url': 'https://minio.example', 's3-use-new-style': true }).forcePathStyle, false);
});

test('s3://host:port/bucket/prefix: the host is the endpoint, https unless --s3-unencrypted-connection', () => {
  assert.deepEqual(at('s3://minio.example:9000/b/x/y'),
    { bucket: 'b', keyPrefix: 'x/y/', endpoint: 'https://minio.example:9000', forcePathStyle: true, regionFromHost: undefined });
  assert.equal(at('s3://minio.example/b', { 's3-unencrypted-connection': true }).endpoint, 'http://minio.example');
  assert.equal(at('boto+s3://minio.example/b').endpoint, 'https://minio.example');
});

test('s3:// on an AWS host leaves the endpoint to the SDK and takes the region from the host', () => {
  assert.deepEqual(at('s3://s3.eu-central-1.amazonaws.com/b/p'),
    { bucket: 'b', keyPrefix: 'p/', forcePathStyle: false, regionFromHost: 'eu-central-1' });
  assert.equal(at('s3:///b/p').endpoint, undefined);
  assert.equal(at('s3:///b/p').bucket, 'b');
});

test('s3+http://bucket/prefix has no host; a user (duply adds the key id) is ignored', () => {
  assert.deepEqual(at('s3+http://b/p'), { bucket: 'b', keyPrefix: 'p/', forcePathStyle: false });
  assert.deepEqual(at('boto3+s3://AKID@b/p'), { bucket: 'b', keyPrefix: 'p/', forcePathStyle: false });
});

test('percent-encoded prefixes are decoded as duplicity decodes them', () => {
  assert.equal(at('boto3+s3://b/web%201/x').keyPrefix, 'web 1/x/');
});

test('a URL without a bucket, or a bad endpoint, is a clear error', () => {
  assert.throws(() => at('boto3+s3://'), /no bucket name/);
  assert.throws(() => at('s3://host.example/'), /no bucket name/);
  assert.throws(() => at('boto3+s3://b', { 's3-endpoint-url': 'minio:9000' }), /must be http/);
  assert.throws(() => at('boto3+s3://b', { 's3-endpoint-url': 'https://k:s@minio' }), /must not carry credentials/);
});

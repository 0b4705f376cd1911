import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyS3Error, type ClassifyContext } from './classify.js';

const context: ClassifyContext = {
  operation: 'put', what: 's3://b/p/vol1', bucket: 'b', endpoint: 'http://127.0.0.1:9000',
  credentialSource: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', secrets: ['TOPSECRETvalue'],
};
const sdkError = (name: string, status?: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const kind = (err: unknown) => classifyS3Error(err, context).kind;

test('missing keys and buckets are not-found; a missing bucket says buckets are not created', () => {
  assert.equal(kind(sdkError('NoSuchKey', 404)), 'not-found');
  assert.equal(kind(sdkError('NotFound', 404, 'UnknownError')), 'not-found');
  const bucket = classifyS3Error(sdkError('NoSuchBucket', 404), context);
  assert.equal(bucket.kind, 'not-found');
  assert.match(bucket.hint ?? '', /does not create buckets/);
});

test('refused credentials are auth errors with a hint naming where the key came from', () => {
  for (const name of ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken']) {
    const err = classifyS3Error(sdkError(name, 403), context);
    assert.equal(err.kind, 'auth', name);
    assert.match(err.hint ?? '', /AWS_ACCESS_KEY_ID/);
  }
  assert.equal(kind(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })), 'auth');
});

test('server trouble, throttling and dropped connections are transient', () => {
  for (const [name, status] of [['InternalError', 500], ['ServiceUnavailable', 503], ['SlowDown', 503], ['TooManyRequests', 429], ['RequestTimeout', 400]] as const) {
    assert.equal(kind(sdkError(name, status)), 'transient', name);
  }
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']) {
    assert.equal(kind(Object.assign(new Error(code), { code })), 'transient', code);
  }
  assert.equal(kind(sdkError('TimeoutError')), 'transient');
});

test('anything else is permanent; a full B2 account is no-space; Glacier objects say how to thaw', () => {
  assert.equal(kind(sdkError('InvalidArgument', 400)), 'permanent');
  assert.equal(kind(sdkError('AccessDenied', 403, 'Cannot upload files, storage cap exceeded.')), 'no-space');
  assert.match(classifyS3Error(sdkError('InvalidObjectState', 403), context).hint ?? '', /restore-object/);
  assert.equal(kind(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })), 'permanent');
});

test('one line, naming operation and key, never a secret', () => {
  const err = classifyS3Error(sdkError('InternalError', 500, 'oops TOPSECRETvalue\nsecond line'), context);
  assert.equal(err.message, 'S3 put s3://b/p/vol1: InternalError (HTTP 500): oops ***');
});

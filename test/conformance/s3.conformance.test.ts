// The shared conformance suite against s3rver (npm), the S3 server started in this process on
// 127.0.0.1. Multipart uploads run with 5 MiB parts, so the suite's 24 MiB file goes up in 5 parts.
// Then what only S3 has: the requests a failed multipart upload leaves behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { openBackend } from '../../src/backend/registry.js';
import { BackendError } from '../../src/backend/errors.js';
import type { Backend } from '../../src/backend/types.js';
import { backendConformance, generatedSource } from './suite.js';
import { startS3rver, type S3Server } from '../support/s3rver.js';

let server: S3Server;
const serverReady = startS3rver(['conformance']).then((s) => { server = s; return s; });

function options(extra: Record<string, string | true> = {}): Map<string, string | true> {
  return new Map<string, string | true>([['s3-endpoint-url', server.endpoint], ['s3-multipart-chunk-size', '5'], ...Object.entries(extra)]);
}

backendConformance('boto3+s3:// (s3rver)', {
  open: async () => {
    await serverReady;
    return openBackend('boto3+s3://conformance/some prefix/host', { env: server.env(), options: options() });
  },
});

describe('s3 backend against s3rver', () => {
  before(async () => { await serverReady; });
  after(async () => { await server.close(); });

  it('takes the s3://host:port/bucket form, path-style, over plain http', async () => {
    const port = new URL(server.endpoint).port;
    const backend = await openBackend(`s3://127.0.0.1:${port}/conformance/legacy`, {
      env: server.env(), options: new Map([['s3-unencrypted-connection', true]]),
    });
    await backend.put('f', generatedSource(10, 'legacy'));
    const names: string[] = [];
    for await (const { name } of backend.list()) names.push(name);
    assert.deepEqual(names, ['f']);
    assert.ok(server.requests.some((r) => r.method === 'PUT' && r.path === '/conformance/legacy/f'), 'the bucket is in the path');
    await backend.close();
  });

  it('aborts a multipart upload whose source fails, and keeps no object', async () => {
    const backend = await openBackend('boto3+s3://conformance/aborts', { env: server.env(), options: options() });
    const before = server.requests.length;
    const good = generatedSource(12 * 1024 * 1024, 'fails');
    const failing = {
      size: good.size,
      open: () => {
        const stream = good.open();
        let sent = 0;
        stream.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > 7 * 1024 * 1024) stream.destroy(new Error('disk read failed'));
        });
        return stream;
      },
    };
    await assert.rejects(backend.put('vol.difftar.gz', failing), (err: unknown) =>
      err instanceof BackendError && /reading the source failed: disk read failed/.test(err.message));
    const sent = server.requests.slice(before);
    assert.ok(sent.some((r) => r.method === 'POST' && r.query.includes('uploads')), 'a multipart upload was started');
    assert.ok(sent.some((r) => r.method === 'DELETE' && r.query.includes('uploadId')), 'and aborted');
    assert.ok(!sent.some((r) => r.method === 'POST' && r.query.includes('uploadId')), 'and never completed');
    const names: string[] = [];
    for await (const { name } of backend.list()) names.push(name);
    assert.deepEqual(names, []);
    await backend.close();
  });

  /** the names listed under a backend */
  async function listed(backend: Backend): Promise<string[]> {
    const names: string[] = [];
    for await (const { name } of backend.list()) names.push(name);
    return names;
  }

  it('aborts a multipart upload whose source is shorter or longer than announced', async () => {
    const backend = await openBackend('boto3+s3://conformance/lengths', { env: server.env(), options: options() });
    for (const [label, given] of [['short', 8], ['long', 13]] as const) {
      const before = server.requests.length;
      const data = generatedSource(given * 1024 * 1024, label);
      await assert.rejects(backend.put(`${label}.vol`, { size: 11 * 1024 * 1024, open: data.open }),
        (err: unknown) => err instanceof BackendError && /the source (ended after|gave more than)/.test(err.message));
      const sent = server.requests.slice(before);
      assert.ok(sent.some((r) => r.method === 'DELETE' && r.query.includes('uploadId')), `${label}: the upload was aborted`);
      assert.ok(!sent.some((r) => r.method === 'POST' && r.query.includes('uploadId')), `${label}: and never completed`);
    }
    assert.deepEqual(await listed(backend), []);
    await backend.close();
  });

  it('aborts a multipart upload when the caller aborts, and completes nothing', async () => {
    const backend = await openBackend('boto3+s3://conformance/cancelled', { env: server.env(), options: options() });
    const before = server.requests.length;
    const controller = new AbortController();
    server.inject = (r) => {
      // cancel while the second part is on its way
      if (r.method === 'PUT' && r.query.includes('partNumber') && r.path.endsWith('/big.vol')) controller.abort();
      return undefined;
    };
    try {
      await assert.rejects(backend.put('big.vol', generatedSource(16 * 1024 * 1024, 'cancel'), { signal: controller.signal }),
        (err: unknown) => err instanceof BackendError && /cancelled/.test(err.message));
    } finally {
      server.inject = undefined;
    }
    const sent = server.requests.slice(before);
    assert.ok(sent.some((r) => r.method === 'DELETE' && r.query.includes('uploadId')), 'the upload was aborted');
    assert.ok(!sent.some((r) => r.method === 'POST' && r.query.includes('uploadId')), 'and never completed');
    assert.deepEqual(await listed(backend), []);
    await backend.close();
  });

  it('retries a part the server fails once, and stores the right bytes', async () => {
    const backend = await openBackend('boto3+s3://conformance/part-retry', { env: server.env(), options: options() });
    let failed = 0;
    server.inject = (r) => (r.method === 'PUT' && r.query.includes('partNumber') && failed++ === 1 ? 'ServiceUnavailable' : undefined);
    const source = generatedSource(12 * 1024 * 1024 + 5, 'retry');
    try {
      await backend.put('vol', source);
    } finally {
      server.inject = undefined;
    }
    assert.ok(failed >= 4, 'three parts and one answered 503');
    const digest = (stream: NodeJS.ReadableStream) => new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      stream.on('data', (c: Buffer) => hash.update(c)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
    });
    assert.equal(await backend.read('vol', digest), await digest(source.open()));
    await backend.close();
  });

  it('gives transient errors for 503, 500 and a dropped connection, and stores nothing', async () => {
    const backend = await openBackend('boto3+s3://conformance/faults', { env: server.env(), options: options() });
    for (const fault of ['ServiceUnavailable', 'InternalError', 'SlowDown', 'drop'] as const) {
      server.inject = (r) => (r.method === 'PUT' ? fault : undefined);
      try {
        await assert.rejects(backend.put('vol', generatedSource(1024 * 1024, fault)),
          (err: unknown) => err instanceof BackendError && err.kind === 'transient', fault);
      } finally {
        server.inject = undefined;
      }
    }
    server.inject = (r) => (r.method === 'GET' ? 'drop' : undefined);
    try {
      const listing = async () => { for await (const _ of backend.list()) { /* nothing */ } };
      await assert.rejects(listing(), (err: unknown) => err instanceof BackendError && err.kind === 'transient');
    } finally {
      server.inject = undefined;
    }
    assert.deepEqual(await listed(backend), []);
    await backend.close();
  });

  it('reports a missing bucket as not-found, saying it does not create buckets', async () => {
    const backend = await openBackend('boto3+s3://no-such-bucket/x', { env: server.env(), options: options() });
    const listing = async () => { for await (const _ of backend.list()) { /* nothing */ } };
    await assert.rejects(listing(), (err: unknown) =>
      err instanceof BackendError && err.kind === 'not-found' && /bucket "no-such-bucket" does not exist/.test(err.message)
      && /does not create buckets/.test(err.hint ?? ''));
    await backend.close();
  });

  it('reports a wrong secret as an auth error (s3rver checks signatures here)', async () => {
    const wrong = `${server.secretAccessKey}-wrong`;
    const backend = await openBackend('boto3+s3://conformance/x', { env: { ...server.env(), AWS_SECRET_ACCESS_KEY: wrong }, options: options() });
    await assert.rejects(backend.put('f', generatedSource(10, 'x')), (err: unknown) => {
      assert.ok(err instanceof BackendError && err.kind === 'auth', String(err));
      assert.match(err.message, /SignatureDoesNotMatch/);
      assert.ok(!`${err.message}\n${err.hint}`.includes(wrong), 'no secret in the message');
      return true;
    });
    await backend.close();
  });

  it('reports an unknown key as an auth error that names no secret', async () => {
    const env = { ...server.env(), AWS_ACCESS_KEY_ID: 'LBUNKNOWNKEY' };
    const backend: Backend = await openBackend('boto3+s3://conformance/x', { env, options: options() });
    const listing = async () => { for await (const _ of backend.list()) { /* nothing */ } };
    await assert.rejects(listing(), (err: unknown) => {
      assert.ok(err instanceof BackendError && err.kind === 'auth', String(err));
      const shown = `${err.message}\n${err.hint}`;
      assert.ok(!shown.includes(server.secretAccessKey), 'no secret in the message');
      assert.match(err.hint ?? '', /AWS_ACCESS_KEY_ID/);
      return true;
    });
    await backend.close();
  });
});

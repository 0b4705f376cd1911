// Faults for b2:// against B2ProtocolTestServer, a protocol test server written from Backblaze's
// published B2 API documentation (not Backblaze): expiring tokens, upload URLs that fail or expire,
// 429 with Retry-After, permanent failures, least-privilege keys, versions and hide markers, and no
// credential in any error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { BackendError } from '../../src/backend/errors.js';
import type { Backend } from '../../src/backend/types.js';
import { bufferSource, generatedSource } from '../conformance/suite.js';
import { B2ProtocolTestServer, type B2ServerOptions, type TestKey } from '../servers/b2-server.js';

const MiB = 1024 * 1024;
const KEY_ID = '0012faultskeyid';
const SECRET = 'K005-fault-test-SECRET-application-key';
const BUCKET = 'lifeboat-faults';

const servers: B2ProtocolTestServer[] = [];
after(async () => { for (const s of servers) await s.stop(); });

interface Setup { server: B2ProtocolTestServer; backend: Backend }

// one attempt in the generic retry wrapper: these tests count B2's own retries (the wrapper is
// tested in src/backend/retry.test.ts)
async function setup(options: Partial<B2ServerOptions> = {}, url = `b2://${KEY_ID}@${BUCKET}/host/`, backendOptions = new Map<string, string | true>([['num-retries', '1']]), key = SECRET): Promise<Setup> {
  const server = new B2ProtocolTestServer({
    keys: [{ keyId: KEY_ID, applicationKey: SECRET }],
    buckets: [BUCKET, 'other-bucket'],
    recommendedPartSize: 5 * MiB,
    absoluteMinimumPartSize: 5 * MiB,
    ...options,
  });
  servers.push(server);
  const apiUrl = await server.start();
  const backend = await openBackend(url, { env: { FTP_PASSWORD: key, LIFEBOAT_B2_API_URL: apiUrl }, options: backendOptions });
  return { server, backend };
}

async function readText(backend: Backend, name: string): Promise<string> {
  return backend.read(name, async (body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  });
}

async function listed(backend: Backend): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const { name, size } of backend.list()) found.set(name, size);
  return found;
}

async function sha256(backend: Backend, name: string): Promise<string> {
  return backend.read(name, async (body) => {
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex');
  });
}

async function digestOf(source: { open(): AsyncIterable<unknown> }): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source.open()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** every way an error can be printed, causes included */
function printed(err: unknown): string {
  const e = err as BackendError;
  return [String(err), e.message, e.hint, e.stack, inspect(err, { depth: 10 }), JSON.stringify(err)].join('\n');
}

function assertNoSecret(err: unknown): void {
  const text = printed(err);
  assert.ok(!text.includes(SECRET), `the application key appears in:\n${text}`);
  assert.ok(!text.includes(Buffer.from(`${KEY_ID}:${SECRET}`).toString('base64')), 'the Basic credentials appear');
}

const ACTION = 'the protocol test server written from B2\'s docs (not Backblaze)';

describe(`b2:// faults against ${ACTION}`, () => {
  it('renews an expired account token mid-run and carries on', async () => {
    const { server, backend } = await setup();
    await backend.put('before', bufferSource(Buffer.from('before')));
    server.expireTokens();
    await backend.put('after', bufferSource(Buffer.from('after')));
    assert.deepEqual([...(await listed(backend)).keys()].sort(), ['after', 'before']);
    assert.equal(await readText(backend, 'before'), 'before');
    assert.equal(server.calls.get('b2_authorize_account'), 2, 'one renewal, shared by all calls');
    assert.deepEqual(server.violations, []);
  });

  it('gets a new upload URL after its upload URL expired', async () => {
    const { server, backend } = await setup();
    await backend.put('one', bufferSource(Buffer.from('one')));
    server.invalidateUploadUrls();
    await backend.put('two', bufferSource(Buffer.from('two')));
    assert.equal(await readText(backend, 'two'), 'two');
    assert.equal(server.calls.get('b2_get_upload_url'), 2);
    assert.equal(server.calls.get('b2_authorize_account'), 1, 'an expired upload token needs no new account token');
  });

  it('does not tie later uploads to an earlier put\'s abort signal', async () => {
    const { server, backend } = await setup();
    const controller = new AbortController();
    await backend.put('first', bufferSource(Buffer.from('first')), { signal: controller.signal });
    controller.abort();
    server.invalidateUploadUrls();
    await backend.put('second', bufferSource(Buffer.from('second')));
    assert.equal(await readText(backend, 'second'), 'second');
  });

  it('retries a 503 on upload with a new upload URL, leaving exactly one version', async () => {
    const { server, backend } = await setup();
    await backend.put('warm-up', bufferSource(Buffer.from('x')));
    server.failNext('b2_upload_file', 503, 'service_unavailable');
    await backend.put('volume', bufferSource(Buffer.from('the volume')));
    assert.equal(await readText(backend, 'volume'), 'the volume');
    assert.deepEqual(server.versionsOf(BUCKET, 'host/volume'), [{ action: 'upload', contentLength: 10 }]);
    assert.equal(server.calls.get('b2_upload_file'), 3, 'warm-up, the failed try, the retry');
    assert.equal(server.calls.get('b2_get_upload_url'), 2, 'the failed URL is not used again');
    assert.deepEqual(server.violations, []);
  });

  it('retries a 500 on a large file\'s part with a new part URL, and finishes one whole file', async () => {
    const { server, backend } = await setup();
    const source = generatedSource(11 * MiB + 1000, 'large');
    server.failNext('b2_upload_part', 500, 'internal_error');
    await backend.put('large.vol', source);
    assert.equal(await sha256(backend, 'large.vol'), await digestOf(source));
    assert.equal(server.calls.get('b2_upload_part'), 4, 'three parts and one retry');
    assert.equal(server.calls.get('b2_get_upload_part_url'), 2);
    assert.equal(server.calls.get('b2_start_large_file'), 1);
    assert.deepEqual(server.versionsOf(BUCKET, 'host/large.vol'), [{ action: 'upload', contentLength: 11 * MiB + 1000 }]);
    assert.deepEqual(server.unfinishedLargeFiles(), []);
    assert.deepEqual(server.violations, []);
  });

  it('waits as long as a 429\'s Retry-After says', async () => {
    const { server, backend } = await setup();
    await backend.put('a', bufferSource(Buffer.from('a')));
    server.failNext('b2_list_file_names', 429, 'too_many_requests', { retryAfter: 1 });
    const started = Date.now();
    assert.deepEqual([...(await listed(backend)).keys()], ['a']);
    const waited = Date.now() - started;
    assert.ok(waited >= 950, `waited ${waited} ms for Retry-After: 1`);
    assert.equal(server.calls.get('b2_list_file_names'), 2);
  });

  it('gives up on a lasting 503 with a clear transient error and nothing visible', async () => {
    const { server, backend } = await setup();
    server.failNext('b2_upload_file', 503, 'service_unavailable', { count: 100 });
    const err = await backend.put('doomed', bufferSource(Buffer.from('doomed'))).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof BackendError, `a BackendError, got ${String(err)}`);
    assert.equal(err.kind, 'transient');
    assert.match(err.message, /uploading host\/doomed: B2 b2_upload_file: 503 service_unavailable/);
    assert.equal(server.calls.get('b2_upload_file'), 4, 'a small bounded number of attempts');
    assert.ok(!(await listed(backend)).has('doomed'));
    assertNoSecret(err);
  });

  it('fails a large file for good when its parts keep failing, and cancels it', async () => {
    const { server, backend } = await setup();
    server.failNext('b2_upload_part', 503, 'service_unavailable', { count: 100 });
    await assert.rejects(backend.put('large.vol', generatedSource(6 * MiB, 'x')), (e: unknown) => e instanceof BackendError && e.kind === 'transient');
    assert.deepEqual(server.unfinishedLargeFiles(), [], 'b2_cancel_large_file was called');
    assert.equal(server.calls.get('b2_cancel_large_file'), 1);
  });

  it('reports a storage cap as no-space and a wrong key as auth, never showing the key', async () => {
    const { server, backend } = await setup();
    server.failNext('b2_upload_file', 403, 'storage_cap_exceeded');
    const capped = await backend.put('x', bufferSource(Buffer.from('x'))).then(() => null, (e: unknown) => e);
    assert.ok(capped instanceof BackendError && capped.kind === 'no-space', String(capped));
    assert.match(capped.hint ?? '', /Caps/);
    assertNoSecret(capped);

    const wrong = await setup({}, `b2://${KEY_ID}:${encodeURIComponent(`${SECRET}-wrong`)}@${BUCKET}/host/`);
    const err = await wrong.backend.put('x', bufferSource(Buffer.from('x'))).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof BackendError && err.kind === 'auth', String(err));
    assert.match(err.message, /b2_authorize_account: 401 unauthorized/);
    assert.match(err.hint ?? '', /key ID .*FTP_PASSWORD/);
    assertNoSecret(err);
    assert.ok(!wrong.backend.displayUrl.includes(SECRET), 'no key in displayUrl');
    assert.equal(wrong.backend.displayUrl, `b2://${KEY_ID}@${BUCKET}/host/`);
  });

  it('deletes every version of a name, so no older one comes back', async () => {
    const { server, backend } = await setup({ listPageLimit: 1 });
    await backend.put('manifest', bufferSource(Buffer.from('first')));
    await backend.put('manifest', bufferSource(Buffer.from('second')));
    await backend.put('manifest-other', bufferSource(Buffer.from('other')));
    assert.equal(server.versionsOf(BUCKET, 'host/manifest').length, 2);
    await backend.delete(['manifest']);
    assert.deepEqual(server.versionsOf(BUCKET, 'host/manifest'), []);
    assert.deepEqual([...(await listed(backend)).keys()], ['manifest-other']);
    await assert.rejects(readText(backend, 'manifest'), (e: unknown) => e instanceof BackendError && e.kind === 'not-found');
  });

  it('hides instead of deleting with --b2-hide-files, as duplicity 0.8 does', async () => {
    const { server, backend } = await setup({}, undefined, new Map([['b2-hide-files', true]]));
    await backend.put('old.vol', bufferSource(Buffer.from('old')));
    await backend.delete(['old.vol', 'never-there']);
    await backend.delete(['old.vol']);
    assert.ok(!(await listed(backend)).has('old.vol'));
    assert.deepEqual(server.versionsOf(BUCKET, 'host/old.vol').map((v) => v.action), ['hide', 'upload'], 'the data stays for lifecycle rules');
  });

  it('backs up with a key without deleteFiles, and refuses to delete with a clear hint', async () => {
    const limited: TestKey = { keyId: KEY_ID, applicationKey: SECRET, capabilities: ['listBuckets', 'listFiles', 'readFiles', 'writeFiles'] };
    const { server, backend } = await setup({ keys: [limited] });
    await backend.put('full.vol', bufferSource(Buffer.from('data')));
    assert.equal(await readText(backend, 'full.vol'), 'data');
    const err = await backend.delete(['full.vol']).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof BackendError && err.kind === 'auth', String(err));
    assert.match(err.hint ?? '', /deleteFiles/);
    assert.equal(server.versionsOf(BUCKET, 'host/full.vol').length, 1, 'nothing deleted');
  });

  it('refuses a key restricted to another bucket, and uses a restricted key on its own bucket without listing buckets', async () => {
    const restricted: TestKey = { keyId: KEY_ID, applicationKey: SECRET, bucketName: 'other-bucket', capabilities: ['listFiles', 'readFiles', 'writeFiles'] };
    const { backend } = await setup({ keys: [restricted] });
    await assert.rejects(backend.put('x', bufferSource(Buffer.from('x'))), (e: unknown) =>
      e instanceof BackendError && e.kind === 'auth' && /restricted to bucket "other-bucket"/.test(e.message));
    const own = await setup({ keys: [restricted] }, `b2://${KEY_ID}@other-bucket/`);
    await own.backend.put('x', bufferSource(Buffer.from('x')));
    assert.deepEqual([...(await listed(own.backend)).keys()], ['x']);
    assert.equal(own.server.calls.get('b2_list_buckets'), undefined);
  });

  it('lists nothing in a missing bucket and refuses to put there', async () => {
    const { backend } = await setup({}, `b2://${KEY_ID}@no-such-bucket/host/`);
    assert.deepEqual([...(await listed(backend)).keys()], []);
    await assert.rejects(backend.put('x', bufferSource(Buffer.from('x'))), (e: unknown) =>
      e instanceof BackendError && e.kind === 'not-found' && /no-such-bucket/.test(e.message));
  });

  it('keeps out of other folders and sub-folders of the bucket', async () => {
    const { backend: a } = await setup();
    const apiUrl = (a as unknown as { displayUrl: string }).displayUrl;
    assert.ok(apiUrl.endsWith('/host/'));
    await a.put('mine', bufferSource(Buffer.from('mine')));
    const server = servers.at(-1)!;
    const other = await openBackend(`b2://${KEY_ID}@${BUCKET}/host/sub/`, { env: { FTP_PASSWORD: SECRET, LIFEBOAT_B2_API_URL: server.url }, options: new Map() });
    await other.put('nested', bufferSource(Buffer.from('nested')));
    const root = await openBackend(`b2://${KEY_ID}@${BUCKET}`, { env: { FTP_PASSWORD: SECRET, LIFEBOAT_B2_API_URL: server.url }, options: new Map() });
    await root.put('top', bufferSource(Buffer.from('top')));
    assert.deepEqual([...(await listed(a)).keys()], ['mine']);
    assert.deepEqual([...(await listed(other)).keys()], ['nested']);
    assert.deepEqual([...(await listed(root)).keys()], ['top']);
  });

  it('refuses a URL without a key, naming FTP_PASSWORD', async () => {
    await assert.rejects(openBackend(`b2://${KEY_ID}@${BUCKET}/host/`, { env: {}, options: new Map() }), (e: unknown) =>
      e instanceof BackendError && e.kind === 'auth' && /FTP_PASSWORD/.test(e.hint ?? ''));
  });
});

// The B2 protocol test server (written from Backblaze's docs, not Backblaze) must refuse what the docs
// forbid, or the b2:// tests that pass against it would prove little. Raw HTTP requests, no backend.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { B2ProtocolTestServer } from './b2-server.js';

describe('B2 protocol test server (from B2\'s docs, not Backblaze) is strict', () => {
  const server = new B2ProtocolTestServer({ keys: [{ keyId: 'kid', applicationKey: 'secret' }], buckets: ['bkt'] });
  let api = '';
  let token = '';
  let bucketId = '';
  before(async () => {
    api = await server.start();
    const auth = await (await fetch(`${api}/b2api/v2/b2_authorize_account`, {
      headers: { Authorization: `Basic ${Buffer.from('kid:secret').toString('base64')}` },
    })).json() as { authorizationToken: string; accountId: string };
    token = auth.authorizationToken;
    const buckets = await call('b2_list_buckets', { accountId: auth.accountId, bucketName: 'bkt' }) as { buckets: { bucketId: string }[] };
    bucketId = buckets.buckets[0].bucketId;
  });
  after(() => server.stop());

  async function call(name: string, body: unknown, auth = token): Promise<unknown> {
    const r = await fetch(`${api}/b2api/v2/${name}`, { method: 'POST', headers: { Authorization: auth }, body: JSON.stringify(body) });
    const json = await r.json() as Record<string, unknown>;
    if (!r.ok) throw Object.assign(new Error(`${r.status} ${String(json.code)}`), { status: r.status, code: json.code });
    return json;
  }

  async function uploadUrl(): Promise<{ uploadUrl: string; authorizationToken: string }> {
    return call('b2_get_upload_url', { bucketId }) as Promise<{ uploadUrl: string; authorizationToken: string }>;
  }

  async function post(slot: { uploadUrl: string; authorizationToken: string }, name: string, data: Buffer, sha1 = createHash('sha1').update(data).digest('hex')): Promise<Response> {
    return fetch(slot.uploadUrl, {
      method: 'POST',
      headers: { Authorization: slot.authorizationToken, 'X-Bz-File-Name': name, 'Content-Type': 'b2/x-auto', 'X-Bz-Content-Sha1': sha1, 'Content-Length': String(data.length) },
      body: new Uint8Array(data),
    });
  }

  it('refuses a bad key, a bad token and an expired one', async () => {
    const bad = await fetch(`${api}/b2api/v2/b2_authorize_account`, { headers: { Authorization: `Basic ${Buffer.from('kid:wrong').toString('base64')}` } });
    assert.equal(bad.status, 401);
    await assert.rejects(call('b2_get_upload_url', { bucketId }, 'nonsense'), { status: 401, code: 'bad_auth_token' });
    server.expireTokens();
    await assert.rejects(call('b2_get_upload_url', { bucketId }), { status: 401, code: 'expired_auth_token' });
    const auth = await (await fetch(`${api}/b2api/v2/b2_authorize_account`, {
      headers: { Authorization: `Basic ${Buffer.from('kid:secret').toString('base64')}` },
    })).json() as { authorizationToken: string };
    token = auth.authorizationToken;
  });

  it('refuses unencoded file names, wrong SHA-1s and reuse of a failed upload URL', async () => {
    const slot = await uploadUrl();
    assert.equal((await post(slot, 'has space', Buffer.from('x'))).status, 400, 'a raw space');
    assert.equal((await post(slot, 'caf%C3%A9', Buffer.from('x'), '0'.repeat(40))).status, 400, 'a wrong SHA-1');
    assert.equal((await post(slot, 'caf%C3%A9+x', Buffer.from('x'))).status, 200);
    const listing = await call('b2_list_file_names', { bucketId }) as { files: { fileName: string }[] };
    assert.deepEqual(listing.files.map((f) => f.fileName), ['café x'], '"+" is a space, %XX UTF-8 bytes');
    server.failNext('b2_upload_file', 503, 'service_unavailable');
    assert.equal((await post(slot, 'a', Buffer.from('a'))).status, 503);
    assert.equal((await post(slot, 'a', Buffer.from('a'))).status, 400);
    assert.match(server.violations.join('\n'), /used again after it answered a failure/);
    server.violations.length = 0;
  });

  it('records concurrent use of an upload URL and refuses chunked uploads without Content-Length', async () => {
    const slot = await uploadUrl();
    let release: () => void = () => undefined;
    const slow = fetch(slot.uploadUrl, {
      method: 'POST',
      headers: { Authorization: slot.authorizationToken, 'X-Bz-File-Name': 'slow', 'Content-Type': 'b2/x-auto', 'X-Bz-Content-Sha1': 'hex_digits_at_end', 'Content-Length': String(1 + 40) },
      body: new ReadableStream({
        async start(controller) {
          controller.enqueue(Buffer.from('s'));
          await new Promise<void>((resolve) => { release = resolve; });
          controller.enqueue(Buffer.from(createHash('sha1').update('s').digest('hex')));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await post(slot, 'second', Buffer.from('2'))).status, 400);
    release();
    assert.equal((await slow).status, 200);
    assert.match(server.violations.join('\n'), /two uploads at once/);
    server.violations.length = 0;
    const fresh = await uploadUrl();
    const chunked = await fetch(fresh.uploadUrl, {
      method: 'POST',
      headers: { Authorization: fresh.authorizationToken, 'X-Bz-File-Name': 'chunked', 'Content-Type': 'b2/x-auto', 'X-Bz-Content-Sha1': createHash('sha1').update('x').digest('hex') },
      body: new ReadableStream({ start(c) { c.enqueue(Buffer.from('x')); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 400, 'chunked encoding without Content-Length is refused');
    assert.match(((await chunked.json()) as { message: string }).message, /Content-Length/);
  });
});

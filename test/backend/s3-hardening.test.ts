// Issue 14 against s3rver: with LIFEBOAT_OBJECT_LOCK (a profile's OBJECT_LOCK) every object goes up with
// the Object Lock headers as the S3 API documents them (x-amz-object-lock-mode GOVERNANCE|COMPLIANCE,
// x-amz-object-lock-retain-until-date in ISO 8601) and the integrity header S3 requires with them
// (Content-MD5, on each part of a multipart upload), which s3rver checks. s3rver has no Object Lock and
// no bucket policies: the audit must say it cannot tell, and with these full credentials report that
// stored files can be deleted and overwritten.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { generatedSource } from '../conformance/suite.js';
import { startS3rver, type S3Server } from '../support/s3rver.js';
import { profileHome } from '../support/profile-env.js';
import { nextSecond } from '../support/next-second.js';

let server: S3Server;
const home = profileHome('s3-lock');

before(async () => { server = await startS3rver(['locktest']); });
after(async () => {
  await server.close();
  rmSync(home.root, { recursive: true, force: true });
});

async function bytesOf(source: { open(): NodeJS.ReadableStream }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of source.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('S3 Object Lock on upload (s3rver)', () => {
  it('sends the lock mode, the retain-until date and Content-MD5 on a PUT and on every multipart request', async () => {
    const backend = await openBackend('boto3+s3://locktest/host', {
      env: { ...server.env(), LIFEBOAT_OBJECT_LOCK: 'compliance:86400' },
      options: new Map<string, string | true>([['s3-endpoint-url', server.endpoint], ['s3-multipart-chunk-size', '5']]),
    });
    const started = Date.now();
    const small = generatedSource(1000, 'small');
    await backend.put('duplicity-full.20260101T000000Z.manifest', small);
    const put = server.requests.filter((r) => r.method === 'PUT' && r.path === '/locktest/host/duplicity-full.20260101T000000Z.manifest');
    assert.equal(put.length, 1);
    const h = put[0].headers;
    assert.equal(put[0].status, 200);
    assert.equal(h['x-amz-object-lock-mode'], 'COMPLIANCE');
    assert.match(h['x-amz-object-lock-retain-until-date'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'ISO 8601, as S3 documents it');
    const until = Date.parse(h['x-amz-object-lock-retain-until-date']);
    assert.ok(until >= started + 86_400_000 - 1000 && until <= Date.now() + 86_400_000 + 1000, 'upload time plus the lock period');
    assert.equal(h['content-md5'], createHash('md5').update(await bytesOf(small)).digest('base64'));

    const big = generatedSource(12 * 1024 * 1024, 'big');
    await backend.put('duplicity-full.20260101T000000Z.vol1.difftar.gz', big);
    const create = server.requests.find((r) => r.method === 'POST' && r.query.includes('uploads'));
    assert.ok(create, 'a multipart upload');
    assert.equal(create.headers['x-amz-object-lock-mode'], 'COMPLIANCE');
    assert.ok(create.headers['x-amz-object-lock-retain-until-date']);
    const parts = server.requests.filter((r) => r.method === 'PUT' && r.query.includes('partNumber'));
    assert.equal(parts.length, 3);
    const data = await bytesOf(big);
    for (const part of parts) {
      assert.equal(part.status, 200);
      const n = Number(new URLSearchParams(part.path.split('?')[1] ?? '').get('partNumber') ?? 0) || parts.indexOf(part) + 1;
      const slice = data.subarray((n - 1) * 5 * 1024 * 1024, n * 5 * 1024 * 1024);
      assert.equal(part.headers['content-md5'], createHash('md5').update(slice).digest('base64'), `part ${n}`);
    }
    const back = await backend.read('duplicity-full.20260101T000000Z.vol1.difftar.gz', async (body) => {
      const hash = createHash('sha256');
      for await (const c of body) hash.update(c as Buffer);
      return hash.digest('hex');
    });
    assert.equal(back, createHash('sha256').update(data).digest('hex'));

    // s3rver keeps no Object Lock: the backend must say it cannot tell, not claim protection
    const facts = await backend.protection!();
    assert.notEqual(facts?.lockEnabled, true);
    assert.notEqual(await backend.lockedUntil!('duplicity-full.20260101T000000Z.manifest') instanceof Date, true);
    await backend.close();
  });

  it('the audit of a profile on s3rver with full credentials reports deletes and overwrites', async () => {
    const p = home.profile('s3full', `GPG_KEY=disabled
SOURCE='${home.root}'
TARGET='boto3+s3://locktest/audited'
DUPL_PARAMS="$DUPL_PARAMS --s3-endpoint-url=${server.endpoint}"
VERBOSITY=warning
`);
    const r = await home.lifeboatAsync([p, 'audit'], server.env(home.env));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^PROBLEM: these credentials can overwrite stored files: they replaced the canary at boto3\+s3:\/\/locktest\/audited .* Fix: deny s3:DeleteObject and s3:DeleteObjectVersion/m);
    assert.match(r.stdout, /^PROBLEM: these credentials can delete stored backups: they deleted the canary/m);
    assert.ok(!r.stdout.includes(server.secretAccessKey) && !r.stderr.includes(server.secretAccessKey));
  });

  it('credentials denied DeleteObject (403 AccessDenied, as S3 answers a bucket policy\'s Deny): backups work, the audit sees the refusal, purge fails with one line', async () => {
    mkdirSync(join(home.root, 'wo-src'), { recursive: true });
    writeFileSync(join(home.root, 'wo-src', 'f.txt'), 'one\n');
    const p = home.profile('s3wo', `GPG_KEY=disabled
SOURCE='${join(home.root, 'wo-src')}'
TARGET='boto3+s3://locktest/wo'
DUPL_PARAMS="$DUPL_PARAMS --s3-endpoint-url=${server.endpoint}"
VERBOSITY=warning
`);
    const denied: string[] = [];
    // what a policy denying s3:DeleteObject refuses: deleting an object (aborting a multipart upload is another permission)
    server.inject = (r) => (r.method === 'DELETE' && !r.query.includes('uploadId') && r.path.startsWith('/locktest/wo/') ? (denied.push(r.path), 'AccessDenied') : undefined);
    try {
      const env = server.env(home.env);
      for (const command of ['full', 'incr', 'full']) {
        if (command === 'incr') writeFileSync(join(home.root, 'wo-src', 'f.txt'), 'two\n');
        const r = await home.lifeboatAsync([p, command], env);
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      }
      assert.deepEqual(denied, [], 'backups never delete');
      const audit = await home.lifeboatAsync([p, 'audit'], env);
      assert.match(audit.stdout, /^ok: deleting a stored file was refused/m);
      // s3rver has no versioning: a put under a stored name replaces it, which the audit must report
      assert.match(audit.stdout, /^PROBLEM: these credentials can overwrite stored files/m);
      assert.equal(audit.code, 1);
      const lister = await openBackend('boto3+s3://locktest/wo', { env: server.env(), options: new Map([['s3-endpoint-url', server.endpoint]]) });
      const objects = async () => {
        const names: string[] = [];
        for await (const f of lister.list()) if (f.name.startsWith('duplicity-')) names.push(`${f.name} ${f.size}`);
        return names.sort();
      };
      const before = await objects();
      assert.ok(before.length >= 9);
      // set times are whole seconds: 'now' must be a second past the last backup for its chain to be older
      await nextSecond();
      const purge = await home.lifeboatAsync([p, 'purge', 'now', '--force'], env);
      assert.notEqual(purge.code, 0);
      const lines = purge.stderr.split('\n').filter((l) => l.startsWith('lifeboat: '));
      assert.equal(lines.length, 1, purge.stderr);
      assert.match(lines[0], /delete .*duplicity-.*(denied|AccessDenied)/i);
      assert.match(purge.stderr, /^hint: these credentials may not delete .* LIFEBOAT_PURGE_AWS_ACCESS_KEY_ID/m);
      assert.doesNotMatch(purge.stderr, /\n\s+at /);
      assert.deepEqual(await objects(), before, 'nothing was deleted');
      await lister.close();
    } finally {
      server.inject = undefined;
    }
  });
});

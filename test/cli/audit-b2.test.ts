// Issue 14 against B2's API (the protocol test server, test/servers/b2-server.ts): `lifeboat PROFILE audit`
// with a key that may delete reports the danger and touches no backup file; with a write-only key
// (no deleteFiles) it reports safe, backups and incrementals work, purge fails with one clear line and
// works with LIFEBOAT_PURGE_* credentials; OBJECT_LOCK uploads carry B2's file retention (small files
// and large files), the audit sees it, and purge keeps locked sets instead of failing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileHome } from '../support/profile-env.js';
import { B2ProtocolTestServer, type Capability } from '../servers/b2-server.js';
import { nextSecond } from '../support/next-second.js';

/** waits for the wall clock's next whole second */

const WRITE_ONLY: Capability[] = ['listBuckets', 'listFiles', 'readFiles', 'writeFiles', 'readBucketRetentions', 'readFileRetentions', 'writeFileRetentions'];
const server = new B2ProtocolTestServer({
  keys: [
    { keyId: 'fullkey', applicationKey: 'K005-full-secret' },
    { keyId: 'writeonly', applicationKey: 'K005-write-secret', capabilities: WRITE_ONLY },
  ],
  buckets: ['plain', 'locked'],
  fileLockBuckets: ['locked'],
  // volumes above 100 kB go up as large files (b2_start_large_file with its fileRetention)
  recommendedPartSize: 100_000,
  absoluteMinimumPartSize: 50_000,
});
const home = profileHome('audit-b2');
let env: NodeJS.ProcessEnv;

before(async () => {
  env = { LIFEBOAT_B2_API_URL: await server.start() };
});
after(async () => {
  await server.stop();
  rmSync(home.root, { recursive: true, force: true });
});

function source(name: string): string {
  const dir = join(home.root, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'small.txt'), 'hello\n');
  writeFileSync(join(dir, 'sub', 'random.bin'), randomBytes(300_000));
  return dir;
}

function profile(name: string, key: 'fullkey' | 'writeonly', target: string, extra = ''): string {
  const secret = key === 'fullkey' ? 'K005-full-secret' : 'K005-write-secret';
  return home.profile(name, `GPG_KEY=disabled
SOURCE='${source(`${name}-src`)}'
TARGET='b2://${key}@${target}'
TARGET_PASS='${secret}'
VERBOSITY=warning
MAX_AGE=1D
${extra}`);
}

async function run(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = await home.lifeboatAsync(args, { ...env, ...extra });
  for (const secret of ['K005-full-secret', 'K005-write-secret']) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'no key in any output');
  return r;
}

const backupFiles = (bucket: string, folder: string) => server.allVersions(bucket).filter((v) => v.fileName.startsWith(folder) && !v.fileName.endsWith('lifeboat-canary'));

describe('lifeboat PROFILE audit on B2', () => {
  test('a key with deleteFiles: the audit reports the danger, deletes only its canary and touches no backup file', async () => {
    const p = profile('fullrights', 'fullkey', 'plain/full/');
    const backup = await run([p, 'backup']);
    assert.equal(backup.code, 0, backup.stderr);
    const before = backupFiles('plain', 'full/');
    assert.ok(before.length >= 3, 'volume, signatures, manifest');
    const r = await run([p, 'audit']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^PROBLEM: the store says these credentials may delete files .* Fix: back up with a B2 application key without deleteFiles/m);
    assert.match(r.stdout, /^PROBLEM: these credentials can delete stored backups: they deleted the canary at b2:\/\/fullkey@plain\/full\//m);
    assert.match(r.stdout, /^note: the key has bypassGovernance/m);
    assert.match(r.stderr, /^lifeboat: the audit of 'fullrights' found \d+ problems/m);
    assert.deepEqual(backupFiles('plain', 'full/'), before, 'every backup file version is there, unchanged (same ids and SHA-1s)');
    assert.deepEqual(server.versionsOf('plain', 'full/lifeboat-canary'), [], 'the canary is gone, every version of it');
  });

  test('a write-only key: audit safe, full and incremental work, purge fails with one line, LIFEBOAT_PURGE_* purges', async () => {
    const p = profile('writeonly', 'writeonly', 'plain/wo/');
    for (const command of ['full', 'incr', 'full']) {
      if (command === 'incr') writeFileSync(join(home.root, 'writeonly-src', 'small.txt'), 'changed\n');
      const r = await run([p, command]);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    }
    const audit = await run([p, 'audit']);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    assert.doesNotMatch(audit.stdout, /PROBLEM/);
    assert.match(audit.stdout, /^ok: the store says these credentials may not delete files\.$/m);
    assert.match(audit.stdout, /^ok: a file put again under a stored name becomes a new version; the old one stays/m);
    assert.match(audit.stdout, /^ok: deleting a stored file was refused/m);
    assert.match(audit.stdout, /^note: object lock is off for the bucket/m);
    assert.equal(server.versionsOf('plain', 'wo/lifeboat-canary').filter((v) => v.action === 'upload').length, 2, 'written, then a second version: the first stays');

    const chains = () => new Set(backupFiles('plain', 'wo/').map((v) => /duplicity-full\.(\w+)\.manifest/.exec(v.fileName)?.[1]).filter(Boolean));
    assert.equal(chains().size, 2);
    // set times are whole seconds: 'now' must be a second past the last backup for its chain to be older
    await nextSecond();
    const refused = await run([p, 'purge', 'now', '--force']);
    assert.notEqual(refused.code, 0);
    const lines = refused.stderr.split('\n').filter((l) => l.startsWith('lifeboat: '));
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0], /the B2 application key may not delete files in plain/);
    assert.match(refused.stderr, /^hint: purge and cleanup need a key with the deleteFiles capability/m);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(chains().size, 2, 'nothing was deleted');

    const purged = await run([p, 'purge', 'now', '--force'], { LIFEBOAT_PURGE_USER: 'fullkey', LIFEBOAT_PURGE_PASS: 'K005-full-secret' });
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(chains().size, 1, 'the older chain is gone');
    const status = await run([p, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Found primary backup chain/);
  });

  test('OBJECT_LOCK: uploads carry B2 file retentions, the audit reports them, purge keeps locked sets and says so', async () => {
    const p = profile('locked', 'writeonly', 'locked/l/', "OBJECT_LOCK='governance'\n");
    const started = Date.now();
    const large = server.calls.get('b2_start_large_file') ?? 0;
    for (const command of ['full', 'full']) {
      const r = await run([p, command]);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    }
    assert.ok((server.calls.get('b2_start_large_file') ?? 0) > large, 'some volumes went up as large files');
    const files = backupFiles('locked', 'l/');
    assert.ok(files.length >= 6);
    for (const f of files) {
      assert.equal(f.retention?.mode, 'governance', `${f.fileName} is locked`);
      const until = f.retention!.retainUntilTimestamp;
      assert.ok(until >= started + 86_400_000 - 1000 && until <= Date.now() + 86_400_000, `${f.fileName}: locked for MAX_AGE (1D) from its upload`);
    }
    const audit = await run([p, 'audit']);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    assert.match(audit.stdout, /^ok: object lock is on for the bucket\.$/m);
    assert.match(audit.stdout, /^ok: the current backup chain is under object lock: its files cannot be deleted or replaced before \d{4}-/m);

    // set times are whole seconds: 'now' must be a second past the last backup for its chain to be older
    await nextSecond();
    const purgeEnv = { LIFEBOAT_PURGE_USER: 'fullkey', LIFEBOAT_PURGE_PASS: 'K005-full-secret' };
    for (let round = 1; round <= 2; round++) {
      const r = await run([p, 'purge', 'now', '--force'], purgeEnv);
      assert.equal(r.code, 0, `round ${round}: a locked set is no failure: ${r.stderr}`);
      assert.match(r.stderr, /^Kept full set .*: under object lock until \d{4}-.*; a later purge deletes it\.$/m, `round ${round}`);
      assert.deepEqual(backupFiles('locked', 'l/').map((f) => f.fileId), files.map((f) => f.fileId), `round ${round}: nothing deleted, nothing lost track of`);
    }
  });
});

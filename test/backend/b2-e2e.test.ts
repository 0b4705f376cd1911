// End to end through the command line: `lifeboat duplicity` full, incremental, restores and a purge
// to b2://, against B2ProtocolTestServer (a protocol test server written from B2's published API docs,
// not Backblaze). The server is made unfriendly on purpose: tokens expire every 25 calls, uploads and
// parts answer 503 now and then, parts are small so volumes go up as large files. The key travels in
// FTP_PASSWORD only (as duply passes it) and must appear in no output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { lifeboatBin, oracleEnv, runProgram, type Run } from '../support/run.js';
import { makeTree, mutateTree } from '../support/make-tree.js';
import { describeTree, asRestored } from '../support/tree.js';
import { B2ProtocolTestServer } from '../servers/b2-server.js';

const KEY_ID = '0012e2ekeyid';
const SECRET = 'K005-e2e-SECRET-application-key';
const work = mkdtempSync(join(tmpdir(), 'lifeboat-b2-e2e-'));
const server = new B2ProtocolTestServer({
  keys: [
    { keyId: KEY_ID, applicationKey: SECRET },
    { keyId: 'limitedkey', applicationKey: 'K005-limited', bucketName: 'lifeboat-e2e', capabilities: ['listFiles', 'readFiles', 'writeFiles'] },
  ],
  buckets: ['lifeboat-e2e'],
  recommendedPartSize: 256 * 1024,
  absoluteMinimumPartSize: 256 * 1024,
  tokenLifetimeCalls: 25,
});
let env: NodeJS.ProcessEnv;
const target = `b2://${KEY_ID}@lifeboat-e2e/hosts/web one/`;
const cache = join(work, 'cache');

before(async () => {
  const apiUrl = await server.start();
  env = { ...oracleEnv, FTP_PASSWORD: SECRET, LIFEBOAT_B2_API_URL: apiUrl };
});
after(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

async function lifeboat(...args: string[]): Promise<Run> {
  const r = await runProgram(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--archive-dir', cache, ...args], env);
  assert.ok(!r.command.includes(SECRET) && !r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), 'the key is in no argument and no output');
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

async function restored(...args: string[]): Promise<string[]> {
  const dest = join(work, `restored-${Math.random().toString(36).slice(2)}`);
  await lifeboat('restore', ...args, target, dest);
  return describeTree(dest);
}

async function targetFiles(): Promise<string[]> {
  const r = await lifeboat('collection-status', target);
  return r.stdout.split('\n');
}

test('lifeboat duplicity full, incremental, restore and purge through b2:// (protocol test server from B2\'s docs, not Backblaze)', async () => {
  const source = join(work, 'source');
  await makeTree(source, { bigFileBytes: 3 * 1024 * 1024 });
  const before = asRestored(await describeTree(source));

  server.failNext('b2_upload_file', 503, 'service_unavailable');
  server.failNext('b2_upload_part', 503, 'service_unavailable');
  await lifeboat('full', '--volsize', '1', source, target);
  const fullTime = Math.floor(Date.now() / 1000);
  assert.ok((server.calls.get('b2_finish_large_file') ?? 0) >= 1, 'volumes above the part size went up as large files');

  await sleep(1100);
  await mutateTree(source);
  const afterChange = asRestored(await describeTree(source));
  server.expireTokens();
  server.failNext('b2_upload_file', 503, 'service_unavailable');
  await lifeboat('incremental', '--volsize', '1', source, target);

  assert.deepEqual(await restored(), afterChange, 'the latest restore is the changed source');
  assert.deepEqual(await restored('--time', String(fullTime)), before, 'the restore at the full\'s time is the first source');
  assert.deepEqual(server.violations, [], 'no B2 protocol violation');
  assert.ok((server.calls.get('b2_authorize_account') ?? 0) > 3, 'tokens were renewed along the way');

  // a second chain, then purge the first: every version of its files goes
  await sleep(1100);
  await lifeboat('full', '--volsize', '1', source, target);
  const status = await targetFiles();
  assert.equal(status.filter((l) => /^\s*Full\s/.test(l)).length, 2, status.join('\n'));

  // a key without deleteFiles (bucket-restricted, so no listBuckets either) cannot purge: exit 51, nothing gone
  const limited = await runProgram(process.execPath, [lifeboatBin, 'duplicity', '--archive-dir', join(work, 'limited-cache'),
    'remove-all-but-n-full', '1', '--force', target.replace(KEY_ID, 'limitedkey')], { ...env, FTP_PASSWORD: 'K005-limited' });
  assert.equal(limited.code, 51, `${limited.command}\n${limited.stdout}${limited.stderr}`);
  assert.match(limited.stderr, /deleteFiles/);
  assert.equal((await targetFiles()).filter((l) => /^\s*Full\s/.test(l)).length, 2, 'nothing was deleted');

  await lifeboat('remove-all-but-n-full', '1', '--force', target);
  const after = await targetFiles();
  assert.equal(after.filter((l) => /^\s*Full\s/.test(l)).length, 1, after.join('\n'));
  assert.deepEqual(await restored(), afterChange, 'the kept chain restores');
  assert.deepEqual(server.unfinishedLargeFiles(), []);
});

test('a wrong B2 key is one clear line and exit 51, without the key (protocol test server from B2\'s docs)', async () => {
  const wrong = `${SECRET}-but-wrong`;
  const r = await runProgram(process.execPath, [lifeboatBin, 'duplicity', '--archive-dir', join(work, 'wrong-cache'), 'collection-status', target],
    { ...env, FTP_PASSWORD: wrong });
  assert.equal(r.code, 51, r.stderr);
  assert.match(r.stderr, /b2_authorize_account: 401 unauthorized/);
  assert.match(r.stderr, /hint: .*FTP_PASSWORD/);
  assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong), r.stderr);
});

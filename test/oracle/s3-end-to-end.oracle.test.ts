// End to end over S3: Lifeboat backs up (full, then incremental) through the CLI to
// boto3+s3://bucket/prefix on s3rver, with a volume big enough for a multipart upload; Lifeboat and
// the real duplicity 0.8 (its boto3 backend, pointed at s3rver with --s3-endpoint-url) both restore
// it, and Lifeboat restores what duplicity adds to the chain. Failing runs (unknown key, missing
// bucket, a secret in the URL) must end with a clear error and print no secret.
// s3rver is fronted by a SigV4 check (test/support/s3rver.ts), so both clients' signatures are checked.
// DEBUG_ORACLE=1 prints every command with its output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test, type TestContext } from 'node:test';
import { lifeboatBin, oracleEnv, runProgram, type Run } from '../support/run.js';
import { makeTree, mutateTree } from '../support/make-tree.js';
import { requireProgram, requirePythonModule } from '../support/programs.js';
import { describeTree, asRestored } from '../support/tree.js';
import { startS3rver, type S3Server } from '../support/s3rver.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-s3-e2e-'));
let server: S3Server;
before(async () => { server = await startS3rver(['backups']); });
after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;
const fresh = (label: string) => join(work, `${label}-${counter++}`);
const MiB = 1024 * 1024;

function ok(r: Run): Run {
  if (process.env.DEBUG_ORACLE) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** credentials travel in the environment only, as a user's cron job passes them */
function env(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...server.env(oracleEnv), ...overrides };
}

function lifeboat(args: string[], environment = env()): Promise<Run> {
  return runProgram(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--no-print-statistics',
    '--s3-endpoint-url', server.endpoint, ...args], environment);
}

function duplicity(args: string[]): Promise<Run> {
  return runProgram('duplicity', ['--no-encryption', '--no-print-statistics', '--archive-dir', fresh('duplicity-cache'),
    '--s3-endpoint-url', server.endpoint, ...args], env());
}

/** set times are whole seconds and must increase from one run to the next */
async function nextSecond(started: number): Promise<void> {
  const wait = (Math.floor(started / 1000) + 1) * 1000 + 50 - Date.now();
  if (wait > 0) await sleep(wait);
}

function skipWithoutDuplicity(t: TestContext): boolean {
  return !requireProgram(t, 'duplicity') || !requirePythonModule(t, 'boto3', 'python3-boto3');
}

test('Lifeboat backs up to S3 (full + incremental, multipart); Lifeboat and duplicity restore it', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const source = fresh('source');
  // 14 MiB of random data and --volsize 12: the first volume goes up in 5 MiB parts
  await makeTree(source, { bigFileBytes: 14 * MiB });
  const url = 'boto3+s3://backups/hosts/web 1';
  const cache = fresh('lifeboat-cache');
  const options = ['--archive-dir', cache, '--volsize', '12', '--s3-multipart-chunk-size', '5'];

  const before = await describeTree(source);
  const fullStarted = Date.now();
  ok(await lifeboat(['full', ...options, source, url]));
  const fullTime = new Date(Math.floor(fullStarted / 1000) * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  assert.ok(server.requests.some((r) => r.method === 'POST' && r.query.includes('uploadId')), 'a multipart upload was completed');

  await mutateTree(source);
  const afterIncrement = await describeTree(source);
  await nextSecond(fullStarted);
  const incrStarted = Date.now();
  ok(await lifeboat(['incremental', ...options, source, url]));

  const listed = ok(await lifeboat(['collection-status', '--archive-dir', cache, url])).stdout;
  assert.match(listed, /Full\s+\S.*\n(?:.*\n)*?\s+Incremental\s/, listed);

  const byLifeboat = fresh('lifeboat-restored');
  ok(await lifeboat(['restore', '--archive-dir', fresh('lifeboat-cache'), url, byLifeboat]));
  assert.deepEqual(await describeTree(byLifeboat), asRestored(afterIncrement), 'Lifeboat restores the latest state');

  const byDuplicity = fresh('duplicity-restored');
  ok(await duplicity(['restore', url, byDuplicity]));
  assert.deepEqual(await describeTree(byDuplicity), asRestored(afterIncrement), 'duplicity restores the latest state');

  const atFull = fresh('duplicity-restored-full');
  ok(await duplicity(['restore', '-t', fullTime, url, atFull]));
  assert.deepEqual(await describeTree(atFull), asRestored(before), `duplicity restores the full (-t ${fullTime})`);

  const verified = ok(await duplicity(['verify', '--compare-data', url, source]));
  assert.match(verified.stdout, /Verify complete: \d+ files? compared, 0 differences found\./, verified.stdout);

  // duplicity continues the chain on S3; Lifeboat reads what it wrote
  await mutateTree(source, 2);
  const afterDuplicity = await describeTree(source);
  await nextSecond(incrStarted);
  ok(await duplicity(['incremental', '--volsize', '12', source, url]));
  const again = fresh('lifeboat-restored');
  ok(await lifeboat(['restore', '--archive-dir', fresh('lifeboat-cache'), url, again]));
  assert.deepEqual(await describeTree(again), asRestored(afterDuplicity), 'Lifeboat restores duplicity\'s incremental');
});

test('failing S3 runs end with a clear error and print no secret', async () => {
  const source = fresh('source');
  await makeTree(source);
  const secret = server.secretAccessKey;
  const assertNoSecret = (r: Run) => {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `the secret appears in the output of ${r.command}:\n${r.stdout}${r.stderr}`);
  };

  const wrongSecret = `${secret}x`;
  const badSecret = await lifeboat(['full', '--archive-dir', fresh('cache'), source, 'boto3+s3://backups/denied'],
    env({ AWS_SECRET_ACCESS_KEY: wrongSecret }));
  assertNoSecret(badSecret);
  assert.ok(!badSecret.stderr.includes(wrongSecret) && !badSecret.stdout.includes(wrongSecret), badSecret.stderr);
  assert.equal(badSecret.code, 51, `permission denied exit code:\n${badSecret.stderr}`);
  assert.match(badSecret.stderr, /SignatureDoesNotMatch/);

  const unknownKey = await lifeboat(['full', '--archive-dir', fresh('cache'), source, 'boto3+s3://backups/denied'],
    env({ AWS_ACCESS_KEY_ID: 'LBNOSUCHKEY' }));
  assertNoSecret(unknownKey);
  assert.equal(unknownKey.code, 51, `permission denied exit code:\n${unknownKey.stderr}`);
  assert.match(unknownKey.stderr, /InvalidAccessKeyId/);
  assert.match(unknownKey.stderr, /AWS_ACCESS_KEY_ID/, 'the hint says where the key came from');

  const noBucket = await lifeboat(['full', '--archive-dir', fresh('cache'), source, 'boto3+s3://missing-bucket/x']);
  assertNoSecret(noBucket);
  assert.equal(noBucket.code, 52, `not-found exit code:\n${noBucket.stderr}`);
  assert.match(noBucket.stderr, /bucket "missing-bucket" does not exist/);

  // duply puts the key pair into the URL; duplicity's S3 backends ignore it, and it must not show
  const inUrl = await lifeboat(['full', '--archive-dir', fresh('cache'), source, `boto3+s3://LBNOSUCHKEY:${encodeURIComponent(secret)}@missing-bucket/x`],
    env({ AWS_ACCESS_KEY_ID: 'LBNOSUCHKEY' }));
  assertNoSecret(inUrl);
  assert.notEqual(inUrl.code, 0);
});

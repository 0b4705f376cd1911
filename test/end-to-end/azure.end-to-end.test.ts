// A Lifeboat backup chain through azure:// to Azurite, and what a wrong account key does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { isCi } from '../support/programs.js';
import { DEV_KEY, azuriteAvailable, startAzurite, type Azurite } from '../support/azurite.js';
import { backupRoundTrip, lifeboat } from '../support/backend-round-trip.js';

let azurite: Azurite | undefined;
before(async () => {
  if (azuriteAvailable()) azurite = await startAzurite();
});
after(async () => { await azurite?.stop(); });

function skipWithoutAzurite(t: { skip(message: string): void }): boolean {
  if (azurite) return false;
  if (isCi()) throw new Error('azurite is not installed (npm devDependency); CI=true forbids skipping');
  t.skip('azurite is not installed: run npm ci');
  return true;
}

test('full + incremental through azure://, restored by Lifeboat, latest and at the full', async (t) => {
  if (skipWithoutAzurite(t)) return;
  // a small single-put limit, so the volumes go up as staged blocks and a commit
  await backupRoundTrip('azure://lifeboat-e2e', { AZURE_CONNECTION_STRING: azurite!.connectionString },
    ['--azure-max-single-put-size', '65536', '--azure-max-block-size', '65536', '--azure-blob-tier', 'Cool']);
  const backend = await openBackend('azure://lifeboat-e2e', { env: { AZURE_CONNECTION_STRING: azurite!.connectionString }, options: new Map() });
  const names: string[] = [];
  for await (const { name } of backend.list()) names.push(name);
  await backend.close();
  assert.ok(names.some((n) => /^duplicity-full\.\d{8}T\d{6}Z\.vol1\.difftar\.gz$/.test(n)), names.join('\n'));
  assert.ok(names.some((n) => /^duplicity-inc\..*\.manifest$/.test(n)), names.join('\n'));
});

test('a wrong account key is an auth error (exit 51) that shows no key', async (t) => {
  if (skipWithoutAzurite(t)) return;
  const wrongKey = Buffer.from('not the key of devstoreaccount1, but valid base64 of 64 bytes....').toString('base64');
  const connection = azurite!.connectionString.replace(DEV_KEY, wrongKey);
  const r = await lifeboat({ AZURE_CONNECTION_STRING: connection }, 'collection-status', 'azure://lifeboat-e2e');
  assert.equal(r.code, ExitCode.backendPermissionDenied, r.stderr);
  const output = r.stdout + r.stderr;
  assert.ok(!output.includes(wrongKey) && !output.includes(DEV_KEY), `no key in:\n${output}`);
});

test('no credentials at all is a one-line auth error naming AZURE_CONNECTION_STRING', async (t) => {
  if (skipWithoutAzurite(t)) return;
  const r = await lifeboat({ AZURE_CONNECTION_STRING: '', AZURE_ACCOUNT_NAME: '', AZURE_ACCOUNT_KEY: '' }, 'collection-status', 'azure://lifeboat-e2e');
  assert.equal(r.code, ExitCode.backendPermissionDenied, r.stderr);
  assert.match(r.stderr, /AZURE_CONNECTION_STRING/);
});

test('an invalid container name is a bad URL (exit 8)', async (t) => {
  if (skipWithoutAzurite(t)) return;
  const r = await lifeboat({ AZURE_CONNECTION_STRING: azurite!.connectionString }, 'collection-status', 'azure://Bad--Name');
  assert.equal(r.code, ExitCode.badUrl, r.stderr);
  assert.match(r.stderr, /not a valid Azure container name/);
});

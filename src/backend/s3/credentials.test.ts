import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseCredentials } from './credentials.js';

test('the key pair from the context environment, with a session token', () => {
  const chosen = chooseCredentials({ AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
  assert.deepEqual(chosen.credentials, { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' });
  assert.doesNotMatch(chosen.source, /secret|token/);
});

test('~/.boto when there are no ~/.aws files; ~/.aws and AWS_PROFILE go to the SDK chain', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'lifeboat-s3-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(join(home, '.boto'), '[Boto]\ndebug = 0\n[Credentials]\naws_access_key_id = BOTOID\naws_secret_access_key = botosecret\n');
  assert.deepEqual(chooseCredentials({ HOME: home }).credentials, { accessKeyId: 'BOTOID', secretAccessKey: 'botosecret' });
  assert.equal(chooseCredentials({ HOME: home, AWS_PROFILE: 'backup' }).profile, 'backup');
  assert.equal(chooseCredentials({ HOME: home, AWS_PROFILE: 'backup' }).credentials, undefined);
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = X\naws_secret_access_key = Y\n');
  assert.equal(chooseCredentials({ HOME: home }).credentials, undefined, 'boto3 reads ~/.aws before ~/.boto');
});

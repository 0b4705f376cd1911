// A Lifeboat backup chain through webdav:// to Debian's Apache mod_dav, and what a wrong password does.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { hasProgram, requireProgram } from '../support/programs.js';
import { startApacheDav, type ApacheDav } from '../support/apache-dav.js';
import { backupRoundTrip, lifeboat } from '../support/backend-round-trip.js';

const USER = 'backup';
const PASSWORD = 'right-pässword-7431';
let server: ApacheDav | undefined;

before(async () => {
  if (hasProgram('apache2')) server = await startApacheDav({ user: USER, password: PASSWORD });
});
after(async () => { await server?.stop(); });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

test('full + incremental through webdav://, restored by Lifeboat, latest and at the full', async (t) => {
  if (!requireProgram(t, 'apache2', 'apache2')) return;
  const url = `webdav://${USER}@127.0.0.1:${server!.port}/backups/host`;
  await backupRoundTrip(url, { FTP_PASSWORD: PASSWORD }, ['--webdav-headers', 'X-Lifeboat-Test,round-trip']);
  const stored = filesUnder(server!.root);
  assert.ok(stored.some((f) => /backups\/host\/duplicity-full\.\d{8}T\d{6}Z\.vol1\.difftar\.gz$/.test(f)), stored.join('\n'));
  assert.ok(stored.some((f) => /backups\/host\/duplicity-inc\..*\.manifest$/.test(f)), stored.join('\n'));
  assert.deepEqual(stored.filter((f) => f.includes('lifeboat-part')), [], 'no temporary files stay on the server');
  const log = server!.accessLog();
  const puts = log.filter((l) => l.startsWith('PUT '));
  assert.ok(puts.length >= 6 && puts.every((l) => /\.lifeboat-part-[0-9a-f]+\.[^ /]+ 201 round-trip$/.test(l)), `every PUT goes to a temporary name with the extra header:\n${puts.join('\n')}`);
  assert.equal(log.filter((l) => /^MOVE .* 20[14] round-trip$/.test(l)).length, puts.length, 'each PUT is moved into place');
});

test('a wrong password is an auth error (exit 51) that shows no password', async (t) => {
  if (!requireProgram(t, 'apache2', 'apache2')) return;
  const wrong = 'wrong-secret-9921';
  const fromEnv = await lifeboat({ FTP_PASSWORD: wrong }, 'collection-status', `webdav://${USER}@127.0.0.1:${server!.port}/backups/host`);
  assert.equal(fromEnv.code, ExitCode.backendPermissionDenied, fromEnv.stderr);
  assert.match(fromEnv.stderr, /401|refused the user and password/);
  // a password in the URL is the user's choice; it must not come back in the output either
  const fromUrl = await lifeboat({}, 'collection-status', `webdav://${USER}:${wrong}@127.0.0.1:${server!.port}/backups/host`);
  assert.equal(fromUrl.code, ExitCode.backendPermissionDenied, fromUrl.stderr);
  for (const r of [fromEnv, fromUrl]) {
    const output = r.stdout + r.stderr;
    assert.ok(!output.includes(wrong) && !output.includes(PASSWORD), `no password in:\n${output}`);
  }
});

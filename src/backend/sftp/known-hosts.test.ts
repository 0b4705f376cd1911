// known_hosts lookups, with OpenSSH's own ssh-keygen as the judge of hashed names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from '../../../test/support/programs.js';
import { appendKnownHost, checkHostKey, hostMatches, keyTypeOf, knownHostsName, loadKnownHosts } from './known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-known-hosts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function newKey(name: string, type = 'ed25519'): { line: string; blob: Buffer } {
  const path = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  assert.equal(r.status, 0, String(r.stderr));
  const [keyType, base64] = readFileSync(`${path}.pub`, 'utf8').split(/\s+/);
  return { line: `${keyType} ${base64}`, blob: Buffer.from(base64, 'base64') };
}

test('names a server as ssh does: plain on port 22, [host]:port otherwise', () => {
  assert.equal(knownHostsName('example.org', 22), 'example.org');
  assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
});

test('matches host patterns: lists, wildcards, negations, case', () => {
  assert.ok(hostMatches('a.example,b.example', 'b.example'));
  assert.ok(hostMatches('*.Example.org', 'backup.example.org'));
  assert.ok(hostMatches('host?', 'host1'));
  assert.ok(!hostMatches('*.example.org,!secret.example.org', 'secret.example.org'));
  assert.ok(hostMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222'));
  assert.ok(!hostMatches('10.0.0.1', '[10.0.0.1]:2222'), 'a plain entry is for port 22 only');
});

test('finds hashed entries written by ssh-keygen -H, and tells known, unknown, changed and revoked apart', async (t) => {
  if (!requireProgram(t, 'ssh-keygen', 'openssh-client')) return;
  const server = newKey('server');
  const other = newKey('other');
  const rsa = newKey('rsa', 'rsa');
  const file = join(dir, 'known_hosts');
  writeFileSync(file, [
    '# comment', '',
    `[backup.example]:2222 ${server.line}`,
    `old.example ${other.line}`,
    `old.example ${rsa.line}`,
    '',
  ].join('\n'));
  const h = spawnSync('ssh-keygen', ['-H', '-f', file]);
  assert.equal(h.status, 0, String(h.stderr));
  // ssh-keygen -H refuses wildcards and bad lines: they come after hashing
  writeFileSync(file, `${readFileSync(file, 'utf8')}@revoked * ${other.line}\ngarbage line\n`);
  const hashed = readFileSync(file, 'utf8');
  assert.match(hashed, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /m);
  assert.doesNotMatch(hashed, /backup\.example/);
  const found = spawnSync('ssh-keygen', ['-F', 'old.example', '-t', 'ed25519', '-f', file], { encoding: 'utf8' });
  const oldLine = Number(/found: line (\d+)/.exec(found.stdout)?.[1]);
  assert.ok(oldLine > 0, found.stdout);

  const entries = await loadKnownHosts([file, join(dir, 'missing')]);
  assert.equal(keyTypeOf(server.blob), 'ssh-ed25519');
  assert.equal(checkHostKey(entries, 'backup.example', 2222, server.blob).status, 'known');
  assert.equal(checkHostKey(entries, 'backup.example', 22, server.blob).status, 'unknown', 'another port is another server');
  assert.equal(checkHostKey(entries, 'elsewhere.example', 2222, server.blob).status, 'unknown');
  const changed = checkHostKey(entries, 'old.example', 22, server.blob);
  assert.equal(changed.status, 'changed');
  assert.equal(changed.entry?.line, oldLine, 'the line ssh-keygen -F names');
  assert.equal(checkHostKey(entries, 'old.example', 22, rsa.blob).status, 'known');
  assert.equal(checkHostKey(entries, 'old.example', 22, other.blob).status, 'revoked');
});

test('accept-new appends the line ssh would write, and ssh-keygen finds it', async (t) => {
  if (!requireProgram(t, 'ssh-keygen', 'openssh-client')) return;
  const key = newKey('accepted');
  const file = join(dir, 'new', 'sub', 'known_hosts');
  await appendKnownHost(file, '127.0.0.1', 2200, key.blob);
  assert.equal(readFileSync(file, 'utf8'), `[127.0.0.1]:2200 ${key.line}\n`);
  const found = spawnSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', file], { encoding: 'utf8' });
  assert.equal(found.status, 0);
  assert.match(found.stdout, /ssh-ed25519/);
});

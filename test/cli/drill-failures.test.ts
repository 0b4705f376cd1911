// Drills that must fail, each with one line naming the cause: a dump that does not load, and the
// wrong passphrase for an encrypted profile (which also shows profiles encrypt end to end).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { profileHome } from '../support/profile-env.js';

const home = profileHome('drill-failures');
after(() => rmSync(home.root, { recursive: true, force: true }));

test('a dump that does not load fails the drill, naming the dump', (t) => {
  if (!requireProgram(t, 'pg_restore', 'postgresql-client') || !requireProgram(t, 'sqlite3')) return;
  const source = join(home.root, 'src');
  mkdirSync(join(source, 'dumps'), { recursive: true });
  // not made by Lifeboat's dump step (which checks its dumps): a file someone left in DUMP_DIR
  writeFileSync(join(source, 'dumps', 'postgres-broken.dump'), 'PGDMP but not really a dump\n');
  writeFileSync(join(source, 'app.txt'), 'data\n');
  const profile = home.profile('baddump', `GPG_KEY=disabled
SOURCE='${source}'
TARGET='file://${join(home.root, 'target')}'
VERBOSITY=warning
DUMP_DIR='${join(source, 'dumps')}'
DUMP_POSTGRES_OS_USER=
export PGHOST=127.0.0.1 PGUSER=postgres
DUMP_SQLITE='${join(source, 'none.db')}'
`);
  const backup = home.lifeboat([profile, 'bkp']);
  assert.equal(backup.code, 1, 'the missing SQLite database fails its dump, the backup still runs');
  assert.match(backup.stderr, /none\.db: no such database file/);
  assert.throws(() => readFileSync(join(source, 'none.db')), 'no empty database was created in its place');
  const r = home.lifeboat([profile, 'drill']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^Drill FAILED/m);
  assert.match(r.stdout, /database postgres-broken\.dump: FAILED: .+/);
});

test('an encrypted profile backs up and drills; the wrong passphrase fails the drill with one line', (t) => {
  if (!requireProgram(t, 'gpg', 'gnupg')) return;
  const source = join(home.root, 'enc-src');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'secret.txt'), 'only for the passphrase holder\n');
  const conf = (pw: string) => `GPG_KEY=''
GPG_PW='${pw}'
SOURCE='${source}'
TARGET='file://${join(home.root, 'enc-target')}'
VERBOSITY=warning
`;
  const profile = home.profile('encrypted', conf('right horse battery'));
  const backup = home.lifeboat([profile, 'backup']);
  assert.equal(backup.code, 0, backup.stderr);
  const good = home.lifeboat([profile, 'drill']);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /^Drill passed/m);
  writeFileSync(join(profile, 'conf'), conf('wrong staple'));
  const bad = home.lifeboat([profile, 'drill']);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stderr.split('\n').filter((l) => l.startsWith('lifeboat: ')).length, 1, bad.stderr);
  assert.match(bad.stderr, /passphrase|decrypt/i);
  assert.doesNotMatch(bad.stdout + bad.stderr, /wrong staple|right horse/);
  assert.ok(readFileSync(join(profile, 'conf'), 'utf8').includes('wrong staple'));
});

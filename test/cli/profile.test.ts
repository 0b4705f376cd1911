// `lifeboat PROFILE COMMAND` end to end: create, the classic cron setup with real database dumps in
// pre, restores by Lifeboat and by duplicity, bad profiles, failing pre scripts, the profile lock.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, describe, test } from 'node:test';
import { requireProgram } from '../support/programs.js';
import { describeTree } from '../support/tree.js';
import { makeTree } from '../support/make-tree.js';
import { profileHome } from '../support/profile-env.js';
import { lifeboatBin } from '../support/run.js';

const home = profileHome('profile-test');
after(() => rmSync(home.root, { recursive: true, force: true }));

const basicConf = (source: string, target: string, extra = '') => `GPG_KEY='disabled'
SOURCE='${source}'
TARGET='file://${target}'
VERBOSITY=warning
ARCH_DIR='${join(home.root, 'arch')}'
${extra}
`;

describe('create', () => {
  test('makes a 0700 profile with a conf that bash reads and an exclude file; a second create is fatal', () => {
    const r = home.lifeboat(['fresh', 'create']);
    assert.equal(r.code, 0, r.stderr);
    const dir = join(home.root, 'home', '.lifeboat', 'fresh');
    const expected = process.geteuid?.() === 0 ? join(home.root, 'etc', 'lifeboat', 'fresh') : dir;
    assert.match(r.stdout, new RegExp(`created as '${expected}/conf'`));
    assert.equal(statSync(expected).mode & 0o777, 0o700);
    assert.equal(statSync(join(expected, 'conf')).mode & 0o777, 0o600);
    assert.equal(spawnSync('bash', ['-n', join(expected, 'conf')]).status, 0, 'the template is valid bash');
    const conf = readFileSync(join(expected, 'conf'), 'utf8');
    for (const word of ['b2://', 'MAX_AGE', 'MAX_FULLS_WITH_INCRS', 'pg_dumpall', 'pre']) assert.ok(conf.includes(word), `the template mentions ${word}`);
    const again = home.lifeboat(['fresh', 'create']);
    assert.equal(again.code, 255);
    assert.match(again.stderr, /already exists/);
    const untouched = home.lifeboat(['fresh', 'status']);
    assert.equal(untouched.code, 255, 'the template values are refused');
    assert.match(untouched.stderr, /SOURCE\) not set or still default/);
  });
});

describe('the classic duply cron setup, with real database dumps in pre', () => {
  test('purge --force, purgeIncr --force, backup; Lifeboat and duplicity restore it; the dumps load', async (t) => {
    if (!requireProgram(t, 'sqlite3') || !requireProgram(t, 'pg_dumpall', 'postgresql-client') || !requireProgram(t, 'duplicity')) return;
    const source = join(home.root, 'classic-src');
    for (const d of ['etc', 'srv/app', 'proc/1', 'tmp', 'var/lib/postgresql/15/main', 'home/u/.cache', 'var/backups']) mkdirSync(join(source, d), { recursive: true });
    writeFileSync(join(source, 'etc/hostname'), 'classic\n');
    writeFileSync(join(source, 'proc/1/status'), 'excluded\n');
    writeFileSync(join(source, 'tmp/junk'), 'excluded\n');
    writeFileSync(join(source, 'var/lib/postgresql/15/main/base'), 'raw cluster files, excluded\n');
    writeFileSync(join(source, 'home/u/.cache/c'), 'excluded\n');
    await makeTree(join(source, 'srv/data'));
    // a warning on stderr is right for it, but this run must show that a good backup is silent
    rmSync(join(source, 'srv/data/negative-mtime'));
    const sqliteDb = join(source, 'srv/app/db.sqlite3');
    execFileSync('sqlite3', [sqliteDb, "create table notes(id integer primary key, body text); insert into notes(body) values ('first'), ('zweite ü'), ('it''s');"]);
    const pgName = `lifeboat_profile_${process.pid}`;
    const psql = (db: string, sql: string, port = '5432', host = '127.0.0.1') =>
      execFileSync('psql', ['-X', '-q', '-t', '-A', '-h', host, '-p', port, '-U', 'postgres', '-d', db, '-c', sql], { encoding: 'utf8' });
    psql('postgres', `drop database if exists ${pgName}`);
    psql('postgres', `create database ${pgName}`);
    t.after(() => { psql('postgres', `drop database if exists ${pgName}`); });
    psql(pgName, "create table orders(id serial primary key, item text); insert into orders(item) select 'item ' || g from generate_series(1, 500) g;");

    const target = join(home.root, 'classic-target');
    const dir = home.profile('classic', basicConf(source, target, `MAX_AGE=2Y
MAX_FULLS_WITH_INCRS=2
MAX_FULLBKP_AGE=3M
DUPL_PARAMS="$DUPL_PARAMS --full-if-older-than $MAX_FULLBKP_AGE "`), `- ${source}/proc
- ${source}/tmp
- ${source}/var/lib/postgresql
- **/.cache
`);
    writeFileSync(join(dir, 'pre'), `#!/bin/sh
set -e
sqlite3 "$SOURCE/srv/app/db.sqlite3" .dump > "$SOURCE/var/backups/app.sql"
pg_dumpall -h 127.0.0.1 -U postgres > "$SOURCE/var/backups/pg.sql"
`, { mode: 0o700 });

    for (const batch of [['purge', '--force'], ['purgeIncr', '--force'], ['backup']]) {
      const r = home.lifeboat([dir, ...batch]);
      assert.equal(r.code, 0, `${batch.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${batch.join(' ')} is silent on stderr`);
      if (batch[0] === 'backup') assert.equal(r.stdout, '', 'VERBOSITY=warning: a successful backup prints nothing');
    }
    assert.ok(readdirSync(target).some((n) => n.endsWith('.manifest')), 'a backup set is on the target');
    const second = home.lifeboat([dir, 'backup']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readdirSync(target).filter((n) => n.includes('.manifest')).length, 2, 'the second run is an incremental');

    const expected = (await describeTree(source)).filter((l) => !/ (proc|tmp|var\/lib\/postgresql|home\/u\/\.cache)(\/.*)?$/.test(l));
    const byLifeboat = join(home.root, 'classic-restored');
    const r = home.lifeboat([dir, 'restore', byLifeboat]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await describeTree(byLifeboat), expected);
    const byDuplicity = join(home.root, 'classic-by-duplicity');
    const d = spawnSync('duplicity', ['restore', '--no-encryption', '--archive-dir', join(home.root, 'dupcache'), `file://${target}`, byDuplicity], { encoding: 'utf8' });
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(await describeTree(byDuplicity), expected);

    // the SQLite dump loads into a fresh database
    const fresh = join(home.root, 'fresh.sqlite3');
    execFileSync('sh', ['-c', `sqlite3 '${fresh}' < '${join(byLifeboat, 'var/backups/app.sql')}'`]);
    assert.equal(execFileSync('sqlite3', [fresh, 'select group_concat(body, "|") from notes order by id'], { encoding: 'utf8' }).trim(), "first|zweite ü|it's");
    // the pg_dumpall dump loads into a fresh PostgreSQL cluster
    const cluster = await freshCluster(mkdtempSync(join(tmpdir(), 'lifeboat-pgcluster-')));
    t.after(() => cluster.stop());
    execFileSync('psql', ['-X', '-q', '-h', cluster.socketDir, '-p', cluster.port, '-U', 'postgres', '-d', 'postgres', '-f', join(byDuplicity, 'var/backups/pg.sql')], { stdio: 'ignore' });
    assert.equal(psql(pgName, "select count(*) || ':' || max(item) from orders", cluster.port, cluster.socketDir).trim(), '500:item 99');
  });
});

/** A throwaway PostgreSQL cluster (initdb as the postgres user) on a free port with its own socket dir. */
async function freshCluster(dir: string): Promise<{ port: string; socketDir: string; stop(): void }> {
  const bin = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql')[0]}/bin`;
  // the postgres user must reach it: its own directory, not one under the 0700 test home
  execFileSync('chown', ['postgres', dir]);
  const data = join(dir, 'data');
  const asPostgres = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  asPostgres([`${bin}/initdb`, '-A', 'trust', '-U', 'postgres', '-D', data]);
  const port = String(20000 + (process.pid % 20000));
  asPostgres([`${bin}/pg_ctl`, '-D', data, '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=''`, '-l', join(dir, 'log'), 'start']);
  return {
    port, socketDir: dir,
    stop: () => {
      asPostgres([`${bin}/pg_ctl`, '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('bad profiles stop before anything is written', () => {
  const source = join(home.root, 'bad-src');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'f'), 'x');
  const cases: [string, () => string, RegExp][] = [
    ['a conf syntax error', () => home.profile('syntax', `${basicConf(source, join(home.root, 't-syntax'))}\nif then fi\n`), /syntax error.*line \d+/],
    ['no SOURCE', () => home.profile('nosource', `GPG_KEY=disabled\nTARGET=file://${join(home.root, 't-nosource')}\n`), /Source Path \(setting SOURCE\) not set/],
    ['an unknown TARGET scheme', () => home.profile('scheme', basicConf(source, '').replace(/TARGET=.*/, "TARGET='gopher://u:hunter2@host/x'")), /"gopher" scheme.*no backend/],
    ['an unreadable exclude file', () => { const d = home.profile('excl', basicConf(source, join(home.root, 't-excl'))); rmSync(join(d, 'exclude')); mkdirSync(join(d, 'exclude')); return d; }, /bkp command line is not valid: Error opening file/],
    ['an option Lifeboat does not understand in DUPL_PARAMS', () => home.profile('params', basicConf(source, join(home.root, 't-params'), 'DUPL_PARAMS="$DUPL_PARAMS --frobnicate "')), /no such option: --frobnicate/],
    ['a profile that does not exist', () => join(home.root, 'profiles', 'nothing-here'), /does not resolve to a profile folder/],
  ];
  for (const [label, make, message] of cases) {
    test(label, () => {
      const dir = make();
      const r = home.lifeboat([dir, 'backup']);
      assert.equal(r.code, 255, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:')).length, 1, `one line (and a hint): ${r.stderr}`);
      assert.doesNotMatch(r.stderr + r.stdout, /hunter2/, 'no password in the output');
      for (const name of ['t-syntax', 't-nosource', 't-excl', 't-params']) assert.ok(!existsSync(join(home.root, name)), `nothing written to ${name}`);
    });
  }
  test('a bare name that is nowhere lists the profiles that exist', () => {
    home.profile('listed', basicConf(source, join(home.root, 't-listed')));
    mkdirSync(join(home.root, 'home', '.duply', 'one'), { recursive: true });
    const r = home.lifeboat(['nosuchprofile', 'status']);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /available profiles: .*'one'/);
  });
});

describe('pre scripts and conditions', () => {
  const source = join(home.root, 'pre-src');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'f'), 'x');
  test('a failing pre: backup still runs and exits 1; pre+bkp+post skips the backup', () => {
    const target = join(home.root, 't-pre');
    const dir = home.profile('failing-pre', basicConf(source, target));
    writeFileSync(join(dir, 'pre'), '#!/bin/sh\necho "dump failed" >&2\nexit 3\n', { mode: 0o700 });
    const conditional = home.lifeboat([dir, 'pre+bkp+post']);
    assert.equal(conditional.code, 1);
    assert.match(conditional.stderr, /Task 'PRE' failed with exit code '3'/);
    assert.match(conditional.stderr, /dump failed/);
    assert.ok(!existsSync(target), 'no backup when pre failed');
    const plain = home.lifeboat([dir, 'backup']);
    assert.equal(plain.code, 1);
    assert.ok(readdirSync(target).some((n) => n.endsWith('.manifest')), 'backup ran anyway');
  });
  test('run through its first line, lifeboat has one malloc arena; the backup child too, with the same node flags; pre gets the caller\'s setting', () => {
    const record = join(home.root, 'arena-record');
    const wrapper = join(home.root, 'record-and-run');
    writeFileSync(wrapper, `#!/bin/sh\necho "child MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX-unset} caller=\${LIFEBOAT_CALLER_ARENA_MAX-unset} args=$*" >> '${record}'\nexec "$@"\n`, { mode: 0o755 });
    const dir = home.profile('arena', basicConf(source, join(home.root, 't-arena'), `DUPL_PRECMD='${wrapper}'`));
    // the pre script's parent is lifeboat itself: its environment as it started shows what malloc read
    writeFileSync(join(dir, 'pre'), `#!/bin/sh\necho "pre MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX-unset} caller=\${LIFEBOAT_CALLER_ARENA_MAX-unset} lifeboat=$(tr '\\0' '\\n' < /proc/$PPID/environ | grep -c '^MALLOC_ARENA_MAX=1$')" >> '${record}'\n`, { mode: 0o700 });
    for (const caller of [undefined, '4']) {
      rmSync(record, { force: true });
      const env = { ...home.env, MALLOC_ARENA_MAX: caller };
      if (caller === undefined) delete env.MALLOC_ARENA_MAX;
      // executed, not `node bin/lifeboat.js`: its first line starts node
      const r = spawnSync(lifeboatBin, [dir, 'pre+bkp'], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = readFileSync(record, 'utf8');
      assert.match(lines, new RegExp(`^pre MALLOC_ARENA_MAX=${caller ?? 'unset'} caller=unset lifeboat=1$`, 'm'));
      // the child's bin gives the caller's value back to what it runs, as this one did for pre
      assert.match(lines, new RegExp(`^child MALLOC_ARENA_MAX=1 caller=${caller ?? ''} args=\\S+ --max-semi-space-size=2 \\S+/bin/lifeboat\\.js duplicity `, 'm'));
    }
  });
  test('a second run of the same profile waits, then gives up with a clear message', async () => {
    const dir = home.profile('locked', basicConf(source, join(home.root, 't-locked'), 'LOCK_WAIT=1'));
    writeFileSync(join(dir, 'pre'), '#!/bin/sh\nsleep 4\n', { mode: 0o700 });
    const first = home.lifeboatAsync([dir, 'pre']);
    await new Promise((r) => setTimeout(r, 1500));
    const second = home.lifeboat([dir, 'pre']);
    assert.equal(second.code, 255, second.stderr);
    assert.match(second.stderr, /another run of the profile .* is still going after 1 s/);
    assert.equal((await first).code, 0);
  });
  test('secrets are never printed, not with --preview, not at debug verbosity', () => {
    const dir = home.profile('secret', basicConf(source, join(home.root, 't-secret'), "TARGET_PASS='Tr0ub4dor&3'\nGPG_PW='correct horse'"));
    for (const args of [[dir, 'bkp_status', '--preview'], ['-v', 'debug', dir, 'status'], [dir, 'status', '-v', 'debug']]) {
      const r = home.lifeboat(args);
      assert.doesNotMatch(r.stdout + r.stderr, /Tr0ub4dor|correct horse/, args.join(' '));
    }
  });
  test('the profile folder is made 0700 when it is not', () => {
    const dir = home.profile('loose', basicConf(source, join(home.root, 't-loose')));
    chmodSync(dir, 0o755);
    const r = home.lifeboat([dir, 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /permissions are not safe \(0755\)/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });
});

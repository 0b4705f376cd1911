// Database dumps as a checked step of every profile backup (issue 9), against the real servers:
// PostgreSQL 15 and MariaDB on 127.0.0.1 and sqlite3, under a steady write load, and their failures.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCi, requireProgram } from '../support/programs.js';
import { profileHome } from '../support/profile-env.js';

const home = profileHome('dbdump');
const tag = `lbdump_${process.pid}`;
const mycnf = join(home.root, 'my.cnf');
writeFileSync(mycnf, '[client]\nhost=127.0.0.1\nuser=root\n', { mode: 0o600 });

const psql = (db: string, sql: string) => execFileSync('psql', ['-X', '-q', '-t', '-A', '-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-c', sql], { encoding: 'utf8' }).trim();
const mysql = (sql: string) => execFileSync('mysql', [`--defaults-extra-file=${mycnf}`, '-N', '-s', '-e', sql], { encoding: 'utf8' }).trim();
const sqlite = (db: string, sql: string) => execFileSync('sqlite3', [db, sql], { encoding: 'utf8' }).trim();

after(() => {
  for (const db of [tag, `${tag}_copy`, `${tag}_bench`, `${tag}_bench_copy`]) {
    try { psql('postgres', `drop database if exists ${db}`); } catch { /* best effort */ }
    try { mysql(`drop database if exists ${db}`); } catch { /* best effort */ }
  }
  rmSync(home.root, { recursive: true, force: true });
});

function conf(source: string, extra: string): string {
  return `GPG_KEY=disabled
SOURCE='${source}'
TARGET='file://${source}-target'
VERBOSITY=warning
DUMP_DIR='${source}/dumps'
DUMP_POSTGRES_OS_USER=
export PGHOST=127.0.0.1 PGUSER=postgres
DUMP_MYSQL_DEFAULTS_FILE='${mycnf}'
${extra}
`;
}

function servers(t: import('node:test').TestContext): boolean {
  return requireProgram(t, 'pg_dump', 'postgresql-client') && requireProgram(t, 'mysqldump', 'mariadb-client') && requireProgram(t, 'sqlite3')
    && requireProgram(t, 'pgbench', 'postgresql-contrib');
}

describe('database dumps in a profile backup', () => {
  const source = join(home.root, 'src');
  const appDb = join(source, 'app.db');
  before(() => mkdirSync(source, { recursive: true }));

  test('backup, then restore-db into a scratch database: the tables equal the source at dump time', async (t) => {
    if (!servers(t)) return;
    psql('postgres', `create database ${tag}`);
    psql(tag, "create table items(id serial primary key, name text, price numeric); insert into items(name, price) select 'item ' || g, g * 1.5 from generate_series(1, 2000) g;");
    mysql(`create database ${tag}; use ${tag}; create table items(id int primary key auto_increment, name text, price decimal(10,2)) engine=innodb;
      insert into items(name, price) select concat('item ', seq), seq * 1.5 from seq_1_to_2000;`);
    sqlite(appDb, "create table items(id integer primary key, name text); insert into items(name) values ('a'), ('b'), ('ü');");
    const dir = home.profile('dumps', conf(source, `DUMP_POSTGRES=${tag}\nDUMP_MYSQL=${tag}\nDUMP_SQLITE='${appDb}'`));
    const pgSum = () => psql(tag, 'select md5(string_agg(i::text, \',\' order by id)) from items i');
    const mySum = (db: string) => mysql(`checksum table ${db}.items`).split(/\s+/).at(-1);
    const liteSum = (db: string) => sqlite(db, "select group_concat(id || ':' || name, ',') from items");
    const expected = { pg: pgSum(), my: mySum(tag), lite: liteSum(appDb) };

    const backup = home.lifeboat([dir, 'backup']);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.stdout + backup.stderr, '', 'silent at VERBOSITY=warning');
    for (const name of [`postgres-${tag}.dump`, `mysql-${tag}.sql`]) assert.equal(statSync(join(source, 'dumps', name)).mode & 0o777, 0o600, `${name} is owner-only`);
    // the source changes after the backup; the restored copies show the state at dump time
    psql(tag, "update items set price = 0");
    mysql(`update ${tag}.items set price = 0`);
    sqlite(appDb, "delete from items");

    for (const [name, into] of [[`postgres:${tag}`, `${tag}_copy`], [`mysql:${tag}`, `${tag}_copy`], [`sqlite:${appDb}`, join(home.root, 'app-copy.db')]]) {
      const r = home.lifeboat([dir, 'restore-db', name, '--into', into]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /^Loaded /m);
    }
    assert.equal(psql(`${tag}_copy`, 'select md5(string_agg(i::text, \',\' order by id)) from items i'), expected.pg);
    assert.equal(mySum(`${tag}_copy`), expected.my);
    assert.equal(liteSum(join(home.root, 'app-copy.db')), expected.lite);

    const again = home.lifeboat([dir, 'restore-db', `postgres:${tag}`, '--into', `${tag}_copy`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; restore-db never loads over a live database/);
    const forced = home.lifeboat([dir, 'restore-db', `mysql:${tag}`, '--into', `${tag}_copy`, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
  });

  test('dumps taken under a steady write load restore consistent', async (t) => {
    if (!servers(t)) return;
    const bench = `${tag}_bench`;
    psql('postgres', `create database ${bench}`);
    execFileSync('pgbench', ['-i', '-q', '-s', '2', '-h', '127.0.0.1', '-U', 'postgres', bench], { stdio: 'ignore' });
    mysql(`create database if not exists ${bench}; create table ${bench}.orders(id int primary key auto_increment, total int) engine=innodb;
      create table ${bench}.order_lines(id int primary key auto_increment, order_id int, amount int) engine=innodb;`);
    const liteDb = join(source, 'load.db');
    sqlite(liteDb, 'pragma journal_mode=wal; create table orders(id integer primary key, total int); create table lines(order_id int, amount int);');
    const writers: ChildProcess[] = [
      spawn('pgbench', ['-n', '-T', '60', '-c', '2', '-h', '127.0.0.1', '-U', 'postgres', bench], { stdio: 'ignore' }),
      // each transaction writes an order and its two lines, which must add up to its total
      spawn('bash', ['-c', `for i in $(seq 1 100000); do mysql --defaults-extra-file='${mycnf}' ${bench} -e "start transaction; insert into orders(total) values (30); insert into order_lines(order_id, amount) values (last_insert_id(), 10), (last_insert_id(), 20); commit;"; done`], { stdio: 'ignore' }),
      spawn('bash', ['-c', `for i in $(seq 1 100000); do sqlite3 -cmd '.timeout 5000' '${liteDb}' "begin; insert into orders(total) values (30); insert into lines values (last_insert_rowid(), 10), (last_insert_rowid(), 20); commit;"; done`], { stdio: 'ignore' }),
    ];
    t.after(() => { for (const w of writers) w.kill(); });
    await new Promise((r) => setTimeout(r, 2000));
    const dir = home.profile('loaded', conf(source, `DUMP_POSTGRES=${bench}\nDUMP_MYSQL=${bench}\nDUMP_SQLITE='${liteDb}'`));
    const backup = home.lifeboat([dir, 'backup']);
    assert.equal(backup.code, 0, backup.stderr);
    for (const w of writers) w.kill();

    const copyDb = join(home.root, 'load-copy.db');
    for (const [name, into] of [[`postgres:${bench}`, `${bench}_copy`], [`mysql:${bench}`, `${bench}_copy`], [`sqlite:${liteDb}`, copyDb]]) {
      const r = home.lifeboat([dir, 'restore-db', name, '--into', into]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    }
    // pgbench's invariant: every transaction moves the same delta into an account, a teller, a branch and history
    const sums = psql(`${bench}_copy`, 'select (select sum(abalance) from pgbench_accounts) || \',\' || (select sum(tbalance) from pgbench_tellers) || \',\' || (select sum(bbalance) from pgbench_branches) || \',\' || (select coalesce(sum(delta), 0) from pgbench_history) || \',\' || (select count(*) from pgbench_history)');
    const [a, tl, b, h, count] = sums.split(',').map(Number);
    assert.ok(count > 0, 'pgbench committed transactions before the dump');
    assert.deepEqual([a, tl, b], [h, h, h], `balances agree: ${sums}`);
    const myCheck = mysql(`select (select count(*) from ${bench}_copy.orders), (select count(*) from ${bench}_copy.order_lines), (select coalesce(sum(total),0) from ${bench}_copy.orders), (select coalesce(sum(amount),0) from ${bench}_copy.order_lines)`).split(/\s+/).map(Number);
    assert.ok(myCheck[0] > 0, 'the MariaDB writer committed orders before the dump');
    assert.deepEqual([myCheck[1], myCheck[3]], [myCheck[0] * 2, myCheck[2]], `every order has its lines: ${myCheck}`);
    const liteCheck = sqlite(copyDb, 'select (select count(*) from orders) || \',\' || (select count(*) from lines) || \',\' || (select coalesce(sum(total),0) from orders) || \',\' || (select coalesce(sum(amount),0) from lines)').split(',').map(Number);
    assert.ok(liteCheck[0] > 0, 'the SQLite writer committed orders before the dump');
    assert.deepEqual([liteCheck[1], liteCheck[3]], [liteCheck[0] * 2, liteCheck[2]], `every order has its lines: ${liteCheck}`);
  });

  describe('failures: a clear error, the backup fails with exit 1, the previous dump stays', () => {
    interface Failure { src: string; profile: string; cnf: string; lite: string }
    const failing = (label: string, key: string, extra: string, dumpFile: (f: Failure) => string, breakIt: (f: Failure) => (() => void) | void, message: RegExp, secret?: string) => {
      test(label, async (t) => {
        if (!servers(t)) return;
        const src = join(home.root, `fail-${key}`);
        mkdirSync(src, { recursive: true });
        const lite = join(src, 'x.db');
        sqlite(lite, "create table t(v); insert into t select randomblob(1000) from generate_series(1, 100);");
        const cnf = join(home.root, `fail-${key}.cnf`);
        writeFileSync(cnf, '[client]\nhost=127.0.0.1\nuser=root\n', { mode: 0o600 });
        const profile = home.profile(`fail-${key}`, conf(src, extra.replace('@LITE@', lite)).replace(mycnf, cnf));
        const f = { src, profile, cnf, lite };
        const first = home.lifeboat([profile, 'bkp']);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stderr, '', 'the first backup dumps cleanly');
        const dump = join(src, 'dumps', dumpFile(f));
        const previous = readFileSync(dump);
        const restore = breakIt(f);
        try {
          const r = home.lifeboat([profile, 'backup']);
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, message);
          assert.match(r.stderr, /the previous dump is kept/);
          assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('lifeboat: ')).length, 1, r.stderr);
          if (secret) assert.doesNotMatch(r.stderr + r.stdout, new RegExp(secret));
          assert.deepEqual(readFileSync(dump), previous, 'the previous dump is intact');
        } finally {
          restore?.();
        }
      });
    };
    const liteName = (f: Failure) => `sqlite-${f.lite.slice(1).replace(/[^A-Za-z0-9._-]/g, '_')}`;
    failing('PostgreSQL server not reachable', 'pg', 'DUMP_POSTGRES=postgres', () => 'postgres-postgres.dump', (f) => {
      const text = readFileSync(join(f.profile, 'conf'), 'utf8');
      writeFileSync(join(f.profile, 'conf'), text.replace('PGHOST=127.0.0.1', 'PGHOST=127.0.0.1 PGPORT=1'));
    }, /PostgreSQL database postgres: pg_dump failed: .*(refused|connect)/);
    failing('MariaDB wrong credentials', 'my', 'DUMP_MYSQL=mysql', () => 'mysql-mysql.sql', (f) => {
      writeFileSync(f.cnf, '[client]\nhost=127.0.0.1\nuser=root\npassword=Sup3rSecretPw\n');
    }, /MySQL\/MariaDB database mysql: mysqldump failed: .*Access denied/, 'Sup3rSecretPw');
    failing('SQLite database locked', 'lite', "DUMP_SQLITE='@LITE@'\nDUMP_SQLITE_TIMEOUT=1", liteName, (f) => {
      const holder = spawn('sqlite3', [f.lite], { stdio: ['pipe', 'ignore', 'ignore'] });
      holder.stdin!.write('begin exclusive; insert into t values (2);\n');
      execFileSync('sleep', ['0.5']);
      return () => holder.kill();
    }, /SQLite database .*x\.db: sqlite3 failed: .*locked/);
    failing('dump directory full (a small tmpfs)', 'full', "DUMP_SQLITE='@LITE@'", liteName, (f) => {
      const dumps = join(f.src, 'dumps');
      const old = readFileSync(join(dumps, liteName(f)));
      try {
        // room for the previous dump, not for a second copy beside it
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${old.length + 16 * 1024}`, 'tmpfs', dumps]);
      } catch (err) {
        if (isCi()) throw err;
        process.stderr.write('\n*** SKIPPED part: cannot mount a tmpfs here ***\n');
        return;
      }
      writeFileSync(join(dumps, liteName(f)), old);
      return () => execFileSync('umount', [dumps]);
    }, /(no space left|disk is full)/i);
  });
});

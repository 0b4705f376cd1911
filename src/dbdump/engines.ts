// How each engine is dumped and checked (docs/databases.md), and the dump file names restore-db finds.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DumpError, headOf, tailOf, type DumpSpec } from './dump-file.js';
import type { DumpSettings } from './settings.js';

const run = promisify(execFile);

export type Engine = 'postgres' | 'mysql' | 'sqlite';

export function dumpFileName(engine: Engine, name: string): string {
  if (engine === 'sqlite') return `sqlite-${name.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]/g, '_')}`;
  if (name === 'all') return `${engine}-all.sql`;
  return engine === 'postgres' ? `postgres-${name}.dump` : `mysql-${name}.sql`;
}

/** pg_dump/pg_dumpall as the postgres OS user when root (peer authentication), else as ourselves. */
function postgresCommand(settings: DumpSettings, program: string, args: string[]) {
  const osUser = settings.postgres?.osUser;
  const env = { ...settings.env };
  return osUser && process.geteuid?.() === 0
    ? { program: 'runuser', args: ['-u', osUser, '--', program, ...args], env }
    : { program, args, env };
}

function secretsOf(settings: DumpSettings): string[] {
  return [settings.env.PGPASSWORD, settings.env.MYSQL_PWD].filter((s): s is string => !!s);
}

export function dumpSpecs(settings: DumpSettings): DumpSpec[] {
  const specs: DumpSpec[] = [];
  const secrets = secretsOf(settings);
  const pg = settings.postgres;
  if (pg) {
    if (pg.databases === 'all') {
      specs.push({
        label: 'PostgreSQL (all databases)', finalPath: join(settings.dir, dumpFileName('postgres', 'all')), secrets,
        command: postgresCommand(settings, 'pg_dumpall', []),
        check: async (path) => {
          if (!(await tailOf(path)).includes('PostgreSQL database cluster dump complete')) {
            throw new DumpError('PostgreSQL (all databases): the dump has no closing marker: it is cut short', 'check the disk space in DUMP_DIR and the server log');
          }
        },
      });
    } else {
      for (const db of pg.databases) {
        const label = `PostgreSQL database ${db}`;
        specs.push({
          label, finalPath: join(settings.dir, dumpFileName('postgres', db)), secrets,
          command: postgresCommand(settings, 'pg_dump', ['-Fc', '--dbname', db]),
          check: async (path) => {
            if (!(await headOf(path, 5)).equals(Buffer.from('PGDMP'))) throw new DumpError(`${label}: not a pg_dump custom-format file`, 'run pg_dump -Fc by hand to see why');
            // pg_restore reads the table of contents: a truncated or damaged file fails here
            await run('pg_restore', ['--list', path]).catch((err) => {
              throw new DumpError(`${label}: pg_restore cannot read the dump: ${String(err.stderr ?? err.message).trim()}`, 'check the disk space in DUMP_DIR');
            });
          },
        });
      }
    }
  }
  const my = settings.mysql;
  if (my) {
    const base = [...(my.defaultsFile ? [`--defaults-extra-file=${my.defaultsFile}`] : []), '--single-transaction', '--routines', '--events', '--triggers', '--hex-blob'];
    const targets = my.databases === 'all' ? [['all', ['--all-databases']] as const] : my.databases.map((db) => [db, [db]] as const);
    for (const [name, args] of targets) {
      const label = name === 'all' ? 'MySQL/MariaDB (all databases)' : `MySQL/MariaDB database ${name}`;
      specs.push({
        label, finalPath: join(settings.dir, dumpFileName('mysql', name)), secrets,
        command: { program: 'mysqldump', args: [...base, ...args], env: { ...settings.env } },
        check: async (path) => {
          if (!/-- Dump completed/.test(await tailOf(path))) throw new DumpError(`${label}: the dump has no closing marker: it is cut short`, 'check the disk space in DUMP_DIR and the server log');
        },
      });
    }
  }
  for (const database of settings.sqlite) {
    const label = `SQLite database ${database}`;
    specs.push({
      label, finalPath: join(settings.dir, dumpFileName('sqlite', database)),
      // VACUUM INTO copies the database inside one read transaction: consistent while the application
      // writes, and unlike the shell's .backup it never restarts when a writer commits meanwhile
      write: async (temporary) => {
        // sqlite3 would create a missing database (and dump it empty): a wrong path must fail
        if (!(await stat(database).then((s) => s.isFile(), () => false))) {
          throw new DumpError(`${label}: no such database file; the previous dump is kept`, 'check the path in DUMP_SQLITE');
        }
        const quoted = temporary.replace(/'/g, "''");
        await run('sqlite3', ['-readonly', '-bail', '-cmd', `.timeout ${Math.round(settings.sqliteTimeoutSeconds * 1000)}`, database, `VACUUM INTO '${quoted}'`]).catch((err) => {
          const why = String(err.stderr || err.message).trim().split('\n').at(-1);
          throw new DumpError(`${label}: sqlite3 failed: ${why}; the previous dump is kept`,
            /locked|busy/i.test(why ?? '') ? 'another program held the database locked longer than DUMP_SQLITE_TIMEOUT seconds' : 'check that the path is an SQLite database and readable');
        });
      },
      check: async (path) => {
        const { stdout } = await run('sqlite3', [path, 'pragma integrity_check']).catch((err) => ({ stdout: String(err.stderr || err.message) }));
        if (stdout.trim() !== 'ok') throw new DumpError(`${label}: the copy fails SQLite's integrity check: ${stdout.trim().split('\n')[0]}`, 'check the source database with "pragma integrity_check"');
      },
    });
  }
  return specs;
}

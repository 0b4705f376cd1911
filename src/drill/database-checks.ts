// The database part of a drill: every dump the restore brought back is loaded into a scratch
// database, a check query runs, and the scratch database is dropped again.
import { readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadDump } from '../dbdump/load.js';
import { tailOf } from '../dbdump/dump-file.js';
import type { DumpSettings } from '../dbdump/settings.js';

const run = promisify(execFile);

export interface DatabaseCheck {
  name: string;
  ok: boolean;
  message: string;
}

export async function checkDatabaseDumps(settings: DumpSettings, restoredTree: string): Promise<DatabaseCheck[]> {
  const dir = join(restoredTree, settings.dirInBackup);
  let files: string[];
  try {
    files = readdirSync(dir).filter((n) => /^(postgres|mysql|sqlite)-/.test(n)).sort();
  } catch {
    return [{ name: settings.dirInBackup, ok: false, message: 'the dump directory is not in the restored backup' }];
  }
  const checks: DatabaseCheck[] = [];
  const stamp = `${process.pid}_${Date.now() % 1e8}`;
  for (const file of files) {
    const path = join(dir, file);
    try {
      checks.push({ name: file, ok: true, message: await checkOne(settings, file, path, stamp) });
    } catch (err) {
      checks.push({ name: file, ok: false, message: (err as Error).message });
    }
  }
  return checks;
}

async function checkOne(settings: DumpSettings, file: string, path: string, stamp: string): Promise<string> {
  if (file.endsWith('-all.sql')) {
    const marker = file.startsWith('postgres') ? 'PostgreSQL database cluster dump complete' : '-- Dump completed';
    if (!(await tailOf(path)).includes(marker)) throw new Error('the dump of all databases is cut short (no closing marker)');
    return 'complete (a whole-server dump is not loaded into a scratch database)';
  }
  if (file.startsWith('sqlite-')) {
    const { stdout } = await run('sqlite3', [path, "pragma integrity_check; select name from sqlite_master where type = 'table' and name not like 'sqlite_%';"]);
    const [integrity, ...tables] = stdout.trim().split('\n').filter((l) => l !== '');
    if (integrity !== 'ok') throw new Error(`integrity check: ${integrity}`);
    let rows = 0;
    for (const table of tables) {
      const counted = await run('sqlite3', [path, `select count(*) from "${table.replace(/"/g, '""')}"`]);
      rows += Number(counted.stdout.trim());
    }
    return `${tables.length} tables, ${rows} rows, integrity ok`;
  }
  const engine = file.startsWith('postgres-') ? 'postgres' : 'mysql';
  const scratch = `lbdrill_${stamp}`;
  await loadDump({ engine, file: path, into: scratch, force: false, settings });
  try {
    if (engine === 'postgres') {
      // exact row counts: each table counted through query_to_xml, summed
      const args = ['-X', '-At', '-d', scratch, '-c', "select count(*) || ' tables, ' || coalesce(sum((xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), 0) || ' rows' from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"];
      const osUser = settings.postgres?.osUser;
      const [program, argv] = osUser && process.geteuid?.() === 0 ? ['runuser', ['-u', osUser, '--', 'psql', ...args]] : ['psql', args];
      const { stdout } = await run(program, argv, { env: { ...settings.env } });
      return stdout.trim();
    }
    const defaults = settings.mysql?.defaultsFile ? [`--defaults-extra-file=${settings.mysql.defaultsFile}`] : [];
    // InnoDB's table_rows is an estimate: said so
    const { stdout } = await run('mysql', [...defaults, '-N', '-s', '-e', `select concat(count(*), ' tables, about ', coalesce(sum(table_rows), 0), ' rows') from information_schema.tables where table_schema = '${scratch}'`], { env: { ...settings.env } });
    return stdout.trim().split('\n').at(-1) ?? '';
  } finally {
    await dropScratch(settings, engine, scratch).catch(() => undefined);
  }
}

async function dropScratch(settings: DumpSettings, engine: 'postgres' | 'mysql', name: string): Promise<void> {
  if (engine === 'postgres') {
    const osUser = settings.postgres?.osUser;
    const [program, argv] = osUser && process.geteuid?.() === 0 ? ['runuser', ['-u', osUser, '--', 'dropdb', name]] : ['dropdb', [name]];
    await run(program, argv, { env: { ...settings.env } });
  } else {
    const defaults = settings.mysql?.defaultsFile ? [`--defaults-extra-file=${settings.mysql.defaultsFile}`] : [];
    await run('mysql', [...defaults, '-e', `drop database \`${name}\``], { env: { ...settings.env } });
  }
}

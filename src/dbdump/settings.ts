// The conf's database settings (docs/databases.md): which databases to dump, as whom, and where.
import { isAbsolute, relative, resolve } from 'node:path';
import { ProfileError } from '../profile/conf.js';

export const DUMP_VARIABLES = ['DUMP_POSTGRES', 'DUMP_POSTGRES_OS_USER', 'DUMP_MYSQL', 'DUMP_MYSQL_DEFAULTS_FILE', 'DUMP_SQLITE', 'DUMP_SQLITE_TIMEOUT', 'DUMP_DIR'] as const;

export interface DumpSettings {
  /** where dumps are written; always inside SOURCE, so the backup carries them */
  dir: string;
  /** DUMP_DIR relative to SOURCE, as the backup's paths are */
  dirInBackup: string;
  postgres?: { databases: 'all' | string[]; osUser?: string };
  mysql?: { databases: 'all' | string[]; defaultsFile?: string };
  sqlite: string[];
  sqliteTimeoutSeconds: number;
  /** the conf's environment: PGHOST, PGPORT, PGUSER, PGPASSWORD, ... */
  env: Record<string, string>;
}

export const DEFAULT_DUMP_DIR = '/var/backups/lifeboat';

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(/[\s,]+/).filter((w) => w !== '');
}

export function dumpSettingsOf(vars: Partial<Record<string, string>>, source: string, env: Record<string, string>, isRoot = process.geteuid?.() === 0): DumpSettings | undefined {
  const pg = list(vars.DUMP_POSTGRES);
  const my = list(vars.DUMP_MYSQL);
  const lite = list(vars.DUMP_SQLITE);
  if (!pg && !my && !lite) return undefined;
  const dir = resolve(vars.DUMP_DIR || DEFAULT_DUMP_DIR);
  const inside = relative(resolve(source), dir);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new ProfileError(`DUMP_DIR '${dir}' is outside SOURCE '${source}', so the backup would not carry the dumps`, 'set DUMP_DIR to a directory inside SOURCE');
  }
  for (const db of [...(pg ?? []), ...(my ?? [])]) {
    if (!/^[A-Za-z0-9_.-]+$/.test(db)) throw new ProfileError(`database name '${db}' in DUMP_POSTGRES/DUMP_MYSQL has characters Lifeboat does not dump`, 'use plain names (letters, digits, _ . -) or "all"');
  }
  for (const path of lite ?? []) {
    if (!isAbsolute(path)) throw new ProfileError(`DUMP_SQLITE path '${path}' is not absolute`, 'give absolute paths to the database files');
  }
  const timeout = Number(vars.DUMP_SQLITE_TIMEOUT || 60);
  if (!Number.isFinite(timeout) || timeout < 0) throw new ProfileError(`DUMP_SQLITE_TIMEOUT '${vars.DUMP_SQLITE_TIMEOUT}' is not a number of seconds`, 'e.g. DUMP_SQLITE_TIMEOUT=60');
  const osUser = vars.DUMP_POSTGRES_OS_USER ?? (isRoot ? 'postgres' : '');
  return {
    dir, dirInBackup: inside,
    postgres: pg ? { databases: pg.length === 1 && pg[0] === 'all' ? 'all' : pg, osUser: osUser || undefined } : undefined,
    mysql: my ? { databases: my.length === 1 && my[0] === 'all' ? 'all' : my, defaultsFile: vars.DUMP_MYSQL_DEFAULTS_FILE || undefined } : undefined,
    sqlite: lite ?? [], sqliteTimeoutSeconds: timeout, env,
  };
}

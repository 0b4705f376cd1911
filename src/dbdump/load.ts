// Loading a dump back into a database: a new scratch database by default, never over an existing
// one without --force (docs/databases.md).
import { execFile, spawn } from 'node:child_process';
import { copyFile, rename, stat, unlink } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { ExitCode } from '../errors/exit-codes.js';
import { redact } from './dump-file.js';
import type { Engine } from './engines.js';
import type { DumpSettings } from './settings.js';

const run = promisify(execFile);

export class LoadError extends LifeboatError {
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { code: 'restore-db', exitCode: ExitCode.profileCommandFailed, hint, cause });
  }
}

export interface LoadRequest {
  engine: Engine;
  /** the fetched dump file */
  file: string;
  /** database name (postgres, mysql) or file path (sqlite) to load into */
  into: string;
  force: boolean;
  settings: DumpSettings;
}

function pgArgs(settings: DumpSettings, program: string, args: string[]): [string, string[]] {
  const osUser = settings.postgres?.osUser;
  return osUser && process.geteuid?.() === 0 ? ['runuser', ['-u', osUser, '--', program, ...args]] : [program, args];
}

function mysqlArgs(settings: DumpSettings, args: string[]): string[] {
  const file = settings.mysql?.defaultsFile;
  return [...(file ? [`--defaults-extra-file=${file}`] : []), ...args];
}

async function exec(settings: DumpSettings, program: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run(program, args, { env: { ...settings.env }, maxBuffer: 1 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = redact(String(e.stderr || e.message).trim().split('\n').slice(-2).join(' / '), [settings.env.PGPASSWORD, settings.env.MYSQL_PWD].filter(Boolean) as string[]);
    throw new LoadError(`${what} failed: ${why}`, 'check that the server runs and the credentials in the conf', err);
  }
}

/** Feeds a file to a program's stdin (mysql < dump): streamed, never read whole. */
async function execWithInput(settings: DumpSettings, program: string, args: string[], file: string, what: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(program, args, { env: { ...settings.env }, stdio: [handle.fd, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new LoadError(`${what} failed: ${stderr.trim().split('\n').slice(-2).join(' / ')}`, 'the database was created but may hold part of the dump; drop it before trying again'))));
    });
  } finally {
    await handle.close();
  }
}

export async function loadDump(request: LoadRequest): Promise<void> {
  const { engine, file, into, force, settings } = request;
  if (engine === 'sqlite') {
    const exists = await stat(into).then(() => true, () => false);
    if (exists && !force) throw new LoadError(`${into} exists; restore-db does not overwrite it`, 'pass --into with a new path, or --force to replace it');
    const temporary = `${into}.lifeboat-tmp-${process.pid}`;
    try {
      await copyFile(file, temporary);
      await rename(temporary, into);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw new LoadError(`cannot write ${into}: ${(err as Error).message}`, 'check the directory exists and is writable', err);
    }
    return;
  }
  if (!/^[A-Za-z0-9_]+$/.test(into)) throw new LoadError(`'${into}' is not a database name restore-db creates`, 'use letters, digits and _');
  if (engine === 'postgres') {
    const [p, a] = pgArgs(settings, 'psql', ['-X', '-At', '-d', 'postgres', '-c', `select 1 from pg_database where datname = '${into}'`]);
    const exists = (await exec(settings, p, a, 'PostgreSQL: looking up the database')).trim() === '1';
    if (exists && !force) throw new LoadError(`database ${into} exists; restore-db never loads over a live database`, 'pass --into NEWNAME, or --force to replace its contents');
    if (!exists) {
      const [cp, ca] = pgArgs(settings, 'createdb', [into]);
      await exec(settings, cp, ca, `PostgreSQL: creating database ${into}`);
    }
    // on stdin: the postgres OS user cannot read our private scratch directory
    const [rp, ra] = pgArgs(settings, 'pg_restore', ['--exit-on-error', ...(exists ? ['--clean', '--if-exists'] : []), '--dbname', into]);
    await execWithInput(settings, rp, ra, file, `PostgreSQL: loading the dump into ${into}`);
    return;
  }
  const exists = (await exec(settings, 'mysql', mysqlArgs(settings, ['-N', '-s', '-e', `select schema_name from information_schema.schemata where schema_name = '${into}'`]), 'MySQL/MariaDB: looking up the database')).trim() === into;
  if (exists && !force) throw new LoadError(`database ${into} exists; restore-db never loads over a live database`, 'pass --into NEWNAME, or --force to replace its contents');
  if (!exists) await exec(settings, 'mysql', mysqlArgs(settings, ['-e', `create database \`${into}\``]), `MySQL/MariaDB: creating database ${into}`);
  await execWithInput(settings, 'mysql', mysqlArgs(settings, [into]), file, `MySQL/MariaDB: loading the dump into ${into}`);
}

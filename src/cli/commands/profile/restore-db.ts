// `lifeboat PROFILE restore-db NAME [--time T] [--into DB] [--force]`: fetches one database dump from
// the backup and loads it into a new scratch database (docs/databases.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProfileError } from '../../../profile/conf.js';
import { dumpFileName, type Engine } from '../../../dbdump/engines.js';
import { loadDump } from '../../../dbdump/load.js';
import { runProfileDuplicity, type ProfileCommand } from '../profile.js';

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, options: { time: { type: 'string', short: 't' }, into: { type: 'string' }, force: { type: 'boolean' } } });
  } catch (err) {
    throw new ProfileError(`restore-db: ${(err as Error).message}`, 'usage: lifeboat PROFILE restore-db ENGINE:NAME [--time T] [--into DB] [--force]');
  }
}

/** postgres:shop, mysql:shop, sqlite:/srv/app/db.sqlite3 */
function parseName(name: string): { engine: Engine; database: string } {
  const m = /^(postgres|postgresql|pg|mysql|mariadb|sqlite):(.+)$/.exec(name);
  if (!m) throw new ProfileError(`restore-db: '${name}' does not say which database`, 'write ENGINE:NAME, e.g. postgres:shop, mysql:shop or sqlite:/srv/app/db.sqlite3');
  const engine: Engine = m[1].startsWith('p') ? 'postgres' : m[1] === 'sqlite' ? 'sqlite' : 'mysql';
  if (m[2] === 'all') throw new ProfileError(`restore-db: a dump of all ${engine} databases restores a whole server, not one database`, `fetch it with "lifeboat PROFILE fetch <DUMP_DIR>/${dumpFileName(engine, 'all')} FILE" and load it into a fresh server`);
  return { engine, database: m[2] };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
}

export const restoreDb: ProfileCommand = async (profile, ctx) => {
  const { values, positionals } = parse(profile.rest);
  if (positionals.length !== 1) throw new ProfileError('restore-db: give one database', 'usage: lifeboat PROFILE restore-db ENGINE:NAME [--time T] [--into DB] [--force]');
  const dumps = profile.settings.dumps;
  if (!dumps) throw new ProfileError('restore-db: the conf dumps no databases (DUMP_POSTGRES, DUMP_MYSQL, DUMP_SQLITE)', 'configure the dumps first; see docs/databases.md');
  const { engine, database } = parseName(positionals[0]);
  const file = dumpFileName(engine, database);
  const scratch = mkdtempSync(join(profile.settings.tempDir, 'lifeboat-restore-db-'));
  try {
    const fetched = join(scratch, file);
    const pathInBackup = dumps.dirInBackup ? `${dumps.dirInBackup}/${file}` : file;
    const code = await runProfileDuplicity(profile, 'fetch', [pathInBackup, fetched, values.time ?? 'now'], ['--verbosity', String(profile.out.verbosity)], ctx);
    if (code !== 0) throw new ProfileError(`restore-db: could not fetch ${pathInBackup} from the backup (exit ${code})`, `is ${engine}:${database} in DUMP_${engine === 'postgres' ? 'POSTGRES' : engine.toUpperCase()}, and was a backup made since? "lifeboat PROFILE list" shows the files`);
    const into = values.into ?? (engine === 'sqlite' ? join(process.cwd(), `${basename(database)}.restored-${stamp()}`) : `${database.replace(/[^A-Za-z0-9_]/g, '_')}_restored_${stamp()}`);
    await loadDump({ engine, file: fetched, into, force: values.force === true, settings: dumps });
    ctx.out.result(`Loaded ${file} from the backup${values.time ? ` at ${values.time}` : ''} into ${engine === 'sqlite' ? into : `database ${into}`}\n`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

// The dump step of a backup: every configured database, one after the other, each checked and
// atomic; a failure is reported and fails the backup (as a failed pre does) without stopping the rest.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { makeDump, type DumpResult } from './dump-file.js';
import { dumpSpecs } from './engines.js';
import type { DumpSettings } from './settings.js';

export interface DumpReport {
  done: DumpResult[];
  failures: { label: string; message: string; hint?: string }[];
}

export async function runDumps(settings: DumpSettings): Promise<DumpReport> {
  await mkdir(settings.dir, { recursive: true, mode: 0o700 });
  const report: DumpReport = { done: [], failures: [] };
  for (const spec of dumpSpecs(settings)) {
    try {
      report.done.push(await makeDump(spec));
    } catch (err) {
      const e = err as Error & { hint?: string };
      report.failures.push({ label: spec.label, message: e.message, hint: e.hint });
    }
  }
  return report;
}

const RAW_DIRECTORIES: [keyof Pick<DumpSettings, 'postgres' | 'mysql'>, string][] = [['postgres', '/var/lib/postgresql'], ['mysql', '/var/lib/mysql']];

/**
 * The raw data directory of a dumped engine, when the backup would copy it too: a live copy is
 * corrupt and only costs space. Judged by whether the exclude file or DUPL_PARAMS names it.
 */
export function rawDirectoriesNotExcluded(settings: DumpSettings, source: string, excludeFile: string, duplParams: string[]): string[] {
  const excludes = (existsSync(excludeFile) ? readFileSync(excludeFile, 'utf8') : '') + '\n' + duplParams.join('\n');
  const found: string[] = [];
  for (const [engine, dir] of RAW_DIRECTORIES) {
    if (!settings[engine]) continue;
    const inside = relative(source, dir);
    if (inside.startsWith('..') || isAbsolute(inside) || !existsSync(dir)) continue;
    if (!excludes.includes(dir) && !excludes.includes(join('**', inside))) found.push(dir);
  }
  return found;
}

// Writes and removes the schedule's files. The places can be moved for tests (LIFEBOAT_CRON_DIR,
// LIFEBOAT_SYSTEMD_DIR); then systemctl is left alone, since the units are not the system's.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { ExitCode } from '../errors/exit-codes.js';
import { MARKER } from './units.js';

export type ScheduleKind = 'cron' | 'systemd';

export interface SchedulePlaces {
  cronDir: string;
  systemdDir: string;
  /** systemd is the init system here (/run/systemd/system exists) */
  systemdRuns: boolean;
  /** the test hooks moved a place: do not talk to systemctl */
  moved: boolean;
}

export function schedulePlaces(env: NodeJS.ProcessEnv): SchedulePlaces {
  return {
    cronDir: env.LIFEBOAT_CRON_DIR || '/etc/cron.d',
    systemdDir: env.LIFEBOAT_SYSTEMD_DIR || '/etc/systemd/system',
    systemdRuns: existsSync('/run/systemd/system'),
    moved: Boolean(env.LIFEBOAT_CRON_DIR || env.LIFEBOAT_SYSTEMD_DIR),
  };
}

export function filesOf(kind: ScheduleKind, base: string, places: SchedulePlaces): string[] {
  return kind === 'cron' ? [join(places.cronDir, base)] : [join(places.systemdDir, `${base}.service`), join(places.systemdDir, `${base}.timer`)];
}

export function isOurs(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').startsWith(MARKER);
  } catch {
    return false;
  }
}

/** Writes the files (temp + rename), refusing to replace one Lifeboat did not write. */
export function writeScheduleFiles(files: { path: string; text: string }[]): void {
  for (const { path } of files) {
    if (existsSync(path) && !isOurs(path)) {
      throw new LifeboatError(`${path} exists and was not written by Lifeboat; it is left alone`, {
        code: 'schedule-foreign-file', exitCode: ExitCode.userError, hint: 'remove or rename it yourself, then run schedule again',
      });
    }
  }
  for (const { path, text } of files) {
    const temp = `${path}.lifeboat-tmp`;
    try {
      // cron.d files must not be group- or world-writable, or cron ignores them
      writeFileSync(temp, text, { mode: 0o644 });
      renameSync(temp, path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new LifeboatError(`cannot write ${path}: ${(err as Error).message}`, {
        code: 'schedule-write', exitCode: ExitCode.userError,
        hint: (err as NodeJS.ErrnoException).code === 'EACCES' ? 'schedule writes system files: run it as root' : 'check that the directory exists and is writable',
        cause: err,
      });
    }
  }
}

/** Removes the files of `kind` that Lifeboat wrote; returns [removed, left alone]. */
export function removeScheduleFiles(paths: string[]): { removed: string[]; foreign: string[] } {
  const removed: string[] = [];
  const foreign: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    if (!isOurs(path)) { foreign.push(path); continue; }
    rmSync(path);
    removed.push(path);
  }
  return { removed, foreign };
}

/** systemctl, when it manages the units we wrote; returns an error line or undefined. */
export function systemctl(places: SchedulePlaces, args: string[]): string | undefined {
  if (places.moved || !places.systemdRuns) return undefined;
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `systemctl ${args.join(' ')} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
}

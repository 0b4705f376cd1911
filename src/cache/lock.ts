// One run at a time per archive dir, as duplicity's lockfile ensures: two cron jobs on the same target
// must not interleave their sets. The lock is a file created exclusively, holding the owner's pid and
// host; a lock whose process is gone (killed, machine rebooted) is taken over.
import { hostname } from 'node:os';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

/** Not duplicity's `lockfile`: duplicity holds that one with fcntl locks, which Node cannot take. */
export const LOCK_NAME = 'lifeboat.lock';

export type ReleaseLock = () => Promise<void>;

export async function lockArchiveDir(dir: string): Promise<ReleaseLock> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid} ${hostname()}\n`);
      await handle.close();
      return async () => { await unlink(path).catch(() => undefined); };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const owner = await readFile(path, 'utf8').catch(() => '');
    const [pidText, host] = owner.trim().split(' ');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new LifeboatError(`Another Lifeboat run (pid ${pid}) is already using the archive dir ${dir}`, {
        code: 'locked', exitCode: ExitCode.usage,
        hint: `wait for it to finish; if no other run is active, remove ${path}`,
      });
    }
    if (host !== undefined && host !== hostname() && Number.isInteger(pid)) {
      throw new LifeboatError(`The archive dir ${dir} is locked by a run on host ${host} (pid ${pid})`, {
        code: 'locked', exitCode: ExitCode.usage,
        hint: `if that run is over, remove ${path}`,
      });
    }
    // the owner is gone: take the lock over
    await unlink(path).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

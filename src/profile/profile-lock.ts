// Two runs of one profile never overlap (duply has no lock; its duplicity calls fail instead). The
// second run waits up to LOCK_WAIT seconds for the first, then gives up with a clear message.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lockArchiveDir, type ReleaseLock } from '../cache/lock.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { FATAL } from './conf.js';

export function profileLockDir(profileDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'lifeboat', 'profile-locks', createHash('sha1').update(profileDir).digest('hex'));
}

export async function lockProfile(profileDir: string, waitSeconds: number, onWait: (line: string) => void): Promise<ReleaseLock> {
  const dir = profileLockDir(profileDir);
  const deadline = Date.now() + waitSeconds * 1000;
  let told = false;
  for (;;) {
    try {
      return await lockArchiveDir(dir);
    } catch (err) {
      if (!(err instanceof LifeboatError) || err.code !== 'locked') throw err;
      if (Date.now() >= deadline) {
        throw new LifeboatError(`another run of the profile ${profileDir} is still going after ${waitSeconds} s of waiting: ${err.message}`, {
          code: 'profile-locked', exitCode: FATAL,
          hint: 'let it finish (or stop it); LOCK_WAIT in the conf sets how long a second run waits',
        });
      }
      if (!told) onWait(`Another run of this profile is active; waiting up to ${waitSeconds} s for it to finish.`);
      told = true;
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, deadline - Date.now()))));
    }
  }
}

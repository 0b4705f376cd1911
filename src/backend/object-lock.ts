// Object lock on upload: where the store supports it (S3 Object Lock, B2 file lock), each file is put
// with a retention date, so nobody (with compliance mode: not even the account owner) can delete or
// replace it before then. A profile turns it on with OBJECT_LOCK (docs/hardening.md); the profile layer
// passes it to `lifeboat duplicity` as LIFEBOAT_OBJECT_LOCK="MODE:SECONDS" in the environment, and each
// put locks its file until its upload time plus SECONDS.
import { BackendError } from './errors.js';

export type LockMode = 'governance' | 'compliance';

export interface ObjectLockSetting {
  mode: LockMode;
  /** how long after its upload a file stays locked */
  seconds: number;
}

export const OBJECT_LOCK_ENV = 'LIFEBOAT_OBJECT_LOCK';

export function formatObjectLock(setting: ObjectLockSetting): string {
  return `${setting.mode}:${setting.seconds}`;
}

/** LIFEBOAT_OBJECT_LOCK from a backend's environment; undefined when it is not set. */
export function objectLockFrom(env: NodeJS.ProcessEnv): ObjectLockSetting | undefined {
  const value = env[OBJECT_LOCK_ENV];
  if (value === undefined || value === '') return undefined;
  const m = /^(governance|compliance):(\d+)$/.exec(value);
  if (!m || Number(m[2]) <= 0) {
    throw new BackendError('permanent', `${OBJECT_LOCK_ENV}="${value}" is not MODE:SECONDS`, {
      hint: 'e.g. LIFEBOAT_OBJECT_LOCK=governance:2592000 (30 days); profiles set OBJECT_LOCK and MAX_AGE instead',
    });
  }
  return { mode: m[1] as LockMode, seconds: Number(m[2]) };
}

/** The retain-until date of a file uploaded now. */
export function retainUntil(setting: ObjectLockSetting, now = Date.now()): Date {
  return new Date(now + setting.seconds * 1000);
}

// The routine's log: one file per profile, everything the run prints (stdout and stderr), rotated by
// size before a run starts (NAME.log -> NAME.log.1 -> ... up to LOG_KEEP files).
import { createWriteStream, mkdirSync, openSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ProfileError } from '../profile/conf.js';

export interface LogPlace {
  path: string;
  maxBytes: number;
  keep: number;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** LOG_FILE, LOG_MAX_SIZE, LOG_KEEP from the conf; else /var/log/lifeboat (root) or ~/.local/state/lifeboat. */
export function logPlace(name: string, vars: Record<string, string | undefined>, env: NodeJS.ProcessEnv): LogPlace {
  const dir = env.LIFEBOAT_LOG_DIR || (process.geteuid?.() === 0 ? '/var/log/lifeboat'
    : join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'lifeboat'));
  const path = vars.LOG_FILE || join(dir, `${name}.log`);
  const sizeText = vars.LOG_MAX_SIZE || '10M';
  const size = /^([0-9]+)([KMG]?)$/i.exec(sizeText);
  if (!size) throw new ProfileError(`LOG_MAX_SIZE '${sizeText}' is not a size`, 'e.g. LOG_MAX_SIZE=10M (bytes, or K, M, G)');
  const keepText = vars.LOG_KEEP || '5';
  if (!/^[0-9]+$/.test(keepText) || Number(keepText) < 1) throw new ProfileError(`LOG_KEEP '${keepText}' is not a number of files`, 'e.g. LOG_KEEP=5');
  return { path, maxBytes: Number(size[1]) * SIZE_UNITS[size[2].toUpperCase()], keep: Number(keepText) };
}

/** Shifts NAME.log to NAME.log.1 (and so on) when it has reached the size; the oldest is dropped. */
export function rotate(place: LogPlace): void {
  let size: number;
  try {
    size = statSync(place.path).size;
  } catch {
    return;
  }
  if (size < place.maxBytes) return;
  const old = (n: number) => (n === 0 ? place.path : `${place.path}.${n}`);
  rmSync(old(place.keep - 1), { force: true });
  for (let n = place.keep - 2; n >= 0; n--) {
    try {
      renameSync(old(n), old(n + 1));
    } catch { /* a gap in the series */ }
  }
}

export class RotatingLog {
  private constructor(readonly path: string, private readonly stream: WriteStream) {}

  static open(place: LogPlace): RotatingLog {
    let fd: number;
    try {
      mkdirSync(dirname(place.path), { recursive: true, mode: 0o700 });
      rotate(place);
      // opened here so that a log that cannot be written stops the run before it starts
      fd = openSync(place.path, 'a', 0o600);
    } catch (err) {
      throw new ProfileError(`cannot use the log file ${place.path}: ${(err as Error).message}`, 'set LOG_FILE in the conf to a writable place', err);
    }
    return new RotatingLog(place.path, createWriteStream('', { fd }));
  }

  write(chunk: string | Uint8Array): void {
    this.stream.write(chunk);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}

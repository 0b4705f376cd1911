// The audit's real test of what the credentials can do to files already stored: on one dedicated file,
// `lifeboat-canary` (a name duplicity and Lifeboat's retention ignore), written by Lifeboat itself, it
// tries to overwrite it and then to delete it. It never touches any other name: not a volume, not a
// manifest, not a signature file, whatever rights the credentials have.
import { Readable } from 'node:stream';
import { BackendError } from '../backend/errors.js';
import type { Backend, ProtectionFacts } from '../backend/types.js';
import { parseArchiveName } from '../duplicity/file-names.js';

export const CANARY_NAME = 'lifeboat-canary';

export type ProbeOutcome =
  /** the store refused: these credentials cannot do it */
  | { result: 'refused'; why: string }
  /** it worked */
  | { result: 'done' }
  /** not tried (an earlier step failed) */
  | { result: 'skipped'; why: string };

export interface CanaryReport {
  /** the canary was there from an earlier audit (its delete was refused then) */
  existed: boolean;
  /** writing a new file: if this is refused, backups cannot be written either */
  write: ProbeOutcome;
  overwrite: ProbeOutcome;
  /** after an overwrite was accepted: the bytes read back are the new ones */
  overwriteReplaced?: boolean;
  delete: ProbeOutcome;
  /** the stored canary can be opened for writing in place (file systems, SFTP): its bytes could be overwritten */
  writableInPlace?: boolean;
  /** the canary is under object lock (a bucket default retention): why a delete is refused may be the lock */
  canaryLockedUntil?: Date | null;
}

/** Names the canary may never be: anything duplicity or Lifeboat would read as its own. */
function assertHarmless(name: string): void {
  if (parseArchiveName(name) !== null || name.startsWith('duplicity-') || name.startsWith('lifeboat-drill.')) {
    throw new Error(`refusing to probe "${name}": it is a backup file name`);
  }
}

function source(what: string) {
  const data = Buffer.from(`Lifeboat's canary: ${what} at ${new Date().toISOString()} by "lifeboat PROFILE audit".\nNot a backup file; safe to delete.\n`);
  return { size: data.length, open: () => Readable.from([data]) };
}

function refusal(err: unknown): ProbeOutcome {
  if (err instanceof BackendError && (err.kind === 'auth' || err.kind === 'permanent')) return { result: 'refused', why: err.message };
  throw err;
}

async function readText(backend: Backend, name: string): Promise<string> {
  return backend.read(name, async (body) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  });
}

async function exists(backend: Backend, name: string): Promise<boolean> {
  for await (const f of backend.list({ prefix: name })) if (f.name === name) return true;
  return false;
}

export async function probeCanary(backend: Backend, name = CANARY_NAME): Promise<CanaryReport> {
  assertHarmless(name);
  const existed = await exists(backend, name);
  const report: CanaryReport = {
    existed,
    write: { result: 'skipped', why: 'the canary is there from an earlier audit' },
    overwrite: { result: 'skipped', why: 'the canary could not be written' },
    delete: { result: 'skipped', why: 'the canary could not be written' },
  };
  if (!existed) {
    try {
      await backend.put(name, source('written'));
      report.write = { result: 'done' };
    } catch (err) {
      report.write = refusal(err);
      return report;
    }
  }
  try {
    await backend.put(name, source('overwritten'));
    report.overwrite = { result: 'done' };
    report.overwriteReplaced = (await readText(backend, name)).includes(': overwritten at ');
  } catch (err) {
    report.overwrite = refusal(err);
  }
  report.writableInPlace = await backend.writableInPlace?.(name);
  report.canaryLockedUntil = await backend.lockedUntil?.(name);
  try {
    await backend.delete([name]);
    report.delete = (await exists(backend, name)) ? { result: 'refused', why: 'the file is still listed after the delete' } : { result: 'done' };
  } catch (err) {
    report.delete = refusal(err);
  }
  return report;
}

export type { ProtectionFacts };

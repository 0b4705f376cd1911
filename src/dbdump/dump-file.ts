// One dump, written as a checked, atomic file: the dump program writes to a temporary name beside the
// final one; only when it exited 0, wrote something and its output passes the engine's check is the
// file fsynced and renamed over the previous dump. A failed dump leaves the previous good one intact.
import { syncDirectory } from '../fsmeta/atomic-write.js';
import { spawn } from 'node:child_process';
import { open, rename, unlink, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { ExitCode } from '../errors/exit-codes.js';

export class DumpError extends LifeboatError {
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { code: 'dump-failed', exitCode: ExitCode.profileCommandFailed, hint, cause });
  }
}

export interface DumpCommand {
  program: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface DumpSpec {
  /** "PostgreSQL database shop", for messages */
  label: string;
  finalPath: string;
  /** produces the dump on stdout; undefined when `write` makes the file itself */
  command?: DumpCommand;
  /** makes the dump at the temporary path itself (SQLite's online backup) */
  write?(temporary: string): Promise<void>;
  /** inspects the finished temporary file; throws a DumpError when it is not a complete dump */
  check(temporary: string): Promise<void>;
  /** words that must never appear in a message (passwords) */
  secrets?: string[];
}

export interface DumpResult {
  label: string;
  path: string;
  bytes: number;
}

export async function makeDump(spec: DumpSpec): Promise<DumpResult> {
  const temporary = `${spec.finalPath}.lifeboat-tmp-${process.pid}`;
  try {
    if (spec.command) await runToFile(spec, spec.command, temporary);
    else await spec.write!(temporary);
    const { size } = await stat(temporary);
    if (size === 0) throw new DumpError(`${spec.label}: the dump is empty`, 'check that the database exists and the dump user can read it');
    await spec.check(temporary);
    const handle = await open(temporary, 'r');
    // dumps hold every row of the database: owner-only, as duply's umask 077 makes its files
    await handle.chmod(0o600);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, spec.finalPath);
    await syncDirectory(dirname(spec.finalPath));
    return { label: spec.label, path: spec.finalPath, bytes: size };
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    if (err instanceof DumpError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new DumpError(`${spec.label}: no space left in ${dirname(spec.finalPath)}; the previous dump is kept`, 'free space there or set DUMP_DIR to a bigger disk', err);
    }
    throw new DumpError(`${spec.label}: ${redact((err as Error).message, spec.secrets)}`, 'see the message above', err);
  }
}

async function runToFile(spec: DumpSpec, command: DumpCommand, temporary: string): Promise<void> {
  const out = await open(temporary, 'wx', 0o600);
  try {
    await new Promise<void>((resolve, reject) => {
      // the dump program writes straight into the file: nothing of it passes through memory here
      const child = spawn(command.program, command.args, { env: command.env ?? process.env, stdio: ['ignore', out.fd, 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
      child.on('error', (err) => reject(new DumpError(`${spec.label}: cannot run ${command.program}: ${err.message}`, `install ${command.program}`, err)));
      child.on('close', async (code, signal) => {
        if (code === 0) return resolve();
        const why = lastLines(redact(stderr, spec.secrets)) || (signal ? `killed by ${signal}` : `exit code ${code}`);
        // a full disk shows in the dump program's own words; say it plainly
        if (/No space left on device/i.test(stderr)) {
          return reject(new DumpError(`${spec.label}: no space left in ${dirname(spec.finalPath)}; the previous dump is kept`, 'free space there or set DUMP_DIR to a bigger disk'));
        }
        reject(new DumpError(`${spec.label}: ${command.program} failed: ${why}; the previous dump is kept`, hintFor(stderr)));
      });
    });
  } finally {
    await out.close();
  }
}

function hintFor(stderr: string): string {
  if (/password authentication failed|Access denied|authentication/i.test(stderr)) return 'check the dump credentials (the defaults file, PGUSER/PGPASSWORD exported in the conf)';
  if (/Connection refused|could not connect|Can't connect|No such file or directory.*socket/i.test(stderr)) return 'is the database server running? check the host and port (PGHOST/PGPORT, the defaults file)';
  if (/does not exist|Unknown database/i.test(stderr)) return 'check the database names in DUMP_POSTGRES / DUMP_MYSQL';
  return 'run the dump by hand to see more';
}

function lastLines(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' / ');
}

export function redact(text: string, secrets: string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('***');
  return out;
}

/** The last bytes of a file, to look for a dump's closing marker without reading it all. */
export async function tailOf(path: string, bytes = 4096): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(bytes, size);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function headOf(path: string, bytes = 16): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

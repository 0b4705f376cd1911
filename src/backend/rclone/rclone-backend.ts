// rclone:// targets: any storage rclone reaches, through the rclone program. A put streams into
// `rclone rcat` under a temporary name and `rclone moveto` gives it its name (a rename on most
// remotes, a server-side copy on object stores), so the real name never holds half a volume.
import { randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend, OperationOptions, PutSource } from '../types.js';
import { BackendError } from '../errors.js';
import { TEMPORARY_MARKER } from '../file/file-backend.js';
import { classifyRclone, runRclone, startRclone, type RcloneRunner } from './rclone-program.js';

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}

interface LsjsonEntry {
  Name: string;
  Size: number;
  IsDir: boolean;
}

export class RcloneBackend implements Backend {
  readonly displayUrl: string;
  readonly capabilities = { connections: 4, atomicPut: true };
  readonly #remotePath: string;
  readonly #runner: RcloneRunner;

  /** `remotePath` as rclone takes it: "remote:dir", "remote:/abs/dir" */
  constructor(remotePath: string, runner: RcloneRunner, displayUrl: string) {
    this.#remotePath = remotePath;
    this.#runner = runner;
    this.displayUrl = displayUrl;
  }

  #path(name: string): string {
    return /[:/]$/.test(this.#remotePath) ? `${this.#remotePath}${name}` : `${this.#remotePath}/${name}`;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const result = await runRclone(this.#runner, ['lsjson', '--files-only', '--no-modtime', '--no-mimetype', this.#remotePath], options.signal);
    if (result.code === 3) return; // the directory does not exist: nothing stored yet
    if (result.code !== 0) throw classifyRclone(result, `list ${this.#remotePath}`, this.#runner.env);
    const entries = JSON.parse(result.stdout) as LsjsonEntry[];
    entries.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    for (const entry of entries) {
      if (entry.IsDir || entry.Name.includes(TEMPORARY_MARKER)) continue;
      if (options.prefix && !entry.Name.startsWith(options.prefix)) continue;
      yield { name: entry.Name, size: entry.Size };
    }
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    checkName(name);
    options.signal?.throwIfAborted();
    // the marker leads the name: duplicity reads "<manifest name>.<anything>" as that manifest
    const temporary = this.#path(`${TEMPORARY_MARKER}${randomBytes(4).toString('hex')}.${name}`);
    const target = this.#path(name);
    // --size lets remotes that need the length up front take one plain upload instead of spooling
    const { child, done } = startRclone(this.#runner, ['rcat', '--size', String(source.size), temporary], 'pipe');
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      try {
        await pipeline(source.open(), counter, child.stdin!, { signal: options.signal });
      } catch (err) {
        // rclone must not finish the upload of what it got so far
        child.kill('SIGTERM');
        const result = await done;
        if (result.code !== 0 && (err as NodeJS.ErrnoException).code === 'EPIPE') throw classifyRclone(result, `put ${target}`, this.#runner.env);
        throw err;
      }
      const result = await done;
      if (result.code !== 0) throw classifyRclone(result, `put ${target}`, this.#runner.env);
      if (sent !== source.size) {
        throw new BackendError('permanent', `${name}: the source gave ${sent} bytes, ${source.size} were announced`);
      }
      const moved = await runRclone(this.#runner, ['moveto', temporary, target]);
      if (moved.code !== 0) throw classifyRclone(moved, `put ${target}`, this.#runner.env);
    } catch (err) {
      await runRclone(this.#runner, ['deletefile', '--retries', '1', temporary]).catch(() => undefined);
      throw err;
    }
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    checkName(name);
    const path = this.#path(name);
    const { child, done } = startRclone(this.#runner, ['cat', path], 'ignore', options.signal);
    // the body ends only once rclone says it succeeded: a failure late in the file is an error, not EOF
    const body = new PassThrough({ highWaterMark: 1 << 16 });
    child.stdout!.pipe(body, { end: false });
    done.then(
      (result) => {
        if (result.code === 0) body.end();
        else body.destroy(classifyRclone(result, `read ${path}`, this.#runner.env));
      },
      (err) => body.destroy(err as Error),
    );
    try {
      return await consume(body);
    } finally {
      body.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    names.forEach(checkName);
    for (const name of names) {
      // one file at a time by its full name: a filter could match more than was asked for
      const result = await runRclone(this.#runner, ['deletefile', '--retries', '1', this.#path(name)], options.signal);
      if (result.code === 0) continue;
      const error = classifyRclone(result, `delete ${this.#path(name)}`, this.#runner.env);
      if (error.kind !== 'not-found') throw error;
    }
  }

  async close(): Promise<void> {}
}

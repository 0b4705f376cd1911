// Puts a restore on disk before Lifeboat says it is done. Without it the restored files may still sit
// in the page cache when the command exits, and a crash soon after (a restored server is often
// rebooted at once) leaves empty or short files under their final names. Node has no syncfs(2), so
// coreutils' `sync -f PATH` runs it on PATH's file system. While the restore writes, a flush starts in
// the background each time `every` bytes were written since the last one began: the kernel writes
// back alongside the restore instead of all at the end (bench/README, sixteenth pass).
import { spawn } from 'node:child_process';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

/** measured on the benchmark's restore: 8 MiB slower than none, 128 and 256 MiB the fastest */
export const FLUSH_EVERY = 128 << 20;

export class FileSystemFlusher {
  readonly #path: string;
  readonly #onWarning: (line: string) => void;
  readonly #every: number;
  #since = 0;
  #running: Promise<void> | undefined;
  #failure: Error | undefined;
  #unavailable = false;

  /** `path` must exist, and stay on the same file system, whenever a flush may start. */
  constructor(path: string, onWarning: (line: string) => void, every = FLUSH_EVERY) {
    this.#path = path;
    this.#onWarning = onWarning;
    this.#every = every;
  }

  /**
   * One flush before the restore writes anything, whose failure is only a warning. syncfs reports a
   * write-back error to the first opener that has not seen it, so an old error of other files on the
   * same file system would otherwise fail this restore's first flush and throw its work away. Await
   * it before writing: then no error of the restore's own files can be taken for an old one.
   */
  async begin(): Promise<void> {
    let failed: string | undefined;
    try {
      failed = await syncFileSystem(this.#path);
    } catch (err) {
      // a sync that cannot start now (EAGAIN...) has seen no error: the flushes to come will
      if (isMissingProgram(err)) this.#noProgram();
      return;
    }
    if (failed !== undefined) {
      this.#warn(`the file system of ${this.#path} reported a write error from before this restore (${failed}); the restore goes on: check the disk and the kernel log (dmesg)`);
    }
  }

  /** Counts bytes handed to the file system; may start a flush in the background. */
  wrote(bytes: number): void {
    this.#since += bytes;
    if (this.#since >= this.#every && !this.#running) this.#start(false);
  }

  /**
   * Waits for a flush under way, runs the last one and throws if any of them failed: each flush opens
   * the file system anew, and syncfs reports a write-back error to one caller only, so an error an
   * earlier flush saw is not seen again by the last. `others`: more file systems the restore wrote to
   * (mounted below an in-place destination), flushed once here.
   */
  async finish(others: readonly string[] = []): Promise<void> {
    await this.#running;
    for (const path of [this.#path, ...others]) {
      this.#start(true, path);
      await this.#running;
    }
    if (this.#failure) throw this.#failure;
  }

  /** The restore failed or made nothing: waits for a flush under way, reporting nothing. */
  async abandon(): Promise<void> {
    await this.#running;
  }

  #start(last: boolean, path = this.#path): void {
    this.#since = 0;
    if (this.#failure || this.#unavailable) return;
    this.#running = syncFileSystem(path)
      .then((failed) => {
        if (failed !== undefined) this.#failure ??= flushFailed(failed);
      }, (err: NodeJS.ErrnoException) => {
        if (isMissingProgram(err)) this.#noProgram();
        // a background sync that could not start saw no error, and the last one still runs
        else if (last) this.#failure ??= flushFailed(`sync could not be started: ${err.code ?? err.message}`);
      })
      .finally(() => { this.#running = undefined; });
  }

  #noProgram(): void {
    if (this.#unavailable) return;
    this.#unavailable = true;
    this.#warn(`cannot flush the restored files to disk: there is no "sync" program (coreutils) on PATH; run "sync" before relying on them`);
  }

  #warn(line: string): void {
    try {
      this.#onWarning(line);
    } catch { /* a warning that cannot be shown must not become an unhandled rejection */ }
  }
}

function isMissingProgram(err: unknown): boolean {
  const { code, syscall } = err as NodeJS.ErrnoException;
  return code === 'ENOENT' && syscall?.startsWith('spawn') === true;
}

function flushFailed(why: string): LifeboatError {
  return new LifeboatError(`the restored files could not be flushed to disk (${why})`, {
    code: 'flush-failed', exitCode: ExitCode.userError,
    hint: 'check the disk and the kernel log (dmesg), then restore again',
  });
}

/**
 * syncfs(2) on the file system holding `path`, through `sync -f` (coreutils 8.24 and later): resolves
 * with nothing when it succeeded, with why when it failed; rejects when sync could not be started.
 */
function syncFileSystem(path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('sync', ['-f', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('error', reject);
    let stderr = '';
    // no stderr when the spawn itself failed (EMFILE...): the 'error' above reports it
    child.stderr?.setEncoding('utf8').on('data', (text: string) => { if (stderr.length < 4096) stderr += text; });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(undefined);
      else resolve(stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit status ${code}`));
    });
  });
}

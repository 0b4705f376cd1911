// Writes replayed objects into a directory (specs §10.3): in index order, regular files (when restoring
// in place over existing files) under a temporary name renamed into place, directories' own metadata
// applied after their contents. The file system calls run on a worker thread (restore-worker.ts), so
// making one file overlaps reading, inflating and patching the next: this thread only turns objects
// into batches of operations, and a failure on either side stops both before the error is reported.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LifeboatError } from '../errors/lifeboat-error.js';
import type { ExitCodeNumber } from '../errors/exit-codes.js';
import { pathOfIndex, type Entry } from '../fsmeta/entry.js';
import { resolveOwner, systemNames, type NameDatabase } from '../fsmeta/names.js';
import type { FileSystemFlusher } from '../fsmeta/flush.js';
import type { ReplayedObject } from './replay.js';

export interface RestoreWriteOptions {
  /** the path the restored root (or --file-to-restore object) becomes */
  target: string;
  /** set owners (only possible as root) */
  restoreOwnership: boolean;
  numericOwner: boolean;
  names?: NameDatabase;
  /** objects of another type in the way are replaced (the user said --force) */
  force: boolean;
  /** the target may already hold files (restore in place); false for a fresh staging path */
  existing: boolean;
  /** puts what is written on disk: begun before the first write, fed the bytes as they go to the writer, finished at the end */
  flusher?: FileSystemFlusher;
  /**
   * mount points below the target (absolute): each one the restore makes a directory at gets the
   * flusher's last flush too (never the others: a hung network mount the restore did not touch must
   * not hang it)
   */
  mountsBelow?: readonly string[];
  onInfo?(message: string): void;
}

export interface RestoreWriteResult {
  objects: number;
  bytes: number;
}

// --- what the two threads say to each other ---------------------------------------------------------

/** offset and length of bytes in the batch's buffer */
type Span = [number, number];
/** an entry's metadata as the worker applies it: owner already resolved to numeric ids */
export type ObjectMeta = Pick<Entry, 'type' | 'permissions' | 'uid' | 'gid' | 'mtime' | 'devMajor' | 'devMinor'>;
export type WriteOp =
  | { op: 'dir'; path: Span }
  | { op: 'dirMeta'; path: Span; meta: ObjectMeta }
  | { op: 'open'; path: Span; serial: number }
  | { op: 'data'; data: Span }
  | { op: 'close'; meta: ObjectMeta }
  | { op: 'abort' }
  | { op: 'sym'; path: Span; target: Span; meta: ObjectMeta }
  | { op: 'special'; path: Span; meta: ObjectMeta };
export interface WorkerBatch { buffer: ArrayBuffer; ops: WriteOp[] }
export type WorkerReply =
  | { type: 'done'; buffer: ArrayBuffer }
  | { type: 'error'; error: SerializedError }
  | { type: 'finished' };
export interface RestoreWorkerData { existing: boolean; force: boolean; asRoot: boolean; pid: number }

interface SerializedError {
  message: string;
  lifeboat?: { code: string; exitCode: ExitCodeNumber; hint?: string };
  system?: { code?: string; errno?: number; syscall?: string; path?: string };
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { message: String(err) };
  if (err instanceof LifeboatError) return { message: err.message, lifeboat: { code: err.code, exitCode: err.exitCode, hint: err.hint } };
  const { code, errno, syscall, path } = err as NodeJS.ErrnoException;
  return { message: err.message, system: { code, errno, syscall, path: path === undefined ? undefined : String(path) } };
}

function deserializeError(e: SerializedError): Error {
  if (e.lifeboat) return new LifeboatError(e.message, e.lifeboat);
  return Object.assign(new Error(e.message), e.system ?? {});
}

/** bytes per batch, and batches on their way (bounds what waits between the threads: 1.5 MiB) */
const BATCH_BYTES = 1 << 18;
const IN_FLIGHT = 6;
/** operations per batch at most, so a batch of many empty files stays small too */
const BATCH_OPS = 4096;

/** The worker thread and the batch being filled for it. */
class WriterThread {
  readonly #worker: Worker;
  #free: ArrayBuffer[] = [];
  #buffer: Uint8Array;
  #used = 0;
  #ops: WriteOp[] = [];
  #inFlight = 0;
  #error: Error | undefined;
  #finished = false;
  #exited: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(data: RestoreWorkerData) {
    this.#buffer = new Uint8Array(BATCH_BYTES);
    this.#worker = new Worker(new URL('./restore-worker.js', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    this.#worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'done') {
        this.#inFlight--;
        if (reply.buffer.byteLength === BATCH_BYTES) this.#free.push(reply.buffer);
      } else if (reply.type === 'error') {
        this.#error ??= deserializeError(reply.error);
      } else {
        this.#finished = true;
      }
      this.#notify();
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.on('error', (err) => { this.#error ??= err; this.#notify(); });
      this.#worker.on('exit', () => {
        // an exit before 'end' was asked for (it cannot happen but for a crash): nothing more gets written
        if (!this.#finished) this.#error ??= new Error('the restore worker thread stopped before it finished');
        this.#notify();
        resolve();
      });
    });
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  #waitForReply(): Promise<void> {
    return new Promise((resolve) => { this.#wake = resolve; });
  }

  /**
   * Copies bytes into the batch (a new batch when they do not fit) and says where they are. Call it
   * before pushing the operation that names the span: it may send the batch the operation would join.
   */
  #put(bytes: Uint8Array): Span {
    this.#reserve(bytes.length);
    const at = this.#used;
    this.#buffer.set(bytes, at);
    this.#used += bytes.length;
    return [at, bytes.length];
  }

  #reserve(length: number): void {
    if (this.#used + length <= this.#buffer.length && this.#ops.length < BATCH_OPS) return;
    this.#sendBatch();
    if (length > this.#buffer.length) this.#buffer = new Uint8Array(length);
  }

  /** Room for some of these bytes in the current batch (at least one). */
  #room(): number {
    if (this.#buffer.length - this.#used === 0 || this.#ops.length >= BATCH_OPS) this.#sendBatch();
    return this.#buffer.length - this.#used;
  }

  #sendBatch(): void {
    if (this.#ops.length === 0) return;
    const batch: WorkerBatch = { buffer: this.#buffer.buffer as ArrayBuffer, ops: this.#ops };
    this.#worker.postMessage(batch, [batch.buffer]);
    this.#inFlight++;
    const reuse = this.#free.pop();
    this.#buffer = reuse ? new Uint8Array(reuse) : new Uint8Array(BATCH_BYTES);
    this.#used = 0;
    this.#ops = [];
  }

  /** Waits while too many batches are on their way; throws the worker's failure. */
  async pace(): Promise<void> {
    while (this.#inFlight >= IN_FLIGHT && !this.#error) await this.#waitForReply();
    if (this.#error) throw this.#error;
  }

  dir(path: Buffer): void {
    const at = this.#put(path);
    this.#ops.push({ op: 'dir', path: at });
  }

  dirMeta(path: Buffer, meta: ObjectMeta): void {
    const at = this.#put(path);
    this.#ops.push({ op: 'dirMeta', path: at, meta });
  }

  open(path: Buffer, serial: number): void {
    const at = this.#put(path);
    this.#ops.push({ op: 'open', path: at, serial });
  }

  async data(chunk: Uint8Array): Promise<void> {
    for (let done = 0; done < chunk.length;) {
      const n = Math.min(this.#room(), chunk.length - done);
      const at = this.#put(chunk.subarray(done, done + n));
      this.#ops.push({ op: 'data', data: at });
      done += n;
      await this.pace();
    }
  }

  close(meta: ObjectMeta): void {
    this.#ops.push({ op: 'close', meta });
  }

  abort(): void {
    this.#ops.push({ op: 'abort' });
  }

  sym(path: Buffer, target: Buffer, meta: ObjectMeta): void {
    this.#reserve(path.length + target.length);
    const at = this.#put(path);
    const to = this.#put(target);
    this.#ops.push({ op: 'sym', path: at, target: to, meta });
  }

  special(path: Buffer, meta: ObjectMeta): void {
    const at = this.#put(path);
    this.#ops.push({ op: 'special', path: at, meta });
  }

  /**
   * Sends what is left and waits until the worker has done it all and exited: after this nothing more
   * is made, so the caller may remove what was restored. Throws the worker's failure.
   */
  async finish(): Promise<void> {
    this.#sendBatch();
    this.#worker.postMessage('end');
    await this.#exited;
    if (this.#error) throw this.#error;
  }
}

export async function writeRestore(objects: AsyncIterable<ReplayedObject>, options: RestoreWriteOptions): Promise<RestoreWriteResult> {
  const asRoot = options.restoreOwnership && process.getuid?.() === 0;
  const names = asRoot && !options.numericOwner ? options.names ?? (await systemNames()) : undefined;
  const metaOf = (entry: Entry): ObjectMeta => {
    const owner = names ? resolveOwner(entry, names) : entry;
    return { type: entry.type, permissions: entry.permissions, uid: owner.uid, gid: owner.gid, mtime: entry.mtime, devMajor: entry.devMajor, devMinor: entry.devMinor };
  };
  const { flusher } = options;
  // the thread starts while the first flush runs: it writes nothing before the loop below sends it work
  const writer = new WriterThread({ existing: options.existing, force: options.force, asRoot, pid: process.pid });
  // before the first write: an old write-back error on the file system is a warning, not this restore's
  await flusher?.begin();
  const open: { index: Buffer[]; path: Buffer; entry: Entry }[] = [];
  const mounts = new Set(options.mountsBelow);
  const mountsWritten: string[] = [];
  const result: RestoreWriteResult = { objects: 0, bytes: 0 };
  const closeUntil = (index: Buffer[] | null) => {
    while (open.length > 0 && (index === null || !isInside(index, open[open.length - 1].index))) {
      const dir = open.pop()!;
      writer.dirMeta(dir.path, metaOf(dir.entry));
    }
  };

  let serial = 0;
  try {
    for await (const { entry, content } of objects) {
      await writer.pace();
      closeUntil(entry.index);
      const path = pathOfIndex(options.target, entry.index);
      options.onInfo?.(`Restoring ${path.toString()}`);
      result.objects++;
      switch (entry.type) {
        case 'dir':
          writer.dir(path);
          open.push({ index: entry.index, path, entry });
          // anything restored inside a directory comes after it: a mount point's is the first sign
          if (mounts.size > 0) {
            const absolute = resolve(path.toString());
            if (mounts.has(absolute)) mountsWritten.push(absolute);
          }
          break;
        case 'reg':
          writer.open(path, serial++);
          try {
            for await (const chunk of content ?? []) {
              await writer.data(chunk);
              flusher?.wrote(chunk.length);
              result.bytes += chunk.length;
            }
          } catch (err) {
            writer.abort();
            throw err;
          }
          writer.close(metaOf(entry));
          break;
        case 'sym':
          writer.sym(path, entry.linkTarget ?? Buffer.alloc(0), metaOf(entry));
          break;
        default:
          writer.special(path, metaOf(entry));
      }
    }
    closeUntil(null);
  } catch (err) {
    // nothing may be made after this returns: the caller removes a staging directory on failure
    await writer.finish().catch(() => undefined);
    await flusher?.abandon();
    throw err;
  }
  try {
    await writer.finish();
  } catch (err) {
    await flusher?.abandon();
    throw err;
  }
  // nothing restored is an error the caller reports: no file system to flush for it
  if (result.objects > 0) await flusher?.finish(mountsWritten);
  else await flusher?.abandon();
  return result;
}

function isInside(index: Buffer[], dir: Buffer[]): boolean {
  if (index.length <= dir.length) return false;
  for (let i = 0; i < dir.length; i++) if (!index[i].equals(dir[i])) return false;
  return true;
}

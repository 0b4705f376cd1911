// Big changed files get their librsync delta and new signature on worker threads, so that on a machine
// with several cores an incremental's MD4 and rolling-checksum work runs on every core, beside the main
// thread's walk, tar and small files. The backup asks for a file's delta well before it is its turn in
// the archive (backup.ts looks ahead in the walk); the delta streams back with bounded read-ahead
// (delta-worker.ts) and is stored in order like any other.
//
// A big file is cut into segments at block boundaries, each diffed on its own against the whole
// previous signature: a delta is a list of commands (copy basis bytes, insert literal bytes), so the
// segments' deltas joined (without the inner magic numbers and end commands) rebuild the file, and the
// segments' signatures joined (without the inner headers) are the file's signature, block for block.
// The joined delta is not byte-for-byte librsync's (a match across a cut is found one block later),
// but rdiff and duplicity apply it the same.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type WorkerRequest =
  | { type: 'diff'; fd: number; sizeHint: number; blockLength: number; previous: Buffer; start: number; end?: number; first: boolean; last: boolean }
  | { type: 'taken'; bytes: number };

export type WorkerReply =
  | { type: 'data'; chunk: Uint8Array }
  | { type: 'end'; contentBytes: number; signature: Uint8Array }
  | { type: 'error'; message: string; code?: string; syscall?: string };

export interface DeltaJob {
  /** the delta, in order; read it to its end, then await `result` */
  payload: AsyncGenerator<Buffer>;
  result: Promise<{ contentBytes: number; signature: Buffer }>;
}

/** files are cut into segments of at least this size, at most two per worker */
const SEGMENT_MIN_BYTES = 4 << 20;
/** the delta's end command, left out of every segment's delta but the last */
const OP_END = Buffer.from([0]);

interface PendingJob {
  request: Extract<WorkerRequest, { type: 'diff' }>;
  onReply(reply: WorkerReply): void;
  start(worker: Worker): void;
}

/**
 * The default: a worker per core (up to 4). Not one fewer for the main thread: while the big files'
 * deltas run, the main thread mostly waits for the first of them.
 */
export function defaultDeltaWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export class DeltaWorkers {
  readonly #size: number;
  readonly #segmentMinBytes: number;
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #current = new Map<Worker, PendingJob>();
  #queue: PendingJob[] = [];
  #closed = false;

  /** `segmentMinBytes` is for tests, to cut small files */
  constructor(size: number, segmentMinBytes = SEGMENT_MIN_BYTES) {
    this.#size = Math.max(1, size);
    this.#segmentMinBytes = segmentMinBytes;
  }

  /**
   * Starts the delta of the file open on `fd` (read with positional reads) against its previous
   * signature `previous`. The caller keeps the descriptor, and closes it once `result` has settled;
   * `result` settles only after the payload was read to its end (after a failure: never).
   */
  diff(fd: number, size: number, blockLength: number, previous: Buffer): DeltaJob {
    const count = Math.max(1, Math.min(this.#size * 2, Math.floor(size / this.#segmentMinBytes)));
    const length = Math.ceil(size / count / blockLength) * blockLength;
    const segments: { start: number; end?: number; job: DeltaJob }[] = [];
    for (let i = 0; i < count; i++) {
      const start = i * length;
      const end = i === count - 1 ? undefined : start + length;
      segments.push({ start, end, job: this.#segment({ type: 'diff', fd, sizeHint: size, blockLength, previous, start, end, first: i === 0, last: end === undefined }) });
    }
    let settle!: (v: { contentBytes: number; signature: Buffer }) => void;
    const result = new Promise<{ contentBytes: number; signature: Buffer }>((resolve) => { settle = resolve; });
    const payload = (async function* (): AsyncGenerator<Buffer> {
      let contentBytes = 0;
      const signatures: Buffer[] = [];
      for (let i = 0; i < segments.length; i++) {
        const { start, end, job } = segments[i];
        yield* job.payload;
        const part = await job.result;
        contentBytes += part.contentBytes;
        signatures.push(part.signature);
        if (end !== undefined && part.contentBytes < end - start) {
          // the file shrank while it was read: it ends here; the later segments are read and dropped
          yield OP_END;
          for (const later of segments.slice(i + 1)) {
            for await (const _ of later.job.payload) { /* dropped */ }
            await later.job.result;
          }
          break;
        }
      }
      settle({ contentBytes, signature: signatures.length === 1 ? signatures[0] : Buffer.concat(signatures) });
    })();
    return { payload, result };
  }

  #segment(request: Extract<WorkerRequest, { type: 'diff' }>): DeltaJob {
    const chunks: Buffer[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    let settle!: { resolve(v: { contentBytes: number; signature: Buffer }): void; reject(e: Error): void };
    const result = new Promise<{ contentBytes: number; signature: Buffer }>((resolve, reject) => { settle = { resolve, reject }; });
    result.catch(() => undefined);
    let worker: Worker | undefined;
    const job: PendingJob = {
      request,
      start: (w) => { worker = w; this.#current.set(w, job); w.postMessage(job.request); },
      onReply: (reply) => {
        if (reply.type === 'data') chunks.push(Buffer.from(reply.chunk.buffer, reply.chunk.byteOffset, reply.chunk.byteLength));
        else if (reply.type === 'end') {
          ended = true;
          settle.resolve({ contentBytes: reply.contentBytes, signature: Buffer.from(reply.signature.buffer, reply.signature.byteOffset, reply.signature.byteLength) });
        } else {
          failure = Object.assign(new Error(reply.message), { code: reply.code, syscall: reply.syscall });
          settle.reject(failure);
        }
        wake?.();
        wake = undefined;
      },
    };
    const idle = this.#takeWorker();
    if (idle) job.start(idle);
    else this.#queue.push(job);
    const payload = (async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const chunk = chunks.shift();
        if (chunk) {
          worker?.postMessage({ type: 'taken', bytes: chunk.length } satisfies WorkerRequest);
          yield chunk;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    })();
    return { payload, result };
  }

  /** Stops every worker; jobs not finished fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers;
    this.#workers = [];
    this.#idle = [];
    for (const job of [...this.#current.values(), ...this.#queue]) job.onReply({ type: 'error', message: 'the backup stopped' });
    this.#current.clear();
    this.#queue = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #takeWorker(): Worker | undefined {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#workers.length >= this.#size || this.#closed) return undefined;
    const worker = new Worker(new URL('./delta-worker.js', import.meta.url));
    worker.unref();
    this.#workers.push(worker);
    worker.on('message', (reply: WorkerReply) => {
      const job = this.#current.get(worker);
      if (!job) return;
      job.onReply(reply);
      if (reply.type !== 'data') this.#release(worker);
    });
    worker.on('error', (err) => {
      const job = this.#current.get(worker);
      this.#current.delete(worker);
      this.#workers = this.#workers.filter((w) => w !== worker);
      job?.onReply({ type: 'error', message: `delta worker: ${err.message}` });
      // a queued job gets a new worker
      const spare = this.#queue.length > 0 ? this.#takeWorker() : undefined;
      if (spare) this.#queue.shift()!.start(spare);
    });
    return worker;
  }

  #release(worker: Worker): void {
    this.#current.delete(worker);
    if (this.#closed) return;
    const next = this.#queue.shift();
    if (next) next.start(worker);
    else this.#idle.push(worker);
  }
}

// Big changed files get their librsync delta and new signature on worker threads, so that on a machine
// with several cores an incremental's MD4 and rolling-checksum work runs on every core. The main thread
// waits for a big file's delta, which streams back with bounded read-ahead (delta-worker.ts), and
// stores it like any other.
//
// A big file is cut into segments at block boundaries, each diffed on its own against the whole
// previous signature: a delta is a list of commands (copy basis bytes, insert literal bytes), so the
// segments' deltas joined (without the inner magic numbers and end commands) rebuild the file, and the
// segments' signatures joined (without the inner headers) are the file's signature, block for block.
// The joined delta is not byte-for-byte librsync's (a match across a cut is found one block later),
// but rdiff and duplicity apply it the same.
//
// The previous signature is parsed and indexed once, on the main thread, into SharedArrayBuffers
// that every segment's worker reads (indexSignature): a worker allocates little per segment, so its
// memory stays flat from file to file, and a big file's workers cost no more memory than the main
// thread's own delta would.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SignatureIndex } from '../librsync/delta.js';
import { PIECE_SIZE } from '../duplicity/difftar.js';

export type WorkerRequest =
  | DiffRequest
  | { type: 'taken'; job: number; bytes: number }
  | { type: 'cancel'; job: number };

/** a segment to diff, and the ring its delta goes back through (given when the segment reaches a worker) */
export interface DiffRequest {
  type: 'diff'; job: number; fd: number; sizeHint: number; blockLength: number; previous: SignatureIndex; start: number; end?: number; first: boolean; last: boolean; ring: SharedArrayBuffer;
}

export type WorkerReply =
  /** delta bytes at [offset, offset + length) of the segment's ring */
  | { type: 'data'; offset: number; length: number }
  | { type: 'end'; contentBytes: number; signature: Uint8Array }
  | { type: 'error'; message: string; code?: string; syscall?: string };

export interface DeltaJob {
  /**
   * the delta, in order, in pieces of PIECE_SIZE (the last shorter); read it to its end, then await
   * `result`. One buffer holds every piece in turn: a piece is valid until the next is asked for
   */
  payload: AsyncGenerator<Buffer>;
  /** settles only after the payload was read to its end (after a failure or an early stop: never) */
  result: Promise<{ contentBytes: number; signature: Buffer }>;
}

/**
 * Files are cut into segments of at least this size, at most two per worker, and of at most twice
 * this size however many that makes. The upper bound keeps the workers busy: a segment's delta waits
 * in its ring until the reader reaches it, and a worker whose ring is full waits with it. With a
 * pgbench dump (a tenth of it new) cut into 53 MB segments, the second worker's ring filled a fifth
 * of the way through its segment, and it then waited for the first worker's segment to be read.
 */
const SEGMENT_MIN_BYTES = 4 << 20;
/**
 * a segment's ring of delta bytes on their way to the main thread (delta-worker.ts). 1 MiB, not 2: 4
 * MiB less at the incremental's peak with two workers (two rings in use, two kept for the next file).
 * With the signature file's smaller gzip blocks (backup.ts), the benchmark's day-1 incremental peaked
 * 7 MiB lower (median of 16 paired runs) in the same time
 */
const RING_BYTES = 1 << 20;
/** the delta's end command, left out of every segment's delta but the last */
const OP_END = Buffer.from([0]);

interface Segment {
  request: Omit<DiffRequest, 'ring'>;
  /** given when the segment reaches a worker */
  ring?: SharedArrayBuffer;
  worker?: Worker;
  onReply(reply: WorkerReply): void;
}

interface Ranged {
  offset: number;
  length: number;
}

/**
 * The default: a worker per core (up to 4). Not one fewer for the main thread: while a big file's
 * deltas run, the main thread mostly waits for them.
 */
export function defaultDeltaWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Workers are started on the first diff(); close() must be called, or they keep the process alive. */
export class DeltaWorkers {
  readonly #size: number;
  readonly #segmentMinBytes: number;
  readonly #script: URL;
  #workers: Worker[] = [];
  /** rings no segment uses any more: a ring is reused once its worker and its reader are both done with it */
  #freeRings: SharedArrayBuffer[] = [];
  #idle: Worker[] = [];
  #current = new Map<Worker, Segment>();
  /** segments waiting for a worker, in order; a segment is started only while fewer than #maxAhead are unread */
  #queue: Segment[] = [];
  /** segments given to a worker whose reader is not done with them: each holds a ring */
  #unread = 0;
  readonly #maxAhead: number;
  #closed = false;
  #nextJob = 1;

  /** `segmentMinBytes` and `script` are for tests: to cut small files, and to run a worker that dies */
  constructor(size: number, segmentMinBytes = SEGMENT_MIN_BYTES, script = new URL('./delta-worker.js', import.meta.url)) {
    this.#size = Math.max(1, size);
    this.#segmentMinBytes = segmentMinBytes;
    this.#script = script;
    this.#maxAhead = 2 * this.#size;
  }

  /**
   * Starts the delta of the file open on `fd` (read with positional reads) against its previous
   * signature, indexed with `indexSignature(signature, true)` so that its arrays are shared, not
   * copied into every message. The caller keeps the descriptor, and closes it once `result` has
   * settled, or after close().
   */
  diff(fd: number, size: number, blockLength: number, previous: SignatureIndex): DeltaJob {
    const count = Math.max(1, Math.min(this.#size * 2, Math.floor(size / this.#segmentMinBytes)), Math.ceil(size / (2 * this.#segmentMinBytes)));
    const length = Math.ceil(size / count / blockLength) * blockLength;
    const segments: { start: number; end?: number; job: DeltaJob & { cancel(): void } }[] = [];
    for (let i = 0; i < count; i++) {
      const start = i * length;
      const end = i === count - 1 ? undefined : start + length;
      const request = { type: 'diff', job: this.#nextJob++, fd, sizeHint: size, blockLength, previous, start, end, first: i === 0, last: end === undefined } as const;
      segments.push({ start, end, job: this.#segment(request) });
    }
    let settle!: (v: { contentBytes: number; signature: Buffer }) => void;
    const result = new Promise<{ contentBytes: number; signature: Buffer }>((resolve) => { settle = resolve; });
    const payload = (async function* (): AsyncGenerator<Buffer> {
      let contentBytes = 0;
      const signatures: Buffer[] = [];
      let finished = 0;
      // The delta is copied out of the rings once, into pieces of a difftar member's size, which the
      // difftar passes on as they are: copying each ring range, then joining the copies into pieces,
      // made twice the garbage, and the main thread's peak memory was mostly garbage. The piece is
      // reused: the volume's spool has copied it by the time the next one is asked for (spool.ts).
      const piece = Buffer.allocUnsafe(PIECE_SIZE);
      let fill = 0;
      try {
        for (let i = 0; i < segments.length; i++) {
          const { start, end, job } = segments[i];
          for await (const range of job.payload) {
            for (let p = 0; p < range.length;) {
              const n = Math.min(range.length - p, PIECE_SIZE - fill);
              range.copy(piece, fill, p, p + n);
              fill += n;
              p += n;
              if (fill === PIECE_SIZE) {
                yield piece;
                fill = 0;
              }
            }
          }
          const part = await job.result;
          finished = i + 1;
          contentBytes += part.contentBytes;
          signatures.push(part.signature);
          if (end !== undefined && part.contentBytes < end - start) {
            // the file shrank while it was read: it ends here; the later segments are read and dropped
            if (fill === PIECE_SIZE) {
              yield piece;
              fill = 0;
            }
            piece[fill++] = OP_END[0];
            for (const later of segments.slice(i + 1)) {
              for await (const _ of later.job.payload) { /* dropped */ }
              await later.job.result;
              finished++;
            }
            break;
          }
        }
        if (fill > 0) yield piece.subarray(0, fill);
        settle({ contentBytes, signature: signatures.length === 1 ? signatures[0] : Buffer.concat(signatures) });
      } finally {
        // stopped early (an error, a return): the segments still running would wait for ever for their reader
        // (the last first: a queued one leaves the queue before a running one's cancel frees a worker for it)
        for (const later of segments.slice(finished).reverse()) later.job.cancel();
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
    for (const segment of [...this.#current.values(), ...this.#queue]) segment.onReply({ type: 'error', message: 'the backup stopped' });
    this.#current.clear();
    this.#queue = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #segment(request: Omit<DiffRequest, 'ring'>): DeltaJob & { cancel(): void } {
    const chunks: Ranged[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    let settle!: { resolve(v: { contentBytes: number; signature: Buffer }): void; reject(e: Error): void };
    const result = new Promise<{ contentBytes: number; signature: Buffer }>((resolve, reject) => { settle = { resolve, reject }; });
    result.catch(() => undefined);
    let workerDone = false;
    let readerDone = false;
    let released = false;
    const release = () => {
      if (!workerDone || !readerDone || released || !segment.ring) return;
      released = true;
      this.#freeRings.push(segment.ring);
    };
    const readerFinished = () => {
      if (readerDone) return;
      readerDone = true;
      if (segment.ring) {
        // its ring no longer holds the next segment back
        this.#unread--;
        release();
        this.#pump();
      }
    };
    const segment: Segment = {
      request,
      onReply: (reply) => {
        if (reply.type === 'data') chunks.push({ offset: reply.offset, length: reply.length });
        else if (reply.type === 'end') {
          ended = true;
          settle.resolve({ contentBytes: reply.contentBytes, signature: Buffer.from(reply.signature.buffer, reply.signature.byteOffset, reply.signature.byteLength) });
        } else {
          failure = Object.assign(new Error(reply.message), { code: reply.code, syscall: reply.syscall });
          settle.reject(failure);
        }
        if (reply.type !== 'data') {
          workerDone = true;
          release();
        }
        wake?.();
        wake = undefined;
      },
    };
    this.#queue.push(segment);
    this.#pump();
    // views of the ring, each valid until the next one is asked for: only then is its part of the ring
    // given back to the worker (diff() copies them out)
    const payload = (async function* (): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          const range = chunks.shift();
          if (range) {
            yield Buffer.from(segment.ring!, range.offset, range.length);
            segment.worker!.postMessage({ type: 'taken', job: request.job, bytes: range.length } satisfies WorkerRequest);
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => { wake = resolve; });
        }
      } finally {
        readerFinished();
      }
    })();
    const cancel = () => {
      const queued = this.#queue.indexOf(segment);
      if (queued >= 0) {
        this.#queue.splice(queued, 1);
        workerDone = true; // it never reached a worker
      } else if (!ended && !failure) {
        segment.worker?.postMessage({ type: 'cancel', job: request.job } satisfies WorkerRequest);
      }
      readerFinished();
    };
    return { payload, result, cancel };
  }

  /** Gives waiting segments, in order, to idle workers while few enough are unread. */
  #pump(): void {
    while (this.#queue.length > 0 && this.#unread < this.#maxAhead) {
      const worker = this.#takeWorker();
      if (!worker) return;
      const segment = this.#queue.shift()!;
      segment.ring = this.#freeRings.pop() ?? new SharedArrayBuffer(RING_BYTES);
      segment.worker = worker;
      this.#unread++;
      this.#current.set(worker, segment);
      worker.postMessage({ ...segment.request, ring: segment.ring } satisfies WorkerRequest);
    }
  }

  #takeWorker(): Worker | undefined {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#workers.length >= this.#size || this.#closed) return undefined;
    const worker = new Worker(this.#script);
    this.#workers.push(worker);
    worker.on('message', (reply: WorkerReply) => {
      const segment = this.#current.get(worker);
      if (!segment) return;
      segment.onReply(reply);
      if (reply.type !== 'data') this.#release(worker);
    });
    const lost = (why: string) => {
      const segment = this.#current.get(worker);
      this.#current.delete(worker);
      this.#workers = this.#workers.filter((w) => w !== worker);
      this.#idle = this.#idle.filter((w) => w !== worker);
      segment?.onReply({ type: 'error', message: `delta worker: ${why}` });
      // a queued segment gets a new worker
      this.#pump();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => { if (!this.#closed) lost(`stopped (exit code ${code})`); });
    return worker;
  }

  #release(worker: Worker): void {
    this.#current.delete(worker);
    if (this.#closed) return;
    this.#idle.push(worker);
    this.#pump();
  }
}

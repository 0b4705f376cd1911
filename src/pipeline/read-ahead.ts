// A full backup reads every file of the source, one synchronous read at a time on the main thread.
// From a cold page cache (a nightly run) each small file then costs the main thread a disk round trip
// while nothing else runs on it (bench/README.md, thirteenth pass: 200,000 small files took 24-31 s
// cold against 5.5-6.4 s warm). So once the backup's own reads turn out to come from disk, the walk
// runs a little ahead of the backup, and a thread of its own reads the files about to be stored, in
// order, into the page cache; the main thread then finds them there (the same 200,000 files: 9.5 s).
// From a warm cache the thread would only cost (opening every file twice), so it is not started.
//
// The lead is bounded (LEAD_FILES objects, LEAD_BYTES of file data, at most FILE_BYTES of each
// file), so the pages read ahead are used long before memory pressure could evict them, and the
// entries held ahead stay a few hundred KB whatever the tree. The thread reads into one scratch
// buffer and keeps nothing; a file the backup has reached is left to the backup (the kernel reads a
// file being read sequentially ahead by itself). Nothing the backup does depends on the thread: a
// thread that cannot start, a file it cannot open or read, a read that never returns (a dead network
// mount) cost only the speed-up, and the backup itself reads and reports every file as before.
//
// What the walk reports while it runs ahead (warnings, skipped objects) is held back and reported when
// the backup reaches the object it came before, and so is an error that ends the walk: the backup's
// output and statistics come in the same order as without reading ahead.
import type { Worker } from 'node:worker_threads';
import type { Entry } from '../fsmeta/entry.js';

/** objects held ahead of the backup */
const LEAD_FILES = 512;
/** file bytes read ahead of the backup */
const LEAD_BYTES = 32 << 20;
/** read ahead of one file at most: the kernel's own read-ahead keeps up with a big file read in order */
const FILE_BYTES = 4 << 20;
/** files per message to the thread */
const BATCH_FILES = 64;
/** a small file that took longer than this to open and read came from disk (or the thread was switched out) */
const SLOW_MS = 0.05;
/**
 * the thread starts when the average share of slow ones among about the last SLOW_WINDOW small files
 * (an exponential average) passes this: 19 slow reads in a row from a cold start
 */
const SLOW_SHARE = 1 / 4;
const SLOW_WINDOW = 64;

/** One message to the thread: files to read ahead, their paths packed into one transferred buffer. */
export interface ReadAheadBatch {
  paths: Uint8Array;
  /** the end of each path in `paths` */
  ends: number[];
  /** each file's place in the walk: the thread skips files the backup has reached */
  seqs: number[];
  /** bytes to read of each (at most FILE_BYTES) */
  lengths: number[];
}

export interface ReadAheadWorkerData {
  /** Int32Array[1]: the place in the walk of the object the backup is at (STOP: stop reading) */
  position: SharedArrayBuffer;
}

/** the position that tells the thread to stop: every file's place is below it */
export const STOP = 0x7fffffff;

/**
 * Reading ahead for one full backup. It starts idle, handing the walk on as it comes: the backup
 * reports how long each small file took to open and read (timed()), and only when those reads come
 * from disk does the thread start and the walk run ahead. From a warm page cache, where reading ahead
 * only costs (on a tree of 200,000 small files, 0.5-1 s and 22 MiB), it does not start.
 */
export class ReadAhead {
  readonly #Worker: typeof Worker;
  #thread: Worker | undefined;
  readonly #position = new Int32Array(new SharedArrayBuffer(4));
  #failed = false;
  /** the share of recent small files that came slowly, times SLOW_WINDOW (an exponential average) */
  #slow = 0;
  /** the walk's callbacks while entries() pulls the walk ahead; undefined: they run at once */
  #held: (() => void)[] | undefined;

  private constructor(WorkerClass: typeof Worker) {
    this.#Worker = WorkerClass;
  }

  /** Loads what the thread needs, or gives undefined when it cannot (the backup goes on without it). */
  static async start(): Promise<ReadAhead | undefined> {
    try {
      const { Worker } = await import('node:worker_threads');
      return new ReadAhead(Worker);
    } catch {
      return undefined;
    }
  }

  /**
   * The backup opened and read a new small file (under 64 KiB, most files) in `ms` milliseconds. A
   * read from the page cache takes a few microseconds, one from disk a tenth of a millisecond or more
   * (a fast SSD can come in under SLOW_MS: there each cold file costs little anyway); a thread switch
   * now and then makes a cached read slow too, so the thread starts when a good share of recent reads
   * were slow. A tree of bigger files only does not start it.
   */
  timed(ms: number): void {
    if (this.#thread || this.#failed) return;
    this.#slow += (ms > SLOW_MS ? 1 : 0) - this.#slow / SLOW_WINDOW;
    if (this.#slow <= SLOW_SHARE * SLOW_WINDOW) return;
    try {
      const data: ReadAheadWorkerData = { position: this.#position.buffer as SharedArrayBuffer };
      const thread = new this.#Worker(new URL('./read-ahead-worker.js', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
      const failed = () => { this.#failed = true; };
      thread.on('error', failed).on('exit', failed);
      // a thread stuck in a read must not keep the process alive
      thread.unref();
      this.#thread = thread;
    } catch {
      this.#failed = true;
    }
  }

  /** whether the thread runs (it started, and has not failed) */
  get reading(): boolean {
    return this.#thread !== undefined && !this.#failed;
  }

  /**
   * Runs one of the walk's callbacks now, or, while the walk is being pulled ahead, when the backup
   * reaches the object that followed it.
   */
  later(callback: () => void): void {
    if (this.#held) this.#held.push(callback);
    else callback();
  }

  /**
   * The walk's objects as they come, while the regular files among the next ones are read into the
   * page cache by the thread.
   */
  *entries(root: string, walk: Iterable<Entry>): Generator<Entry> {
    const it = walk[Symbol.iterator]();
    const rootPath = Buffer.from(root);
    const queue: Entry[] = [];
    /** the walk's callbacks that came before each queued object */
    const before: ((() => void)[] | undefined)[] = [];
    let head = 0;
    let leadBytes = 0;
    /** the place in the walk of queue[head] */
    let seq = 0;
    let done = false;
    /** what ended the walk, with the callbacks that came before it: reported after the last object */
    let end: { callbacks: (() => void)[]; error?: unknown } | undefined;
    let batch = new Batch();
    try {
      // as it comes until the thread runs (after slow reads it starts before the next object is asked for)
      while (!this.#thread || this.#failed) {
        const next = it.next();
        if (next.done) return;
        yield next.value;
      }
      for (;;) {
        // refill when the lead has fallen to half of both limits (the fill stopped at one of them), so
        // that a message carries many files
        if (!done && queue.length - head <= LEAD_FILES / 2 && leadBytes <= LEAD_BYTES / 2) {
          queue.splice(0, head);
          before.splice(0, head);
          head = 0;
          let held: (() => void)[] = [];
          while (queue.length < LEAD_FILES && leadBytes < LEAD_BYTES) {
            this.#held = held;
            let next: IteratorResult<Entry>;
            try {
              next = it.next();
            } catch (error) {
              end = { callbacks: held, error };
              done = true;
              break;
            } finally {
              this.#held = undefined;
            }
            if (next.done) {
              end = { callbacks: held };
              done = true;
              break;
            }
            const entry = next.value;
            queue.push(entry);
            if (held.length > 0) {
              before.push(held);
              held = [];
            } else {
              before.push(undefined);
            }
            if (entry.type === 'reg' && entry.size > 0) {
              const length = Math.min(entry.size, FILE_BYTES);
              leadBytes += length;
              batch.add(rootPath, entry.index, seq + queue.length - 1, length);
              if (batch.seqs.length >= BATCH_FILES) batch = this.#send(batch);
            }
          }
          batch = this.#send(batch);
        }
        if (head === queue.length) break;
        const entry = queue[head];
        const callbacks = before[head++];
        if (callbacks) for (const callback of callbacks) callback();
        Atomics.store(this.#position, 0, seq++);
        if (entry.type === 'reg' && entry.size > 0) leadBytes -= Math.min(entry.size, FILE_BYTES);
        yield entry;
      }
      if (end) {
        for (const callback of end.callbacks) callback();
        if ('error' in end) throw end.error;
      }
    } finally {
      this.#held = undefined;
      it.return?.();
    }
  }

  #send(batch: Batch): Batch {
    if (batch.seqs.length === 0) return batch;
    if (this.#thread && !this.#failed) {
      const message: ReadAheadBatch = { paths: batch.bytes.subarray(0, batch.used), ends: batch.ends, seqs: batch.seqs, lengths: batch.lengths };
      this.#thread.postMessage(message, [batch.bytes.buffer]);
    }
    return new Batch();
  }

  /**
   * Tells the thread to stop: it leaves the file it is reading at its next read and ends. Not waited
   * for, so that a read stuck on a dead mount cannot hold up the end of the backup.
   */
  close(): void {
    Atomics.store(this.#position, 0, STOP);
    if (this.#thread && !this.#failed) this.#thread.postMessage('end');
  }
}

/**
 * Files for one message, their paths written straight into one buffer of its own (not Buffer's shared
 * pool), so that it can be handed over: no Buffer per path on a tree of many small files.
 */
class Batch {
  bytes = new Uint8Array(8192);
  used = 0;
  readonly ends: number[] = [];
  readonly seqs: number[] = [];
  readonly lengths: number[] = [];

  /** Adds the file at `index` below `root` (its path as pathOfIndex() makes it). */
  add(root: Buffer, index: readonly Buffer[], seq: number, length: number): void {
    // the root itself (index []) is the root's path alone
    const slash = index.length > 0 && (root.length === 0 || root[root.length - 1] !== 0x2f) ? 1 : 0;
    let size = root.length + slash + Math.max(0, index.length - 1);
    for (const component of index) size += component.length;
    if (this.used + size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.length, this.used + size));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    let at = this.used;
    this.bytes.set(root, at);
    at += root.length;
    if (slash) this.bytes[at++] = 0x2f;
    index.forEach((component, i) => {
      if (i > 0) this.bytes[at++] = 0x2f;
      this.bytes.set(component, at);
      at += component.length;
    });
    this.used = at;
    this.ends.push(at);
    this.seqs.push(seq);
    this.lengths.push(length);
  }
}

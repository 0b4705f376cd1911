// Uploads finished volumes in the background while the next one is built, so a backup takes about
// max(build, upload) instead of their sum. The queue is bounded: when `maxQueued` finished files are
// uploading or waiting, add() waits, so the spool never holds more than maxQueued + 1 volumes (the
// one being built). The first failed upload stops the queue: uploads still running are aborted,
// waiting files are dropped, and add() and finish() throw that error, so the backup stops before it
// writes its signatures and manifest. Each spool file is deleted once its upload has ended.
import { unlink } from 'node:fs/promises';
import type { Backend } from '../backend/types.js';
import { SpoolFile } from './spool.js';

export interface UploadJob {
  /** the name on the target */
  name: string;
  /** the spool file; the queue owns it from add() on and deletes it */
  path: string;
  size: number;
}

export interface UploadQueueOptions<J extends UploadJob> {
  backend: Backend;
  /** finished files uploading or waiting at once; default 2 */
  maxQueued?: number;
  /** uploads running at once; default 1 (volumes then land in order) */
  parallel?: number;
  signal?: AbortSignal;
  /** build and measure only: files are deleted without being uploaded */
  dryRun?: boolean;
  /** called when a file is safely stored */
  onStored?(job: J): void;
}

export class UploadQueue<J extends UploadJob = UploadJob> {
  readonly #options: UploadQueueOptions<J>;
  readonly #maxQueued: number;
  readonly #parallel: number;
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal;
  readonly #waiting: J[] = [];
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;
  #wakeUp: (() => void)[] = [];
  /** deletions of dropped files, awaited before add/finish/abort report back */
  #removals: Promise<unknown> = Promise.resolve();

  constructor(options: UploadQueueOptions<J>) {
    this.#options = options;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 2);
    this.#parallel = Math.max(1, Math.min(options.parallel ?? 1, this.#maxQueued));
    // uploads stop when the caller aborts or when one of them fails
    const outer = options.signal;
    if (outer?.aborted) this.#stop.abort(outer.reason);
    else outer?.addEventListener('abort', () => this.#stop.abort(outer.reason), { once: true });
    this.#signal = this.#stop.signal;
  }

  /** files not yet stored: uploading or waiting */
  get queued(): number {
    return this.#waiting.length + this.#running.size;
  }

  /** Throws the first upload's error, if one failed: lets the builder stop early. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** Queues a finished file; returns when there is room for the next one. */
  async add(job: J): Promise<void> {
    if (this.#failure) {
      await removeQuietly(job.path);
      throw this.#failure.error;
    }
    this.#waiting.push(job);
    this.#startWaiting();
    while (this.queued > this.#maxQueued && !this.#failure) await this.#somethingEnded();
    await this.#removals;
    this.throwIfFailed();
  }

  /** Waits until every queued file is stored; throws the first upload error. */
  async finish(): Promise<void> {
    while (this.queued > 0) await this.#somethingEnded();
    await this.#removals;
    this.throwIfFailed();
  }

  /** Stops: aborts running uploads, deletes waiting files, waits for the uploads to end. */
  async abort(reason: unknown = new Error('upload queue aborted')): Promise<void> {
    this.#fail(reason);
    this.#dropWaiting();
    while (this.#running.size > 0) await this.#somethingEnded();
    await this.#removals;
  }

  #startWaiting(): void {
    if (this.#failure) {
      this.#dropWaiting();
      return;
    }
    while (this.#running.size < this.#parallel && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      const upload = this.#upload(job).finally(() => {
        this.#running.delete(upload);
        this.#startWaiting();
        const wake = this.#wakeUp;
        this.#wakeUp = [];
        for (const w of wake) w();
      });
      this.#running.add(upload);
    }
  }

  async #upload(job: J): Promise<void> {
    try {
      if (!this.#options.dryRun) {
        await this.#options.backend.put(job.name, { size: job.size, localPath: job.path, open: () => SpoolFile.open(job.path) }, { signal: this.#signal });
      }
      this.#options.onStored?.(job);
    } catch (err) {
      this.#fail(err);
    } finally {
      await removeQuietly(job.path);
    }
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#stop.abort(error);
  }

  #dropWaiting(): void {
    const dropped = this.#waiting.splice(0);
    if (dropped.length > 0) this.#removals = Promise.all([this.#removals, ...dropped.map((job) => removeQuietly(job.path))]);
  }

  #somethingEnded(): Promise<void> {
    return new Promise((resolve) => this.#wakeUp.push(resolve));
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

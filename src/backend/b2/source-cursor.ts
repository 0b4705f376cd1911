// Reads a PutSource as consecutive byte ranges (a whole file, or a large file's parts) in one pass.
// A range asked for again (its upload failed and is retried) reopens the source and skips to it, so
// nothing is buffered beyond one chunk; PutSource.open() may be called any number of times.
import type { Readable } from 'node:stream';
import { BackendError } from '../errors.js';
import type { PutSource } from '../types.js';

export class SourceCursor {
  readonly #source: PutSource;
  #stream: Readable | undefined;
  #chunks: AsyncIterator<Buffer> | undefined;
  #pending: Buffer = Buffer.alloc(0);
  /** bytes handed out (or skipped) from the current stream */
  #position = 0;
  /** the error the source itself raised, to tell it from a network failure */
  failure: unknown;

  constructor(source: PutSource) {
    this.#source = source;
  }

  /** The bytes [offset, offset + length) of the source, in chunks. */
  async *range(offset: number, length: number): AsyncGenerator<Buffer> {
    try {
      if (!this.#chunks || this.#position !== offset) {
        this.#reopen();
        await this.#skip(offset);
      }
      for (let remaining = length; remaining > 0;) {
        const chunk = await this.#next(`ended ${length - remaining} bytes into a ${length}-byte range at offset ${offset}`);
        const piece = chunk.subarray(0, remaining);
        this.#pending = chunk.subarray(piece.length);
        this.#position += piece.length;
        remaining -= piece.length;
        yield piece;
      }
      if (offset + length === this.#source.size) await this.#expectEnd();
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  close(): void {
    this.#stream?.destroy();
    this.#stream = undefined;
    this.#chunks = undefined;
  }

  #reopen(): void {
    this.close();
    this.failure = undefined;
    this.#stream = this.#source.open();
    this.#chunks = this.#stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.#pending = Buffer.alloc(0);
    this.#position = 0;
  }

  async #skip(offset: number): Promise<void> {
    while (this.#position < offset) {
      const chunk = await this.#next('is shorter than announced');
      const skipped = Math.min(chunk.length, offset - this.#position);
      this.#pending = chunk.subarray(skipped);
      this.#position += skipped;
    }
  }

  async #next(why: string): Promise<Buffer> {
    if (this.#pending.length > 0) return this.#pending;
    for (;;) {
      const { value, done } = await this.#chunks!.next();
      if (done) throw new BackendError('permanent', `the data to upload ${why} (the source announced ${this.#source.size} bytes)`);
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
      if (chunk.length > 0) return chunk;
    }
  }

  async #expectEnd(): Promise<void> {
    if (this.#pending.length > 0) throw new BackendError('permanent', `the data to upload is longer than the ${this.#source.size} bytes announced`);
    for (;;) {
      const { value, done } = await this.#chunks!.next();
      if (done) return;
      if ((value as Buffer).length > 0) throw new BackendError('permanent', `the data to upload is longer than the ${this.#source.size} bytes announced`);
    }
  }
}

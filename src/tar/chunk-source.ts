// Pull-based byte reader over an async iterable of chunks: zero-copy slices when a request fits in the current chunk.

const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class ChunkSource {
  #iterator: AsyncIterator<Uint8Array>;
  #chunk: Buffer = EMPTY;
  #offset = 0;
  #done = false;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.#iterator = input[Symbol.asyncIterator]();
  }

  /** Offset in the whole input of the next unread byte. */
  get offset(): number {
    return this.#offset;
  }

  /** Makes the current chunk non-empty; false at the end of the input. */
  async #fill(): Promise<boolean> {
    while (this.#chunk.length === 0) {
      if (this.#done) return false;
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      this.#chunk = asBuffer(next.value);
    }
    return true;
  }

  #take(n: number): Buffer {
    const part = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    this.#offset += n;
    return part;
  }

  /** Up to `max` (> 0) bytes as a view into the input chunk, or null at the end of the input. */
  async read(max: number): Promise<Buffer | null> {
    if (!(await this.#fill())) return null;
    return this.#take(Math.min(max, this.#chunk.length));
  }

  /** Exactly `n` bytes, or fewer only when the input ends first. Copies only when `n` spans chunks. */
  async readExact(n: number): Promise<Buffer> {
    if (!(await this.#fill())) return EMPTY;
    if (this.#chunk.length >= n) return this.#take(n);
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n && (await this.#fill())) {
      const part = this.#take(Math.min(n - have, this.#chunk.length));
      parts.push(part);
      have += part.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Discards up to `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.#fill())) skipped += this.#take(Math.min(n - skipped, this.#chunk.length)).length;
    return skipped;
  }

  /** Reads and discards the rest, so that upstream checks that run at the end (gzip CRC, OpenPGP MDC) run. */
  async drain(): Promise<void> {
    while (await this.#fill()) this.#take(this.#chunk.length);
  }

  /** Tells the input we stop early, so it can release its resources. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#chunk = EMPTY;
    await this.#iterator.return?.();
  }
}

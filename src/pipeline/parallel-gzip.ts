// A gzip writer that uses every core, the way pigz does: the input is cut into blocks of 1 MiB, each
// block is deflated on libuv's thread pool (several at once) as raw deflate primed with the 32 KiB
// of input before it and ended with a sync flush, and the pieces are joined in order into ONE gzip
// member, with the CRC-32 of the input computed here in order. Any gzip reader (python's gzip module,
// duplicity, gunzip) reads the result like any other gzip file; the size is within a few bytes per
// block of a single deflate stream at the same level.
//
// Incompressible stretches (random bytes, already compressed files) are stored, not deflated: each
// 64 KiB segment of a block is classified by the order-0 entropy of a sample of its bytes, and runs of
// segments near 8 bits per byte are written as stored deflate blocks (level 0), segments a little below
// with zlib's run-length strategy. Deflating random bytes at level 6 costs the most CPU time per byte of
// all data and saves nothing.
import { constants, crc32, deflateRaw } from 'node:zlib';

export const GZIP_BLOCK_BYTES = 1 << 20;
/**
 * The default level. Not duplicity's 6: on the benchmark dataset level 5 makes the archive 0.14 %
 * larger for 9 % less CPU time in the whole backup (bench/README.md), well within the 2 % the
 * project allows over duplicity's size.
 */
export const DEFAULT_GZIP_LEVEL = 5;
const DICTIONARY_BYTES = 32 * 1024;
const SEGMENT_BYTES = 64 * 1024;
const SAMPLE_STRIDE = 8;
/** bits per byte above which a segment is stored: random data measures ~7.98 with 8,192 samples */
const STORED_ENTROPY = 7.95;
/**
 * Between the two: mostly incompressible with some structure (small random files between 512-byte tar
 * headers and zero padding). zlib's run-length strategy (Z_RLE: matches at distance 1 only, then
 * Huffman codes) squeezes the zeros: on the benchmark's 116 MB of such segments it made 111.98 MB in
 * 0.65 s of CPU, level 1 111.34 MB in 1.78 s, level 5 111.27 MB in 1.91 s (bench/README.md).
 */
const FAST_ENTROPY = 7.5;

// gzip member header: magic, deflate, no flags, mtime 0, no extra flags, OS 3 (Unix), as zlib writes it
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/** What one deflateRaw call covers: a run of segments deflated at one level (0: stored). */
interface Run {
  start: number;
  end: number;
  level: number;
  /** run-length matches only (zlib's Z_RLE), for nearly incompressible segments */
  rle: boolean;
}

const LOG2 = new Float64Array(8193);
for (let i = 1; i < LOG2.length; i++) LOG2[i] = Math.log2(i);

/** Order-0 entropy in bits per byte of every SAMPLE_STRIDE-th byte of data[start, end). */
function sampledEntropy(data: Uint8Array, start: number, end: number, counts: Uint32Array): number {
  counts.fill(0);
  let n = 0;
  for (let i = start; i < end; i += SAMPLE_STRIDE) { counts[data[i]]++; n++; }
  if (n < 256) return 0;
  let sum = 0;
  for (let s = 0; s < 256; s++) { const c = counts[s]; if (c > 0) sum += c * LOG2[c]; }
  return Math.log2(n) - sum / n;
}

/**
 * Splits a block into runs: incompressible segments stored (level 0), nearly so run-length coded at
 * level 1, the rest at `level`.
 */
export function planRuns(block: Uint8Array, level: number, counts = new Uint32Array(256)): Run[] {
  const runs: Run[] = [];
  for (let start = 0; start < block.length; start += SEGMENT_BYTES) {
    const end = Math.min(block.length, start + SEGMENT_BYTES);
    let runLevel = level;
    let rle = false;
    if (level > 0) {
      const entropy = sampledEntropy(block, start, end, counts);
      if (entropy > STORED_ENTROPY) runLevel = 0;
      else if (entropy > FAST_ENTROPY) { runLevel = 1; rle = true; }
    }
    const last = runs[runs.length - 1];
    if (last && last.level === runLevel && last.rle === rle) last.end = end;
    else runs.push({ start, end, level: runLevel, rle });
  }
  return runs;
}

function deflatePiece(data: Uint8Array, level: number, dictionary: Buffer | undefined, finish: boolean, rle = false, chunkSize = defaultChunkSize(data.length, level)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, {
      level, strategy: rle ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY,
      // a run-length coder looks back one byte only: no dictionary to set up
      dictionary: dictionary && dictionary.length > 0 && level > 0 && !rle ? dictionary : undefined,
      finishFlush: finish ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      // the data's own write flushes: else it is deflated without a flush, and what deflate holds back
      // comes out of a second trip to the pool, in a second buffer joined to the first with a copy
      flush: finish ? constants.Z_NO_FLUSH : constants.Z_SYNC_FLUSH,
      chunkSize,
    }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/**
 * zlib's output buffer: stored, all the output at once (input + 5 bytes per 64 KiB stored block);
 * deflated, half the input (at least 64 KiB), so a block comes back in one or two round trips
 */
function defaultChunkSize(length: number, level: number): number {
  return level === 0 ? Math.max(64, length + 5 * Math.ceil(length / 65535) + 16) : Math.max(64 * 1024, Math.ceil(length / 2));
}

/**
 * zlib's output buffer for a run, sized from what the last run deflated the same way came to (the
 * output bytes per input byte; undefined: none yet): the output is a view of that buffer, which lives
 * as long as the output does, and a run that outgrows it takes a second buffer and a copy of both.
 * Most of a backup's main-thread garbage was these.
 */
function chunkSizeFor(ratio: number | undefined, level: number, length: number): number {
  if (ratio === undefined) return defaultChunkSize(length, level);
  return Math.min(deflateBound(length), Math.max(16 * 1024, Math.ceil(length * ratio * 1.125) + 4096));
}

/** most a deflate of `length` bytes can take (zlib's deflateBound, rounded up), plus a sync flush */
function deflateBound(length: number): number {
  return length + (length >> 10) + 64;
}

const STORED_BLOCK_BYTES = 65535;

/**
 * `data` as stored deflate blocks (not final), as zlib writes them at level 0: written here, because
 * a zlib stream per run cost the main thread its set-up and a round trip to the pool. Every piece
 * before ends byte-aligned (a sync flush or stored blocks), where a stored block may start. The parts
 * are 5-byte block headers and views of `data`, not a copy: incompressible data is most of what a
 * backup of media or archives stores, and each copy was a MiB of garbage per MiB.
 */
export function storedBlocks(data: Uint8Array): Buffer[] {
  const count = Math.max(1, Math.ceil(data.length / STORED_BLOCK_BYTES));
  const headers = Buffer.allocUnsafe(5 * count);
  const parts: Buffer[] = [];
  for (let p = 0, i = 0; i < count; i++) {
    const n = Math.min(STORED_BLOCK_BYTES, data.length - p);
    // BFINAL 0, BTYPE 00, the rest of the byte padding; then LEN and its complement NLEN
    const header = headers.subarray(5 * i, 5 * i + 5);
    header[0] = 0;
    header.writeUInt16LE(n, 1);
    header.writeUInt16LE(~n & 0xffff, 3);
    parts.push(header, Buffer.from(data.buffer, data.byteOffset + p, n));
    p += n;
  }
  return parts;
}

/** the last `n` bytes of `before` followed by `data` (fewer when there are not that many) */
function tailOf(before: Buffer, data: Uint8Array, n: number): Buffer {
  if (data.length >= n) return Buffer.from(data.subarray(data.length - n));
  const keep = Math.min(before.length, n - data.length);
  return Buffer.concat([before.subarray(before.length - keep), data]);
}

export interface ParallelGzipOptions {
  level: number;
  /** blocks being deflated at once (default 2: the pool has 4 threads, the others are left for file I/O and uploads) */
  parallel?: number;
  blockBytes?: number;
  /** store incompressible segments (default true) */
  storeIncompressible?: boolean;
}

/**
 * Push input with write(); the compressed bytes come out, in order, through `sink` (awaited before the
 * next parts are sent). The parts may be views of an input block, which is reused once the sink has
 * settled: the sink must be done with them by then. At most `parallel` blocks are being deflated and
 * one is being gathered, so memory stays at a few MiB.
 */
export class ParallelGzip {
  readonly #sink: (parts: Buffer[]) => Promise<void>;
  readonly #level: number;
  readonly #parallel: number;
  readonly #blockBytes: number;
  readonly #store: boolean;
  readonly #counts = new Uint32Array(256);
  /** output bytes per input byte of the last run deflated at each level (negative: run-length coded), as blocks complete in order */
  readonly #ratios = new Map<number, number>();
  #jobs: { input: Buffer; length: number; output: Promise<{ pieces: Buffer[]; ratios: [number, number][] }> }[] = [];
  /** input buffers of blockBytes, reused: at most `parallel` being deflated plus the one being filled */
  #free: Buffer[] = [];
  #gather: Buffer | undefined;
  #gatherBytes = 0;
  #dictionary: Buffer = Buffer.alloc(0);
  #crc = 0;
  #inputBytes = 0;
  #queuedInput = 0;
  #started = false;

  constructor(sink: (parts: Buffer[]) => Promise<void>, options: ParallelGzipOptions) {
    this.#sink = sink;
    this.#level = options.level;
    this.#parallel = Math.max(1, options.parallel ?? 2);
    this.#blockBytes = options.blockBytes ?? GZIP_BLOCK_BYTES;
    this.#store = options.storeIncompressible ?? true;
  }

  /** input bytes taken but not yet compressed and passed to the sink */
  get pendingInputBytes(): number {
    return this.#gatherBytes + this.#queuedInput;
  }

  /** Takes a copy of `data` (into the block being gathered) before it resolves: the caller may reuse it then. */
  async write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    let offset = 0;
    while (offset < data.length) {
      this.#gather ??= this.#free.pop() ?? Buffer.allocUnsafe(this.#blockBytes);
      const take = Math.min(data.length - offset, this.#blockBytes - this.#gatherBytes);
      this.#gather.set(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take), this.#gatherBytes);
      this.#gatherBytes += take;
      offset += take;
      if (this.#gatherBytes >= this.#blockBytes) await this.#startBlock();
    }
  }

  /** Compresses everything written so far and passes it to the sink (the stream stays open). */
  async flush(): Promise<void> {
    await this.#startBlock();
    while (this.#jobs.length > 0) await this.#completeOne();
  }

  /** Flushes, then ends the deflate stream and writes the gzip trailer. */
  async end(): Promise<void> {
    await this.flush();
    if (!this.#started) { this.#started = true; await this.#sink([HEADER]); }
    const last = await deflatePiece(Buffer.alloc(0), this.#level, undefined, true);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#inputBytes % 0x100000000, 4);
    await this.#sink([last, trailer]);
  }

  async #startBlock(): Promise<void> {
    if (this.#gatherBytes === 0) return;
    const input = this.#gather!;
    const block = input.subarray(0, this.#gatherBytes);
    this.#gather = undefined;
    this.#gatherBytes = 0;
    this.#crc = crc32(block, this.#crc);
    this.#inputBytes += block.length;
    const dictionary = this.#dictionary;
    this.#dictionary = tailOf(dictionary, block, DICTIONARY_BYTES);
    const runs = this.#store ? planRuns(block, this.#level, this.#counts) : [{ start: 0, end: block.length, level: this.#level, rle: false }];
    // the runs of one block one after the other: each deflate in flight holds ~300 KB of zlib state
    // the ratios as the blocks before came out, taken now: they change only as blocks complete in
    // order (#completeOne), so the buffer sizes, and with them the bytes, do not depend on timing (a
    // sync flush that ends within 6 bytes of zlib's buffer makes it add an empty stored block)
    const ratios = new Map(this.#ratios);
    const output = (async () => {
      const pieces: Buffer[] = [];
      const came: [number, number][] = [];
      for (const run of runs) {
        if (run.level === 0) {
          pieces.push(...storedBlocks(block.subarray(run.start, run.end)));
          continue;
        }
        const primer = run.start === 0 ? dictionary : tailOf(dictionary, block.subarray(0, run.start), DICTIONARY_BYTES);
        const data = block.subarray(run.start, run.end);
        const key = run.rle ? -run.level : run.level;
        const out = await deflatePiece(data, run.level, primer, false, run.rle, chunkSizeFor(ratios.get(key), run.level, data.length));
        came.push([key, out.length / data.length]);
        pieces.push(out);
      }
      return { pieces, ratios: came };
    })();
    // a failed deflate is reported when its turn comes, not as an unhandled rejection
    output.catch(() => undefined);
    this.#jobs.push({ input, length: block.length, output });
    this.#queuedInput += block.length;
    while (this.#jobs.length > this.#parallel) await this.#completeOne();
  }

  async #completeOne(): Promise<void> {
    const job = this.#jobs.shift()!;
    const { pieces, ratios } = await job.output;
    for (const [key, ratio] of ratios) this.#ratios.set(key, ratio);
    this.#queuedInput -= job.length;
    if (!this.#started) { this.#started = true; pieces.unshift(HEADER); }
    await this.#sink(pieces);
    // only now: the stored pieces were views of it
    this.#free.push(job.input);
  }
}

// librsync signatures (specs §7.1): a 12-byte header, then per block of the file its rollsum and
// truncated MD4. Generation is push-based so one pass over a file can feed a tar entry and its
// signature at once; parsing keeps the block table in typed arrays (12 bytes a block).
import { IntegrityError, UsageError } from '../errors/lifeboat-error.js';
import { md4Into, md4PairInto } from './md4.js';
import { BlockSums } from './block-sums.js';
import { rollsum } from './rollsum.js';

export const MD4_SIG_MAGIC = 0x72730136;
export const BLAKE2_SIG_MAGIC = 0x72730137;
export const RK_MD4_SIG_MAGIC = 0x72730146;
export const RK_BLAKE2_SIG_MAGIC = 0x72730147;
export const MD4_LENGTH = 16;
/** duplicity's strong sum length */
export const DUPLICITY_STRONG_LENGTH = 8;

const magicNames: Record<number, string> = {
  [BLAKE2_SIG_MAGIC]: 'BLAKE2 strong sums',
  [RK_MD4_SIG_MAGIC]: 'Rabin-Karp weak sums',
  [RK_BLAKE2_SIG_MAGIC]: 'Rabin-Karp weak sums with BLAKE2 strong sums',
};

/**
 * The block length duplicity 0.8 picks for a file of `fileSize` bytes (specs §7.3): 512 below
 * 1,024,000 bytes, then 512 per 1,024,000 bytes, capped at `maxBlockSize` (duplicity's --max-blocksize).
 */
export function duplicityBlockLength(fileSize: number, maxBlockSize = 2048): number {
  if (fileSize < 1_024_000) return 512;
  return Math.min(Math.floor(fileSize / 1_024_000) * 512, maxBlockSize);
}

export interface SignatureOptions {
  /** bytes per block; duplicity: duplicityBlockLength(size) */
  blockLength: number;
  /** bytes of MD4 kept per block, 1..16; duplicity uses 8 */
  strongLength: number;
  /** remember the strong sums of recent blocks for recentStrongSum (a backup's delta over the same bytes) */
  rememberRecent?: boolean;
}

export function checkSignatureOptions(options: SignatureOptions): void {
  const { blockLength, strongLength } = options;
  if (!Number.isInteger(blockLength) || blockLength < 1 || blockLength > 0x7fffffff) {
    throw new UsageError(`bad block length ${blockLength}`, 'give a block length of at least 1 byte, e.g. 512');
  }
  if (!Number.isInteger(strongLength) || strongLength < 1 || strongLength > MD4_LENGTH) {
    throw new UsageError(`bad strong sum length ${strongLength}`, 'MD4 sums are 1 to 16 bytes long; duplicity uses 8');
  }
}

/** how many full blocks' strong sums a SignatureBuilder remembers (recentStrongSum) */
const RECENT_BLOCKS = 1024;

/** Builds a signature from data pushed in any chunking; push() and finish() return the bytes made. */
export class SignatureBuilder {
  readonly #blockLength: number;
  readonly #strongLength: number;
  readonly #partial: Buffer;
  #partialLength = 0;
  #headerSent = false;
  /** full blocks written so far */
  #blocks = 0;
  /** the strong sums of the last RECENT_BLOCKS full blocks, for a delta over the same bytes (recentStrongSum) */
  readonly #recentIndex: Int32Array | undefined;
  readonly #recentSums: Uint8Array | undefined;
  /** both sums of many blocks in one call, when the block length allows */
  readonly #sums: BlockSums | null;

  constructor(options: SignatureOptions) {
    checkSignatureOptions(options);
    this.#sums = BlockSums.for(options.blockLength);
    this.#blockLength = options.blockLength;
    this.#strongLength = options.strongLength;
    this.#partial = Buffer.alloc(options.blockLength);
    if (options.rememberRecent) {
      this.#recentIndex = new Int32Array(RECENT_BLOCKS).fill(-1);
      this.#recentSums = new Uint8Array(RECENT_BLOCKS * MD4_LENGTH);
    }
  }

  push(chunk: Uint8Array): Buffer {
    const bl = this.#blockLength;
    const record = 4 + this.#strongLength;
    const fromPartial = this.#partialLength > 0 ? 1 : 0;
    const maxBlocks = fromPartial + Math.floor((this.#partialLength + chunk.length) / bl);
    const out = Buffer.allocUnsafe(this.#headerBytes() + maxBlocks * record);
    let o = this.#writeHeader(out);
    let p = 0;
    if (this.#partialLength > 0) {
      const take = Math.min(bl - this.#partialLength, chunk.length);
      this.#partial.set(chunk.subarray(0, take), this.#partialLength);
      this.#partialLength += take;
      p = take;
      if (this.#partialLength < bl) return out.subarray(0, o);
      o = this.#writeBlock(this.#partial, 0, bl, out, o);
      this.#partialLength = 0;
    }
    const sums = this.#sums;
    for (let n = sums?.take(Math.floor((chunk.length - p) / bl)) ?? 0; n > 0; n = sums!.take(Math.floor((chunk.length - p) / bl))) {
      sums!.hash(chunk, p, n);
      for (let i = 0; i < n; i++, p += bl) {
        out.writeUInt32BE(sums!.weak(i), o);
        sums!.strongInto(i, out, o + 4, this.#strongLength);
        this.#remember(out, o);
        o += record;
      }
    }
    for (; p + 2 * bl <= chunk.length; p += 2 * bl) o = this.#writeBlockPair(chunk, p, out, o);
    for (; p + bl <= chunk.length; p += bl) o = this.#writeBlock(chunk, p, bl, out, o);
    if (p < chunk.length) {
      this.#partial.set(chunk.subarray(p), 0);
      this.#partialLength = chunk.length - p;
    }
    return out.subarray(0, o);
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.#headerBytes() + 4 + this.#strongLength);
    let o = this.#writeHeader(out);
    if (this.#partialLength > 0) o = this.#writeBlock(this.#partial, 0, this.#partialLength, out, o);
    this.#partialLength = 0;
    return out.subarray(0, o);
  }

  #headerBytes(): number {
    return this.#headerSent ? 0 : 12;
  }

  #writeHeader(out: Buffer): number {
    if (this.#headerSent) return 0;
    out.writeUInt32BE(MD4_SIG_MAGIC, 0);
    out.writeUInt32BE(this.#blockLength, 4);
    out.writeUInt32BE(this.#strongLength, 8);
    this.#headerSent = true;
    return 12;
  }

  #writeBlock(data: Uint8Array, offset: number, length: number, out: Buffer, o: number): number {
    out.writeUInt32BE(rollsum(data, offset, length), o);
    md4Into(data, offset, length, out, o + 4, this.#strongLength);
    if (length === this.#blockLength) this.#remember(out, o);
    return o + 4 + this.#strongLength;
  }

  /** Two full blocks, their MD4 sums computed together (md4PairInto). */
  #writeBlockPair(data: Uint8Array, offset: number, out: Buffer, o: number): number {
    const bl = this.#blockLength;
    const record = 4 + this.#strongLength;
    out.writeUInt32BE(rollsum(data, offset, bl), o);
    out.writeUInt32BE(rollsum(data, offset + bl, bl), o + record);
    md4PairInto(data, offset, offset + bl, bl, out, o + 4, o + record + 4, this.#strongLength);
    this.#remember(out, o);
    this.#remember(out, o + record);
    return o + 2 * record;
  }

  /** keeps the strong sum of the full block just written at out[o] for recentStrongSum */
  #remember(out: Buffer, o: number): void {
    if (!this.#recentSums) return;
    const slot = this.#blocks % RECENT_BLOCKS;
    this.#recentIndex![slot] = this.#blocks;
    this.#recentSums.set(out.subarray(o + 4, o + 4 + this.#strongLength), slot * MD4_LENGTH);
    this.#blocks++;
  }

  /**
   * The KnownStrongSum of a delta built over the same bytes as this signature (a backup feeds both):
   * a window that is exactly one of the recent full blocks has the sum this builder already computed.
   */
  readonly recentStrongSum = (offset: number, length: number, into: Uint8Array, strongLength: number): boolean => {
    if (!this.#recentSums || length !== this.#blockLength || offset % length !== 0 || strongLength > this.#strongLength) return false;
    const block = offset / length;
    const slot = block % RECENT_BLOCKS;
    if (this.#recentIndex![slot] !== block) return false;
    into.set(this.#recentSums.subarray(slot * MD4_LENGTH, slot * MD4_LENGTH + strongLength), 0);
    return true;
  };
}

/** Streams the signature of `source`. */
export async function* generateSignature(
  source: AsyncIterable<Uint8Array>, options: SignatureOptions,
): AsyncGenerator<Buffer> {
  const builder = new SignatureBuilder(options);
  for await (const chunk of source) {
    const out = builder.push(chunk);
    if (out.length > 0) yield out;
  }
  yield builder.finish();
}

/** A parsed signature: block i covers basis bytes [i*blockLength, (i+1)*blockLength). */
export interface Signature {
  readonly blockLength: number;
  readonly strongLength: number;
  readonly blockCount: number;
  readonly weak: Uint32Array;
  /** blockCount * strongLength bytes */
  readonly strong: Uint8Array;
}

/** Parses a signature pushed in any chunking; finish() checks it ended on a record boundary. */
export class SignatureParser {
  /** the parsed arrays live in SharedArrayBuffers, for worker threads */
  readonly #shared: boolean;
  #header = Buffer.alloc(12);
  #headerLength = 0;
  #blockLength = 0;
  #strongLength = 0;
  #record: Buffer = Buffer.alloc(0);
  #recordLength = 0;
  #count = 0;
  #weak: Uint32Array<ArrayBufferLike>;
  #strong: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  #offset = 0;

  /**
   * `blocks`: the expected number of blocks (the arrays grow by doubling past it); `shared`: the
   * parsed arrays live in SharedArrayBuffers.
   */
  constructor(options: { blocks?: number; shared?: boolean } = {}) {
    this.#shared = options.shared ?? false;
    this.#weak = new Uint32Array(this.#memory(Math.max(1, options.blocks ?? 1024) * 4));
  }

  #memory(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.#shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }

  push(chunk: Uint8Array): void {
    let p = 0;
    if (this.#headerLength < 12) {
      const take = Math.min(12 - this.#headerLength, chunk.length);
      this.#header.set(chunk.subarray(0, take), this.#headerLength);
      this.#headerLength += take;
      p = take;
      this.#offset += take;
      if (this.#headerLength < 12) return;
      this.#readHeader();
    }
    const recordSize = 4 + this.#strongLength;
    while (p < chunk.length) {
      if (this.#recordLength === 0 && chunk.length - p >= recordSize) {
        this.#addRecord(chunk, p);
        p += recordSize;
        this.#offset += recordSize;
        continue;
      }
      const take = Math.min(recordSize - this.#recordLength, chunk.length - p);
      this.#record.set(chunk.subarray(p, p + take), this.#recordLength);
      this.#recordLength += take;
      p += take;
      this.#offset += take;
      if (this.#recordLength === recordSize) {
        this.#addRecord(this.#record, 0);
        this.#recordLength = 0;
      }
    }
  }

  finish(): Signature {
    if (this.#headerLength < 12) {
      throw new IntegrityError(`signature is truncated at offset ${this.#offset}: its 12-byte header is incomplete`, {
        offset: this.#offset,
      });
    }
    if (this.#recordLength !== 0) {
      const at = this.#offset - this.#recordLength;
      throw new IntegrityError(`signature is truncated at offset ${at}: its last block record is incomplete`, {
        offset: at,
      });
    }
    return {
      blockLength: this.#blockLength,
      strongLength: this.#strongLength,
      blockCount: this.#count,
      weak: this.#weak.subarray(0, this.#count),
      strong: this.#strong.subarray(0, this.#count * this.#strongLength),
    };
  }

  #readHeader(): void {
    const magic = this.#header.readUInt32BE(0);
    if (magic !== MD4_SIG_MAGIC) {
      const known = magicNames[magic];
      if (known) {
        throw new IntegrityError(`signature uses ${known}, which Lifeboat does not support`, {
          offset: 0,
          hint: 'make the signature with "--hash=md4 --rollsum=rollsum", as duplicity does',
        });
      }
      throw new IntegrityError(`not a librsync signature: bad magic 0x${magic.toString(16).padStart(8, '0')} at offset 0`, {
        offset: 0,
      });
    }
    this.#blockLength = this.#header.readUInt32BE(4);
    this.#strongLength = this.#header.readUInt32BE(8);
    if (this.#blockLength < 1 || this.#blockLength > 0x7fffffff) {
      throw new IntegrityError(`signature has a bad block length ${this.#blockLength} at offset 4`, { offset: 4 });
    }
    if (this.#strongLength < 1 || this.#strongLength > MD4_LENGTH) {
      throw new IntegrityError(`signature has a bad strong sum length ${this.#strongLength} at offset 8`, { offset: 8 });
    }
    this.#record = Buffer.alloc(4 + this.#strongLength);
    this.#strong = new Uint8Array(this.#memory(this.#weak.length * this.#strongLength));
  }

  #addRecord(data: Uint8Array, p: number): void {
    if (this.#count === this.#weak.length) {
      const weak = new Uint32Array(this.#memory(this.#weak.length * 8));
      weak.set(this.#weak);
      this.#weak = weak;
      const strong = new Uint8Array(this.#memory(weak.length * this.#strongLength));
      strong.set(this.#strong);
      this.#strong = strong;
    }
    this.#weak[this.#count] = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
    this.#strong.set(data.subarray(p + 4, p + 4 + this.#strongLength), this.#count * this.#strongLength);
    this.#count++;
  }
}

/**
 * Parses a whole signature held in memory, its arrays sized from its length; with `shared` they live
 * in SharedArrayBuffers, for worker threads.
 */
export function parseSignatureBytes(bytes: Uint8Array, shared = false): Signature {
  const strongLength = bytes.length >= 12 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8) : 0;
  const blocks = strongLength >= 1 && strongLength <= MD4_LENGTH ? Math.floor((bytes.length - 12) / (4 + strongLength)) : undefined;
  const parser = new SignatureParser({ blocks, shared });
  parser.push(bytes);
  return parser.finish();
}

export async function parseSignature(source: AsyncIterable<Uint8Array>): Promise<Signature> {
  const parser = new SignatureParser();
  for await (const chunk of source) parser.push(chunk);
  return parser.finish();
}

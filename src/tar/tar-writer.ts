// Building blocks for writing tar streams: an entry's bytes (header, body, padding) and the end-of-archive footer.
import { BLOCK_SIZE, encodeHeader, type TarEntryHeader } from './header.js';

/** CPython pads a closed archive to a multiple of this (tarfile.RECORDSIZE, 20 blocks). */
export const RECORD_SIZE = 20 * BLOCK_SIZE;

const ZEROS = Buffer.alloc(BLOCK_SIZE);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Zero bytes that bring a body of `size` bytes to a block boundary (a shared buffer: do not modify it). */
export function entryPadding(size: number): Buffer {
  return ZEROS.subarray(0, (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE);
}

/** Bytes an entry takes in the stream: its header blocks plus its padded body. */
export function encodedEntryLength(headerBytes: Buffer, size: number): number {
  return headerBytes.length + size + entryPadding(size).length;
}

/**
 * The buffers of one entry, in order: header bytes, body (not copied), padding; empty parts are left out.
 * `body` must be exactly `header.size` bytes long (omit it for size 0).
 */
export function encodeEntry(header: TarEntryHeader, body?: Uint8Array): Buffer[] {
  const length = body?.byteLength ?? 0;
  if (length !== header.size) throw new RangeError(`tar body is ${length} bytes but the header says ${header.size}`);
  const parts = [encodeHeader(header)];
  if (body && length > 0) parts.push(asBuffer(body), entryPadding(length));
  return parts.filter((p) => p.length > 0);
}

/**
 * The same as a stream: header bytes, the body chunks as they come (not copied), then padding. Throws
 * RangeError if the body turns out longer or shorter than `header.size`; by then part of the entry has
 * been yielded, so the caller must discard the output it was writing.
 */
export async function* encodeEntryStream(header: TarEntryHeader, body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer, void, undefined> {
  yield encodeHeader(header);
  let length = 0;
  for await (const chunk of body) {
    length += chunk.byteLength;
    if (length > header.size) throw new RangeError(`tar body is longer than the ${header.size} bytes the header says`);
    if (chunk.byteLength > 0) yield asBuffer(chunk);
  }
  if (length !== header.size) throw new RangeError(`tar body is ${length} bytes but the header says ${header.size}`);
  const padding = entryPadding(length);
  if (padding.length > 0) yield padding;
}

/**
 * What CPython's TarFile.close() appends when the stream is `offset` bytes long: two zero blocks, then
 * zeros up to a multiple of RECORD_SIZE. Sigtars end with it; difftar volumes do not (§5.8).
 */
export function endOfArchive(offset: number): Buffer {
  const end = offset + 2 * BLOCK_SIZE;
  return Buffer.alloc(2 * BLOCK_SIZE + ((RECORD_SIZE - (end % RECORD_SIZE)) % RECORD_SIZE));
}

/** Tracks the stream offset across entries, so that the footer comes out right. */
export class TarWriter {
  #offset = 0;

  /** Bytes produced so far (before any compression). */
  get offset(): number {
    return this.#offset;
  }

  /** See encodeEntry(). */
  add(header: TarEntryHeader, body?: Uint8Array): Buffer[] {
    const parts = encodeEntry(header, body);
    for (const p of parts) this.#offset += p.length;
    return parts;
  }

  /** See encodeEntryStream(). */
  async *addStream(header: TarEntryHeader, body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer, void, undefined> {
    for await (const part of encodeEntryStream(header, body)) {
      this.#offset += part.length;
      yield part;
    }
  }

  /** The end-of-archive footer (see endOfArchive()). */
  end(): Buffer {
    const footer = endOfArchive(this.#offset);
    this.#offset += footer.length;
    return footer;
  }
}

// What a backup stores for one regular file, read once: the payload (its content, or the librsync delta
// against its previous signature) streamed out, and the file's new signature, complete when the payload
// has been read to its end. The main thread runs this for most files; delta-worker.ts runs it on a
// worker thread for big changed files. Reading once matters: a file that changes while it is read must
// still get a signature of exactly the bytes stored, or the next incremental's delta would be wrong.
import { readSync } from 'node:fs';
import { generateDelta, generateDeltaParts, type SignatureIndex } from '../librsync/delta.js';
import { DUPLICITY_STRONG_LENGTH, SignatureBuilder, type Signature } from '../librsync/signature.js';

export interface FilePayload {
  /** the content, or the delta against `previous`; read it to its end before calling result() */
  payload: AsyncGenerator<Buffer>;
  /** bytes read of the file (it may have grown or shrunk since its lstat) and its new signature */
  result(): { contentBytes: number; signature: Buffer };
}

/**
 * One segment of a file: bytes [start, end) read with positional reads (end undefined: to the file's
 * end). A big file's segments are diffed on several workers at once (delta-workers.ts).
 */
export interface FileRange {
  start: number;
  end?: number;
}

export interface FilePayloadOptions {
  /** one segment of the file (delta-workers.ts); else all of it */
  range?: FileRange;
  /**
   * a delta streams out in the parts it is made of (generateDeltaParts), each valid only until the
   * next is asked for: for a reader that copies them at once
   */
  deltaParts?: boolean;
  /** the reads' buffer (64 KiB or more): saves one per file for a caller that reads one file at a time */
  readBuffer?: Buffer;
}

export function filePayload(fd: number, sizeHint: number, blockLength: number, previous?: Signature | SignatureIndex, options: FilePayloadOptions = {}): FilePayload {
  const { range, deltaParts, readBuffer } = options;
  const builder = new SignatureBuilder({ blockLength, strongLength: DUPLICITY_STRONG_LENGTH, rememberRecent: previous !== undefined });
  const sigParts: Buffer[] = [];
  let contentBytes = 0;
  let signature: Buffer | undefined;
  const content = async function* (): AsyncGenerator<Buffer> {
    // every read shares one buffer: a delta copies what it keeps, and stored content is copied by
    // the volume's spool before the next piece is asked for (readPieces, SpoolFile.write)
    for (const chunk of readChunks(fd, sizeHint, range, readBuffer)) {
      contentBytes += chunk.length;
      const sig = builder.push(chunk);
      if (sig.length > 0) sigParts.push(sig);
      yield chunk;
    }
    sigParts.push(builder.finish());
    signature = Buffer.concat(sigParts);
  };
  // the delta reads the same bytes after the signature builder: its matching blocks' MD4 sums come from there
  const payload = previous ? (deltaParts ? generateDeltaParts : generateDelta)(previous, content(), builder.recentStrongSum) : content();
  return {
    payload,
    result: () => {
      if (!signature) throw new Error('filePayload: result() before the payload was read to its end');
      return { contentBytes, signature };
    },
  };
}

const READ_CHUNK = 1 << 16;

/**
 * A file's bytes in chunks of up to 64 KiB, read to its end (it may have grown since the lstat), or
 * the bytes of `range`. A short read of a regular file means its end, so a small file costs one read
 * call. Every chunk is the same buffer (of at least 64 KiB), overwritten by the next read.
 */
export function* readChunks(fd: number, sizeHint: number, range?: FileRange, buffer: Buffer = Buffer.allocUnsafe(READ_CHUNK)): Generator<Buffer> {
  let position = range ? range.start : null;
  const end = range?.end ?? Infinity;
  let want = Math.min(READ_CHUNK, sizeHint + 1, end - (position ?? 0));
  while (want > 0) {
    const bytesRead = readSync(fd, buffer, 0, want, position);
    if (bytesRead > 0) yield buffer.subarray(0, bytesRead);
    if (bytesRead < want) return;
    if (position !== null) position += bytesRead;
    want = Math.min(READ_CHUNK, end - (position ?? 0));
  }
}

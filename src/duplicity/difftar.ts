// The members one stored object becomes in a difftar (specs §5.4–§5.7): a plain member when its
// payload is under 64 KiB, otherwise numbered multivol pieces of exactly 64 KiB and a shorter last one.
import type { Entry } from '../fsmeta/entry.js';
import { encodeEntry } from '../tar/tar-writer.js';
import { deletedHeader, headerForEntry } from './entry-header.js';
import { memberName } from './member-names.js';

export const PIECE_SIZE = 65536;

export interface DifftarMember {
  /** header, body and padding bytes */
  parts: Buffer[];
  index: Buffer[];
  /** the chunk number for a multivol piece that is not the last (the manifest's block column) */
  block?: number;
}

/**
 * Re-chunks a stream into pieces of exactly `size` bytes; the last is shorter, possibly empty. Input
 * chunks are passed on without copying where a whole piece lies in one (a big file's reads); bytes
 * held over for a later piece are copied once, into a buffer of this reader's. So the source may reuse
 * a chunk's buffer once the next is asked for (file reads do), and a piece is valid until the next
 * one is asked for.
 */
export async function* readPieces(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size = PIECE_SIZE, scratch?: Buffer): AsyncGenerator<Buffer> {
  // `scratch` (at least `size` bytes) saves a buffer per call: a caller that reads one file at a time
  let partial = scratch;
  let fill = 0;
  for await (const bytes of source) {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = 0;
    if (fill > 0) {
      p = chunk.copy(partial!, fill, 0, Math.min(chunk.length, size - fill));
      fill += p;
      if (fill < size) continue;
      yield partial!;
      fill = 0;
    }
    for (; chunk.length - p >= size; p += size) yield chunk.subarray(p, p + size);
    if (p < chunk.length) {
      partial ??= Buffer.allocUnsafe(size);
      fill = chunk.copy(partial, 0, p);
    }
  }
  yield fill === 0 ? Buffer.alloc(0) : partial!.subarray(0, fill);
}

/**
 * Members for a regular file's payload (its content for a snapshot, its delta for a diff). A member's
 * body may be a view of a buffer reused for the next (readPieces, and `scratch` if given, which must
 * not be used elsewhere until the members are read): write it out before asking for the next.
 */
export async function* payloadMembers(
  kind: 'snapshot' | 'diff', entry: Entry, payload: AsyncIterable<Uint8Array>, scratch?: Buffer,
): AsyncGenerator<DifftarMember> {
  let chunk = 0;
  for await (const piece of readPieces(payload, PIECE_SIZE, scratch)) {
    if (chunk === 0 && piece.length < PIECE_SIZE) {
      yield singleMember(kind, entry, piece);
      return;
    }
    chunk++;
    const name = memberName(kind, entry.index, { directory: false, archive: 'difftar', chunk });
    yield {
      parts: encodeEntry(headerForEntry(entry, name, piece.length), piece),
      index: entry.index,
      block: piece.length === PIECE_SIZE ? chunk : undefined,
    };
  }
}

/** The one member of a payload shorter than PIECE_SIZE. */
export function singleMember(kind: 'snapshot' | 'diff', entry: Entry, payload: Buffer): DifftarMember {
  const name = memberName(kind, entry.index, { directory: false, archive: 'difftar' });
  return { parts: encodeEntry(headerForEntry(entry, name, payload.length), payload), index: entry.index };
}

/** The member for an object with no payload: directory, symlink, fifo, device. */
export function snapshotMember(entry: Entry): DifftarMember {
  const name = memberName('snapshot', entry.index, { directory: entry.type === 'dir', archive: 'difftar' });
  return { parts: encodeEntry(headerForEntry(entry, name, 0)), index: entry.index };
}

export function deletedMember(index: Buffer[]): DifftarMember {
  return { parts: encodeEntry(deletedHeader(memberName('deleted', index, { directory: false, archive: 'difftar' }))), index };
}

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
 * chunks are passed on without copying when they already fit (the common case of a small file).
 */
export async function* readPieces(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size = PIECE_SIZE): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  const take = (n: number): Buffer => {
    // the first n held bytes as one buffer
    if (held[0].length === n) { heldBytes -= n; return held.shift()!; }
    if (held[0].length > n) {
      const piece = held[0].subarray(0, n);
      held[0] = held[0].subarray(n);
      heldBytes -= n;
      return piece;
    }
    const piece = Buffer.allocUnsafe(n);
    let fill = 0;
    while (fill < n) {
      const first = held[0];
      const count = Math.min(first.length, n - fill);
      first.copy(piece, fill, 0, count);
      fill += count;
      if (count === first.length) held.shift(); else held[0] = first.subarray(count);
    }
    heldBytes -= n;
    return piece;
  };
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    held.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    heldBytes += chunk.length;
    while (heldBytes >= size) yield take(size);
  }
  yield heldBytes === 0 ? Buffer.alloc(0) : take(heldBytes);
  held = [];
}

/** Members for a regular file's payload (its content for a snapshot, its delta for a diff). */
export async function* payloadMembers(
  kind: 'snapshot' | 'diff', entry: Entry, payload: AsyncIterable<Uint8Array>,
): AsyncGenerator<DifftarMember> {
  let chunk = 0;
  for await (const piece of readPieces(payload)) {
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

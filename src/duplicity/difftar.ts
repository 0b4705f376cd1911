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

/** Re-chunks a stream into pieces of exactly `size` bytes; the last is shorter, possibly empty. */
export async function* readPieces(source: AsyncIterable<Uint8Array>, size = PIECE_SIZE): AsyncGenerator<Buffer> {
  let piece = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const chunk of source) {
    let p = 0;
    while (p < chunk.length) {
      const take = Math.min(size - fill, chunk.length - p);
      piece.set(chunk.subarray(p, p + take), fill);
      fill += take;
      p += take;
      if (fill === size) {
        yield piece;
        piece = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  yield piece.subarray(0, fill);
}

/** Members for a regular file's payload (its content for a snapshot, its delta for a diff). */
export async function* payloadMembers(
  kind: 'snapshot' | 'diff', entry: Entry, payload: AsyncIterable<Uint8Array>,
): AsyncGenerator<DifftarMember> {
  let chunk = 0;
  for await (const piece of readPieces(payload)) {
    if (chunk === 0 && piece.length < PIECE_SIZE) {
      const name = memberName(kind, entry.index, { directory: false, archive: 'difftar' });
      yield { parts: encodeEntry(headerForEntry(entry, name, piece.length), piece), index: entry.index };
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

/** The member for an object with no payload: directory, symlink, fifo, device. */
export function snapshotMember(entry: Entry): DifftarMember {
  const name = memberName('snapshot', entry.index, { directory: entry.type === 'dir', archive: 'difftar' });
  return { parts: encodeEntry(headerForEntry(entry, name, 0)), index: entry.index };
}

export function deletedMember(index: Buffer[]): DifftarMember {
  return { parts: encodeEntry(deletedHeader(memberName('deleted', index, { directory: false, archive: 'difftar' }))), index };
}

// The signature state of a chain (specs §6): its sigtars overlaid in order, the last member for an
// index winning and `deleted/` removing it. Streamed as a k-way merge in index order, so only one
// member per sigtar is held at a time, never the whole chain's signatures.
import { compareIndex, type Entry } from '../fsmeta/entry.js';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { entryFromHeader } from '../duplicity/entry-header.js';
import { parseMemberName, type MemberKind } from '../duplicity/member-names.js';
import type { TarEntry } from '../tar/volume-reader.js';
import type { SignatureLocation, StateRecord } from './state-index.js';

export interface SignatureStateEntry {
  entry: Entry;
  kind: Exclude<MemberKind, 'deleted' | 'diff'>;
  /** the member's data: the librsync signature of a regular file; read it before asking for the next */
  body: AsyncIterable<Buffer>;
  /** the object's record in the state index, when the state was read from one (state-index.ts) */
  record?: StateRecord;
  /** which of the overlaid signature files holds the member (0: the first) and the member's offset in it */
  location?: SignatureLocation;
}

interface Cursor {
  iterator: AsyncIterator<TarEntry>;
  current: { member: TarEntry; kind: MemberKind; index: Buffer[] } | undefined;
  label: string;
  /** its position among the overlaid files */
  file: number;
}

async function advance(cursor: Cursor): Promise<void> {
  for (;;) {
    const next = await cursor.iterator.next();
    if (next.done) { cursor.current = undefined; return; }
    const parsed = parseMemberName(next.value.header.name);
    if (!parsed || parsed.multivol || parsed.kind === 'diff') {
      throw new IntegrityError(`${cursor.label}: unexpected member "${next.value.header.name.toString('latin1')}" in a signature file`);
    }
    if (cursor.current && compareIndex(cursor.current.index, parsed.index) >= 0) {
      throw new IntegrityError(`${cursor.label}: members are out of order at "${next.value.header.name.toString('latin1')}"`);
    }
    cursor.current = { member: next.value, kind: parsed.kind, index: parsed.index };
    return;
  }
}

/**
 * Overlays sigtars given oldest first. `sources` are the member streams of each sigtar, `labels` name
 * them for errors. Yields the live objects in index order.
 */
export async function* overlaySignatures(
  sources: AsyncIterable<TarEntry>[], labels: string[] = [],
): AsyncGenerator<SignatureStateEntry> {
  const cursors: Cursor[] = sources.map((s, i) => ({ iterator: s[Symbol.asyncIterator](), current: undefined, label: labels[i] ?? `signature file ${i + 1}`, file: i }));
  try {
    for (const c of cursors) await advance(c);
    for (;;) {
      let lowest: Buffer[] | undefined;
      for (const c of cursors) {
        if (c.current && (!lowest || compareIndex(c.current.index, lowest) < 0)) lowest = c.current.index;
      }
      if (!lowest) return;
      let winner: Cursor | undefined;
      for (const c of cursors) if (c.current && compareIndex(c.current.index, lowest) === 0) winner = c;
      const { member, kind, index } = winner!.current!;
      if (kind !== 'deleted') {
        const entry = entryFromHeader(member.header, index);
        if (!entry) throw new IntegrityError(`${winner!.label}: unsupported member type for "${member.header.name.toString('latin1')}"`);
        yield { entry, kind: kind as SignatureStateEntry['kind'], body: member.body, location: { file: winner!.file, offset: member.offset } };
      }
      for (const c of cursors) if (c.current && compareIndex(c.current.index, lowest) === 0) await advance(c);
    }
  } finally {
    for (const c of cursors) await c.iterator.return?.();
  }
}

// The members of a signature tar (specs §6): `signature/<path>` with the librsync signature for regular
// files, `snapshot/<path>` for everything else (the root as `snapshot/`), `deleted/<path>` for removals.
import type { Entry } from '../fsmeta/entry.js';
import type { TarEntryHeader } from '../tar/header.js';
import { deletedHeader, headerForEntry } from './entry-header.js';
import { memberName } from './member-names.js';

export function signatureHeader(entry: Entry, signatureLength: number): TarEntryHeader {
  return headerForEntry(entry, memberName('signature', entry.index, { directory: false, archive: 'sigtar' }), signatureLength);
}

export function snapshotSignatureHeader(entry: Entry): TarEntryHeader {
  return headerForEntry(entry, memberName('snapshot', entry.index, { directory: entry.type === 'dir', archive: 'sigtar' }), 0);
}

export function deletedSignatureHeader(index: Buffer[]): TarEntryHeader {
  return deletedHeader(memberName('deleted', index, { directory: false, archive: 'sigtar' }));
}

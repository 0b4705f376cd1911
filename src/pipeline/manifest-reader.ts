// Reads a set's manifest for restore and for the checks before an incremental: the archive dir's
// plain copy when there, else the target's (decrypted when `.gpg`). The Filelist is dropped while streaming: it has a line
// per changed file (a million lines for a million-file full backup) and nothing here needs it.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isEncryptedName } from '../duplicity/file-names.js';
import { decryptedStoredFile } from './set-reader.js';
import type { Target } from './target.js';

const FILELIST_HEADER = /^filelist[ \t]/i;
const FILELIST_ENTRY = /^[ \t]+(new|changed|deleted)[ \t]/i;

/** The manifest's bytes without its Filelist block, or null when the set has no manifest. */
export async function readManifestHead(target: Target, localName: string | null, remoteName: string | null): Promise<Buffer | null> {
  if (localName) {
    const local = createReadStream(join(target.cacheDir, localName));
    const head = await withoutFilelist(local).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (head) return head;
  }
  if (!remoteName) return null;
  if (isEncryptedName(remoteName)) return withoutFilelist(decryptedStoredFile(target.backend, remoteName, { cipher: target.cipher }));
  return target.backend.read(remoteName, withoutFilelist);
}

export async function withoutFilelist(body: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const kept: Buffer[] = [];
  let rest = Buffer.alloc(0);
  const keep = (line: Buffer) => {
    const start = line.toString('latin1', 0, Math.min(line.length, 16));
    if (!FILELIST_HEADER.test(start) && !FILELIST_ENTRY.test(start)) kept.push(line);
  };
  for await (const chunk of body) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
      keep(Buffer.from(data.subarray(0, nl + 1)));
      data = data.subarray(nl + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) keep(rest);
  return Buffer.concat(kept);
}

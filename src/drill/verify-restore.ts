// Checks a restored tree against what the backup itself recorded at backup time: the signature chain
// holds every object's metadata and, for each regular file, its librsync signature (a rolling sum and
// an MD4 sum per block). A restored file whose signature, computed the same way, equals the stored one
// has the content that was backed up. No extra record is needed, and duplicity's archives qualify too.
import { createReadStream } from 'node:fs';
import { compareIndex, formatPath, pathOfIndex } from '../fsmeta/entry.js';
import { indexToPath } from '../duplicity/member-names.js';
import { SignatureBuilder, MD4_SIG_MAGIC } from '../librsync/signature.js';
import { walkSource } from '../selection/walk.js';
import type { SignatureStateEntry } from '../pipeline/signature-state.js';
import type { Entry } from '../fsmeta/entry.js';

export interface VerifyResult {
  /** objects checked */
  objects: number;
  /** regular files whose content was checked */
  files: number;
  bytes: number;
  mismatches: string[];
  /** mismatches beyond the ones listed */
  unlisted: number;
}

export interface VerifyOptions {
  /** only these objects must be present and are checked (a sampled drill); default: all */
  include?: (index: Buffer[]) => boolean;
  maxListed?: number;
  checkOwners: boolean;
}

export async function verifyAgainstSignatures(restoredRoot: string, signatures: AsyncIterable<SignatureStateEntry>, options: VerifyOptions): Promise<VerifyResult> {
  const result: VerifyResult = { objects: 0, files: 0, bytes: 0, mismatches: [], unlisted: 0 };
  const max = options.maxListed ?? 20;
  const report = (index: Buffer[], why: string) => {
    if (result.mismatches.length < max) result.mismatches.push(`${formatPath(indexToPath(index))}: ${why}`);
    else result.unlisted++;
  };
  const restored = walkSource(restoredRoot, { onWarning: (path, message) => report([], `${formatPath(path)}: ${message}`) })[Symbol.asyncIterator]();
  let r = await restored.next();
  for await (const stored of signatures) {
    const index = stored.entry.index;
    if (options.include && !options.include(index)) {
      for await (const _ of stored.body) { /* drained: the next member needs it */ }
      continue;
    }
    while (!r.done && compareIndex(r.value.index, index) < 0) {
      if (!options.include) report(r.value.index, 'restored but not in the backup');
      r = await restored.next();
    }
    result.objects++;
    if (r.done || compareIndex(r.value.index, index) !== 0) {
      report(index, 'missing from the restore');
      for await (const _ of stored.body) { /* drained */ }
      continue;
    }
    const why = await differ(stored, r.value, restoredRoot, options.checkOwners, result);
    if (why) report(index, why);
    r = await restored.next();
  }
  while (!r.done) {
    if (!options.include) report(r.value.index, 'restored but not in the backup');
    r = await restored.next();
  }
  return result;
}

async function differ(stored: SignatureStateEntry, restored: Entry, root: string, owners: boolean, result: VerifyResult): Promise<string | null> {
  const s = stored.entry;
  const signature: Buffer[] = [];
  for await (const chunk of stored.body) signature.push(chunk);
  if (s.type !== restored.type) return `is a ${restored.type}, the backup has a ${s.type}`;
  if (s.type === 'sym') return (s.linkTarget ?? Buffer.alloc(0)).equals(restored.linkTarget ?? Buffer.alloc(0)) ? null : 'points elsewhere than in the backup';
  if (s.permissions !== restored.permissions) return `has mode ${restored.permissions.toString(8)}, the backup ${s.permissions.toString(8)}`;
  if (owners && (s.uid !== restored.uid || s.gid !== restored.gid)) return `is owned by ${restored.uid}:${restored.gid}, the backup by ${s.uid}:${s.gid}`;
  if (s.index.length > 0 && s.mtime !== restored.mtime) return `has mtime ${restored.mtime}, the backup ${s.mtime}`;
  if (s.type !== 'reg') return null;
  // a sigtar member's size is its signature's, not the file's: the signature covers the length
  const expected = Buffer.concat(signature);
  if (expected.length < 12 || expected.readUInt32BE(0) !== MD4_SIG_MAGIC) return 'the backup holds no usable signature for it';
  const builder = new SignatureBuilder({ blockLength: expected.readUInt32BE(4), strongLength: expected.readUInt32BE(8) });
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of createReadStream(pathOfIndex(root, restored.index), { highWaterMark: 1 << 16 })) {
    bytes += (chunk as Buffer).length;
    parts.push(builder.push(chunk as Buffer));
  }
  parts.push(builder.finish());
  result.files++;
  result.bytes += bytes;
  return Buffer.concat(parts).equals(expected) ? null : 'content differs from what was backed up';
}

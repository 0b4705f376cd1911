// `list-current-files` (specs §12.2): the signature chain overlaid up to --time, one line per object
// in index order: the mtime as duplicity prints times, then the raw path.
import { lastFullBackupTime, signatureChainAt } from '../duplicity/collection.js';
import { indexToPath } from '../duplicity/member-names.js';
import { formatHumanTime } from '../duplicity/time.js';
import { readSignatureChain } from './signature-chain.js';
import type { Target } from './target.js';

export interface ListCurrentFilesOptions {
  target: Target;
  time?: number;
  /** receives each line, with its raw path bytes */
  write(line: Buffer): void;
  notice(line: string): void;
}

export async function listCurrentFiles(options: ListCurrentFilesOptions): Promise<number> {
  const { target } = options;
  const lastFull = lastFullBackupTime(target.collection);
  options.notice(`Last full backup date: ${lastFull === null ? 'none' : formatHumanTime(lastFull)}`);
  const time = options.time ?? Math.floor(Date.now() / 1000);
  const chain = signatureChainAt(target.collection, time);
  if (time < chain.startTime) {
    // duplicity's warning (dup_collections.get_signature_chain_at_time), printed on stdout as all its warnings
    options.notice(`No signature chain for the requested time. Using oldest available chain, starting at time ${formatHumanTime(chain.startTime)}.`);
  }
  const upTo = { ...chain, newSignatures: chain.newSignatures.filter((s) => s.endTime <= time) };
  let count = 0;
  for await (const { entry } of readSignatureChain(target, upTo)) {
    options.write(Buffer.concat([Buffer.from(`${formatHumanTime(entry.mtime)} `), indexToPath(entry.index), Buffer.from('\n')]));
    count++;
  }
  return count;
}

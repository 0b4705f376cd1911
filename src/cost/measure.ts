// Sizes on the target, from its listing: the newest full set, and how fast incrementals grow.
import { buildCollection, type BackupSet } from '../duplicity/collection.js';
import { parseArchiveName } from '../duplicity/file-names.js';
import type { Measured } from './model.js';

export interface ListedFile { name: string; size: number }

export function measure(files: ListedFile[]): Measured & { fullTime: number | null; incrementals: number } {
  const sizes = new Map(files.map((f) => [f.name, f.size]));
  const collection = buildCollection(files.map((f) => f.name), []);
  const chain = collection.backupChains.at(-1);
  if (!chain) return { fullBytes: 0, incrementalBytesPerMonth: 0, fullTime: null, incrementals: 0 };
  const signatures = new Map<string, number>();
  for (const f of files) {
    const p = parseArchiveName(f.name);
    if (p?.kind === 'full-signature') signatures.set(`full ${p.time}`, f.size);
    if (p?.kind === 'new-signature') signatures.set(`inc ${p.startTime} ${p.endTime}`, f.size);
  }
  const setBytes = (set: BackupSet) =>
    set.volumes.reduce((sum, v) => sum + (sizes.get(v.name) ?? 0), 0) + (set.manifestName ? sizes.get(set.manifestName) ?? 0 : 0)
    + (signatures.get(set.type === 'full' ? `full ${set.startTime}` : `inc ${set.startTime} ${set.endTime}`) ?? 0);
  const fullBytes = setBytes(chain.fullSet);
  const incrBytes = chain.incrementalSets.reduce((sum, s) => sum + setBytes(s), 0);
  const spanMonths = (chain.endTime - chain.fullSet.endTime) / (86400 * 365 / 12);
  // under a day of incrementals says little about a month: counted as one day's worth
  const perMonth = chain.incrementalSets.length === 0 ? 0 : incrBytes / Math.max(spanMonths, 1 / (365 / 12));
  return { fullBytes, incrementalBytesPerMonth: perMonth, fullTime: chain.fullSet.endTime, incrementals: chain.incrementalSets.length };
}

// What an offline disk carries besides the backups, and what the target keeps about each copy:
// - lifeboat-disk.json: the disk's label (name, first use, last copy, what it holds), small JSON;
// - lifeboat-disk.sha1sums: the SHA-1 of every file Lifeboat copied or checked, in sha1sum's format,
//   so the next copy can find a flipped byte (and `sha1sum -c` can, without Lifeboat);
// - lifeboat-copy.<time>.<disk>.json on the profile's target: one record per copy, so `status` knows
//   when each disk was last written without the disk plugged in.
// duplicity ignores all of them: their names are not its own.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Backend } from '../backend/types.js';
import { BackendError } from '../backend/errors.js';

export const LABEL_NAME = 'lifeboat-disk.json';
export const SUMS_NAME = 'lifeboat-disk.sha1sums';
export const COPY_RECORD_PREFIX = 'lifeboat-copy.';

export interface HeldChain {
  /** the full backup's time, epoch seconds */
  start: number;
  /** the last set's time */
  end: number;
  sets: number;
}

export interface DiskLabel {
  name: string;
  /** the profile and host whose backups the disk holds */
  profile: string;
  host: string;
  /** the target copied from (credentials removed) */
  target: string;
  /** epoch seconds */
  firstUse: number;
  lastCopy: number;
  lastMode: 'copy' | 'from-source';
  holds: { chains: HeldChain[]; lastBackupTime: number | null };
}

export interface CopyRecord {
  /** when the copy finished, epoch seconds (with milliseconds) */
  time: number;
  disk: string;
  /** DEST, credentials removed */
  dest: string;
  mode: 'copy' | 'from-source';
  /** the newest backup the disk holds after the copy */
  lastBackupTime: number | null;
  copiedFiles: number;
  copiedBytes: number;
  checkedFiles: number;
  damaged: string[];
  host: string;
}

async function readSmall(backend: Backend, name: string, limit = 1 << 20): Promise<Buffer | undefined> {
  try {
    return await backend.read(name, async (body) => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw new BackendError('permanent', `${name} is larger than ${limit} bytes: not Lifeboat's`);
        chunks.push(chunk);
      }
      return Buffer.concat(chunks);
    });
  } catch (err) {
    if (err instanceof BackendError && err.kind === 'not-found') return undefined;
    throw err;
  }
}

async function putSmall(backend: Backend, name: string, data: Buffer): Promise<void> {
  await backend.put(name, { size: data.length, open: () => Readable.from([data]) });
}

/** The disk's label, or undefined when the disk has none (first use); a label that is not JSON is an error. */
export async function readLabel(backend: Backend): Promise<DiskLabel | undefined> {
  const data = await readSmall(backend, LABEL_NAME);
  if (data === undefined) return undefined;
  try {
    const label = JSON.parse(data.toString()) as DiskLabel;
    if (typeof label.name !== 'string') throw new Error('no name');
    return label;
  } catch (err) {
    throw new BackendError('permanent', `${LABEL_NAME} on ${backend.displayUrl} is not a Lifeboat disk label (${(err as Error).message})`);
  }
}

export async function writeLabel(backend: Backend, label: DiskLabel): Promise<void> {
  await putSmall(backend, LABEL_NAME, Buffer.from(`${JSON.stringify(label, null, 2)}\n`));
}

/** name -> SHA-1 hex of the disk's files, as recorded by earlier copies. */
export async function readSums(backend: Backend): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  try {
    await backend.read(SUMS_NAME, async (body) => {
      sums.clear();
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        const m = /^([0-9a-f]{40}) [ *](.+)$/.exec(line);
        if (m) sums.set(m[2], m[1]);
      }
    });
  } catch (err) {
    if (!(err instanceof BackendError && err.kind === 'not-found')) throw err;
  }
  return sums;
}

export async function writeSums(backend: Backend, sums: ReadonlyMap<string, string>): Promise<void> {
  const names = [...sums.keys()].sort();
  const lines = () => Readable.from((function* () {
    for (const name of names) yield Buffer.from(`${sums.get(name)}  ${name}\n`);
  })());
  let size = 0;
  for (const name of names) size += Buffer.byteLength(`${sums.get(name)}  ${name}\n`);
  await backend.put(SUMS_NAME, { size, open: lines });
}

/** A disk name as it may appear in a file name: letters, digits, `-` and `_`. */
export function diskSlug(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return slug || createHash('sha1').update(name).digest('hex').slice(0, 8);
}

export function copyRecordName(record: CopyRecord): string {
  const stamp = new Date(Math.floor(record.time) * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${COPY_RECORD_PREFIX}${stamp}.${diskSlug(record.disk)}.json`;
}

export async function saveCopyRecord(backend: Backend, record: CopyRecord): Promise<string> {
  const name = copyRecordName(record);
  await putSmall(backend, name, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  return name;
}

/** The newest copy record of each disk, newest first; only one record per disk is read. */
export async function latestCopyRecords(backend: Backend, remoteNames: readonly string[]): Promise<CopyRecord[]> {
  const newestBySlug = new Map<string, string>();
  for (const name of remoteNames) {
    const m = /^lifeboat-copy\.(\d{8}T\d{6}Z)\.(.+)\.json$/.exec(name);
    if (!m) continue;
    const known = newestBySlug.get(m[2]);
    if (known === undefined || known < name) newestBySlug.set(m[2], name);
  }
  const records: CopyRecord[] = [];
  for (const name of newestBySlug.values()) {
    const data = await readSmall(backend, name);
    if (!data) continue;
    try {
      records.push(JSON.parse(data.toString()) as CopyRecord);
    } catch { /* not ours after all */ }
  }
  return records.sort((a, b) => b.time - a.time);
}

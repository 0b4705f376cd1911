// `verify` (specs §10.4, §12.3): replays the archive (which checks every volume's hash) and, with
// --compare-data, compares each object with the local tree as duplicity does, one line per difference.
import { open } from 'node:fs/promises';
import { lastFullBackupTime } from '../duplicity/collection.js';
import { indexToPath, pathToIndex } from '../duplicity/member-names.js';
import { formatHumanTime } from '../duplicity/time.js';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { compareIndex, formatPath, pathOfIndex, type Entry } from '../fsmeta/entry.js';
import { resolveOwner, systemNames, type NameDatabase } from '../fsmeta/names.js';
import { walkSource } from '../selection/walk.js';
import { buildSelector, type SelectionRule } from '../selection/selector.js';
import { replaySets, type ReplayedObject } from './replay.js';
import { plannedSets } from './restore-from-target.js';
import { readSetMembers } from './set-reader.js';
import type { Target } from './target.js';
import { lstat } from 'node:fs/promises';

export interface VerifyOptions {
  target: Target;
  local: string;
  time?: number;
  fileToRestore?: string;
  compareData: boolean;
  numericOwner: boolean;
  tempdir: string;
  signal?: AbortSignal;
  notice(line: string): void;
  warning(line: string): void;
  /** duplicity applies the backup's selection options to the local tree as well */
  selection?: SelectionRule[];
  nullSeparator?: boolean;
}

/** duplicity checks this (exit 12) before it touches the target or the cache; so does the CLI. */
export async function checkVerifyDirectory(local: string): Promise<void> {
  if (!(await lstat(local).catch(() => null))) {
    throw new LifeboatError(`Verify directory ${local} does not exist`, {
      code: 'verify-dir-missing', exitCode: ExitCode.verifyDirMissing, hint: 'give the directory the backup was made from',
    });
  }
}

/** Returns the number of differences found. */
export async function verifyTarget(options: VerifyOptions): Promise<number> {
  const { target } = options;
  await checkVerifyDirectory(options.local);
  const selection = options.selection && options.selection.length > 0
    ? buildSelector(options.selection, options.local, { nullSeparator: options.nullSeparator })
    : undefined;
  const lastFull = lastFullBackupTime(target.collection);
  options.notice(`Last full backup date: ${lastFull === null ? 'none' : formatHumanTime(lastFull)}`);
  const time = options.time ?? Math.floor(Date.now() / 1000);
  const prefix = pathToIndex(options.fileToRestore ?? '');
  const sets = await plannedSets(target, time, prefix);
  const archive = replaySets(sets.map((vols) => readSetMembers(target.backend, vols, { signal: options.signal, cipher: target.cipher, tempdir: options.tempdir })), {
    prefix, tempdir: options.tempdir, onWarning: options.warning,
  });
  const names = await systemNames();
  const local = walkSource(options.local, { onWarning: () => undefined, names, selection });
  const a = archive[Symbol.asyncIterator]();
  const l = local[Symbol.asyncIterator]();
  let x = await a.next();
  let y = await l.next();
  let total = 0;
  let differences = 0;
  const differ = (entry: { index: Buffer[] }, text: string) => {
    differences++;
    options.notice(`Difference found: ${text.replace('%s', formatPath(indexToPath(entry.index)))}`);
  };
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareIndex(x.value.entry.index, y.value.index);
    total++;
    if (order < 0) {
      if (options.compareData) differ(x.value.entry, 'File %s is missing');
      await drain(x.value);
      x = await a.next();
    } else if (order > 0) {
      if (options.compareData) differ(y.value!, 'New file %s');
      y = await l.next();
    } else {
      if (options.compareData) {
        const why = await compare(x.value!, y.value!, options.local, names, options.numericOwner);
        if (why) differ(y.value!, why);
      }
      await drain(x.value!);
      x = await a.next();
      y = await l.next();
    }
  }
  options.notice(`Verify complete: ${total} ${total === 1 ? 'file' : 'files'} compared, ${differences} ${differences === 1 ? 'difference' : 'differences'} found.`);
  return differences;
}

async function drain(object: ReplayedObject): Promise<void> {
  if (object.content) for await (const _ of object.content) { /* read through: it checks hashes and deltas */ }
}

function perms(e: Entry, uid: number, gid: number): string {
  return `${uid}:${gid} ${e.permissions.toString(8)}`;
}

/** duplicity's compare_verbose order: type, then permissions and owner, mtime, data / target / numbers. */
async function compare(backup: ReplayedObject, local: Entry, root: string, names: NameDatabase, numericOwner: boolean): Promise<string | null> {
  const b = backup.entry;
  if (b.type !== local.type) return `File %s has type ${local.type}, expected ${b.type}`;
  if (b.type === 'sym') {
    const want = b.linkTarget ?? Buffer.alloc(0);
    const got = local.linkTarget ?? Buffer.alloc(0);
    if (want.equals(got) || Buffer.concat([want, Buffer.from('/')]).equals(got)) return null;
    return `Symlink %s points to ${pythonBytesRepr(got)}, expected ${pythonBytesRepr(want)}`;
  }
  const owner = resolveOwner(b, names, numericOwner);
  if (b.permissions !== local.permissions || owner.uid !== local.uid || owner.gid !== local.gid) {
    return `File %s has permissions ${perms(local, local.uid, local.gid)}, expected ${perms(b, owner.uid, owner.gid)}`;
  }
  if (b.type === 'chr' || b.type === 'blk') {
    if (b.devMajor !== local.devMajor || b.devMinor !== local.devMinor) {
      return `Device file %s has numbers (${local.devMajor}, ${local.devMinor}), expected (${b.devMajor}, ${b.devMinor})`;
    }
    return null;
  }
  if (b.mtime !== local.mtime && (b.mtime > 0 || local.mtime > 0)) {
    return `File %s has mtime ${formatHumanTime(local.mtime)}, expected ${formatHumanTime(b.mtime)}`;
  }
  if (b.type === 'reg' && backup.content && !(await sameData(backup.content, pathOfIndex(root, local.index)))) {
    return 'Data for file %s is different';
  }
  return null;
}

/** duplicity formats link targets (bytes) with Python's repr(): b'target', escapes and all. */
export function pythonBytesRepr(bytes: Buffer): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? 0x22 : 0x27;
  let out = `b${String.fromCharCode(quote)}`;
  for (const c of bytes) {
    if (c === quote || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  return out + String.fromCharCode(quote);
}

async function sameData(content: AsyncIterable<Buffer>, path: Buffer): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  let same = true;
  try {
    let position = 0;
    for await (const chunk of content) {
      if (!same) continue; // keep reading: the archive must still be checked to its end
      const buffer = Buffer.allocUnsafe(chunk.length);
      const { bytesRead } = await handle.read(buffer, 0, chunk.length, position);
      if (bytesRead !== chunk.length || !buffer.equals(chunk)) same = false;
      position += chunk.length;
    }
    if (same) {
      const probe = Buffer.allocUnsafe(1);
      const { bytesRead } = await handle.read(probe, 0, 1, position);
      if (bytesRead !== 0) same = false;
    }
  } finally {
    await handle.close();
  }
  return same;
}

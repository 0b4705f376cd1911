// Replays the sets of a chain (specs §10.2): merges their member streams by index and, per index, keeps
// the members from the last snapshot or deletion on; a regular file's content is its snapshot with each
// later delta applied in turn. Yields what exists at the chosen time, in index order, streamed.
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { entryFromHeader } from '../duplicity/entry-header.js';
import { indexToPath } from '../duplicity/member-names.js';
import { compareIndex, formatPath, type Entry } from '../fsmeta/entry.js';
import { applyPatch, copiesMoveForward, fileBasisReader, streamBasisReader, type BasisReader } from '../librsync/patch.js';
import { inFile, IntegrityError } from '../errors/lifeboat-error.js';
import type { SetMember } from './set-reader.js';

export interface ReplayedObject {
  /** metadata from the last member; index relative to the restored path */
  entry: Entry;
  /** the content of a regular file; read it before asking for the next object */
  content?: AsyncIterable<Buffer>;
}

export interface ReplayOptions {
  /** only this subtree, re-rooted at it (--file-to-restore); [] for everything */
  prefix: Buffer[];
  /** where intermediate versions of patched files are kept */
  tempdir: string;
  onWarning(message: string): void;
}

interface Cursor {
  it: AsyncIterator<SetMember>;
  current: SetMember | undefined;
}

function hasPrefix(index: Buffer[], prefix: Buffer[]): boolean {
  if (index.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (!index[i].equals(prefix[i])) return false;
  return true;
}

async function advance(c: Cursor): Promise<void> {
  const next = await c.it.next();
  c.current = next.done ? undefined : next.value;
}

export async function* replaySets(sets: AsyncIterable<SetMember>[], options: ReplayOptions): AsyncGenerator<ReplayedObject> {
  const cursors: Cursor[] = sets.map((s) => ({ it: s[Symbol.asyncIterator](), current: undefined }));
  try {
    for (const c of cursors) await advance(c);
    for (;;) {
      let lowest: Buffer[] | undefined;
      for (const c of cursors) if (c.current && (!lowest || compareIndex(c.current.index, lowest) < 0)) lowest = c.current.index;
      if (!lowest) return;
      const group = cursors.filter((c) => c.current && compareIndex(c.current.index, lowest!) === 0);
      if (hasPrefix(lowest, options.prefix)) {
        const object = await resolve(group.map((c) => c.current!), lowest.slice(options.prefix.length), options);
        if (object) yield object;
      }
      for (const c of group) await advance(c);
    }
  } finally {
    for (const c of cursors) await c.it.return?.();
  }
}

async function resolve(members: SetMember[], relative: Buffer[], options: ReplayOptions): Promise<ReplayedObject | null> {
  let start = -1;
  for (let i = members.length - 1; i >= 0; i--) if (members[i].kind !== 'diff') { start = i; break; }
  const path = formatPath(indexToPath(members[0].index));
  if (start === -1) {
    options.onWarning(`Error '${path}' patching: a delta without a preceding snapshot; the file is left out`);
    return null;
  }
  const base = members[start];
  if (base.kind === 'deleted') {
    if (start !== members.length - 1) options.onWarning(`Error '${path}' patching: a delta after a deletion; the file is left out`);
    return null;
  }
  const last = members[members.length - 1];
  const entry = entryFromHeader(last.header, relative);
  if (!entry) {
    options.onWarning(`Skipping '${path}': unsupported member type in the archive`);
    return null;
  }
  const diffs = members.slice(start + 1);
  if (entry.type !== 'reg') {
    if (diffs.length > 0) options.onWarning(`Error '${path}' patching: a delta of an object that is not a regular file; using its last snapshot`);
    return { entry };
  }
  if (base.header.type !== 'file') {
    options.onWarning(`Error '${path}' patching: a delta on top of a ${base.header.type}; the file is left out`);
    return null;
  }
  return { entry, content: diffs.length === 0 ? base.body : patched(base.body, diffs, options.tempdir, path) };
}

/** in-memory bytes of one file's deltas, read before its snapshot; beyond them, a temporary file each */
const DELTA_MEMORY = 8 << 20;

/** One delta, read ahead of the version it applies to, and whether its copies only move forward. */
interface SpooledDelta {
  bytes(): AsyncIterable<Uint8Array>;
  forward: boolean;
}

/**
 * The snapshot with each delta applied. Every delta is read first, as far as it takes to tell
 * whether it only copies forward (spoolDelta): they come from the other sets' streams, which are at
 * this object already. A version whose next delta only copies forward is read as it streams (the
 * snapshot straight out of its volume, or the output of the delta before); any other version is
 * written to a temporary file first, so the delta can read it in any order. Most
 * deltas of files edited in place, appended to, or with rows inserted and deleted copy forward, and
 * their restore then writes no temporary copy of the file (bench/README.md).
 */
async function* patched(snapshot: AsyncIterable<Buffer>, diffs: SetMember[], tempdir: string, path: string): AsyncGenerator<Buffer> {
  const temporaries: string[] = [];
  const temporary = () => {
    const name = join(tempdir, `lifeboat-patch-${process.pid}-${randomBytes(6).toString('hex')}`);
    temporaries.push(name);
    return name;
  };
  const handles: FileHandle[] = [];
  const stages: AsyncGenerator<Buffer>[] = [];
  // a damaged volume is reported as before, not as this file's error: the snapshot is read in here now
  const fromVolume = new WeakSet<object>();
  try {
    const memory = { left: DELTA_MEMORY };
    const deltas: SpooledDelta[] = [];
    for (const diff of diffs) deltas.push(await spoolDelta(diff.body, memory, temporary));
    const versions: AsyncIterable<Buffer>[] = [markErrors(snapshot, fromVolume)];
    let version = versions[0];
    for (const delta of deltas) {
      let basis: BasisReader;
      if (delta.forward) {
        basis = streamBasisReader(version);
      } else {
        const basisPath = temporary();
        await writeTemporary(basisPath, version);
        const handle = await open(basisPath, 'r');
        handles.push(handle);
        basis = fileBasisReader(handle);
      }
      const stage = applyPatch(basis, delta.bytes());
      stages.push(stage);
      versions.push(stage);
      version = stage;
    }
    yield* version;
    // duplicity reads every version to its end, so a damaged delta is reported even where the next
    // delta stopped reading (or never read) the version it makes: those are read to their end here,
    // the latest first, since reading one may read more of the one before
    for (let k = versions.length - 2; k >= 0; k--) for await (const _ of versions[k]) { /* checked only */ }
  } catch (err) {
    throw err instanceof IntegrityError && !fromVolume.has(err) ? inFile(err, path) : err;
  } finally {
    // stopped early: a version read part of the way is closed here (its generator and its delta's
    // input); one whose output was never asked for never opened its delta
    for (const stage of stages.reverse()) await stage.return(undefined).catch(() => undefined);
    for (const handle of handles) await handle.close().catch(() => undefined);
    for (const t of temporaries) await unlink(t).catch(() => undefined);
  }
}

/** The chunks of `source`, with any error it throws remembered in `errors`. */
async function* markErrors(source: AsyncIterable<Buffer>, errors: WeakSet<object>): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (err) {
    if (typeof err === 'object' && err !== null) errors.add(err);
    throw err;
  }
}

/**
 * Reads a delta, keeping what it reads in memory while `memory` lasts, else in a temporary file, and
 * checks its copies as it goes. A delta that copies forward is kept whole. One that does not is kept
 * only up to where that shows (a copy back, or damage): its version is written to a temporary file
 * anyway, and the rest of it is read from its volume when it is applied.
 */
async function spoolDelta(body: AsyncIterable<Buffer>, memory: { left: number }, temporary: () => string): Promise<SpooledDelta> {
  const source = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let fd: number | undefined;
  let spoolPath: string | undefined;
  const keep = (chunk: Buffer) => {
    if (fd === undefined && chunk.length <= memory.left) {
      // copied: a chunk is a view of the volume's inflated buffer, which it would keep alive whole
      chunks.push(Buffer.from(chunk));
      memory.left -= chunk.length;
      return;
    }
    if (fd === undefined) {
      spoolPath = temporary();
      fd = openSync(spoolPath, 'wx', 0o600);
      for (const held of chunks) writeAll(fd, held);
      memory.left += chunks.reduce((sum, c) => sum + c.length, 0);
      chunks.length = 0;
    }
    writeAll(fd, chunk);
  };
  // what the check reads is kept; when it stops early, the delta's stream stays open for the rest
  const kept: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const next = await source.next();
        if (!next.done) keep(next.value);
        return next;
      },
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  let forward: boolean;
  try {
    forward = await copiesMoveForward(kept);
    // anything after the END command is kept too, as it was read before
    if (forward) for await (const _ of kept) { /* kept */ }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  // lazy: nothing is opened or read until the delta is applied (a stage whose output is never asked for never reads it)
  const head = async function* (): AsyncGenerator<Uint8Array> {
    if (spoolPath === undefined) yield* chunks;
    else yield* createReadStream(spoolPath, { highWaterMark: 1 << 18 }) as AsyncIterable<Buffer>;
  };
  if (forward) return { bytes: head, forward };
  // read once, by its one stage; applyPatch stops at END, and anything after it (duplicity writes
  // nothing there) is left to the set reader, which skips it
  const bytes = async function* (): AsyncGenerator<Uint8Array> {
    try {
      yield* head();
      for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
    } finally {
      await source.return?.();
    }
  };
  return { bytes, forward };
}

function writeAll(fd: number, chunk: Uint8Array): void {
  for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
}

/**
 * Writes a version of a patched file with synchronous writes, as the restore writes files: through a
 * write stream each 256 KiB piece waited for the thread pool before the next was inflated.
 */
async function writeTemporary(path: string, content: AsyncIterable<Uint8Array>): Promise<void> {
  const fd = openSync(path, 'wx', 0o600);
  try {
    for await (const chunk of content) {
      writeAll(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}

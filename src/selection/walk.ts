// The source walk: every object under a root, in duplicity's index order (spec §5.6), read with lstat.
// Metadata calls are synchronous on purpose: each async call is a round trip through libuv's thread
// pool, and a walk makes several per file, one after another; sync calls made a 5,000-file backup
// several times faster (measured with bench/million-files.sh).
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { isSystemError } from '../errors/format-error.js';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import type { Entry } from '../fsmeta/entry.js';
import { systemNames, type NameDatabase } from '../fsmeta/names.js';
import { readPermissionChecker } from '../fsmeta/read-permission.js';
import { entryFromStatsWith, negativeMtimeMessage } from '../fsmeta/read.js';
import type { Candidate } from './selector.js';

export type WalkWarningCode = 'vanished' | 'unreadable' | 'cannot-list' | 'cannot-stat' | 'negative-mtime';
export type WalkSkipReason = 'socket' | 'other-filesystem';

export interface WalkWarning {
  code: WalkWarningCode;
  index: Buffer[];
  error?: unknown;
}

export interface WalkOptions {
  /**
   * Called for each directory after it was yielded; false leaves its contents out (the selection
   * module prunes excluded subtrees with it). Default: descend everywhere.
   */
  shouldDescend?(entry: Entry, path: Buffer): boolean;
  /** A problem with one object, which is left out; the walk goes on (duplicity exits 0 then, spec §13.14). */
  onWarning(path: Buffer, message: string, detail: WalkWarning): void;
  /** An object deliberately left out: sockets (duplicity logs "Skipping socket" at INFO), other mounts. */
  onSkip?(path: Buffer, reason: WalkSkipReason, index: Buffer[]): void;
  /** leave out everything on another device than the root, mount points included, like --exclude-other-filesystems */
  oneFileSystem?: boolean;
  /** defaults to the local passwd/group files */
  names?: NameDatabase;
  /**
   * duplicity's file selection (selector.ts): each object below the root is kept (1), left out (0,
   * and a directory is not entered), or, for a directory, scanned (2): entered, and yielded only
   * just before the first object inside it that is kept. The root is always kept, as duplicity does.
   */
  selection?: WalkSelection;
}

export interface WalkSelection {
  /** the root as the selection names it; each object's text is this joined with its decoded names */
  rootText: string;
  select(candidate: Candidate): 0 | 1 | 2;
}

interface Frame {
  index: Buffer[];
  path: Buffer;
  /** this directory's names, sorted; memory is the sum of these along the current path only */
  names: Buffer[];
  next: number;
  /** the path as the selection matches it (only with a selection) */
  text: string;
  /** a scanned directory not yielded yet: it is, just before the first kept object inside it */
  pending: Entry | null;
  /** the pending directory's warnings (a negative mtime), given when it is yielded */
  pendingWarnings: readonly (() => void)[];
}

/** st_size of the directories the walk yielded, for duplicity's SourceFileSize (an Entry's size is the tar header's 0) */
const directorySizes = new WeakMap<Entry, number>();

/** A directory's st_size as the walk read it; 0 for anything else. */
export function walkedDirectorySize(entry: Entry): number {
  return directorySizes.get(entry) ?? 0;
}

/**
 * Yields the root first, then everything below it depth-first with each directory's names sorted as
 * unsigned bytes, which is exactly index order. Symlinks are never followed, so loops cannot occur.
 */
export async function* walkSource(root: string, options: WalkOptions): AsyncGenerator<Entry> {
  yield* walkSourceSync(root, { ...options, names: options.names ?? (await systemNames()) });
}

/**
 * walkSource without a promise per object (every call in it is synchronous): the backup's loop takes
 * the objects as they come, where the asynchronous generator cost a tenth of a no-change backup in
 * promises and their garbage.
 */
export function* walkSourceSync(root: string, options: WalkOptions & { names: NameDatabase }): Generator<Entry> {
  const names = options.names;
  const rootPath = Buffer.from(root);
  let rootStats: Stats;
  try {
    rootStats = lstatSync(rootPath);
  } catch (err) {
    throw new LifeboatError(`${root}: cannot read the backup source: ${isSystemError(err) ? err.code : String(err)}`, {
      code: 'source-missing',
      exitCode: ExitCode.sourceDirMissing,
      hint: 'check the source directory',
      cause: err,
    });
  }
  const rootDevice = rootStats.dev;
  const rootEntry = entryFromStatsWith(rootPath, [], rootStats, names, (message) => options.onWarning(rootPath, message, { code: 'negative-mtime', index: [] }));
  if (rootEntry === null) {
    options.onSkip?.(rootPath, 'socket', []);
    return;
  }
  if (rootEntry.type === 'dir') directorySizes.set(rootEntry, rootStats.size);
  yield rootEntry;
  if (rootEntry.type !== 'dir' || !(options.shouldDescend?.(rootEntry, rootPath) ?? true)) return;

  const selection = options.selection;
  // as duplicity's fsdecode: invalid bytes become U+FFFD, and a leading U+FEFF is part of the name
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const readable = readPermissionChecker();
  const stack: Frame[] = [{ index: [], path: rootPath, names: list(rootPath, [], options), next: 0, text: selection?.rootText ?? '', pending: null, pendingWarnings: [] }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next >= frame.names.length) {
      stack.pop();
      continue;
    }
    const name = frame.names[frame.next++];
    const index = [...frame.index, name];
    const path = childPath(frame.path, name);
    const entry = visit(path, index, rootDevice, names, options);
    if (entry === null) continue;
    const { stats, warnings } = visited;
    let verdict: 0 | 1 | 2 = 1;
    let text = '';
    let listing: Buffer[] | null | undefined;
    if (selection) {
      text = joinText(frame.text, decoder.decode(name));
      verdict = selection.select({
        path: text, type: entry.type, stats, fsPath: path,
        listNames: () => {
          if (listing === undefined) {
            try {
              listing = readdirSync(path, { encoding: 'buffer' });
            } catch {
              listing = null;
            }
          }
          return listing;
        },
      });
      if (verdict === 0) continue;
    }
    // duplicity leaves out files and directories it may not read rather than storing them empty,
    // and warns only about those the selection would have kept or scanned
    if ((entry.type === 'reg' || entry.type === 'dir') && !readable(path, stats.dev)) {
      options.onWarning(path, 'Error accessing possibly locked file', { code: 'unreadable', index });
      continue;
    }
    if (verdict === 2) {
      if (entry.type !== 'dir') continue;
      stack.push({ index, path, names: list(path, index, options, listing), next: 0, text, pending: entry, pendingWarnings: warnings });
      continue;
    }
    for (const f of stack) {
      if (f.pending) {
        for (const warn of f.pendingWarnings) warn();
        yield f.pending;
        f.pending = null;
      }
    }
    for (const warn of warnings) warn();
    yield entry;
    if (entry.type === 'dir' && (options.shouldDescend?.(entry, path) ?? true)) {
      // listed only now, after the consumer had the directory: the walk stays lazy
      stack.push({ index, path, names: list(path, index, options, listing), next: 0, text, pending: null, pendingWarnings: [] });
    }
  }
}

function joinText(parent: string, name: string): string {
  return parent.endsWith('/') ? parent + name : `${parent}/${name}`;
}

/** What visit() read besides the entry: its lstat, and its warnings (no object per call). */
const visited: { stats: Stats; warnings: readonly (() => void)[] } = { stats: undefined as unknown as Stats, warnings: [] };
const NO_WARNINGS: readonly (() => void)[] = Object.freeze([]);
let negativeMtime = false;
const sawNegativeMtime = () => { negativeMtime = true; };

/**
 * One object below the root: its entry (its lstat and warnings in `visited`), or null when it was
 * skipped or warned about. Synchronous, as every call here is: a promise per object was a tenth of a
 * no-change backup's walk.
 */
function visit(path: Buffer, index: Buffer[], rootDevice: number, names: NameDatabase, options: WalkOptions): Entry | null {
  try {
    // numbers, not BigInts: a BigIntStats was a quarter of a no-change backup's garbage (read.ts)
    const stats = lstatSync(path);
    if (options.oneFileSystem && stats.dev !== rootDevice) {
      options.onSkip?.(path, 'other-filesystem', index);
      return null;
    }
    negativeMtime = false;
    const entry = entryFromStatsWith(path, index, stats, names, sawNegativeMtime);
    if (entry === null) {
      options.onSkip?.(path, 'socket', index);
      return null;
    }
    if (entry.type === 'dir') directorySizes.set(entry, stats.size);
    visited.stats = stats;
    // a warning about the entry (a negative mtime) waits until it is kept: excluded objects are silent
    visited.warnings = negativeMtime ? [() => options.onWarning(path, negativeMtimeMessage, { code: 'negative-mtime', index })] : NO_WARNINGS;
    return entry;
  } catch (err) {
    if (!isSystemError(err) && !(err instanceof LifeboatError)) throw err;
    const gone = isSystemError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
    const message = gone ? 'vanished while the directory was read' : `Error accessing possibly locked file (${describe(err)})`;
    options.onWarning(path, message, { code: gone ? 'vanished' : 'cannot-stat', index, error: err });
    return null;
  }
}

/** parent/name, as pathOfIndex(parent, [name]) without its arrays */
function childPath(parent: Buffer, name: Buffer): Buffer {
  const slash = parent.length > 0 && parent[parent.length - 1] === 0x2f ? 0 : 1;
  const path = Buffer.allocUnsafe(parent.length + slash + name.length);
  parent.copy(path, 0);
  if (slash) path[parent.length] = 0x2f;
  name.copy(path, parent.length + slash);
  return path;
}

function list(path: Buffer, index: Buffer[], options: WalkOptions, listed?: Buffer[] | null): Buffer[] {
  try {
    if (listed) return listed.sort(Buffer.compare);
    // as latin1, a character per byte: the strings sort as the bytes do, and cost less to make than a
    // Buffer each from the binding (a no-change backup makes one per object)
    const texts = readdirSync(path, { encoding: 'latin1' }).sort();
    const names = new Array<Buffer>(texts.length);
    for (let i = 0; i < texts.length; i++) names[i] = Buffer.from(texts[i], 'latin1');
    return names;
  } catch (err) {
    if (!isSystemError(err)) throw err;
    options.onWarning(path, `Error listing directory (${describe(err)})`, { code: 'cannot-list', index, error: err });
    return [];
  }
}

function describe(err: unknown): string {
  if (isSystemError(err)) return err.code ?? err.message;
  return err instanceof Error ? err.message : String(err);
}


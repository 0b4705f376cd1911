// The state index (Lifeboat's own, beside duplicity's files in the archive dir): the metadata of every
// object of the chain's signature state, without the signatures, so an incremental compares the source
// against it instead of inflating and parsing every signature file of the chain. The signatures of
// changed files are still read from the chain, lazily: each record of a file names the signature file
// that holds its signature and the member's offset in it, so the chain's tar headers are not parsed on
// the way there (that was a tenth of an incremental's time). A backup in which nothing changed opens no
// signature file at all.
//
// The index names the chain's signature files and their sizes in the archive dir: any other chain (a
// set added by duplicity, a signature file replaced, synced or removed) makes it stale, and the chain is
// read as before. It is written by every backup (full or incremental) from the state the backup leaves:
// the objects it found unchanged as the previous state had them, the ones it stored as their new
// signature members describe them. One file per archive: gzip members of records, the first one JSON.
import { closeSync, openSync, writeSync } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCallback } from 'node:zlib';
import type { Entry, EntryType } from '../fsmeta/entry.js';
import { IntegrityError } from '../errors/lifeboat-error.js';
import type { SignatureStateEntry } from './signature-state.js';
import { batched, type Batched } from './batched.js';

const gzip = promisify(gzipCallback);

export const STATE_INDEX_NAME = 'lifeboat-state-index.gz';
const FORMAT = 'lifeboat-state-index 2';

/** The chain the index describes: its signature files in order, with their sizes in the archive dir. */
export interface StateIndexKey {
  signatures: { name: string; size: number }[];
}

type StateKind = SignatureStateEntry['kind'];
/** Where an object's record lies in the index it was read from: written again as it is when unchanged. */
export interface StateRecord { bytes: Buffer; at: number; length: number }
/**
 * Where an object's signature member is: which of the chain's signature files (0: the full's, in the
 * order of the index's key) and the offset of its first header block in that file's tar stream.
 */
export interface SignatureLocation { file: number; offset: number }
/** An object as the index holds it; `location` for a file with a signature, when the index knows it. */
export interface IndexedObject { entry: Entry; kind: StateKind; record: StateRecord; location?: SignatureLocation }
const TYPES: EntryType[] = ['reg', 'dir', 'sym', 'fifo', 'chr', 'blk'];
const KINDS: StateKind[] = ['signature', 'snapshot'];
/** the fixed fields; then the names, the link target and the path (encodeRecord) */
const FIXED = 84;
const NONE = 0xffffffff;
/** raw bytes gathered before a gzip member is written */
const BLOCK = 1 << 18;
/** the name an index is written under before its rename into place */
const PART_NAME = /^\.lifeboat-part-[0-9a-f]{12}\.lifeboat-state-index\.gz$/;
/**
 * A part older than this is the leftover of a run killed between writing its index and renaming it
 * (an install takes well under a second); nothing else would ever remove it.
 */
const LEFTOVER_AGE_MS = 10 * 60 * 1000;

/** Spools the records of a new state into a temporary file; the caller adds them in index order. */
export class StateIndexWriter {
  readonly #path: string;
  readonly #newSignatures: number;
  #fd: number | undefined;
  /** the blocks handed to gzip, written out in order; the caller waits only when two are in flight */
  #writing: Promise<void> = Promise.resolve();
  /** records are encoded in place here; gzipped and written out when it is full */
  #block = Buffer.allocUnsafe(BLOCK);
  #view = new DataView(this.#block.buffer, this.#block.byteOffset, this.#block.length);
  #used = 0;
  readonly #nameBytes = new Map<string, Buffer>();
  /** an object the format cannot hold (a 64 KiB owner name): no index this time, the backup goes on */
  #unusable = false;

  /**
   * `newSignatures`: the position in the chain of the signature file the backup writes (0 for a full
   * backup's), whose members addStored() names.
   */
  constructor(tempdir: string, newSignatures = 0) {
    this.#path = join(tempdir, `lifeboat-state-index-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.#newSignatures = newSignatures;
  }

  /**
   * Adds the next object (in index order); a promise only when a block is written out. An object read
   * from the previous index and found unchanged comes with its `record`, copied as it is (its location
   * with it); one read from the chain's signature files with its signature's `location`.
   */
  add(entry: Entry, kind: StateKind, from?: StateRecord | SignatureLocation): Promise<void> | undefined {
    if (this.#unusable) return undefined;
    if (from && 'bytes' in from) {
      const record = from;
      const flushed = this.#room(record.length);
      // byte by byte, as copyIn does: for 18,000 records of about 110 bytes, 10-13 ms against Buffer#copy's
      // 23-28 ms in a fresh process (a no-change backup copies every record)
      const block = this.#block;
      const bytes = record.bytes;
      for (let i = 0, to = this.#used, from = record.at; i < record.length; i++) block[to + i] = bytes[from + i];
      this.#used += record.length;
      return flushed;
    }
    const uname = this.#bytesOf(entry.uname);
    const gname = this.#bytesOf(entry.gname);
    const link = entry.linkTarget;
    let pathLength = entry.index.length > 0 ? entry.index.length - 1 : 0;
    for (const component of entry.index) pathLength += component.length;
    const length = FIXED + uname.length + gname.length + (link?.length ?? 0) + pathLength;
    if (uname.length > 0xffff || gname.length > 0xffff || entry.index.length > 0xffff) {
      this.#unusable = true;
      return undefined;
    }
    const flushed = this.#room(length);
    encodeRecord(this.#block, this.#view, this.#used, length, entry, kind, from, uname, gname, pathLength);
    this.#used += length;
    return flushed;
  }

  /** Adds an object this backup stored, whose signature member starts at `offset` of its new signature file. */
  addStored(entry: Entry, kind: StateKind, offset: number): Promise<void> | undefined {
    return this.add(entry, kind, { file: this.#newSignatures, offset });
  }

  /** Makes room for `length` bytes: a full block is written out and a new one started. */
  #room(length: number): Promise<void> | undefined {
    if (this.#used + length <= this.#block.length) return undefined;
    const flushed = this.#flush();
    this.#block = Buffer.allocUnsafe(Math.max(BLOCK, length));
    this.#view = new DataView(this.#block.buffer, this.#block.byteOffset, this.#block.length);
    return flushed;
  }

  #bytesOf(name: string): Buffer {
    let bytes = this.#nameBytes.get(name);
    if (bytes === undefined) {
      bytes = Buffer.from(name, 'utf8');
      if (this.#nameBytes.size < 1024) this.#nameBytes.set(name, bytes);
    }
    return bytes;
  }

  /**
   * Starts gzipping the block filled so far (the caller starts a new block) and returns when the block
   * before it is written: the walk goes on filling the next block meanwhile, where it used to wait
   * for each gzip.
   */
  #flush(): Promise<void> {
    const before = this.#writing;
    if (this.#used === 0) return before;
    const gzipped = gzip(this.#block.subarray(0, this.#used), { level: 1 });
    this.#used = 0;
    this.#writing = (async () => {
      const block = await gzipped;
      await before;
      this.#fd ??= openSync(this.#path, 'wx', 0o600);
      for (let done = 0; done < block.length;) done += writeSync(this.#fd, block, done);
    })();
    // awaited later (by the next flush, install or discard): not an unhandled rejection meanwhile
    this.#writing.catch(() => undefined);
    return before;
  }

  /**
   * Puts the index in place in the archive dir for the chain `key` names (atomically: a rename). The
   * records go after a first gzip member holding the key.
   */
  async install(cacheDir: string, key: StateIndexKey): Promise<void> {
    const final = join(cacheDir, STATE_INDEX_NAME);
    if (this.#unusable) {
      await unlink(final).catch(() => undefined);
      return;
    }
    await this.#flush();
    await this.#writing;
    const temporary = join(cacheDir, `.lifeboat-part-${randomBytes(6).toString('hex')}.${STATE_INDEX_NAME}`);
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      const head = await gzip(Buffer.from(`${JSON.stringify({ format: FORMAT, ...key })}\n`), { level: 1 });
      writeSync(fd, head);
      if (this.#fd !== undefined) {
        closeSync(this.#fd);
        this.#fd = undefined;
        for await (const chunk of createReadStream(this.#path, { highWaterMark: 1 << 18 })) {
          for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk as Buffer, done);
        }
      }
    } catch (err) {
      closeSync(fd);
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
    closeSync(fd);
    await rename(temporary, final);
    await removeLeftovers(cacheDir);
  }

  async discard(): Promise<void> {
    await this.#writing.catch(() => undefined);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    await unlink(this.#path).catch(() => undefined);
  }
}

async function removeLeftovers(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!PART_NAME.test(name)) continue;
    const path = join(cacheDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > LEFTOVER_AGE_MS) await unlink(path).catch(() => undefined);
  }
}

/** The key of a chain whose signature files are all in the archive dir; undefined when one is missing. */
export async function stateIndexKey(cacheDir: string, names: string[]): Promise<StateIndexKey | undefined> {
  const signatures: StateIndexKey['signatures'] = [];
  for (const name of names) {
    const info = await stat(join(cacheDir, name)).catch(() => undefined);
    if (!info) return undefined;
    signatures.push({ name, size: info.size });
  }
  return { signatures };
}

function sameKey(a: StateIndexKey, b: StateIndexKey): boolean {
  return a.signatures.length === b.signatures.length
    && a.signatures.every((s, i) => s.name === b.signatures[i].name && s.size === b.signatures[i].size);
}

/**
 * The state the index holds, when it describes the chain `key` names; undefined when there is no
 * index or it describes another chain. An index damaged at its head is removed (undefined); damage
 * further on is an IntegrityError when it is read, and the index is removed.
 */
export async function openStateIndex(cacheDir: string, key: StateIndexKey): Promise<Batched<IndexedObject> | undefined> {
  const path = join(cacheDir, STATE_INDEX_NAME);
  if (!(await stat(path).catch(() => undefined))) return undefined;
  const file = createReadStream(path, { highWaterMark: 1 << 18 });
  const input = file.pipe(createGunzip({ chunkSize: 1 << 18 }));
  file.on('error', (err) => input.destroy(err));
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let carry = Buffer.alloc(0);
  try {
    for (;;) {
      const newline = carry.indexOf(0x0a);
      if (newline >= 0) {
        const head = JSON.parse(carry.subarray(0, newline).toString('utf8')) as { format?: string } & StateIndexKey;
        carry = carry.subarray(newline + 1);
        if (head.format !== FORMAT || !Array.isArray(head.signatures) || !sameKey(head, key)) {
          input.destroy();
          file.destroy();
          return undefined;
        }
        break;
      }
      const next = await it.next();
      if (next.done || carry.length > 1 << 20) throw new IntegrityError(`${path}: no key line`);
      carry = Buffer.concat([carry, next.value]);
    }
  } catch {
    // a damaged head: the index is only a short cut, so it goes and the chain is read instead
    input.destroy();
    file.destroy();
    await unlink(path).catch(() => undefined);
    return undefined;
  }
  const start = carry;
  // stopping closes the file too (destroying the gunzip does not)
  return batched(() => records(it, start, path, () => { input.destroy(); file.destroy(); }));
}

async function* records(it: AsyncIterator<Buffer>, first: Buffer, path: string, stop: () => void): AsyncGenerator<IndexedObject[]> {
  try {
    yield* decodeAll(it, first, path);
  } catch (err) {
    // damage found half-way: the objects before it were used already, so this run stops; without the
    // index the next one reads the chain
    await unlink(path).catch(() => undefined);
    if (err instanceof IntegrityError) throw err;
    throw new IntegrityError(`${path}: ${(err as Error).message}; the state index was removed`, { hint: 'run the backup again: it reads the signature files instead', cause: err });
  } finally {
    stop();
  }
}

/**
 * records decoded at a time: a promise per batch instead of per record, and few enough that they
 * die young (a batch of a block's thousands outlived the young generation, and a no-change backup's
 * peak memory grew by a third)
 */
const BATCH_RECORDS = 64;

/** The records, in batches of up to BATCH_RECORDS. */
async function* decodeAll(it: AsyncIterator<Buffer>, first: Buffer, path: string): AsyncGenerator<IndexedObject[]> {
  let carry = first;
  const names = new NameCache();
  for (;;) {
    let at = 0;
    const view = new DataView(carry.buffer, carry.byteOffset, carry.length);
    let batch: IndexedObject[] = [];
    while (carry.length - at >= FIXED) {
      const length = view.getUint32(at, true);
      if (length < FIXED) throw damaged(path, `bad record length ${length}`);
      if (carry.length - at < length) break;
      batch.push(decodeRecord(carry, view, at, length, names, path));
      at += length;
      if (batch.length === BATCH_RECORDS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    carry = carry.subarray(at);
    const next = await it.next();
    if (next.done) {
      if (carry.length > 0) throw damaged(path, 'truncated record');
      return;
    }
    carry = carry.length === 0 ? next.value : Buffer.concat([carry, next.value]);
  }
}

function damaged(path: string, what: string): IntegrityError {
  return new IntegrityError(`${path}: ${what}; the state index was removed`, { hint: 'run the backup again: it reads the signature files instead' });
}

function encodeRecord(
  b: Buffer, view: DataView, start: number, length: number, entry: Entry, kind: StateKind, location: SignatureLocation | undefined,
  uname: Buffer, gname: Buffer, pathLength: number,
): void {
  const link = entry.linkTarget;
  view.setUint32(start, length, true);
  b[start + 4] = TYPES.indexOf(entry.type);
  b[start + 5] = KINDS.indexOf(kind);
  view.setUint16(start + 6, entry.index.length, true);
  view.setUint32(start + 8, entry.permissions, true);
  view.setFloat64(start + 12, entry.uid, true);
  view.setFloat64(start + 20, entry.gid, true);
  view.setFloat64(start + 28, entry.mtime, true);
  view.setFloat64(start + 36, entry.size, true);
  view.setFloat64(start + 44, entry.devMajor ?? -1, true);
  view.setFloat64(start + 52, entry.devMinor ?? -1, true);
  view.setUint16(start + 60, uname.length, true);
  view.setUint16(start + 62, gname.length, true);
  view.setUint32(start + 64, link ? link.length : NONE, true);
  view.setUint32(start + 68, pathLength, true);
  // only a file's signature is ever looked up
  const where = kind === 'signature' ? location : undefined;
  view.setUint32(start + 72, where ? where.file : NONE, true);
  view.setFloat64(start + 76, where ? where.offset : -1, true);
  let at = copyIn(b, start + FIXED, uname);
  at = copyIn(b, at, gname);
  if (link) at = copyIn(b, at, link);
  const index = entry.index;
  for (let i = 0; i < index.length; i++) {
    if (i > 0) b[at++] = 0x2f;
    at = copyIn(b, at, index[i]);
  }
}

/** Copies `bytes` into b at `at` byte by byte (a few bytes each: cheaper than Buffer#copy) and says where it ended. */
function copyIn(b: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) b[at + i] = bytes[i];
  return at + bytes.length;
}

/** Decodes the record at `start` of `b` (`view` over the same bytes), `length` bytes long. */
function decodeRecord(b: Buffer, view: DataView, start: number, length: number, names: NameCache, path: string): IndexedObject {
  const type = TYPES[b[start + 4]];
  const kind = KINDS[b[start + 5]];
  const components = view.getUint16(start + 6, true);
  const unameLength = view.getUint16(start + 60, true);
  const gnameLength = view.getUint16(start + 62, true);
  const linkLength = view.getUint32(start + 64, true);
  const pathLength = view.getUint32(start + 68, true);
  const total = FIXED + unameLength + gnameLength + (linkLength === NONE ? 0 : linkLength) + pathLength;
  if (!type || !kind || total !== length) throw damaged(path, 'bad record');
  let at = start + FIXED;
  const uname = names.text(b, at, at += unameLength);
  const gname = names.text(b, at, at += gnameLength);
  let linkTarget: Buffer | undefined;
  if (linkLength !== NONE) {
    linkTarget = copyOut(b, at, linkLength);
    at += linkLength;
  }
  // one copy of the path, its components views of it (the chunk the record came in is not kept alive)
  const joined = copyOut(b, at, pathLength);
  const index: Buffer[] = [];
  if (components > 0) {
    let from = 0;
    for (let i = 0; i < pathLength; i++) {
      if (joined[i] === 0x2f) {
        index.push(joined.subarray(from, i));
        from = i + 1;
      }
    }
    index.push(joined.subarray(from));
  }
  if (index.length !== components) throw damaged(path, 'bad record path');
  const entry: Entry = {
    index, type, permissions: view.getUint32(start + 8, true), uid: view.getFloat64(start + 12, true),
    gid: view.getFloat64(start + 20, true), uname, gname, mtime: view.getFloat64(start + 28, true),
    size: view.getFloat64(start + 36, true),
  };
  if (linkTarget) entry.linkTarget = linkTarget;
  const devMajor = view.getFloat64(start + 44, true);
  if (devMajor >= 0) {
    entry.devMajor = devMajor;
    entry.devMinor = view.getFloat64(start + 52, true);
  }
  const file = view.getUint32(start + 72, true);
  const record = { bytes: b, at: start, length };
  if (file === NONE) return { entry, kind, record };
  return { entry, kind, record, location: { file, offset: view.getFloat64(start + 76, true) } };
}

/** A copy of b[at, at+length): byte by byte, cheaper than Buffer#copy's checks for a path's few bytes. */
function copyOut(b: Buffer, at: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = b[at + i];
  return out;
}

/** Owner names repeat from record to record: the last few decoded are reused. */
class NameCache {
  #bytes: Buffer[] = [];
  #texts: string[] = [];

  text(b: Buffer, from: number, to: number): string {
    const length = to - from;
    for (let i = 0; i < this.#bytes.length; i++) {
      const known = this.#bytes[i];
      if (known.length !== length) continue;
      let same = true;
      for (let j = 0; j < length && same; j++) same = known[j] === b[from + j];
      if (same) return this.#texts[i];
    }
    const text = b.toString('utf8', from, to);
    if (this.#bytes.length === 8) { this.#bytes.shift(); this.#texts.shift(); }
    this.#bytes.push(copyOut(b, from, length));
    this.#texts.push(text);
    return text;
  }
}

// The state index (Lifeboat's own, beside duplicity's files in the archive dir): the metadata of every
// object of the chain's signature state, without the signatures, so an incremental compares the source
// against it instead of inflating and parsing every signature file of the chain. The signatures of
// changed files are still read from the chain, lazily, only as far as the last changed file: a backup
// in which nothing changed opens no signature file at all.
//
// The index names the chain's signature files and their sizes in the archive dir: any other chain (a
// set added by duplicity, a signature file replaced, synced or removed) makes it stale, and the chain is
// read as before. It is written by every backup (full or incremental) from the state the backup leaves:
// the objects it found unchanged as the previous state had them, the ones it stored as their new
// signature members describe them. One file per archive: gzip members of records, the first one JSON.
import { closeSync, openSync, writeSync } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCallback } from 'node:zlib';
import type { Entry, EntryType } from '../fsmeta/entry.js';
import { IntegrityError } from '../errors/lifeboat-error.js';
import type { SignatureStateEntry } from './signature-state.js';

const gzip = promisify(gzipCallback);

export const STATE_INDEX_NAME = 'lifeboat-state-index.gz';
const FORMAT = 'lifeboat-state-index 1';

/** The chain the index describes: its signature files in order, with their sizes in the archive dir. */
export interface StateIndexKey {
  signatures: { name: string; size: number }[];
}

type StateKind = SignatureStateEntry['kind'];
const TYPES: EntryType[] = ['reg', 'dir', 'sym', 'fifo', 'chr', 'blk'];
const KINDS: StateKind[] = ['signature', 'snapshot'];
const FIXED = 72;
const NONE = 0xffffffff;
/** raw bytes gathered before a gzip member is written */
const BLOCK = 1 << 18;

/** Spools the records of a new state into a temporary file; the caller adds them in index order. */
export class StateIndexWriter {
  readonly #path: string;
  #fd: number | undefined;
  /** records are encoded in place here; gzipped and written out when it is full */
  #block = Buffer.allocUnsafe(BLOCK);
  #used = 0;
  readonly #nameBytes = new Map<string, Buffer>();
  /** an object the format cannot hold (a 64 KiB owner name): no index this time, the backup goes on */
  #unusable = false;

  constructor(tempdir: string) {
    this.#path = join(tempdir, `lifeboat-state-index-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Adds the next object (in index order); a promise only when a block is written out. */
  add(entry: Entry, kind: StateKind): Promise<void> | undefined {
    if (this.#unusable) return undefined;
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
    let flushed: Promise<void> | undefined;
    if (this.#used + length > this.#block.length) {
      flushed = this.#flush();
      this.#block = Buffer.allocUnsafe(Math.max(BLOCK, length));
    }
    encodeRecord(this.#block, this.#used, length, entry, kind, uname, gname, pathLength);
    this.#used += length;
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

  /** Gzips the block filled so far and writes it out (the caller starts a new block). */
  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    const raw = this.#block.subarray(0, this.#used);
    this.#used = 0;
    const block = await gzip(raw, { level: 1 });
    this.#fd ??= openSync(this.#path, 'wx', 0o600);
    for (let done = 0; done < block.length;) done += writeSync(this.#fd, block, done);
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
  }

  async discard(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    await unlink(this.#path).catch(() => undefined);
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
 * index or it describes another chain. A damaged index (bad gzip, bad record) is an IntegrityError.
 */
export async function openStateIndex(cacheDir: string, key: StateIndexKey): Promise<AsyncIterable<{ entry: Entry; kind: StateKind }> | undefined> {
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
          return undefined;
        }
        break;
      }
      const next = await it.next();
      if (next.done || carry.length > 1 << 20) throw new IntegrityError(`${path}: no key line`);
      carry = Buffer.concat([carry, next.value]);
    }
  } catch (err) {
    input.destroy();
    throw damaged(path, err);
  }
  return records(it, carry, path, () => input.destroy());
}

async function* records(it: AsyncIterator<Buffer>, first: Buffer, path: string, stop: () => void): AsyncGenerator<{ entry: Entry; kind: StateKind }> {
  let carry = first;
  const names = new NameCache();
  try {
    for (;;) {
      let at = 0;
      while (carry.length - at >= FIXED) {
        const length = carry.readUInt32LE(at);
        if (length < FIXED) throw new IntegrityError(`${path}: bad record length ${length}`);
        if (carry.length - at < length) break;
        yield decodeRecord(carry, at, length, names, path);
        at += length;
      }
      carry = carry.subarray(at);
      let next: IteratorResult<Buffer>;
      try {
        next = await it.next();
      } catch (err) {
        throw damaged(path, err);
      }
      if (next.done) {
        if (carry.length > 0) throw new IntegrityError(`${path}: truncated record`);
        return;
      }
      carry = carry.length === 0 ? next.value : Buffer.concat([carry, next.value]);
    }
  } finally {
    stop();
  }
}

function damaged(path: string, err: unknown): unknown {
  if (err instanceof IntegrityError) return err;
  return new IntegrityError(`${path}: ${(err as Error).message}`, { hint: `delete ${path}: the next backup reads the signature files instead`, cause: err });
}

function encodeRecord(
  b: Buffer, start: number, length: number, entry: Entry, kind: StateKind, uname: Buffer, gname: Buffer, pathLength: number,
): void {
  const link = entry.linkTarget;
  b.writeUInt32LE(length, start);
  b[start + 4] = TYPES.indexOf(entry.type);
  b[start + 5] = KINDS.indexOf(kind);
  b.writeUInt16LE(entry.index.length, start + 6);
  b.writeUInt32LE(entry.permissions, start + 8);
  b.writeDoubleLE(entry.uid, start + 12);
  b.writeDoubleLE(entry.gid, start + 20);
  b.writeDoubleLE(entry.mtime, start + 28);
  b.writeDoubleLE(entry.size, start + 36);
  b.writeDoubleLE(entry.devMajor ?? -1, start + 44);
  b.writeDoubleLE(entry.devMinor ?? -1, start + 52);
  b.writeUInt16LE(uname.length, start + 60);
  b.writeUInt16LE(gname.length, start + 62);
  b.writeUInt32LE(link ? link.length : NONE, start + 64);
  b.writeUInt32LE(pathLength, start + 68);
  let at = start + FIXED;
  at += uname.copy(b, at);
  at += gname.copy(b, at);
  if (link) at += link.copy(b, at);
  const index = entry.index;
  for (let i = 0; i < index.length; i++) {
    if (i > 0) b[at++] = 0x2f;
    at += index[i].copy(b, at);
  }
}

/** Decodes the record at `start` of `b`, `length` bytes long. */
function decodeRecord(b: Buffer, start: number, length: number, names: NameCache, path: string): { entry: Entry; kind: StateKind } {
  const type = TYPES[b[start + 4]];
  const kind = KINDS[b[start + 5]];
  const components = b.readUInt16LE(start + 6);
  const unameLength = b.readUInt16LE(start + 60);
  const gnameLength = b.readUInt16LE(start + 62);
  const linkLength = b.readUInt32LE(start + 64);
  const pathLength = b.readUInt32LE(start + 68);
  const total = FIXED + unameLength + gnameLength + (linkLength === NONE ? 0 : linkLength) + pathLength;
  if (!type || !kind || total !== length) throw new IntegrityError(`${path}: bad record`);
  let at = start + FIXED;
  const uname = names.text(b, at, at += unameLength);
  const gname = names.text(b, at, at += gnameLength);
  let linkTarget: Buffer | undefined;
  if (linkLength !== NONE) {
    linkTarget = Buffer.allocUnsafe(linkLength);
    b.copy(linkTarget, 0, at, at += linkLength);
  }
  // one copy of the path, its components views of it (the chunk the record came in is not kept alive)
  const joined = Buffer.allocUnsafe(pathLength);
  b.copy(joined, 0, at, at + pathLength);
  const index: Buffer[] = [];
  if (components > 0) {
    let from = 0;
    for (let slash = joined.indexOf(0x2f); slash >= 0; slash = joined.indexOf(0x2f, from)) {
      index.push(joined.subarray(from, slash));
      from = slash + 1;
    }
    index.push(joined.subarray(from));
  }
  if (index.length !== components) throw new IntegrityError(`${path}: bad record path`);
  const entry: Entry = {
    index, type, permissions: b.readUInt32LE(start + 8), uid: b.readDoubleLE(start + 12), gid: b.readDoubleLE(start + 20),
    uname, gname, mtime: b.readDoubleLE(start + 28), size: b.readDoubleLE(start + 36),
  };
  if (linkTarget) entry.linkTarget = linkTarget;
  const devMajor = b.readDoubleLE(start + 44);
  if (devMajor >= 0) {
    entry.devMajor = devMajor;
    entry.devMinor = b.readDoubleLE(start + 52);
  }
  return { entry, kind };
}

/** Owner names repeat from record to record: the last few decoded are reused. */
class NameCache {
  #bytes: Buffer[] = [];
  #texts: string[] = [];

  text(b: Buffer, from: number, to: number): string {
    for (let i = 0; i < this.#bytes.length; i++) {
      const known = this.#bytes[i];
      if (known.length === to - from && b.compare(known, 0, known.length, from, to) === 0) return this.#texts[i];
    }
    const text = b.toString('utf8', from, to);
    if (this.#bytes.length === 8) { this.#bytes.shift(); this.#texts.shift(); }
    this.#bytes.push(Buffer.from(b.subarray(from, to)));
    this.#texts.push(text);
    return text;
  }
}

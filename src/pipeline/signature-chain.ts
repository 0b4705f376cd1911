// A signature chain's state as a stream: its sigtars, read from the archive dir when the chain is
// the local one, else from the target, gunzipped or decrypted and overlaid (signature-state.ts). Used before an
// incremental (through the state index when it describes the chain) and by list-current-files.
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { isEncryptedName } from '../duplicity/file-names.js';
import { readTar, TarReader, type TarEntry } from '../tar/volume-reader.js';
import { decryptedStoredFile, streamStoredFile } from './set-reader.js';
import { overlaySignatures, type SignatureStateEntry } from './signature-state.js';
import { openStateIndex, stateIndexKey, STATE_INDEX_NAME, type IndexedObject, type StateIndexKey } from './state-index.js';
import { compareIndex, formatPath } from '../fsmeta/entry.js';
import { indexToPath, parseMemberName } from '../duplicity/member-names.js';
import { IntegrityError } from '../errors/lifeboat-error.js';
import type { Target } from './target.js';
import { batched, type Batched } from './batched.js';

export interface SignatureChainFiles {
  location: 'local' | 'remote';
  fullSignatureName: string;
  newSignatures: { name: string }[];
}

export function readSignatureChain(target: Target, chain: SignatureChainFiles) {
  const names = [chain.fullSignatureName, ...chain.newSignatures.map((s) => s.name)];
  return overlaySignatures(names.map((name) => readTar(signatureFileBytes(target, chain.location, name))), names);
}

export interface PreviousState {
  state: AsyncIterable<SignatureStateEntry>;
  /** the chain's key for the state index (undefined when its signature files are not all in the archive dir) */
  key?: StateIndexKey;
}

/**
 * The state an incremental compares the source against: from the state index when it describes this
 * chain, with each signature read from the chain only when a changed file asks for it; else the chain.
 */
export async function readPreviousState(target: Target, chain: SignatureChainFiles): Promise<PreviousState> {
  const names = [chain.fullSignatureName, ...chain.newSignatures.map((s) => s.name)];
  const key = chain.location === 'local' ? await stateIndexKey(target.cacheDir, names) : undefined;
  const indexed = key ? await openStateIndex(target.cacheDir, key) : undefined;
  if (!indexed) return { state: readSignatureChain(target, chain), key };
  // a file number past the chain's end is the index's fault, like an offset where no member starts
  const open = (file: number) => (file < names.length ? new TarReader(signatureFileBytes(target, chain.location, names[file]), { drain: false }) : undefined);
  return { state: withChainSignatures(indexed, open, join(target.cacheDir, STATE_INDEX_NAME)), key };
}

/**
 * The index's objects, each signature body read from the signature file and offset the index names
 * (each file read forward only, and only when asked); in the index's batches.
 */
function withChainSignatures(
  indexed: Batched<IndexedObject>, open: (file: number) => TarReader | undefined, indexPath: string,
): Batched<SignatureStateEntry> {
  const readers: (TarReader | undefined)[] = [];
  const bodyOf = async function* (wanted: IndexedObject): AsyncGenerator<Buffer> {
    const { entry, location } = wanted;
    let member: TarEntry | null = null;
    const reader = location && (readers[location.file] ??= open(location.file));
    if (location && reader) {
      // no tar header there (a tar error has the stream offset): the index or the file is wrong
      member = await reader.entryAt(location.offset).catch((err: unknown) => {
        if (err instanceof IntegrityError && err.offset !== undefined) return null;
        throw err;
      });
    }
    const found = member ? parseMemberName(member.header.name) : undefined;
    if (!found || found.kind !== 'signature' || found.multivol || compareIndex(found.index, entry.index) !== 0) {
      // a damaged signature file (its bytes changed, its size not) can put garbage where the member
      // was: read to its end, its gzip check names it. Else the index was made from this chain's files
      // (names and sizes match), so this is a bug or damage of the index: removed, the next backup
      // reads the chain itself
      await reader?.drain();
      await unlink(indexPath).catch(() => undefined);
      throw new IntegrityError(`${indexPath}: the state index disagrees with the signature files at ${formatPath(indexToPath(entry.index))}; it was removed`, {
        hint: 'run the backup again: it reads the signature files instead',
      });
    }
    yield* member!.body;
  };
  return batched(async function* () {
    const it = indexed.batches();
    try {
      for (let next = await it.next(); !next.done; next = await it.next()) {
        yield next.value.map((object) => new IndexedState(object, bodyOf));
      }
    } finally {
      await it.return?.(undefined);
      for (const reader of readers) await reader?.close().catch(() => undefined);
    }
  });
}

/** An object of the state index; its signature body is read from the chain only when it is read (a changed file's). */
class IndexedState implements SignatureStateEntry {
  readonly entry: SignatureStateEntry['entry'];
  readonly kind: SignatureStateEntry['kind'];
  readonly record: SignatureStateEntry['record'];
  readonly #object: IndexedObject;
  readonly #bodyOf: (object: IndexedObject) => AsyncGenerator<Buffer>;

  constructor(object: IndexedObject, bodyOf: (object: IndexedObject) => AsyncGenerator<Buffer>) {
    this.entry = object.entry;
    this.kind = object.kind;
    this.record = object.record;
    this.#object = object;
    this.#bodyOf = bodyOf;
  }

  get body(): AsyncIterable<Buffer> {
    return this.#bodyOf(this.#object);
  }
}

function signatureFileBytes(target: Target, location: 'local' | 'remote', name: string): AsyncIterable<Uint8Array> {
  if (location === 'remote' && isEncryptedName(name)) return decryptedStoredFile(target.backend, name, { cipher: target.cipher });
  const stream = location === 'local' ? createReadStream(join(target.cacheDir, name), { highWaterMark: 1 << 18 }) : streamStoredFile(target.backend, name);
  if (!/(gz|\.z)$/.test(name)) return stream;
  // 256 KiB out per trip to the thread pool (zlib's default is 16 KiB) and up to 1 MiB inflated ahead,
  // so the walk rarely waits for the signatures (zlib streams take the stream options too)
  const gunzip = createGunzip({ chunkSize: 1 << 18, readableHighWaterMark: 1 << 20 } as ZlibOptions);
  stream.on('error', (err: Error) => gunzip.destroy(err));
  // a reader that stops early destroys the gunzip, which pipe() does not pass on: the file stays open
  gunzip.on('close', () => stream.destroy());
  // the reader gets a damaged file's error when it reads; without a listener an error before that
  // (the chain is opened before the walk starts) was an unhandled 'error' event and a stack trace
  gunzip.on('error', () => undefined);
  return inflated(stream.pipe(gunzip), name, location);
}

async function* inflated(gunzip: AsyncIterable<Uint8Array>, name: string, location: 'local' | 'remote'): AsyncGenerator<Uint8Array> {
  try {
    yield* gunzip;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'Z_DATA_ERROR' && code !== 'Z_BUF_ERROR') throw err;
    throw new IntegrityError(`${name}: not a valid gzip stream (${(err as Error).message})`, {
      hint: location === 'local'
        ? 'the archive dir\'s copy is damaged: delete it, and the next run fetches it again from the target'
        : 'the signature file on the target is damaged; a full backup starts a new chain',
    });
  }
}

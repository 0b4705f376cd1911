// Reads one backup set as a single stream of members (specs §5.7, §10.2): its volumes in order, each
// checked against the manifest's hash as it streams (encrypted ones: fetched into a temporary file and
// checked before decryption, as duplicity does), gunzipped or decrypted, read as tar, and multivol pieces joined
// back into one member whose body spans pieces and even volumes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { Backend } from '../backend/types.js';
import { bestVolumeHash, type ManifestVolume } from '../duplicity/manifest.js';
import { parseMemberName, type MemberKind } from '../duplicity/member-names.js';
import { compareIndex } from '../fsmeta/entry.js';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { readTar, type TarEntry } from '../tar/volume-reader.js';
import type { TarEntryHeader } from '../tar/header.js';
import { isEncryptedName } from '../duplicity/file-names.js';
import { cannotDecrypt, type ArchiveCipher } from '../crypto/archive-cipher.js';

export interface StoredReadOptions {
  signal?: AbortSignal;
  /** decrypts `.gpg` files; without it they are refused */
  cipher?: ArchiveCipher;
  /** where encrypted files are fetched to before decryption (default: the system's) */
  tempdir?: string;
}

export interface SetVolume {
  name: string;
  manifest: ManifestVolume;
  compressed: boolean;
}

export interface SetMember {
  kind: MemberKind;
  index: Buffer[];
  /** the header of the member (of the last piece, for multivol members) */
  header: TarEntryHeader;
  /** read at most once, before asking for the next member; unread data is skipped */
  body: AsyncIterable<Buffer>;
}

/**
 * The raw bytes of a stored file, streamed out of the backend's read callback. The callback runs
 * again from the file's start when a read is retried after a dropped connection: the bytes already
 * passed on are skipped, so the stream carries the file exactly once.
 */
export function streamStoredFile(backend: Backend, name: string, signal?: AbortSignal): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 18 });
  let delivered = 0;
  const consume = async (body: Readable) => {
    let offset = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      const skip = Math.min(chunk.length, Math.max(0, delivered - offset));
      offset += chunk.length;
      if (skip === chunk.length) continue;
      delivered += chunk.length - skip;
      if (!out.write(skip > 0 ? chunk.subarray(skip) : chunk)) await drained(out);
    }
    out.end();
  };
  backend.read(name, consume, { signal }).catch((err) => out.destroy(err));
  return out;
}

/** Waits for room in `out`; throws when its reader has gone, which ends the read. */
async function drained(out: PassThrough): Promise<void> {
  if (!out.destroyed) {
    await new Promise<void>((resolve) => {
      const done = () => { out.off('drain', done); out.off('close', done); resolve(); };
      out.on('drain', done);
      out.on('close', done);
    });
  }
  if (out.destroyed) throw new Error('the reader of the stored file stopped');
}

/** A pass-through that hashes what flows and fails at the end when it differs from the manifest's hash. */
function hashCheck(volume: SetVolume): Transform {
  const expected = bestVolumeHash(volume.manifest);
  const hash = createHash(expected?.algorithm === 'MD5' ? 'md5' : 'sha1');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      if (expected && actual !== expected.hex.toLowerCase()) {
        done(new IntegrityError(`Invalid data - ${expected.algorithm} hash mismatch for file: ${volume.name}`, {
          hint: `the volume is damaged: expected ${expected.hex}, got ${actual}; restore from another copy of it`,
        }));
      } else {
        done();
      }
    },
  });
}

/**
 * A stored `.gpg` file's plaintext. The file is fetched whole into a temporary file first (its hash
 * checked there when `check` is given), so a damaged or wrongly keyed file fails before any of its
 * plaintext is used; the plaintext then streams out of the decryption.
 */
export async function* decryptedStoredFile(backend: Backend, name: string, options: StoredReadOptions, check?: Transform): AsyncGenerator<Uint8Array> {
  const cipher = options.cipher;
  if (!cipher) throw noCipher(name);
  cipher.checkCanDecrypt(name);
  const path = join(options.tempdir ?? tmpdir(), `lifeboat-fetch-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await backend.read(name, async (body) => {
      const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
      if (check) await pipeline(body, check, file);
      else await pipeline(body, file);
    }, { signal: options.signal });
    yield* await cipher.decrypt(createReadStream(path, { highWaterMark: 1 << 16 }), name);
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

function noCipher(name: string): Error {
  return cannotDecrypt(name, { encryption: false, encryptKeys: [], hiddenEncryptKeys: [] });
}

/** Streams a volume's tar bytes after checking that the stored bytes hash to the manifest's value. */
export function verifiedVolume(backend: Backend, volume: SetVolume, options: StoredReadOptions = {}): AsyncIterable<Uint8Array> {
  const check = hashCheck(volume);
  if (isEncryptedName(volume.name)) return decryptedStoredFile(backend, volume.name, options, check);
  const signal = options.signal;
  const raw = streamStoredFile(backend, volume.name, signal);
  const checked = raw.pipe(check);
  raw.on('error', (err) => checked.destroy(err));
  if (!volume.compressed) return checked;
  // 256 KiB out per trip to the thread pool (zlib's default is 16 KiB), and up to 256 KiB inflated ahead
  // of the reader, so the next piece inflates while the restore writes the last one out
  // (zlib streams take the stream options too, though ZlibOptions does not list them)
  const gunzip = createGunzip({ chunkSize: 256 * 1024, readableHighWaterMark: 1 << 18 } as ZlibOptions);
  checked.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', () => undefined);
  return checked.pipe(gunzip).on('error', () => undefined) as unknown as AsyncIterable<Uint8Array>;
}

/** Tar members of all volumes, in order, as one stream. */
async function* volumeMembers(backend: Backend, volumes: SetVolume[], options: StoredReadOptions): AsyncGenerator<TarEntry & { volume: string }> {
  for (const volume of volumes) {
    const bytes = verifiedVolume(backend, volume, options);
    try {
      for await (const member of readTar(bytes)) yield { ...member, volume: volume.name };
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' || (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
        throw new IntegrityError(`${volume.name}: not a valid gzip stream (${(err as Error).message})`);
      }
      throw err;
    }
  }
}

/** Joins multivol pieces and yields one member per index, in order. */
export async function* readSetMembers(backend: Backend, volumes: SetVolume[], options: StoredReadOptions = {}): AsyncGenerator<SetMember> {
  const it = volumeMembers(backend, volumes, options)[Symbol.asyncIterator]();
  let ahead = await it.next();
  let previousIndex: Buffer[] | undefined;
  try {
    while (!ahead.done) {
      const first = ahead.value;
      const parsed = parseMemberName(first.header.name);
      if (!parsed) {
        // duplicity ignores members of no kind; so do we
        ahead = await it.next();
        continue;
      }
      if (previousIndex && compareIndex(previousIndex, parsed.index) >= 0) {
        throw new IntegrityError(`${first.volume}: members are out of order at "${first.header.name.toString('latin1')}"`);
      }
      previousIndex = parsed.index;
      if (!parsed.multivol) {
        yield { kind: parsed.kind, index: parsed.index, header: first.header, body: first.body };
        ahead = await it.next();
        continue;
      }
      // a multivol run: this piece and every following piece of the same kind and index
      let last = first.header;
      let finished = false;
      const pieces = async function* (): AsyncGenerator<Buffer> {
        let current = ahead;
        for (;;) {
          if (current.done) break;
          const p = parseMemberName(current.value.header.name);
          if (!p || !p.multivol || p.kind !== parsed.kind || compareIndex(p.index, parsed.index) !== 0) break;
          last = current.value.header;
          yield* current.value.body;
          current = await it.next();
          ahead = current;
        }
        finished = true;
      };
      const body = pieces();
      yield { kind: parsed.kind, index: parsed.index, header: last, body };
      if (!finished) {
        // the consumer did not read (all of) it: skip the rest of the run
        for await (const _ of body) { /* skip */ }
        if (!finished) {
          // body() never started: walk the run by hand
          for (;;) {
            if (ahead.done) break;
            const p = parseMemberName(ahead.value.header.name);
            if (!p || !p.multivol || p.kind !== parsed.kind || compareIndex(p.index, parsed.index) !== 0) break;
            ahead = await it.next();
          }
        }
      }
    }
  } finally {
    await it.return?.(undefined);
  }
}

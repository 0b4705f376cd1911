// A local file that one stored object (a volume, a signature file) is built into before upload:
// optionally gzipped or OpenPGP-encrypted on the way in, with its stored size and SHA-1 counted as it is written, so the
// manifest's hash is of the bytes exactly as they will sit on the target.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { PassThrough, Transform, type Duplex, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_GZIP_LEVEL, ParallelGzip } from './parallel-gzip.js';

const GATHER_BYTES = 256 * 1024;
// an encryptor is several stages deep: what is gathered is counted only once it comes out, so less
// is gathered there, to keep the volume size (measured on the output) close to --volsize
const GATHER_BYTES_ENCRYPTING = 32 * 1024;

export interface SpoolResult {
  path: string;
  size: number;
  sha1: string;
}

export class SpoolFile {
  readonly path: string;
  /** gzip: deflated on the thread pool in parallel blocks (parallel-gzip.ts), written with one write per block */
  #gzip: ParallelGzip | undefined;
  #file: Promise<FileHandle> | undefined;
  #input: Duplex | undefined;
  #done: Promise<void>;
  #size = 0;
  #hash = createHash('sha1');
  #failed: unknown;
  /** bytes gathered for the stream (not with gzip): a new buffer each time, since the stream keeps it */
  #gather: Buffer | undefined;
  #gathered = 0;
  readonly #gatherBytes: number;

  /**
   * with `encryptor` (plaintext in, OpenPGP out) the file is encrypted, and `compress` is ignored: OpenPGP
   * compresses. `gzipBlockBytes` and `gzipParallel`: ParallelGzip's block size and blocks at once
   */
  constructor(directory: string, options: { compress: boolean; gzipLevel?: number; encryptor?: Duplex; gzipBlockBytes?: number; gzipParallel?: number }) {
    this.path = join(directory, `lifeboat-spool-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.#gatherBytes = options.encryptor ? GATHER_BYTES_ENCRYPTING : GATHER_BYTES;
    if (!options.encryptor && options.compress) {
      const file = open(this.path, 'wx');
      file.catch(() => undefined);
      this.#file = file;
      this.#gzip = new ParallelGzip(async (parts) => {
        for (const part of parts) {
          this.#size += part.length;
          this.#hash.update(part);
        }
        await writeAll(await file, parts);
      }, { level: options.gzipLevel ?? DEFAULT_GZIP_LEVEL, blockBytes: options.gzipBlockBytes, parallel: options.gzipParallel });
      this.#done = Promise.resolve();
      return;
    }
    this.#input = options.encryptor ?? new PassThrough();
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.#size += chunk.length;
        this.#hash.update(chunk);
        done(null, chunk);
      },
    });
    this.#done = pipeline(this.#input as unknown as Readable, counter, createWriteStream(this.path, { flags: "wx" }));
    this.#done.catch((err) => { this.#failed = err; });
  }

  /** bytes written to disk so far (after compression; this lags by what is gathered or buffered) */
  get storedBytes(): number {
    return this.#size;
  }

  /** input bytes taken but not yet compressed and written (gzip only; 0 otherwise) */
  get pendingBytes(): number {
    return this.#gzip ? this.#gzip.pendingInputBytes : 0;
  }

  /** Compresses and writes everything written so far, so that storedBytes is exact (gzip only). */
  async settle(): Promise<void> {
    if (!this.#gzip) return;
    await this.#gzip.flush();
  }

  /**
   * Small writes are gathered first: each write into zlib is a round trip to the thread pool, and a
   * tar stream of small files is mostly 512-byte headers and paddings. The bytes are copied (gzip:
   * into its block; else into the gathering buffer) by the time this resolves, so the caller may
   * reuse `chunk` then: a big file's delta comes in one reused buffer (delta-workers.ts).
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (this.#gzip) return this.#gzip.write(chunk);
    for (let done = 0; done < chunk.length;) {
      this.#gather ??= Buffer.allocUnsafe(this.#gatherBytes);
      const n = Math.min(chunk.length - done, this.#gatherBytes - this.#gathered);
      this.#gather.set(chunk.subarray(done, done + n), this.#gathered);
      this.#gathered += n;
      done += n;
      if (this.#gathered === this.#gatherBytes) await this.#flush();
    }
  }

  /** Passes what was gathered on (not with gzip, which gathers itself); the stream keeps the buffer. */
  async #flush(): Promise<void> {
    if (!this.#gather || this.#gathered === 0) return;
    const data = this.#gather.subarray(0, this.#gathered);
    this.#gather = undefined;
    this.#gathered = 0;
    if (!this.#input!.write(data)) {
      await Promise.race([once(this.#input!, 'drain'), this.#done]);
      if (this.#failed) throw this.#failed;
    }
  }

  async finish(): Promise<SpoolResult> {
    if (this.#gzip) {
      await this.#gzip.end();
      const handle = await this.#file!;
      await handle.close();
      return { path: this.path, size: this.#size, sha1: this.#hash.digest('hex') };
    }
    await this.#flush();
    this.#input!.end();
    await this.#done;
    return { path: this.path, size: this.#size, sha1: this.#hash.digest('hex') };
  }

  async discard(): Promise<void> {
    this.#input?.destroy();
    await this.#done.catch(() => undefined);
    if (this.#file) await (await this.#file.catch(() => undefined))?.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  static open(path: string): Readable {
    return createReadStream(path, { highWaterMark: 1 << 16 });
  }
}

/** Writes every part, in order, with as few calls as writev allows (a stored block is 2 parts per 64 KiB). */
async function writeAll(handle: FileHandle, parts: Buffer[]): Promise<void> {
  let rest = parts.filter((part) => part.length > 0);
  while (rest.length > 0) {
    let written = (await handle.writev(rest.length > 1024 ? rest.slice(0, 1024) : rest)).bytesWritten;
    if (written === 0) throw new Error(`${handle.fd}: a write wrote nothing`);
    let i = 0;
    while (i < rest.length && written >= rest[i].length) written -= rest[i++].length;
    rest = i < rest.length && written > 0 ? [rest[i].subarray(written), ...rest.slice(i + 1)] : rest.slice(i);
  }
}

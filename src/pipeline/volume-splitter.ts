// Cuts a stream of difftar entries into volumes (specs §5.8): an entry is never split, a volume is
// closed when less than 64 KiB of its size budget is left (counted after compression, as duplicity
// counts), and each closed volume is uploaded in the background while the next one is built
// (upload-queue.ts bounds how many finished volumes wait on disk).
import type { Duplex } from 'node:stream';
import type { Backend } from '../backend/types.js';
import { SpoolFile } from './spool.js';
import { UploadQueue } from './upload-queue.js';

/** Where an entry sits for the manifest: its index and, for a non-final multivol chunk, the chunk number. */
export interface ManifestPosition {
  index: Buffer[];
  block?: number;
}

export interface VolumeRecord {
  number: number;
  name: string;
  size: number;
  sha1: string;
  start: ManifestPosition;
  end: ManifestPosition;
}

export interface VolumeSplitterOptions {
  backend: Backend;
  tempdir: string;
  compress: boolean;
  /** gzip level (default 6) */
  gzipLevel?: number;
  /** set when volumes are encrypted: a new OpenPGP encryptor per volume */
  encryptor?: () => Duplex;
  volumeSizeBytes: number;
  /** remote name of volume n (1-based) */
  nameOf(volumeNumber: number): string;
  signal?: AbortSignal;
  /** called after each volume is safely stored */
  onVolumeStored?(volume: VolumeRecord): void;
  /** with dryRun the volumes are built and measured but not uploaded */
  dryRun?: boolean;
}

const ENTRY_HEADROOM = 65536;

export class VolumeSplitter {
  readonly #options: VolumeSplitterOptions;
  #current: { spool: SpoolFile; number: number; start: ManifestPosition; end: ManifestPosition } | undefined;
  #number = 0;
  readonly #uploads: UploadQueue<{ name: string; path: string; size: number; record: VolumeRecord }>;
  #volumes: VolumeRecord[] = [];
  #rawBytes = 0;

  constructor(options: VolumeSplitterOptions) {
    this.#options = options;
    this.#uploads = new UploadQueue({
      backend: options.backend, signal: options.signal, dryRun: options.dryRun,
      onStored: (job) => options.onVolumeStored?.(job.record),
    });
  }

  /** uncompressed tar bytes written so far */
  get rawBytes(): number {
    return this.#rawBytes;
  }

  async add(parts: readonly Buffer[], position: ManifestPosition): Promise<void> {
    this.#options.signal?.throwIfAborted();
    // a failed upload stops the backup now, not a volume later
    this.#uploads.throwIfFailed();
    if (this.#current) {
      const spool = this.#current.spool;
      // gzip runs behind on the thread pool: input not compressed yet counts at its full size, and
      // only when that could reach the limit is the spool settled to see the exact size
      if (this.#options.volumeSizeBytes - spool.storedBytes - spool.pendingBytes < ENTRY_HEADROOM) await spool.settle();
      if (this.#options.volumeSizeBytes - spool.storedBytes < ENTRY_HEADROOM) await this.#close();
    }
    if (!this.#current) this.#open(position);
    const current = this.#current!;
    for (const part of parts) {
      await current.spool.write(part);
      this.#rawBytes += part.length;
    }
    current.end = position;
  }

  /** Closes the last volume and waits for every upload; a set always has at least one volume (§9.3). */
  async finish(): Promise<VolumeRecord[]> {
    if (!this.#current && this.#number === 0) this.#open({ index: [] });
    if (this.#current) await this.#close();
    await this.#uploads.finish();
    return this.#volumes;
  }

  /** Removes the spool of the volume being built (after an error or Ctrl-C). */
  async abort(): Promise<void> {
    await this.#current?.spool.discard();
    this.#current = undefined;
    await this.#uploads.abort();
  }

  #open(position: ManifestPosition): void {
    this.#number++;
    this.#current = {
      spool: new SpoolFile(this.#options.tempdir, { compress: this.#options.compress, gzipLevel: this.#options.gzipLevel, encryptor: this.#options.encryptor?.() }),
      number: this.#number,
      start: position,
      end: position,
    };
  }

  async #close(): Promise<void> {
    const current = this.#current!;
    this.#current = undefined;
    const result = await current.spool.finish();
    const record: VolumeRecord = {
      number: current.number,
      name: this.#options.nameOf(current.number),
      size: result.size,
      sha1: result.sha1,
      start: current.start,
      end: current.end,
    };
    this.#volumes.push(record);
    await this.#uploads.add({ name: record.name, path: result.path, size: result.size, record });
  }
}

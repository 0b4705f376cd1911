// The manifest's Filelist, collected on disk while a backup runs: a backup of a million files must
// not hold a million paths in memory until the manifest is written at the end.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { formatFilelistLine, type ChangeKind } from '../duplicity/manifest.js';

export type FilelistKind = ChangeKind;

export class FilelistSpool {
  readonly path: string;
  #stream: WriteStream;
  #count = 0;
  #bytes = 0;
  #closed: Promise<void> | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(directory: string) {
    this.path = join(directory, `lifeboat-filelist-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.#stream = createWriteStream(this.path, { flags: 'wx' });
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async add(kind: FilelistKind, index: Buffer[]): Promise<void> {
    const line = formatFilelistLine({ kind, index });
    this.#count++;
    this.#bytes += line.length;
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    // one write call per 64 KiB, not per line
    if (this.#pendingBytes >= 1 << 16) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#stream.write(data)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    await this.#flush();
    this.#closed ??= new Promise((resolve, reject) => {
      this.#stream.once('error', reject);
      this.#stream.end(() => resolve());
    });
    return this.#closed;
  }

  open(): Readable {
    return createReadStream(this.path);
  }

  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

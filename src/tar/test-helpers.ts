// Shared by the tar tests: the real duplicity samples (decompressed in memory) and chunked async input.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { TestContext } from 'node:test';
import type { TarEntryHeader } from './header.js';
import { readTar, type TarReaderOptions } from './volume-reader.js';
import { samplesDir as sharedSamplesDir } from '../../test/support/samples.js';

export function samplesDir(): string {
  return sharedSamplesDir();
}

/** False (and the test skipped, loudly) when the samples are not there; under CI=true that is a failure. */
export function haveSamples(t: TestContext): boolean {
  if (existsSync(samplesDir())) return true;
  const message = `duplicity samples not found at ${samplesDir()} (set LIFEBOAT_SAMPLES)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n\n`);
  t.skip(message);
  return false;
}

/** The tar stream of a sample file (relative to the samples dir), gunzipped when it ends in .gz. */
export function sampleTar(relative: string): Buffer {
  const raw = readFileSync(join(samplesDir(), relative));
  return relative.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** Every unencrypted difftar and sigtar among the samples, archive dirs included. */
export function allSampleTars(): string[] {
  const found: string[] = [];
  for (const dir of ['plain', 'multi', 'nocomp', 'cache/plain', 'cache/multi', 'cache/nocomp', 'cache/enc']) {
    if (!existsSync(join(samplesDir(), dir))) continue;
    for (const name of readdirSync(join(samplesDir(), dir)).sort()) {
      if (/\.(difftar|sigtar)(\.gz)?$/.test(name)) found.push(`${dir}/${name}`);
    }
  }
  return found;
}

export async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(i + size, data.length));
}

export interface ReadEntry {
  header: TarEntryHeader;
  typeflag: number;
  body: Buffer;
  offset: number;
  dataOffset: number;
}

/** Reads a whole tar held in memory, bodies collected. */
export async function readAll(data: Buffer, chunkSize = 65536, options?: TarReaderOptions): Promise<{ entries: ReadEntry[]; endMarkerSeen: boolean; offset: number }> {
  const reader = readTar(chunked(data, chunkSize), options);
  const entries: ReadEntry[] = [];
  for await (const e of reader) {
    const parts: Buffer[] = [];
    for await (const part of e.body) parts.push(part);
    entries.push({ header: e.header, typeflag: e.typeflag, body: Buffer.concat(parts), offset: e.offset, dataOffset: e.dataOffset });
  }
  return { entries, endMarkerSeen: reader.endMarkerSeen, offset: reader.offset };
}

/** A header with the defaults duplicity would write for a root-owned regular file. */
export function fileHeader(name: string | Buffer, fields: Partial<TarEntryHeader> = {}): TarEntryHeader {
  return {
    name: typeof name === 'string' ? Buffer.from(name) : name,
    type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000,
    linkname: Buffer.alloc(0), uname: 'root', gname: 'root', devmajor: 0, devminor: 0,
    ...fields,
  };
}

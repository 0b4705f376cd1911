// Streaming tar reader for duplicity volumes and sigtars: entries in order, bodies streamed, stop at the first zero block.
import { IntegrityError } from '../errors/lifeboat-error.js';
import { ChunkSource } from './chunk-source.js';
import { BLOCK_SIZE, decodeHeader, isZeroBlock, TYPEFLAG, type TarEntryHeader } from './header.js';
import { decodePaxRecords, paxOverrides, type PaxOverrides } from './pax.js';

export interface TarEntry {
  header: TarEntryHeader;
  /** the raw typeflag byte ('0' is 0x30), for types the header reports as 'other' */
  typeflag: number;
  /**
   * The data, as views into the input chunks (not copies). Iterate it at most once, before asking for the
   * next entry; whatever is left unread is skipped when the reader moves on.
   */
  body: AsyncIterable<Buffer>;
  /** offset in the tar stream of the entry's first header block (its pax or GNU header, if any) */
  offset: number;
  /** offset of the data, i.e. the end of the header blocks */
  dataOffset: number;
}

export interface TarReaderOptions {
  /**
   * After the first zero block, read the rest of the input and discard it (default true), so that checks
   * which run at the end of the upstream stream (gzip CRC, OpenPGP MDC over the junk of §8.3) still run.
   */
  drain?: boolean;
}

// Extension headers are small (a path is at most a few KiB); a huge size means a corrupt header.
const MAX_EXTENSION_SIZE = 1 << 20;

type Extension = { kind: 'pax'; overrides: PaxOverrides } | { kind: 'longName' | 'longLink'; value: Buffer };

/**
 * Reads a tar stream as CPython's tarfile does (pax 'x' and Solaris 'X' headers, GNU 'L'/'K' long names,
 * ustar prefix; pax 'g' is skipped), except that a bad checksum or truncated input throws IntegrityError
 * instead of silently ending the archive. It ends at the first all-zero block or at the end of the input
 * between entries (duplicity volumes have no end marker). Iterate it once.
 */
export class TarReader implements AsyncIterable<TarEntry> {
  #source: ChunkSource;
  #drain: boolean;
  #started = false;
  #serial = 0;
  #remaining = 0;
  #padding = 0;
  #current: { name: Buffer; dataOffset: number; size: number } | undefined;
  #endMarker = false;

  constructor(input: AsyncIterable<Uint8Array>, options: TarReaderOptions = {}) {
    this.#source = new ChunkSource(input);
    this.#drain = options.drain ?? true;
  }

  /** True once the reader met a zero block (sigtars have one; plain and gzip volumes end without). */
  get endMarkerSeen(): boolean {
    return this.#endMarker;
  }

  /** Bytes consumed from the input so far. */
  get offset(): number {
    return this.#source.offset;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TarEntry, void, undefined> {
    if (this.#started) throw new Error('a TarReader can be iterated only once');
    this.#started = true;
    let finished = false;
    try {
      for (;;) {
        await this.#skipRest();
        const entry = await this.#next();
        if (entry === null) break;
        yield entry;
      }
      if (this.#drain) await this.#source.drain();
      finished = this.#drain;
    } finally {
      this.#serial++;
      if (!finished) await this.#source.close();
    }
  }

  /**
   * The entry whose first header block is at `offset` of the stream (or null at the stream's end), read
   * without iterating: the rest of the current entry and everything up to `offset` is skipped unread.
   * Offsets must come in increasing order, and close() ends the reading. For a reader that was told
   * where its entries are (pipeline/signature-chain.ts: the state index knows each signature's offset).
   */
  async entryAt(offset: number): Promise<TarEntry | null> {
    if (this.#started) throw new Error('a TarReader that is iterated cannot also be read by offset');
    await this.#skipRest();
    const gap = offset - this.#source.offset;
    if (gap < 0) throw new IntegrityError(`tar entry at offset ${offset} asked for after offset ${this.#source.offset}`, { offset });
    if (gap > 0 && (await this.#source.skip(gap)) < gap) {
      throw new IntegrityError(`tar stream truncated: it ends before offset ${offset}`, { offset: this.#source.offset });
    }
    return this.#next();
  }

  /**
   * Reads the rest of the input of a reader read with entryAt(), unparsed, so that the checks at the
   * input's end run (a gzip stream's CRC): a damaged file is told from a wrong offset.
   */
  async drain(): Promise<void> {
    this.#serial++;
    this.#remaining = 0;
    this.#padding = 0;
    await this.#source.drain();
  }

  /** Stops a reader read with entryAt() (an iterated one stops when its iteration ends). */
  async close(): Promise<void> {
    this.#serial++;
    await this.#source.close();
  }

  async #skipRest(): Promise<void> {
    const want = this.#remaining + this.#padding;
    if (want === 0) return;
    const start = this.#source.offset;
    const skipped = await this.#source.skip(want);
    this.#remaining = 0;
    this.#padding = 0;
    if (skipped < want) throw this.#truncatedBody(start + skipped);
  }

  async #next(): Promise<TarEntry | null> {
    const start = this.#source.offset;
    const extensions: Extension[] = [];
    for (;;) {
      const at = this.#source.offset;
      const block = await this.#source.readExact(BLOCK_SIZE);
      if (block.length === 0 && extensions.length === 0) return null;
      if (block.length < BLOCK_SIZE) {
        throw new IntegrityError(`tar stream truncated: it ends ${block.length} bytes into the header at offset ${at}`, { offset: at });
      }
      if (isZeroBlock(block)) {
        if (extensions.length > 0) throw new IntegrityError(`tar stream has a zero block after the extended header at offset ${start}`, { offset: at });
        this.#endMarker = true;
        return null;
      }
      const { header, typeflag } = decodeHeader(block, at);
      switch (typeflag) {
        case TYPEFLAG.paxExtended: case TYPEFLAG.solarisExtended: {
          const data = await this.#extensionData(header.size, at);
          extensions.push({ kind: 'pax', overrides: paxOverrides(decodePaxRecords(data, at + BLOCK_SIZE), at) });
          continue;
        }
        case TYPEFLAG.paxGlobal:
          await this.#extensionData(header.size, at);
          continue;
        case TYPEFLAG.gnuLongName: case TYPEFLAG.gnuLongLink: {
          const data = await this.#extensionData(header.size, at);
          const nul = data.indexOf(0);
          const value = Buffer.from(nul === -1 ? data : data.subarray(0, nul));
          extensions.push({ kind: typeflag === TYPEFLAG.gnuLongName ? 'longName' : 'longLink', value });
          continue;
        }
        case TYPEFLAG.gnuSparse:
          throw new IntegrityError(`GNU sparse tar member at offset ${at} is not supported`, {
            offset: at,
            hint: 'duplicity never writes sparse members; this is not a duplicity volume',
          });
      }
      // CPython applies the innermost extension first, so the first one in the stream wins.
      for (let i = extensions.length - 1; i >= 0; i--) apply(header, extensions[i]);
      return this.#entry(header, typeflag, start);
    }
  }

  async #extensionData(size: number, at: number): Promise<Buffer> {
    if (size > MAX_EXTENSION_SIZE) {
      throw new IntegrityError(`tar extended header at offset ${at} claims ${size} bytes`, { offset: at });
    }
    const padded = Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
    const data = await this.#source.readExact(padded);
    if (data.length < padded) {
      throw new IntegrityError(`tar stream truncated inside the extended header at offset ${at}`, { offset: this.#source.offset });
    }
    return data.subarray(0, size);
  }

  #entry(header: TarEntryHeader, typeflag: number, offset: number): TarEntry {
    // Like CPython, only regular files and unknown types have data; the size of other types is ignored.
    const hasData = header.type === 'file' || header.type === 'other';
    const length = hasData ? header.size : 0;
    const dataOffset = this.#source.offset;
    const serial = ++this.#serial;
    this.#remaining = length;
    this.#padding = (BLOCK_SIZE - (length % BLOCK_SIZE)) % BLOCK_SIZE;
    this.#current = { name: header.name, dataOffset, size: length };
    return { header, typeflag, body: this.#body(serial), offset, dataOffset };
  }

  async *#body(serial: number): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      if (serial !== this.#serial) throw new Error('tar entry body read after the reader moved past the entry');
      if (this.#remaining === 0) return;
      const chunk = await this.#source.read(this.#remaining);
      if (chunk === null) throw this.#truncatedBody(this.#source.offset);
      this.#remaining -= chunk.length;
      yield chunk;
    }
  }

  #truncatedBody(at: number): IntegrityError {
    const c = this.#current;
    const part = c && at >= c.dataOffset + c.size ? 'the padding after' : 'the data of';
    const what = c ? `${part} ${JSON.stringify(c.name.toString('utf8'))} (${c.size} bytes from offset ${c.dataOffset})` : 'an entry';
    return new IntegrityError(`tar stream truncated: it ends at offset ${at}, inside ${what}`, { offset: at });
  }
}

function apply(header: TarEntryHeader, ext: Extension): void {
  if (ext.kind !== 'pax') {
    if (ext.kind === 'longName') header.name = ext.value;
    else header.linkname = ext.value;
  } else {
    const o = ext.overrides;
    if (o.path !== undefined) header.name = o.path;
    if (o.linkpath !== undefined) header.linkname = o.linkpath;
    if (o.uname !== undefined) header.uname = o.uname;
    if (o.gname !== undefined) header.gname = o.gname;
    if (o.uid !== undefined) header.uid = o.uid;
    if (o.gid !== undefined) header.gid = o.gid;
    if (o.size !== undefined) header.size = o.size;
    if (o.mtime !== undefined) header.mtime = o.mtime;
  }
}

/** Convenience: `for await (const entry of readTar(chunks)) …` */
export function readTar(input: AsyncIterable<Uint8Array>, options?: TarReaderOptions): TarReader {
  return new TarReader(input, options);
}

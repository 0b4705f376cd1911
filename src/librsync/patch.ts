// Applies a librsync delta (specs §7.4) to a basis read by offset, streaming the result. Every
// malformed input (bad magic, bogus command, zero length, truncation, a copy past the basis end) is
// an IntegrityError naming the delta offset where it was found.
import type { FileHandle } from 'node:fs/promises';
import { IntegrityError } from '../errors/lifeboat-error.js';
import { DELTA_MAGIC, OP_COPY_N1_N1, OP_END, OP_LITERAL_N1 } from './delta.js';

/**
 * Reads up to `length` bytes of the basis at `position`, at least one unless the basis ends there.
 * Fresh buffers only: the pieces handed out may still be in use after the next read.
 */
export type BasisReader = (position: number, length: number) => Promise<Uint8Array>;

/** bytes a BasisReader reads at once for small copies */
const BASIS_WINDOW = 1 << 20;

/**
 * A BasisReader over an open file. Copies mostly walk the basis forward a block or a few at a time, so
 * a small copy reads a window of 1 MiB from its offset and the next copies inside it are served from
 * there: a read per window instead of one per copy (a delta of a 214 MB dump has 11,000 copies).
 */
export function fileBasisReader(handle: FileHandle): BasisReader {
  let windowStart = 0;
  let window = Buffer.alloc(0);
  return async (position, length) => {
    if (position >= windowStart && position + length <= windowStart + window.length) {
      return window.subarray(position - windowStart, position - windowStart + length);
    }
    // a fresh buffer per read: the pieces handed out may still be in use after the next read
    const size = Math.max(length, BASIS_WINDOW);
    const buffer = Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(buffer, 0, size, position);
    if (length >= BASIS_WINDOW) return buffer.subarray(0, bytesRead);
    windowStart = position;
    window = buffer.subarray(0, bytesRead);
    return window.subarray(0, Math.min(length, bytesRead));
  };
}

const OUTPUT_CHUNK = 1 << 16;
const COPY_PIECE = 1 << 20;
const widths = [1, 2, 4, 8] as const;

/** Pulls exact byte counts out of an async stream of chunks, counting the offset. */
class DeltaInput {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #p = 0;
  #done = false;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#p >= this.#chunk.length) {
      if (this.#done) return false;
      const next = await this.#it.next();
      if (next.done) { this.#done = true; return false; }
      this.#chunk = next.value;
      this.#p = 0;
    }
    return true;
  }

  /** Up to `max` (>0) bytes, or null at the end of input. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (!(await this.#fill())) return null;
    const n = Math.min(max, this.#chunk.length - this.#p);
    const out = this.#chunk.subarray(this.#p, this.#p + n);
    this.#p += n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or null if the input ends first. */
  async readExact(n: number): Promise<Uint8Array | null> {
    if (await this.#fill() && this.#chunk.length - this.#p >= n) {
      const out = this.#chunk.subarray(this.#p, this.#p + n);
      this.#p += n;
      this.offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      const part = await this.readSome(n - have);
      if (!part) return null;
      out.set(part, have);
      have += part.length;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

function readUnsigned(bytes: Uint8Array): number {
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}

/**
 * A BasisReader over a basis that streams by once (a snapshot read out of a volume), for a delta
 * whose copies only move forward (copiesMoveForward): the bytes before a copy are skipped, and a copy
 * behind the bytes already read fails.
 */
export function streamBasisReader(source: AsyncIterable<Uint8Array>): BasisReader {
  const input = new DeltaInput(source);
  return async (position, length) => {
    if (position < input.offset) throw new Error(`the basis streams forward only: a copy at ${position} after ${input.offset}`);
    while (input.offset < position) {
      if (!(await input.readSome(position - input.offset))) return new Uint8Array(0);
    }
    return (await input.readSome(length)) ?? new Uint8Array(0);
  };
}

/** One command of a delta; a literal's bytes follow it in the input. */
type Command = { op: 'end' } | { op: 'literal'; length: number } | { op: 'copy'; offset: number; length: number };

/** The delta's magic number; an IntegrityError when it is missing or wrong. */
async function readMagic(input: DeltaInput): Promise<void> {
  const magic = await input.readExact(4);
  if (!magic) throw truncated(input);
  const m = readUnsigned(magic);
  if (m !== DELTA_MAGIC) {
    throw new IntegrityError(`not a librsync delta: bad magic 0x${m.toString(16).padStart(8, '0')} at offset 0`, { offset: 0 });
  }
}

function truncated(input: DeltaInput): IntegrityError {
  return new IntegrityError(`delta is truncated at offset ${input.offset}: it ends before its END command`, { offset: input.offset });
}

/** The next command (specs §7.4); an IntegrityError naming its offset when it is malformed. */
async function readCommand(input: DeltaInput): Promise<Command> {
  const at = input.offset;
  const opByte = await input.readExact(1);
  if (!opByte) throw truncated(input);
  const op = opByte[0];
  if (op === OP_END) return { op: 'end' };
  if (op < OP_LITERAL_N1) return { op: 'literal', length: op };
  if (op < OP_COPY_N1_N1) {
    const operand = await input.readExact(widths[op - OP_LITERAL_N1]);
    if (!operand) throw truncated(input);
    const length = readUnsigned(operand);
    if (length === 0) throw new IntegrityError(`delta has a zero-length literal at offset ${at}`, { offset: at });
    return { op: 'literal', length };
  }
  if (op <= OP_COPY_N1_N1 + 15) {
    const code = op - OP_COPY_N1_N1;
    const offsetBytes = await input.readExact(widths[code >> 2]);
    const lengthBytes = offsetBytes && await input.readExact(widths[code & 3]);
    if (!offsetBytes || !lengthBytes) throw truncated(input);
    const offset = readUnsigned(offsetBytes);
    const length = readUnsigned(lengthBytes);
    // beyond 2^53 a position is no longer exact (and a file read takes it as "where the file is")
    if (length === 0 || offset + length > Number.MAX_SAFE_INTEGER) {
      throw new IntegrityError(`delta has a bad copy command (offset ${offset}, length ${length}) at offset ${at}`, { offset: at });
    }
    return { op: 'copy', offset, length };
  }
  throw new IntegrityError(`delta has a bogus command byte 0x${op.toString(16)} at offset ${at}`, { offset: at });
}

/**
 * Whether every copy of `delta` reads the basis at or after the end of the copy before it, so the
 * basis can be read as a stream (streamBasisReader). False for a malformed delta: applyPatch reports it.
 */
export async function copiesMoveForward(delta: AsyncIterable<Uint8Array>): Promise<boolean> {
  const input = new DeltaInput(delta);
  try {
    await readMagic(input);
    for (let end = 0; ;) {
      const command = await readCommand(input);
      if (command.op === 'end') return true;
      if (command.op === 'copy') {
        if (command.offset < end) return false;
        end = command.offset + command.length;
        continue;
      }
      for (let left = command.length; left > 0;) {
        const data = await input.readSome(left);
        if (!data) return false;
        left -= data.length;
      }
    }
  } catch (err) {
    if (err instanceof IntegrityError) return false;
    throw err;
  } finally {
    await input.close();
  }
}

/** Streams the file that `delta` makes from `basis`. */
export async function* applyPatch(basis: BasisReader, delta: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const input = new DeltaInput(delta);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const add = (data: Uint8Array) => {
    pending.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    pendingBytes += data.length;
  };
  const drain = () => {
    const out = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return out;
  };

  try {
    await readMagic(input);
    for (;;) {
      const at = input.offset;
      const command = await readCommand(input);
      if (command.op === 'end') break;
      if (command.op === 'copy') {
        const { offset, length } = command;
        for (let done = 0; done < length;) {
          const data = await basis(offset + done, Math.min(COPY_PIECE, length - done));
          if (data.length === 0) {
            throw new IntegrityError(
              `delta at offset ${at} copies past the end of the basis file (basis offset ${offset}, length ${length})`,
              { offset: at, hint: 'the delta was made against a different basis file' },
            );
          }
          done += data.length;
          if (data.length >= OUTPUT_CHUNK) {
            // a big piece goes out as it is, not copied into a joined chunk
            if (pendingBytes > 0) yield drain();
            yield Buffer.from(data.buffer, data.byteOffset, data.length);
          } else {
            add(data);
            if (pendingBytes >= OUTPUT_CHUNK) yield drain();
          }
        }
        continue;
      }
      for (let left = command.length; left > 0;) {
        const data = await input.readSome(left);
        if (!data) throw truncated(input);
        add(data);
        left -= data.length;
        if (pendingBytes >= OUTPUT_CHUNK) yield drain();
      }
    }
    if (pendingBytes > 0) yield drain();
  } finally {
    await input.close();
  }
}

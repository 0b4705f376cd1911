// Delta generation (specs §7.4, §7.5): slide a block-sized window over the new data with the rolling
// sum, look the weak sum up in a table built from the signature, confirm with the truncated MD4, and
// emit COPY for matches (adjacent ones merged) and LITERAL for the bytes between. Push-based: the new
// data is read once, and at most one literal run plus one block is held.
import type { Signature } from './signature.js';
import { BlockSums } from './block-sums.js';
import { md4Into } from './md4.js';
import { CHAR_OFFSET, rollsum } from './rollsum.js';

export const DELTA_MAGIC = 0x72730236;
export const OP_END = 0x00;
export const OP_LITERAL_N1 = 0x41;
export const OP_COPY_N1_N1 = 0x45;

/** Literal runs are cut at this size so a long run of new data never piles up in memory. */
const MAX_LITERAL_RUN = 1 << 16;

/** Bytes needed to hold v as an unsigned big-endian operand: 1, 2, 4 or 8. */
export function operandWidth(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x100) return 1;
  if (v < 0x10000) return 2;
  if (v < 0x100000000) return 4;
  return 8;
}

const widthCode = { 1: 0, 2: 1, 4: 2, 8: 3 } as const;

function writeOperand(out: Buffer, o: number, v: number, width: 1 | 2 | 4 | 8): number {
  switch (width) {
    case 1: out[o] = v; break;
    case 2: out.writeUInt16BE(v, o); break;
    case 4: out.writeUInt32BE(v, o); break;
    case 8: out.writeBigUInt64BE(BigInt(v), o); break;
  }
  return o + width;
}

/** The command header for a literal of `length` bytes (the data follows it). */
export function encodeLiteralHeader(length: number): Buffer {
  if (length <= 64) return Buffer.from([length]);
  const width = operandWidth(length);
  const out = Buffer.allocUnsafe(1 + width);
  out[0] = OP_LITERAL_N1 + widthCode[width];
  writeOperand(out, 1, length, width);
  return out;
}

export function encodeCopy(offset: number, length: number): Buffer {
  const ow = operandWidth(offset);
  const lw = operandWidth(length);
  const out = Buffer.allocUnsafe(1 + ow + lw);
  out[0] = OP_COPY_N1_N1 + 4 * widthCode[ow] + widthCode[lw];
  writeOperand(out, writeOperand(out, 1, offset, ow), length, lw);
  return out;
}

function magicBytes(): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(DELTA_MAGIC, 0);
  return b;
}

/**
 * Fills `into` with the first `strongLength` bytes of MD4 of the new data's bytes [offset, offset +
 * length) and returns true, or returns false when it does not have that sum.
 */
export type KnownStrongSum = (offset: number, length: number, into: Uint8Array, strongLength: number) => boolean;

/**
 * A signature with the tables a delta looks its weak sums up in, built once per signature. Built with
 * `shared`, every array lives in a SharedArrayBuffer, so the worker threads diffing a big file's
 * segments (pipeline/delta-workers.ts) all use the one copy the main thread made.
 */
export interface SignatureIndex {
  readonly signature: Signature;
  /** open addressing, keyed by a hash of the weak sum: block number + 1, 0 for empty */
  readonly table: Int32Array;
  readonly shift: number;
  /**
   * A bitset of weak sums (16 bits a block) checked before the table: on new data almost every byte
   * misses, and a 256 KiB bitset stays in cache where the table would not (bench/README.md).
   */
  readonly seen: Int32Array;
  readonly seenShift: number;
}

export function indexSignature(signature: Signature, shared = false): SignatureIndex {
  const ints = (n: number) => new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  let bits = 4;
  while ((1 << bits) < signature.blockCount * 2) bits++;
  let seenBits = 10;
  while ((1 << seenBits) < signature.blockCount * 16 && seenBits < 30) seenBits++;
  const index = { signature, table: ints(1 << bits), shift: 32 - bits, seen: ints(1 << (seenBits - 5)), seenShift: 32 - seenBits };
  const { blockCount, strongLength, strong } = signature;
  const weak = weakSums(signature);
  const { table, shift, seen, seenShift } = index;
  const mask = table.length - 1;
  for (let i = 0; i < blockCount; i++) {
    const b = Math.imul(weak[i], 0x85ebca6b) >>> seenShift;
    seen[b >>> 5] |= 1 << (b & 31);
    let h = Math.imul(weak[i], 0x9e3779b1) >>> shift;
    let duplicate = false;
    for (let e = table[h]; e !== 0; h = (h + 1) & mask, e = table[h]) {
      const j = e - 1;
      if (weak[j] === weak[i] && equalBytes(strong, j * strongLength, strong, i * strongLength, strongLength)) {
        duplicate = true; // keep the first, as librsync does
        break;
      }
    }
    if (!duplicate) table[h] = i + 1;
  }
  return index;
}

/** the weak sums as signed 32-bit values, which is what the rolling sum computes */
function weakSums(signature: Signature): Int32Array {
  return new Int32Array(signature.weak.buffer, signature.weak.byteOffset, signature.blockCount);
}

function isIndex(s: Signature | SignatureIndex): s is SignatureIndex {
  return 'table' in s;
}

/** windows summed ahead at a time: at least (the four lanes of BlockSums), at most */
const AHEAD_MIN = 4;
const MAX_AHEAD = 64;
/**
 * windows that need an MD4 gathered for one batch at most (BlockSums' two interleaved groups of four
 * lanes), less than a block on from the first. The pgbench dump's delta in process: 4 windows
 * 0.75-0.77 s, 8 windows 0.69-0.73 s, once md4x8 ran two groups at 1.5 times one group's speed
 */
const HITS = 8;

/**
 * Builds a delta of pushed new data against a signature; push() and finish() return delta bytes, and
 * pushParts() and finishParts() the same bytes as they were made, without joining them.
 */
export class DeltaBuilder {
  readonly #sig: Signature;
  readonly #weak: Int32Array;
  readonly #table: Int32Array;
  readonly #shift: number;
  readonly #seen: Int32Array;
  readonly #seenShift: number;
  readonly #sum = Buffer.alloc(16);
  #buf: Buffer = Buffer.alloc(0);
  /** #buf lives at the start of this, reused from push to push (a new buffer per push churned memory) */
  #store: Buffer = Buffer.alloc(0);
  #pos = 0;
  #litStart = 0;
  #valid = false;
  #windowLength = 0;
  #s1 = 0;
  #s2 = 0;
  #copyOffset = -1;
  #copyLength = 0;
  #out: Buffer[] = [magicBytes()];
  #finished = false;
  /** offset in the whole new data of #buf[0] */
  #base = 0;
  readonly #knownSum: KnownStrongSum | undefined;
  /**
   * After a match the next window starts a block length on, and in a run of unchanged data it matches
   * too: the sums of the windows ahead are computed together (BlockSums), their weak sums instead of
   * a rollsum each and their MD4 sums instead of md4Into. `#ahead*` hold them: windows at offsets
   * #aheadStart + k·blockLength of the new data, k < #aheadCount. Unused when the run breaks.
   */
  readonly #blockSums: BlockSums | null;
  #aheadStart = -1;
  #aheadCount = 0;
  #aheadStrong = false;
  readonly #aheadWeak = new Int32Array(MAX_AHEAD);
  readonly #aheadSums = new Uint8Array(MAX_AHEAD * 16);
  /** windows matched one after the other: the next batch is about as long */
  #run = 0;
  /**
   * While rolling through new data, windows whose weak sum some block shares need an MD4 to tell, and
   * in text most of them are not matches. When one needs it, the scan first rolls on (up to a block)
   * to the next windows that will need one, and their MD4 sums are computed together (BlockSums);
   * #hitAt/#hitSums hold them by position in the new data. Those windows wait in the queue (offset in
   * #buf and the rolling state there), the last entry being where that look-ahead stopped: the scan
   * jumps from one to the next, since the windows between them need nothing.
   */
  readonly #hitAt = new Float64Array(HITS).fill(-1);
  readonly #hitSums = new Uint8Array(HITS * 16);
  /**
   * the queue: offsets in #buf and rolling states (s2 << 16 | s1), #queued of them from #queueHead; no
   * allocation per window. Int32Array, not Float64Array: a double read into #scan's `pos` made V8 keep
   * every position of the byte loop as a double (10 % slower on new data)
   */
  readonly #queuePos = new Int32Array(HITS);
  readonly #queueState = new Int32Array(HITS);
  #queueHead = 0;
  #queued = 0;
  /** the windows of one look-ahead, offsets in #buf */
  readonly #hits = new Int32Array(HITS);
  /**
   * How well looking ahead paid lately (0-16): one up for each look-ahead that found another window,
   * one down for each that did not. In random data it seldom does (its rolling sums collide one window
   * at a time), and the look-ahead's rolling then only costs; at 0 every 32nd window tries again.
   */
  #lookAheadCredit = 8;
  #notLookedAhead = 0;

  /**
   * `knownSum` may supply MD4 sums of the new data already computed elsewhere (the new signature
   * built from the same bytes during a backup), so a matching block is not hashed twice.
   */
  constructor(signature: Signature | SignatureIndex, knownSum?: KnownStrongSum) {
    const index = isIndex(signature) ? signature : indexSignature(signature);
    this.#sig = index.signature;
    this.#knownSum = knownSum;
    this.#weak = weakSums(index.signature);
    this.#table = index.table;
    this.#shift = index.shift;
    this.#seen = index.seen;
    this.#seenShift = index.seenShift;
    this.#blockSums = BlockSums.for(index.signature.blockLength);
  }

  push(chunk: Uint8Array): Buffer {
    return this.#join(this.pushParts(chunk));
  }

  finish(): Buffer {
    return this.#join(this.finishParts());
  }

  /**
   * The delta bytes of `chunk` in parts, some of them views of the builder's buffer: valid only until
   * the next pushParts() or finishParts(). A reader that copies the bytes at once (a worker into its
   * ring) saves joining them into a new buffer per chunk, which was most of a worker's garbage.
   */
  pushParts(chunk: Uint8Array): Buffer[] {
    if (chunk.length === 0) return this.#takeParts();
    if (this.#sig.blockCount === 0) {
      this.#emitLiteral(Buffer.from(chunk));
      return this.#takeParts();
    }
    // keep only what is still needed: the pending literal and the unscanned tail (bounded by MAX_LITERAL_RUN)
    const keep = this.#buf.length - this.#litStart;
    const need = keep + chunk.length;
    if (this.#store.length < need) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.#store.length * 2));
      this.#buf.copy(bigger, 0, this.#litStart);
      this.#store = bigger;
    } else if (keep > 0 && this.#litStart > 0) {
      this.#store.copyWithin(0, this.#litStart, this.#buf.length);
    }
    this.#store.set(chunk, keep);
    this.#base += this.#litStart;
    this.#pos -= this.#litStart;
    this.#litStart = 0;
    this.#buf = this.#store.subarray(0, need);
    this.#scan(false);
    return this.#takeParts();
  }

  /** The last parts, the end command last and in a buffer of its own; valid as pushParts()' are. */
  finishParts(): Buffer[] {
    if (!this.#finished) {
      this.#finished = true;
      this.#scan(true);
      this.#emitLiteralRun(this.#litStart, this.#buf.length);
      this.#litStart = this.#pos = this.#buf.length;
      this.#flushCopy();
      this.#out.push(Buffer.from([OP_END]));
    }
    return this.#takeParts();
  }

  #takeParts(): Buffer[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #join(parts: Buffer[]): Buffer {
    // always a copy when it could be a view of #store, which the next push overwrites
    return parts.length === 1 && parts[0].buffer !== this.#store.buffer ? parts[0] : Buffer.concat(parts);
  }

  /** Scans the buffer from #pos; `final` lets the window shrink over the last bytes of the input. */
  #scan(final: boolean): void {
    const buf = this.#buf, len = buf.length;
    const L = this.#sig.blockLength;
    const seen = this.#seen, seenShift = this.#seenShift;
    let pos = this.#pos, s1 = this.#s1, s2 = this.#s2, valid = this.#valid, wlen = this.#windowLength;
    // windows matched one after the other (#run), kept in a local: this loop runs once per byte
    let run = this.#run;
    for (;;) {
      if (!valid) {
        wlen = Math.min(L, len - pos);
        if (wlen <= 0 || (wlen < L && !final)) break;
        this.#run = run;
        const sum = wlen === L ? this.#weakAhead(buf, pos) : rollsum(buf, pos, wlen);
        s1 = sum & 0xffff;
        s2 = sum >>> 16;
        valid = true;
      }
      const weak = (s2 << 16) | s1;
      const b = Math.imul(weak, 0x85ebca6b) >>> seenShift;
      if ((seen[b >>> 5] & (1 << (b & 31))) !== 0 || (this.#copyOffset >= 0 && pos === this.#litStart)) {
        // only a window right after a copy or with a weak sum some block has can match
        const afterCopy = this.#copyOffset >= 0 && pos === this.#litStart;
        if (afterCopy || this.#shared(weak)) {
          if (!afterCopy && this.#queued === 0 && wlen === L && this.#blockSums !== null && this.#worthLookingAhead()) this.#lookAhead(buf, pos, s1, s2);
          const block = this.#match(weak, buf, pos, wlen);
          if (block >= 0) {
            this.#emitLiteralRun(this.#litStart, pos);
            this.#addCopy(block * L, wlen);
            pos += wlen;
            this.#litStart = pos;
            valid = false;
            run++;
            this.#queued = 0;
            continue;
          }
        }
        if (this.#queued > 0) {
          // the windows up to the next one that needs an MD4 were looked at already
          run = 0;
          pos = this.#queuePos[this.#queueHead];
          s1 = this.#queueState[this.#queueHead] & 0xffff;
          s2 = this.#queueState[this.#queueHead] >>> 16;
          this.#queueHead++;
          this.#queued--;
          while (pos - this.#litStart >= MAX_LITERAL_RUN) {
            this.#emitLiteralRun(this.#litStart, this.#litStart + MAX_LITERAL_RUN);
            this.#litStart += MAX_LITERAL_RUN;
          }
          continue;
        }
      }
      run = 0;
      if (pos + wlen < len && wlen === L) {
        // roll on to the next window the bitset knows (most bytes of new data stop nowhere else), or to
        // where the literal run is cut; in a loop of its own, with no field read per byte
        const stop = Math.min(len - L, this.#litStart + MAX_LITERAL_RUN);
        do {
          const out = buf[pos] + CHAR_OFFSET;
          s1 = (s1 + buf[pos + L] - buf[pos]) & 0xffff;
          s2 = (s2 + s1 - L * out) & 0xffff;
          pos++;
          const b = Math.imul((s2 << 16) | s1, 0x85ebca6b) >>> seenShift;
          if ((seen[b >>> 5] & (1 << (b & 31))) !== 0) break;
        } while (pos < stop);
      } else if (final) {
        const out = buf[pos] + CHAR_OFFSET;
        s1 = (s1 - out) & 0xffff;
        s2 = (s2 - wlen * out) & 0xffff;
        wlen--;
        pos++;
        if (wlen === 0) { valid = false; break; }
      } else {
        break;
      }
      if (pos - this.#litStart >= MAX_LITERAL_RUN) {
        this.#emitLiteralRun(this.#litStart, pos);
        this.#litStart = pos;
      }
    }
    this.#pos = pos; this.#s1 = s1; this.#s2 = s2; this.#valid = valid; this.#windowLength = wlen; this.#run = run;
  }

  /** The block matching the window, or -1; the block after the last copy is tried first so runs merge. */
  #match(weak: number, buf: Buffer, pos: number, wlen: number): number {
    const { strongLength, strong, blockLength, blockCount } = this.#sig;
    const weakOf = this.#weak;
    let summed = false;
    if (this.#copyOffset >= 0 && pos === this.#litStart) {
      const end = this.#copyOffset + this.#copyLength;
      // the remainder first: a division that is not exact made optimized code bail out (int32 speculation)
      const next = end % blockLength === 0 ? end / blockLength : -1;
      if (next >= 0 && next < blockCount && weakOf[next] === weak) {
        this.#strongSum(buf, pos, wlen, strongLength);
        summed = true;
        if (equalBytes(strong, next * strongLength, this.#sum, 0, strongLength)) return next;
      }
    }
    const table = this.#table, mask = table.length - 1;
    for (let h = Math.imul(weak, 0x9e3779b1) >>> this.#shift, e = table[h]; e !== 0; h = (h + 1) & mask, e = table[h]) {
      const i = e - 1;
      if (weakOf[i] !== weak) continue;
      if (!summed) { this.#strongSum(buf, pos, wlen, strongLength); summed = true; }
      if (equalBytes(strong, i * strongLength, this.#sum, 0, strongLength)) return i;
    }
    return -1;
  }

  /** The window's truncated MD4 into #sum: from knownSum or the windows ahead when they have it, else computed. */
  #strongSum(buf: Buffer, pos: number, wlen: number, strongLength: number): void {
    if (this.#knownSum?.(this.#base + pos, wlen, this.#sum, strongLength)) return;
    const at = this.#base + pos;
    const full = wlen === this.#sig.blockLength;
    const k = this.#aheadStrong && full ? this.#aheadIndex(at) : -1;
    if (k >= 0) {
      this.#sum.set(this.#aheadSums.subarray(16 * k, 16 * k + strongLength), 0);
      return;
    }
    const h = full ? this.#hitAt.indexOf(at) : -1;
    if (h >= 0) this.#sum.set(this.#hitSums.subarray(16 * h, 16 * h + strongLength), 0);
    else md4Into(buf, pos, wlen, this.#sum, 0, strongLength);
  }

  /** whether some block has this weak sum (then the window needs its MD4); the caller tested the bitset */
  #shared(weak: number): boolean {
    const table = this.#table, mask = table.length - 1, weakOf = this.#weak;
    for (let h = Math.imul(weak, 0x9e3779b1) >>> this.#shift, e = table[h]; e !== 0; h = (h + 1) & mask, e = table[h]) {
      if (weakOf[e - 1] === weak) return true;
    }
    return false;
  }

  /**
   * The window at pos (full, rolling state s1 s2, a weak sum some block has, not right after a copy,
   * which is most likely the next block) needs an MD4: rolls on to the next windows that will (at most
   * HITS - 1, less than a block on, all in #buf) and computes their sums together; queues them, and where
   * the look-ahead stopped, for #scan to jump to.
   */
  #lookAhead(buf: Buffer, pos: number, s1: number, s2: number): void {
    const L = this.#sig.blockLength;
    const at = this.#base + pos;
    if (this.#hitAt.includes(at) || (this.#aheadStrong && this.#aheadIndex(at) >= 0) || this.#knownSum?.(at, L, this.#sum, this.#sig.strongLength)) return;
    const hits = this.#hits;
    hits[0] = pos;
    let found = 1;
    this.#queueHead = 0;
    let q = pos;
    const stop = Math.min(pos + L, this.#buf.length - L);
    const seen = this.#seen, seenShift = this.#seenShift;
    while (q < stop && found < HITS) {
      const out = buf[q] + CHAR_OFFSET;
      s1 = (s1 + buf[q + L] - buf[q]) & 0xffff;
      s2 = (s2 + s1 - L * out) & 0xffff;
      q++;
      // the bitset first, as in #scan: most windows stop there
      const weak = (s2 << 16) | s1;
      const b = Math.imul(weak, 0x85ebca6b) >>> seenShift;
      if ((seen[b >>> 5] & (1 << (b & 31))) !== 0 && this.#shared(weak)) {
        hits[found++] = q;
        this.#enqueue(q, s1, s2);
      }
    }
    this.#lookAheadCredit = found > 1 ? Math.min(16, this.#lookAheadCredit + 1) : Math.max(0, this.#lookAheadCredit - 1);
    if (found < HITS && q > pos && hits[found - 1] !== q) this.#enqueue(q, s1, s2);
    if (found === 1) return; // one window: md4Into as before
    for (let i = 0; i < HITS; i++) this.#hitAt[i] = i < found ? this.#base + hits[i] : -1;
    this.#blockSums!.hashWindows(buf, hits, found);
    for (let i = 0; i < found; i++) this.#blockSums!.strongInto(i, this.#hitSums, 16 * i, 16);
  }

  #worthLookingAhead(): boolean {
    if (this.#lookAheadCredit > 0) return true;
    if (++this.#notLookedAhead < 32) return false;
    this.#notLookedAhead = 0;
    return true;
  }

  #enqueue(pos: number, s1: number, s2: number): void {
    this.#queuePos[this.#queued] = pos;
    this.#queueState[this.#queued] = (s2 << 16) | s1;
    this.#queued++;
  }

  /**
   * The rollsum of the full window at pos: from the windows ahead, computing the next ones when they
   * are not there. (BlockSums' results live in the thread's one module memory until the next hash() of
   * any BlockSums: they are copied out at once, before knownSum or anything else may hash.)
   */
  #weakAhead(buf: Buffer, pos: number): number {
    const L = this.#sig.blockLength;
    const at = this.#base + pos;
    let k = this.#aheadIndex(at);
    if (k < 0) {
      const sums = this.#blockSums;
      const count = sums?.take(Math.min(Math.max(this.#run, AHEAD_MIN), MAX_AHEAD, Math.floor((buf.length - pos) / L))) ?? 0;
      if (count === 0) return rollsum(buf, pos, L);
      // an aligned window's MD4 comes from knownSum (the new signature's), when there is one
      const strong = this.#knownSum === undefined || at % L !== 0;
      sums!.hash(buf, pos, count, strong ? 'both' : 'weak');
      for (let i = 0; i < count; i++) {
        this.#aheadWeak[i] = sums!.weak(i);
        if (strong) sums!.strongInto(i, this.#aheadSums, 16 * i, 16);
      }
      this.#aheadStart = at;
      this.#aheadCount = count;
      this.#aheadStrong = strong;
      k = 0;
    }
    return this.#aheadWeak[k];
  }

  /** which of the windows ahead starts at `at` of the new data, or -1 */
  #aheadIndex(at: number): number {
    const distance = at - this.#aheadStart;
    if (this.#aheadStart < 0 || distance < 0) return -1;
    const L = this.#sig.blockLength;
    // the remainder first, as in #match
    if (distance % L !== 0) return -1;
    const k = distance / L;
    return k < this.#aheadCount ? k : -1;
  }

  #emitLiteralRun(start: number, end: number): void {
    if (end > start) this.#emitLiteral(this.#buf.subarray(start, end));
  }

  #emitLiteral(data: Buffer): void {
    this.#flushCopy();
    this.#out.push(encodeLiteralHeader(data.length), data);
  }

  #addCopy(offset: number, length: number): void {
    if (this.#copyOffset >= 0 && this.#copyOffset + this.#copyLength === offset) {
      this.#copyLength += length;
      return;
    }
    this.#flushCopy();
    this.#copyOffset = offset;
    this.#copyLength = length;
  }

  #flushCopy(): void {
    if (this.#copyOffset < 0) return;
    this.#out.push(encodeCopy(this.#copyOffset, this.#copyLength));
    this.#copyOffset = -1;
    this.#copyLength = 0;
  }
}

function equalBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** Streams the delta that turns the signature's basis into `source`. */
export async function* generateDelta(
  signature: Signature | SignatureIndex, source: AsyncIterable<Uint8Array>, knownSum?: KnownStrongSum,
): AsyncGenerator<Buffer> {
  const builder = new DeltaBuilder(signature, knownSum);
  for await (const chunk of source) {
    const out = builder.push(chunk);
    if (out.length > 0) yield out;
  }
  yield builder.finish();
}

/**
 * The same delta as its parts (DeltaBuilder.pushParts): the magic number first and the end command
 * last, each a part of its own. A part is valid only until the next one is asked for.
 */
export async function* generateDeltaParts(
  signature: Signature | SignatureIndex, source: AsyncIterable<Uint8Array>, knownSum?: KnownStrongSum,
): AsyncGenerator<Buffer> {
  const builder = new DeltaBuilder(signature, knownSum);
  for await (const chunk of source) yield* builder.pushParts(chunk);
  yield* builder.finishParts();
}

// A signature's two sums of every block (specs §7.1), in WebAssembly SIMD; a delta uses them too, for
// the windows it checks several at a time (delta.ts). MD4: a signature hashes every block of a file
// on its own, so the blocks are independent streams and four of them go
// through the 32-bit lanes of one vector at once; two such groups interleaved (md4x8) give three
// times the bytes per second of md4PairInto (md4.ts), the copy into the module's memory included
// (bench/README.md). The rollsum: 16 bytes a
// step, in 16-bit and 32-bit lanes (rollsum.ts has the definition). The module is generated here as
// bytecode, the 48 MD4 steps unrolled (RFC 1320 §3.4), so there is no build step and no binary in the
// repository. Blocks must be a multiple of 64 bytes (duplicity's are multiples of 512): MD4's padding
// is then the same one 64-byte group for every block.
import { CHAR_OFFSET } from './rollsum.js';

/** the bytes one call hashes at most (the module's input area) */
const INPUT_BYTES = 1 << 18;
/** MD4 digests: 64 bytes per four blocks, for at most INPUT_BYTES / 64 blocks (of 64 bytes) */
const STRONG_AT = INPUT_BYTES;
/** rollsums: s1 and s2 of the bytes alone, 8 bytes a block */
const WEAK_AT = STRONG_AT + INPUT_BYTES / 4;
/** MD4's padding group for the block length: 0x80, zeros, the length in bits (blocks are whole groups) */
const PADDING_AT = WEAK_AT + INPUT_BYTES / 8;
const PAGES = Math.ceil((PADDING_AT + 64) / 65536);

/** which sums hash() makes */
type Made = 'both' | 'weak' | 'strong';

interface Exports {
  memory: WebAssembly.Memory;
  /** md4x4(input, blockLength, groups, output): MD4 of groups × 4 blocks at input; see strongInto for the layout */
  md4x4(input: number, blockLength: number, groups: number, output: number): void;
  /** md4x8(input, blockLength, pairs, output): the same for pairs × 8 blocks, two groups of four interleaved */
  md4x8(input: number, blockLength: number, pairs: number, output: number): void;
  /** rollsums(input, blockLength, blocks, output): per block, s1 and s2 of its bytes (without CHAR_OFFSET) as two i32 */
  rollsums(input: number, blockLength: number, blocks: number, output: number): void;
}

let instance: Exports | null | undefined;

function exports(): Exports | null {
  if (instance === undefined) {
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes())).exports as unknown as Exports;
    } catch {
      instance = null; // no WebAssembly or no SIMD (node --jitless): md4.ts alone
    }
  }
  return instance;
}

/** The rollsums and MD4 sums of consecutive blocks of one length, for SignatureBuilder and DeltaBuilder. */
export class BlockSums {
  readonly #wasm: Exports;
  readonly #memory: Uint8Array;
  readonly #view: DataView;
  readonly #weak: Int32Array;
  readonly #blockLength: number;
  /** the rollsum's CHAR_OFFSET terms for a block, added to the bytes' sums (rollsum.ts) */
  readonly #offset1: number;
  readonly #offset2: number;
  /** blocks hashed by the last call, and which of their sums it made */
  #count = 0;
  #made: Made = 'both';

  private constructor(wasm: Exports, blockLength: number) {
    this.#wasm = wasm;
    this.#memory = new Uint8Array(wasm.memory.buffer);
    this.#view = new DataView(wasm.memory.buffer);
    this.#weak = new Int32Array(wasm.memory.buffer, WEAK_AT, INPUT_BYTES / 32);
    this.#blockLength = blockLength;
    this.#offset1 = (blockLength * CHAR_OFFSET) % 65536;
    this.#offset2 = ((CHAR_OFFSET * blockLength * (blockLength + 1)) / 2) % 65536;
  }

  /** null when the block length is not a multiple of 64 or WebAssembly SIMD is missing */
  static for(blockLength: number): BlockSums | null {
    if (blockLength % 64 !== 0 || blockLength > INPUT_BYTES / 4) return null;
    const wasm = exports();
    return wasm ? new BlockSums(wasm, blockLength) : null;
  }

  /** how many of `blocks` one hash() call takes: a multiple of 4, possibly 0 */
  take(blocks: number): number {
    return Math.min(blocks, Math.floor(INPUT_BYTES / this.#blockLength)) & ~3;
  }

  /**
   * Sums `count` (from take()) whole blocks at data[offset...]: their rollsums (weak()) and MD4 sums
   * (strongInto()), or only the ones asked for; readable until the next hash() by any BlockSums of
   * this thread.
   */
  hash(data: Uint8Array, offset: number, count: number, make: Made = 'both'): void {
    this.#memory.set(data.subarray(offset, offset + count * this.#blockLength), 0);
    if (make !== 'weak') {
      this.#memory.fill(0, PADDING_AT, PADDING_AT + 64);
      this.#memory[PADDING_AT] = 0x80;
      this.#view.setUint32(PADDING_AT + 56, this.#blockLength * 8, true);
      const pairs = count >> 3;
      if (pairs > 0) this.#wasm.md4x8(0, this.#blockLength, pairs, STRONG_AT);
      if ((count & 4) !== 0) this.#wasm.md4x4(8 * pairs * this.#blockLength, this.#blockLength, 1, STRONG_AT + 128 * pairs);
    }
    if (make !== 'strong') this.#wasm.rollsums(0, this.#blockLength, count, WEAK_AT);
    this.#count = count;
    this.#made = make;
  }

  /**
   * The MD4 sums (strongInto()) of `count` (at most 8) whole windows of `data` starting at `starts`,
   * each copied once into the module's memory; readable like hash()'s. For windows that are not one
   * after the other, such as a delta's windows that share a weak sum with some block (delta.ts).
   */
  hashWindows(data: Uint8Array, starts: Int32Array, count: number): void {
    if (count > 8) throw new RangeError(`hashWindows takes at most 8 windows, not ${count}`);
    const length = this.#blockLength;
    for (let i = 0; i < count; i++) {
      if (starts[i] < 0 || starts[i] + length > data.length) throw new RangeError(`window ${i} at ${starts[i]} is not inside the ${data.length} bytes`);
    }
    this.#memory.fill(0, PADDING_AT, PADDING_AT + 64);
    this.#memory[PADDING_AT] = 0x80;
    this.#view.setUint32(PADDING_AT + 56, length * 8, true);
    // eight windows at once when they fit in the input area (blocks up to 32 KiB), else four at a time;
    // the lanes past `count` hash whatever the memory holds, and are not read
    const perCall = this.take(8);
    for (let first = 0; first < count; first += perCall) {
      const n = Math.min(perCall, count - first);
      for (let i = 0; i < n; i++) this.#memory.set(data.subarray(starts[first + i], starts[first + i] + length), i * length);
      if (n > 4) this.#wasm.md4x8(0, length, 1, STRONG_AT);
      else this.#wasm.md4x4(0, length, 1, STRONG_AT + 16 * first);
    }
    this.#count = count;
    this.#made = 'strong';
  }

  /** Block i's rollsum (of the last hash()), as rollsum() gives it. */
  weak(i: number): number {
    if (i >= this.#count || this.#made === 'strong') throw new RangeError(`no rollsum of block ${i} (${this.#count} summed)`);
    const s1 = this.#weak[2 * i] + this.#offset1;
    const s2 = this.#weak[2 * i + 1] + this.#offset2;
    return (((s2 & 0xffff) << 16) | (s1 & 0xffff)) >>> 0;
  }

  /** The first `length` bytes of block i's MD4 (of the last hash()) to out[outOffset...]. */
  strongInto(i: number, out: Uint8Array, outOffset: number, length: number): void {
    if (i >= this.#count || this.#made === 'weak') throw new RangeError(`no MD4 sum of block ${i} (${this.#count} summed)`);
    // group i >> 2 holds the states a, b, c, d as four vectors, block i's word in lane i & 3
    const at = STRONG_AT + 64 * (i >> 2) + 4 * (i & 3);
    const memory = this.#memory;
    for (let j = 0; j < length; j++) out[outOffset + j] = memory[at + 16 * (j >> 2) + (j & 3)];
  }
}

// --- the module's bytecode -------------------------------------------------------------------------

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)];

const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32 = (n: number) => [0x41, ...sleb(n | 0)];
const I32_ADD = [0x6a];
const I32_MUL = [0x6c];
const I32_LT_U = [0x49];
const I32_GE_U = [0x4f];
const I32_EQZ = [0x45];
const i32Load = (offset: number) => [0x28, 2, ...uleb(offset)];
const simd = (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest];
const splatConst = (x: number) => {
  const bytes: number[] = [];
  for (let lane = 0; lane < 4; lane++) for (let k = 0; k < 4; k++) bytes.push((x >>> (8 * k)) & 0xff);
  return simd(0x0c, ...bytes);
};
const I32X4_SPLAT = simd(0x11);
const i32x4ReplaceLane = (lane: number) => simd(0x1c, lane);
const v128Store = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const V128_OR = simd(0x50);
const V128_XOR = simd(0x51);
const V128_BITSELECT = simd(0x52);
const I32X4_SHL = simd(0xab);
const I32X4_SHR_U = simd(0xad);
const I32X4_ADD = simd(0xae);

const SHIFTS = [[3, 7, 11, 19], [3, 5, 9, 13], [3, 9, 11, 15]];
const WORD_ORDER = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
  [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
];
const ROUND_CONSTANTS = [0, 0x5a827999, 0x6ed9eba1];

const V128_LOAD = simd(0x00, 4, 0);
const I16X8_EXTADD_PAIRWISE_I8X16_U = simd(0x7d);
const I32X4_EXTADD_PAIRWISE_I16X8_U = simd(0x7f);
const I16X8_EXTEND_LOW_I8X16_U = simd(0x89);
const I16X8_EXTEND_HIGH_I8X16_U = simd(0x8a);
const I32X4_DOT_I16X8_S = simd(0xba);
const i32x4ExtractLane = (lane: number) => simd(0x1b, lane);
const i32Store = (offset: number) => [0x36, 2, ...uleb(offset)];
const I32_SHL = [0x74];
const i16x8Const = (values: number[]) => simd(0x0c, ...values.flatMap((v) => [v & 0xff, v >> 8]));

/**
 * md4x4 (groups = 1) and md4x8 (2): four blocks in the four lanes of a vector, 64 bytes a turn, the
 * 48 steps unrolled. Each step needs the one before, so a group alone waits on that chain of
 * latencies; md4x8 interleaves the steps of two groups of four blocks, whose chains the CPU then runs
 * side by side.
 */
function md4Body(groups: 1 | 2): number[] {
  // parameters: 0 input, 1 blockLength, 2 turns, 3 output; i32 locals: 4 p, 5 end, 6 turn, 7 the
  // distance between the lanes' bytes, 8 whether the padding group was read; v128 locals per group g,
  // from 9 + 24·g: the state a b c d, the 16 words, the state before a 64-byte group; then a scratch
  const INPUT = 0, BLOCK = 1, TURNS = 2, OUTPUT = 3, P = 4, END = 5, TURN = 6, STRIDE = 7, PADDED = 8;
  const A = (g: number) => 9 + 24 * g, X = (g: number) => A(g) + 4, SAVED = (g: number) => A(g) + 20, T = 9 + 24 * groups;
  const code: number[] = [];
  const emit = (...parts: number[][]) => { for (const part of parts) code.push(...part); };

  const step = (g: number, round: number, i: number) => {
    // the steps target a, d, c, b in turn; F = bitselect(c, d, b), G = majority = bitselect(d, b, b ^ c)
    const t = [0, 3, 2, 1][i % 4];
    const a = A(g) + t, b = A(g) + ((t + 1) % 4), c = A(g) + ((t + 2) % 4), d = A(g) + ((t + 3) % 4);
    emit(get(a));
    if (round === 0) emit(get(c), get(d), get(b), V128_BITSELECT);
    else if (round === 1) emit(get(d), get(b), get(b), get(c), V128_XOR, V128_BITSELECT);
    else emit(get(b), get(c), V128_XOR, get(d), V128_XOR);
    emit(I32X4_ADD, get(X(g) + WORD_ORDER[round][i]), I32X4_ADD);
    if (ROUND_CONSTANTS[round] !== 0) emit(splatConst(ROUND_CONSTANTS[round]), I32X4_ADD);
    const s = SHIFTS[round][i % 4];
    emit(tee(T), i32(s), I32X4_SHL, get(T), i32(32 - s), I32X4_SHR_U, V128_OR, set(a));
  };

  emit(i32(0), set(TURN));
  emit([0x02, 0x40], [0x03, 0x40]); // block { loop {   (4 · groups blocks per turn)
  emit(get(TURN), get(TURNS), I32_GE_U, [0x0d, 1]);
  emit(get(INPUT), get(TURN), get(BLOCK), I32_MUL, i32(4 * groups), I32_MUL, I32_ADD, tee(P), get(BLOCK), I32_ADD, set(END));
  emit(get(BLOCK), set(STRIDE), i32(0), set(PADDED));
  for (let g = 0; g < groups; g++) {
    emit(splatConst(0x67452301), set(A(g)), splatConst(0xefcdab89), set(A(g) + 1), splatConst(0x98badcfe), set(A(g) + 2), splatConst(0x10325476), set(A(g) + 3));
  }
  emit([0x03, 0x40]); // loop {   (one 64-byte group of each block per turn; lane k of group g reads p + (4g + k)·stride)
  for (let g = 0; g < groups; g++) {
    for (let j = 0; j < 16; j++) {
      for (let lane = 0; lane < 4; lane++) {
        const k = 4 * g + lane;
        emit(get(P));
        if (k > 0) emit(get(STRIDE), i32(k), I32_MUL, I32_ADD);
        emit(i32Load(4 * j), lane === 0 ? I32X4_SPLAT : i32x4ReplaceLane(lane));
      }
      emit(set(X(g) + j));
    }
    for (let j = 0; j < 4; j++) emit(get(A(g) + j), set(SAVED(g) + j));
  }
  for (let round = 0; round < 3; round++) for (let i = 0; i < 16; i++) for (let g = 0; g < groups; g++) step(g, round, i);
  for (let g = 0; g < groups; g++) for (let j = 0; j < 4; j++) emit(get(A(g) + j), get(SAVED(g) + j), I32X4_ADD, set(A(g) + j));
  emit(get(P), i32(64), I32_ADD, tee(P), get(END), I32_LT_U, [0x0d, 0]);
  // after the last group of the blocks, the padding group, the same for all lanes (stride 0)
  emit(get(PADDED), I32_EQZ, [0x04, 0x40]); // if {
  emit(i32(PADDING_AT), tee(P), i32(64), I32_ADD, set(END), i32(0), set(STRIDE), i32(1), set(PADDED), [0x0c, 1]);
  emit([0x0b]); // }
  emit([0x0b]); // }
  for (let g = 0; g < groups; g++) {
    for (let j = 0; j < 4; j++) emit(get(OUTPUT), get(TURN), i32(64 * groups), I32_MUL, I32_ADD, get(A(g) + j), v128Store(64 * g + 16 * j));
  }
  emit(get(TURN), i32(1), I32_ADD, set(TURN), [0x0c, 0]);
  emit([0x0b], [0x0b], [0x0b]); // } } end
  return [2, ...uleb(5), I32, ...uleb(24 * groups + 1), V128, ...code];
}

/**
 * rollsums: per block, s1 = the sum of its bytes and s2 = the sum of (n - i)·byte[i], 16 bytes a turn.
 * For byte j of 16-byte group c, n - i = 16·(groups after c) + (16 - j): the second part is a dot
 * product with constant weights, the first adds up as the sum of all earlier groups' bytes, once per
 * group (acc2 += acc1 before acc1 takes the group in).
 */
function rollsumBody(): number[] {
  // parameters: 0 input, 1 blockLength, 2 blocks, 3 output; i32 locals: 4 p, 5 end, 6 block;
  // v128 locals: 7 acc1 (bytes so far), 8 acc2 (sum of acc1 over the groups), 9 accW (the dot products), 10 the group
  const INPUT = 0, BLOCK = 1, BLOCKS = 2, OUTPUT = 3, P = 4, END = 5, K = 6, ACC1 = 7, ACC2 = 8, ACCW = 9, V = 10;
  const code: number[] = [];
  const emit = (...parts: number[][]) => { for (const part of parts) code.push(...part); };
  const horizontalSum = (local: number) => emit(get(local), i32x4ExtractLane(0), get(local), i32x4ExtractLane(1), I32_ADD, get(local), i32x4ExtractLane(2), I32_ADD, get(local), i32x4ExtractLane(3), I32_ADD);

  emit(i32(0), set(K));
  emit([0x02, 0x40], [0x03, 0x40]);
  emit(get(K), get(BLOCKS), I32_GE_U, [0x0d, 1]);
  emit(get(INPUT), get(K), get(BLOCK), I32_MUL, I32_ADD, tee(P), get(BLOCK), I32_ADD, set(END));
  emit(splatConst(0), set(ACC1), splatConst(0), set(ACC2), splatConst(0), set(ACCW));
  emit([0x03, 0x40]);
  emit(get(P), V128_LOAD, set(V));
  emit(get(ACC2), get(ACC1), I32X4_ADD, set(ACC2));
  emit(get(ACC1), get(V), I16X8_EXTADD_PAIRWISE_I8X16_U, I32X4_EXTADD_PAIRWISE_I16X8_U, I32X4_ADD, set(ACC1));
  emit(get(ACCW), get(V), I16X8_EXTEND_LOW_I8X16_U, i16x8Const([16, 15, 14, 13, 12, 11, 10, 9]), I32X4_DOT_I16X8_S, I32X4_ADD);
  emit(get(V), I16X8_EXTEND_HIGH_I8X16_U, i16x8Const([8, 7, 6, 5, 4, 3, 2, 1]), I32X4_DOT_I16X8_S, I32X4_ADD, set(ACCW));
  emit(get(P), i32(16), I32_ADD, tee(P), get(END), I32_LT_U, [0x0d, 0]);
  emit([0x0b]);
  emit(get(OUTPUT), get(K), i32(8), I32_MUL, I32_ADD);
  horizontalSum(ACC1);
  emit(i32Store(0));
  emit(get(OUTPUT), get(K), i32(8), I32_MUL, I32_ADD);
  horizontalSum(ACC2);
  emit(i32(4), I32_SHL);
  horizontalSum(ACCW);
  emit(I32_ADD, i32Store(4));
  emit(get(K), i32(1), I32_ADD, set(K), [0x0c, 0]);
  emit([0x0b], [0x0b], [0x0b]);
  return [2, ...uleb(3), I32, ...uleb(4), V128, ...code];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bodies = [md4Body(1), rollsumBody(), md4Body(2)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]), // type 0: (i32 i32 i32 i32) -> ()
    ...section(3, [3, 0, 0, 0]), // functions 0, 1 and 2 have type 0
    ...section(5, [1, 0, ...uleb(PAGES)]), // memory
    ...section(7, [4, ...name('md4x4'), 0, 0, ...name('rollsums'), 0, 1, ...name('md4x8'), 0, 2, ...name('memory'), 2, 0]), // exports
    ...section(10, [3, ...bodies.flatMap((body) => [...uleb(body.length), ...body])]), // code
  ]);
}

// Seeded pseudo-random data for reproducible tests: same seed, same bytes, on every machine.

/** xorshift32; `seed` must not be 0 */
export function createRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

export function randomBytes(seed: number, length: number): Buffer {
  const next = createRandom(seed);
  const out = Buffer.allocUnsafe(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) out.writeUInt32LE(next(), i);
  for (; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/** Text-like data: lines of words from a small vocabulary, so it compresses and repeats like logs. */
export function randomText(seed: number, length: number): Buffer {
  const next = createRandom(seed);
  const words = ['backup', 'restore', 'volume', 'chain', 'manifest', 'signature', 'delta', 'server', 'the', 'a', 'of', 'lifeboat', 'duplicity', '2026-11-26', 'ERROR', 'INFO'];
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const n = 3 + (next() % 12);
    const line = Array.from({ length: n }, () => words[next() % words.length]).join(' ') + ` ${next() % 100000}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}

/** Applies `count` random edits (overwrite, insert, delete, move a block) to a copy of `data`. */
export function mutate(seed: number, data: Buffer, count: number): Buffer {
  const next = createRandom(seed);
  let out = Buffer.from(data);
  for (let i = 0; i < count; i++) {
    const at = out.length === 0 ? 0 : next() % out.length;
    const len = 1 + (next() % 2000);
    switch (next() % 4) {
      case 0: out = Buffer.concat([out.subarray(0, at), randomBytes(next(), len), out.subarray(Math.min(out.length, at + len))]); break;
      case 1: out = Buffer.concat([out.subarray(0, at), randomBytes(next(), len), out.subarray(at)]); break;
      case 2: out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + len))]); break;
      default: {
        const piece = out.subarray(at, at + len);
        const rest = Buffer.concat([out.subarray(0, at), out.subarray(at + piece.length)]);
        const to = rest.length === 0 ? 0 : next() % rest.length;
        out = Buffer.concat([rest.subarray(0, to), piece, rest.subarray(to)]);
      }
    }
  }
  return out;
}

// A delta worker runs the signature and delta code once over 24 KiB of made-up data before its first
// job, so that V8 has seen every common path (copies, literals, inserted bytes, a zero run, a short last
// window) before it optimises them. Without it each worker's delta loop was optimised, then thrown out
// at the first path it had not seen, and optimised again, up to ten times a worker. In the benchmark's
// incremental (--trace-opt): optimising compiles 2.9-3.6 s on V8's threads with #scan compiled 21-24
// times, against 2.1-2.6 s and 8-9 times with the warm-up, which takes a worker 30-50 ms; 8 pairs
// twice: 3.40 s against 3.68 s wall (5.8 against 6.3 s of CPU), and 3.75 against 4.10 s.
import { DeltaBuilder, indexSignature } from '../librsync/delta.js';
import { DUPLICITY_STRONG_LENGTH, parseSignatureBytes, SignatureBuilder } from '../librsync/signature.js';

const BLOCK_LENGTH = 512;
const CHUNK_BYTES = 4096;

/** The made-up data, its new version, and the delta between them (returned for the test). */
export function warmUpDelta(): { basis: Buffer; changed: Buffer; delta: Buffer } {
  const basis = pseudoRandom(24 * 1024);
  basis.fill(0, 4096, 6144);
  const built = new SignatureBuilder({ blockLength: BLOCK_LENGTH, strongLength: DUPLICITY_STRONG_LENGTH });
  // indexed as the main thread indexes a big file's signature for the workers: shared arrays
  const index = indexSignature(parseSignatureBytes(Buffer.concat([built.push(basis), built.finish()]), true), true);
  // a stretch kept, bytes inserted, kept again, a rewritten stretch, blocks from further back, a short tail
  const changed = Buffer.concat([
    basis.subarray(0, 3000), Buffer.from('inserted bytes'), basis.subarray(3000, 9000), Buffer.alloc(700, 7),
    basis.subarray(12000, 20000), basis.subarray(1024, 4096), basis.subarray(20000, 23999),
  ]);
  const parts: Buffer[] = [];
  // twice: the second run starts from a delta builder V8 has seen run to its end
  for (let round = 0; round < 2; round++) {
    parts.length = 0;
    const signature = new SignatureBuilder({ blockLength: BLOCK_LENGTH, strongLength: DUPLICITY_STRONG_LENGTH, rememberRecent: true });
    const delta = new DeltaBuilder(index, signature.recentStrongSum);
    for (let p = 0; p < changed.length; p += CHUNK_BYTES) {
      const chunk = changed.subarray(p, Math.min(changed.length, p + CHUNK_BYTES));
      signature.push(chunk);
      // the parts are valid until the next call: copied, as the worker copies them into its ring
      for (const part of delta.pushParts(chunk)) parts.push(Buffer.from(part));
    }
    signature.finish();
    for (const part of delta.finishParts()) parts.push(Buffer.from(part));
  }
  return { basis, changed, delta: Buffer.concat(parts) };
}

/** xorshift32 bytes: the same every time, and a weak sum per window as varied as real data's */
function pseudoRandom(length: number): Buffer {
  const out = Buffer.alloc(length);
  const words = new Uint32Array(out.buffer, out.byteOffset, length >>> 2);
  let x = 0x2545f491;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return out;
}

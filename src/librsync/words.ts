// 32-bit word views of byte buffers, for MD4 and the rollsum: one load a word instead of four byte
// loads and shifts. Both read words in little-endian order, which an Int32Array does only on a
// little-endian machine (elsewhere they take their byte-by-byte paths).

export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

let lastBuffer: ArrayBufferLike | undefined;
let lastView: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** A word view of all of data's memory (the last one is kept: block after block comes from the same buffer). */
export function wordsOf(data: Uint8Array): Int32Array<ArrayBufferLike> {
  if (data.buffer !== lastBuffer) {
    lastBuffer = data.buffer;
    lastView = new Int32Array(data.buffer, 0, data.buffer.byteLength >> 2);
  }
  return lastView;
}

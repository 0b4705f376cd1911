// The few OpenPGP packet framings (RFC 4880 §4.2) the writer needs: new-format headers, and a Transform
// that frames a stream of unknown length as partial body chunks, as GnuPG does for piped input.
import { Transform, type TransformCallback } from 'node:stream';

export const PacketTag = {
  publicKeyEncryptedSessionKey: 1,
  symmetricKeyEncryptedSessionKey: 3,
  onePassSignature: 4,
  compressedData: 8,
  literalData: 11,
  symEncryptedIntegrityProtectedData: 18,
  modificationDetectionCode: 19,
} as const;

/** A new-format length field for a body of known length. */
export function encodeLength(length: number): Buffer {
  if (length < 192) return Buffer.from([length]);
  if (length < 8384) return Buffer.from([((length - 192) >> 8) + 192, (length - 192) & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = 0xff;
  out.writeUInt32BE(length, 1);
  return out;
}

/** Tag byte of a packet header (new format) or, for an old-format header, its tag. */
export function packetTagOf(firstByte: number): number | null {
  if ((firstByte & 0x80) === 0) return null;
  return (firstByte & 0x40) !== 0 ? firstByte & 0x3f : (firstByte >> 2) & 0x0f;
}

// 16 KiB chunks, a power of two of at least 512 bytes as the first partial length must be (§4.2.2.4);
// small, because a volume is measured on the output and each framer holds up to one chunk back
const CHUNK_POWER = 14;
const CHUNK = 1 << CHUNK_POWER;

/**
 * Frames whatever is written as one packet of the given tag: `head` (e.g. a version byte) first, then
 * the data, cut into 16 KiB partial-length chunks; the remainder gets a definite length. Input shorter
 * than one chunk becomes a single packet of definite length, as GnuPG writes small files.
 */
export class PacketFramer extends Transform {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #started = false;

  constructor(private readonly tag: number, head?: Buffer) {
    super();
    if (head) this.#queue(head);
  }

  #queue(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#queue(chunk);
    if (this.#pendingBytes > CHUNK) {
      let all = Buffer.concat(this.#pending, this.#pendingBytes);
      // keep at least one byte back, so the packet always ends with a definite-length part
      while (all.length > CHUNK) {
        // one buffer per chunk: each push is a call through every later stage (cipher, hash)
        const started = this.#started;
        this.#started = true;
        const head = started ? 1 : 2;
        const out = Buffer.allocUnsafe(head + CHUNK);
        if (!started) out[0] = 0xc0 | this.tag;
        out[head - 1] = 0xe0 | CHUNK_POWER;
        all.copy(out, head, 0, CHUNK);
        this.push(out);
        all = all.subarray(CHUNK);
      }
      this.#pending = [all];
      this.#pendingBytes = all.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const head = this.#started ? [] : [Buffer.from([0xc0 | this.tag])];
    this.#started = true;
    this.push(Buffer.concat([...head, encodeLength(this.#pendingBytes), ...this.#pending]));
    this.#pending = [];
    done();
  }
}

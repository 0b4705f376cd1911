// Streaming OpenPGP encryption as GnuPG 2.2 writes for duplicity (specs §8.2): session-key packets, then
// one SEIPD v1 packet (AES-256 CFB with the MDC), inside it a compressed packet (ZIP for a passphrase,
// ZLIB for public keys, as gpg picks) around one binary literal packet with an empty name; signed
// (--sign-key), the literal packet sits between a one-pass signature packet and the signature. The bulk
// work is node:crypto and node:zlib (native, on the thread pool, back-pressured); openpgp.js builds only
// the public-key session-key packets, which need the recipients' algorithms (RSA, ECDH).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Duplex, PassThrough, Transform, pipeline, type TransformCallback } from 'node:stream';
import { createDeflate, createDeflateRaw } from 'node:zlib';
import type { PublicKey } from 'openpgp';
import { openpgpModule } from './openpgp-module.js';
import { PacketFramer, PacketTag } from './openpgp-packets.js';
import { passphrasePacket } from './s2k.js';
import type { MessageSigner } from './sign-stream.js';

export type CompressionAlgorithm = 'none' | 'zip' | 'zlib';

export interface EncryptionRecipients {
  passphrase?: string;
  keys?: PublicKey[];
  /** keys whose ids are left out of their packets (gpg --hidden-recipient) */
  hiddenKeys?: PublicKey[];
}

const COMPRESSION_ID: Record<CompressionAlgorithm, number> = { none: 0, zip: 1, zlib: 2 };
const SESSION_KEY_BYTES = 32;
const AES_BLOCK = 16;

/** The session-key packets for one file: one per recipient key (made by openpgp.js). */
async function sessionKeyPackets(sessionKey: Uint8Array, recipients: EncryptionRecipients): Promise<Buffer> {
  const out: Buffer[] = [];
  const make = async (options: { encryptionKeys?: PublicKey[]; passwords?: string[]; wildcard?: boolean }) => {
    const { encryptSessionKey } = await openpgpModule();
    const bytes = await encryptSessionKey({ data: sessionKey, algorithm: 'aes256', format: 'binary', ...options });
    out.push(Buffer.from(bytes as Uint8Array));
  };
  if (recipients.keys?.length) await make({ encryptionKeys: recipients.keys });
  if (recipients.hiddenKeys?.length) await make({ encryptionKeys: recipients.hiddenKeys, wildcard: true });
  return Buffer.concat(out);
}

/** CFB encryption of the SEIPD v1 body: the random prefix and its repeat, the data, then the MDC packet. */
class SeipdCipher extends Transform {
  readonly #cipher;
  readonly #mdc = createHash('sha1');

  constructor(sessionKey: Uint8Array) {
    super();
    this.#cipher = createCipheriv('aes-256-cfb', sessionKey, Buffer.alloc(AES_BLOCK));
    const prefix = randomBytes(AES_BLOCK);
    this.#plain(Buffer.concat([prefix, prefix.subarray(AES_BLOCK - 2)]));
  }

  #plain(data: Buffer): void {
    this.#mdc.update(data);
    this.push(this.#cipher.update(data));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#plain(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    const mdcHeader = Buffer.from([0xc0 | PacketTag.modificationDetectionCode, 20]);
    this.#mdc.update(mdcHeader);
    this.push(this.#cipher.update(Buffer.concat([mdcHeader, this.#mdc.digest()])));
    this.push(this.#cipher.final());
    done();
  }
}

/** Puts the (asynchronously made) session-key packets in front of the encrypted data. */
class Prepend extends Transform {
  #head: Promise<Buffer> | undefined;

  constructor(head: Promise<Buffer>) {
    super();
    this.#head = head;
    head.catch(() => undefined); // reported by the first write or the flush
  }

  async #emitHead(): Promise<void> {
    if (!this.#head) return;
    const head = await this.#head;
    this.#head = undefined;
    this.push(head);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#emitHead().then(() => done(null, chunk), done);
  }

  override _flush(done: TransformCallback): void {
    this.#emitHead().then(() => done(), done);
  }
}

/** The literal packet's fixed head: binary mode, empty file name, the time in seconds. */
function literalHead(): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 0x62; // 'b'
  head[1] = 0;
  head.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 2);
  return head;
}

/** A Duplex taking plaintext and giving the OpenPGP file's bytes. Errors of any stage destroy the whole. */
export function createEncryptStream(recipients: EncryptionRecipients, options: { compression: CompressionAlgorithm; signer?: MessageSigner }): Duplex {
  const stages: NodeJS.ReadWriteStream[] = [];
  const signing = options.signer?.stages();
  if (signing) stages.push(signing.hashing);
  stages.push(new PacketFramer(PacketTag.literalData, literalHead()));
  if (signing) stages.push(signing.wrapping);
  return encryptionLayer(recipients, options.compression, stages);
}

/**
 * The encryption around OpenPGP packets already framed (what createEncryptStream puts inside:
 * literal, or one-pass + literal + signature): compression, SEIPD, session-key packets in front.
 */
export function createPacketEncryptStream(recipients: EncryptionRecipients, options: { compression: CompressionAlgorithm }): Duplex {
  return encryptionLayer(recipients, options.compression, []);
}

function encryptionLayer(recipients: EncryptionRecipients, compression: CompressionAlgorithm, inner: NodeJS.ReadWriteStream[]): Duplex {
  const keyed = Boolean(recipients.keys?.length || recipients.hiddenKeys?.length);
  // a passphrase alone: GnuPG's form, the S2K-derived key is the session key (no key packet to wrap)
  const symmetric = keyed ? undefined : passphrasePacket(recipients.passphrase ?? '');
  const sessionKey = symmetric?.sessionKey ?? randomBytes(SESSION_KEY_BYTES);
  const input = new PassThrough();
  const stages = [...inner];
  if (compression !== 'none') {
    stages.push(compression === 'zip' ? createDeflateRaw({ level: 6 }) : createDeflate({ level: 6 }));
    stages.push(new PacketFramer(PacketTag.compressedData, Buffer.from([COMPRESSION_ID[compression]])));
  }
  stages.push(new SeipdCipher(sessionKey));
  stages.push(new PacketFramer(PacketTag.symEncryptedIntegrityProtectedData, Buffer.from([1])));
  const output = new Prepend(symmetric ? Promise.resolve(symmetric.packet) : sessionKeyPackets(sessionKey, recipients));
  return composeDuplex(input, stages, output);
}

/** One Duplex over a chain: writes go to the first stream, reads come from the last, errors destroy all. */
function composeDuplex(first: PassThrough, middle: NodeJS.ReadWriteStream[], last: Transform): Duplex {
  const duplex = Duplex.from({ writable: first, readable: last });
  pipeline([first, ...middle, last] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], (err) => {
    if (err) duplex.destroy(err);
  });
  return duplex;
}

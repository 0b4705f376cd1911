// Signing as `gpg --sign --encrypt` does (RFC 4880 §5.4, §11.3): inside the compressed packet a one-pass
// signature packet, the literal packet, then the signature packet. The data's hash is computed by
// node:crypto while the file streams through; only the final signing of the digest is openpgp.js's,
// which knows every key type (EdDSA, RSA, ECDSA, DSA).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { config as openpgpConfig, enums, SignaturePacket, type PrivateKey } from 'openpgp';
import { PacketTag, encodeLength } from './openpgp-packets.js';

const SIGNATURE_TAG = 2;
/** OpenPGP hash id -> node's name */
const HASHES = { [enums.hash.sha256]: 'sha256', [enums.hash.sha384]: 'sha384', [enums.hash.sha512]: 'sha512' } as Record<number, string>;

/** What `SignaturePacket.sign` needs of the (decrypted) secret key packet. */
type SecretKeyPacket = Parameters<SignaturePacket['sign']>[0];

/**
 * openpgp.js's signature packet with the data's digest given instead of the data: `hash` finishes
 * the node hash with the packet's hashed part and trailer (§5.2.4); `toHash` gives nothing, so
 * every algorithm signs the digest.
 */
class DigestSignature extends SignaturePacket {
  constructor(private readonly dataHash: Hash) {
    super();
  }

  toHash(): undefined {
    return undefined;
  }

  async hash(): Promise<Uint8Array> {
    const hashed = Buffer.from(this.signatureData!);
    const trailer = Buffer.alloc(6);
    trailer[0] = this.version;
    trailer[1] = 0xff;
    trailer.writeUInt32BE(hashed.length, 2);
    return new Uint8Array(this.dataHash.update(hashed).update(trailer).digest());
  }
}

/** Signs each file written with one key: the signing (sub)key gpg would pick, the hash its curve needs. */
export class MessageSigner {
  readonly #packet: SecretKeyPacket;
  readonly #hashAlgorithm: number;
  readonly #onePass: Buffer;

  private constructor(packet: SecretKeyPacket, hashAlgorithm: number) {
    this.#packet = packet;
    this.#hashAlgorithm = hashAlgorithm;
    const body = Buffer.alloc(13);
    body[0] = 3; // version
    body[1] = enums.signature.binary;
    body[2] = hashAlgorithm;
    body[3] = packet.algorithm;
    Buffer.from(packet.getKeyID().toHex(), 'hex').copy(body, 4);
    body[12] = 1; // the last one-pass packet: no nested signature follows
    this.#onePass = Buffer.concat([Buffer.from([0xc0 | PacketTag.onePassSignature]), encodeLength(body.length), body]);
  }

  /** The signer for an unlocked secret key; throws when the key cannot sign (expired, no signing subkey). */
  static async open(key: PrivateKey): Promise<MessageSigner> {
    const signing = await key.getSigningKey();
    const packet = signing.keyPacket as unknown as SecretKeyPacket;
    const hashAlgorithm = hashFor(signing.getAlgorithmInfo() as { algorithm: string; curve?: string });
    // one signature now, so a key that cannot sign fails before anything is written
    await signaturePacket(packet, hashAlgorithm, createHash(HASHES[hashAlgorithm]));
    return new MessageSigner(packet, hashAlgorithm);
  }

  /** The key id the signatures name (hex, upper case). */
  get keyId(): string {
    return this.#packet.getKeyID().toHex().toUpperCase();
  }

  /**
   * Two stages around the literal packet's framer: `hashing` sees the plaintext (hashes it, passes it
   * on), `wrapping` sees the framed literal packet and puts the one-pass packet before it and the
   * signature packet after it.
   */
  stages(): { hashing: Transform; wrapping: Transform } {
    const hash = createHash(HASHES[this.#hashAlgorithm]);
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done: TransformCallback) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const packet = this.#packet;
    const hashAlgorithm = this.#hashAlgorithm;
    const onePass = this.#onePass;
    const wrapping = new Transform({
      construct(done) {
        this.push(onePass);
        done();
      },
      transform(chunk: Buffer, _encoding, done: TransformCallback) {
        done(null, chunk);
      },
      flush(done: TransformCallback) {
        // the literal packet is complete here: the hashing stage before it has seen every byte
        signaturePacket(packet, hashAlgorithm, hash).then((sig) => done(null, sig), done);
      },
    });
    return { hashing, wrapping };
  }
}

async function signaturePacket(key: SecretKeyPacket, hashAlgorithm: number, dataHash: Hash): Promise<Buffer> {
  const sig = new DigestSignature(dataHash);
  sig.signatureType = enums.signature.binary;
  sig.hashAlgorithm = hashAlgorithm;
  sig.publicKeyAlgorithm = key.algorithm;
  // gpg writes no salt notation; openpgp.js's sign() reads the config as a fifth argument
  const signWith = sig.sign as unknown as (k: SecretKeyPacket, d: null, date: Date, detached: boolean, c: typeof openpgpConfig) => Promise<void>;
  await signWith.call(sig, key, null, new Date(), false, { ...openpgpConfig, nonDeterministicSignaturesViaNotation: false });
  const body = Buffer.from(sig.write());
  return Buffer.concat([Buffer.from([0xc0 | SIGNATURE_TAG]), encodeLength(body.length), body]);
}

/** SHA-256, or the longer hash a curve asks for (gpg refuses a hash shorter than an ECDSA key's order). */
function hashFor(info: { algorithm: string; curve?: string }): number {
  const curve = info.curve ?? '';
  if (/521|P512|ed448|448/i.test(curve) || info.algorithm === 'ed448') return enums.hash.sha512;
  if (/384/.test(curve)) return enums.hash.sha384;
  return enums.hash.sha256;
}

// OpenPGP string-to-key (RFC 4880 §3.7) on node:crypto. GnuPG 2.2 hashes the passphrase 65 MB deep
// (count byte 255) for every file; openpgp.js's JavaScript hash took 8 s per file there, node's takes
// a fraction of a second. Used to write passphrase packets and to open the ones duplicity's gpg wrote.
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PacketTag, encodeLength } from './openpgp-packets.js';

const HASH_NAMES: Record<number, string> = { 1: 'md5', 2: 'sha1', 3: 'ripemd160', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };
/** OpenPGP symmetric algorithm id -> [node cipher, key bytes, openpgp.js name] */
export const SYMMETRIC: Record<number, [string, number, 'aes128' | 'aes192' | 'aes256']> = {
  7: ['aes-128-cfb', 16, 'aes128'],
  8: ['aes-192-cfb', 24, 'aes192'],
  9: ['aes-256-cfb', 32, 'aes256'],
};

export interface S2kSpec {
  type: 'simple' | 'salted' | 'iterated';
  /** OpenPGP hash algorithm id */
  hash: number;
  salt?: Uint8Array;
  /** the coded count byte (iterated only) */
  countByte?: number;
}

export function decodeCount(c: number): number {
  return (16 + (c & 15)) << ((c >> 4) + 6);
}

/** Derives `keyLength` bytes from the passphrase as §3.7.1 says (more hash contexts for longer keys). */
export function deriveKey(spec: S2kSpec, passphrase: string, keyLength: number): Buffer {
  const hashName = HASH_NAMES[spec.hash];
  if (!hashName) throw new Error(`S2K hash algorithm ${spec.hash} is not supported`);
  const salted = Buffer.concat([spec.type === 'simple' ? Buffer.alloc(0) : Buffer.from(spec.salt ?? []), Buffer.from(passphrase, 'utf8')]);
  const count = spec.type === 'iterated' ? Math.max(decodeCount(spec.countByte ?? 0), salted.length) : salted.length;
  // the salted passphrase repeated into a block of about 64 KiB, so the hash is fed in big pieces
  const block = salted.length === 0 ? salted : Buffer.alloc(Math.ceil(65536 / salted.length) * salted.length);
  for (let i = 0; i < block.length; i += salted.length) salted.copy(block, i);
  const out: Buffer[] = [];
  let have = 0;
  for (let context = 0; have < keyLength; context++) {
    const hash = createHash(hashName);
    if (context > 0) hash.update(Buffer.alloc(context));
    let left = count;
    while (left > 0 && block.length > 0) {
      const n = Math.min(left, block.length);
      hash.update(n === block.length ? block : block.subarray(0, n));
      left -= n;
    }
    const digest = hash.digest();
    out.push(digest);
    have += digest.length;
  }
  return Buffer.concat(out).subarray(0, keyLength);
}

/**
 * A passphrase packet as GnuPG 2.2 writes it (SKESK v4, AES-256, iterated+salted S2K, count 65011712,
 * no encrypted session key: the derived key is the session key), with SHA-256 as the hash.
 */
export function passphrasePacket(passphrase: string): { packet: Buffer; sessionKey: Buffer } {
  const spec: S2kSpec = { type: 'iterated', hash: 8, salt: randomBytes(8), countByte: 0xff };
  const body = Buffer.concat([Buffer.from([4, 9, 3, spec.hash]), Buffer.from(spec.salt!), Buffer.from([spec.countByte!])]);
  return {
    packet: Buffer.concat([Buffer.from([0xc0 | PacketTag.symmetricKeyEncryptedSessionKey]), encodeLength(body.length), body]),
    sessionKey: deriveKey(spec, passphrase, 32),
  };
}

/** What openpgp.js's parsed SKESK packet exposes (v4). */
export interface ParsedSkesk {
  version: number;
  sessionKeyAlgorithm: number | null;
  sessionKeyEncryptionAlgorithm: number | null;
  encrypted: Uint8Array | null;
  s2k: { type: string; algorithm: number; salt: Uint8Array | null; c: number };
}

/** The session key a v4 SKESK packet gives for a passphrase (wrong passphrases give a wrong key). */
export function sessionKeyFromSkesk(packet: ParsedSkesk, passphrase: string): { data: Uint8Array; algorithm: 'aes128' | 'aes192' | 'aes256' } | null {
  if (packet.version !== 4) return null;
  const type = packet.s2k.type as S2kSpec['type'];
  if (type !== 'simple' && type !== 'salted' && type !== 'iterated') return null;
  const spec: S2kSpec = { type, hash: packet.s2k.algorithm, salt: packet.s2k.salt ?? undefined, countByte: packet.s2k.c };
  if (packet.encrypted === null || packet.encrypted.length === 0) {
    const algo = SYMMETRIC[packet.sessionKeyAlgorithm ?? -1];
    if (!algo) return null;
    return { data: deriveKey(spec, passphrase, algo[1]), algorithm: algo[2] };
  }
  const wrapping = SYMMETRIC[packet.sessionKeyEncryptionAlgorithm ?? -1];
  if (!wrapping) return null;
  const key = deriveKey(spec, passphrase, wrapping[1]);
  const decipher = createDecipheriv(wrapping[0], key, Buffer.alloc(16));
  const plain = Buffer.concat([decipher.update(packet.encrypted), decipher.final()]);
  const inner = SYMMETRIC[plain[0]];
  if (!inner || plain.length - 1 !== inner[1]) return null;
  return { data: plain.subarray(1), algorithm: inner[2] };
}

/** What the first bytes of a passphrase-encrypted file say about a passphrase (GnuPG's quick check). */
export interface PassphraseCheck {
  /** 'wrong': every passphrase packet gives a key that fails the check; 'unknown': not a form checked here */
  verdict: 'right' | 'wrong' | 'unknown';
  /** the session keys that passed (handed to the decryption, so the S2K runs once per file) */
  sessionKeys: { data: Uint8Array; algorithm: 'aes128' | 'aes192' | 'aes256' }[];
}

const CFB_NAME = { aes128: 'aes-128-cfb', aes192: 'aes-192-cfb', aes256: 'aes-256-cfb' } as const;

/**
 * RFC 4880 §5.13: the SEIPD v1 body starts with a block of random bytes whose last two repeat; a key
 * that does not reproduce them is wrong (1 in 65536 wrong keys passes, and then the MDC fails). Looks
 * at the file's first bytes only: passphrase packets (v4), then the SEIPD v1 packet. openpgp.js skips
 * this check, and a wrong key then sends it parsing garbage, which once in a while never settles.
 */
export function checkPassphrase(head: Buffer, passphrase: string): PassphraseCheck {
  const unknown: PassphraseCheck = { verdict: 'unknown', sessionKeys: [] };
  const candidates: PassphraseCheck['sessionKeys'] = [];
  let pos = 0;
  while (pos < head.length) {
    const header = packetHeader(head, pos);
    if (!header) return unknown;
    const { tag, bodyStart, length } = header;
    if (tag === PacketTag.symmetricKeyEncryptedSessionKey) {
      if (bodyStart + length > head.length) return unknown;
      const skesk = parseSkeskV4(head.subarray(bodyStart, bodyStart + length));
      const key = skesk && sessionKeyFromSkesk(skesk, passphrase);
      if (key) candidates.push(key);
    } else if (tag === PacketTag.symEncryptedIntegrityProtectedData) {
      if (candidates.length === 0 || head[bodyStart] !== 1 || bodyStart + 19 > head.length || length < 19) return unknown;
      const prefix = head.subarray(bodyStart + 1, bodyStart + 19);
      const passed = candidates.filter((k) => {
        const p = createDecipheriv(CFB_NAME[k.algorithm], k.data, Buffer.alloc(16)).update(prefix);
        return p[14] === p[16] && p[15] === p[17];
      });
      return passed.length > 0 ? { verdict: 'right', sessionKeys: passed } : { verdict: 'wrong', sessionKeys: [] };
    } else if (tag !== 10) {
      return unknown; // public-key packets, old SED, AEAD: left to openpgp.js (a marker packet, 10, is skipped)
    }
    pos = bodyStart + length;
  }
  return unknown;
}

/** A packet header at `pos` (new or old format); a partial length counts as its first part. */
function packetHeader(b: Buffer, pos: number): { tag: number; bodyStart: number; length: number } | null {
  const first = b[pos];
  if (first === undefined || (first & 0x80) === 0) return null;
  if (first & 0x40) {
    const tag = first & 0x3f;
    const l = b[pos + 1];
    if (l === undefined) return null;
    if (l < 192) return { tag, bodyStart: pos + 2, length: l };
    if (l < 224) return pos + 2 < b.length ? { tag, bodyStart: pos + 3, length: ((l - 192) << 8) + b[pos + 2] + 192 } : null;
    if (l === 255) return pos + 5 < b.length ? { tag, bodyStart: pos + 6, length: b.readUInt32BE(pos + 2) } : null;
    return { tag, bodyStart: pos + 2, length: 1 << (l & 0x1f) };
  }
  const tag = (first >> 2) & 0x0f;
  const type = first & 3;
  if (type === 3) return { tag, bodyStart: pos + 1, length: Infinity };
  const n = [1, 2, 4][type];
  if (pos + 1 + n > b.length) return null;
  return { tag, bodyStart: pos + 1 + n, length: b.readUIntBE(pos + 1, n) };
}

/** A v4 passphrase packet in the shape openpgp.js parses it (ParsedSkesk), or null for other versions. */
function parseSkeskV4(body: Buffer): ParsedSkesk | null {
  if (body[0] !== 4 || body.length < 4) return null;
  const algorithm = body[1];
  const s2kType = body[2];
  const types: Record<number, [string, number]> = { 0: ['simple', 2], 1: ['salted', 10], 3: ['iterated', 11] };
  const shape = types[s2kType];
  if (!shape || body.length < 2 + shape[1]) return null;
  const s2k = { type: shape[0], algorithm: body[3], salt: s2kType === 0 ? null : new Uint8Array(body.subarray(4, 12)), c: s2kType === 3 ? body[12] : 0 };
  const encrypted = body.subarray(2 + shape[1]);
  return encrypted.length === 0
    ? { version: 4, sessionKeyAlgorithm: algorithm, sessionKeyEncryptionAlgorithm: null, encrypted: null, s2k }
    : { version: 4, sessionKeyAlgorithm: null, sessionKeyEncryptionAlgorithm: algorithm, encrypted: new Uint8Array(encrypted), s2k };
}

// Streaming OpenPGP decryption with openpgp.js: whatever duplicity's gpg wrote (SKESK v4 or PKESK v3,
// SEIPD v1 with partial lengths, ZIP/ZLIB compression, signed or not). The plaintext is released as it
// is decrypted (allowUnauthenticatedStream); the MDC and any signature are checked at its end and fail
// the stream there, so callers read a whole file before trusting it (the restore stages its output).
import { PassThrough, Readable } from 'node:stream';
import type { Message, PrivateKey, PublicKey } from 'openpgp';
import { openpgpModule } from './openpgp-module.js';
import { checkPassphrase, sessionKeyFromSkesk, type ParsedSkesk, type PassphraseCheck } from './s2k.js';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

export interface DecryptionSecrets {
  passphrase?: string;
  /** the secret keys, asked for only when a file is encrypted to keys (so a passphrase-only run never runs gpg) */
  secretKeys?(keyIds: string[]): Promise<PrivateKey[]>;
  /** with --sign-key: every file must carry a good signature by this key */
  verification?: { keys: PublicKey[]; keyId: string };
}

export function decryptionFailed(label: string, reason: string, hint: string, cause?: unknown): LifeboatError {
  return new LifeboatError(`${label}: decryption failed: ${reason}`, { code: 'gpg-failed', exitCode: ExitCode.gpgFailed, hint, cause });
}

/** Plaintext of one OpenPGP file. Rejects at once on a wrong passphrase or missing key. */
export async function decryptStream(input: Readable, secrets: DecryptionSecrets, label: string): Promise<Readable> {
  let keyIds: string[] = [];
  try {
    const { decrypt, readMessage } = await openpgpModule();
    let source = input;
    let checked: PassphraseCheck = { verdict: 'unknown', sessionKeys: [] };
    if (secrets.passphrase !== undefined) {
      const peeked = await peek(input, HEAD_BYTES);
      source = peeked.rest;
      checked = checkPassphrase(peeked.head, secrets.passphrase);
      if (checked.verdict === 'wrong') {
        peeked.rest.destroy();
        throw decryptionFailed(label, 'bad passphrase (the key it gives fails the check at the start of the encrypted data)', 'set PASSPHRASE to the passphrase the backup was made with');
      }
    }
    const message = await readMessage({ binaryMessage: Readable.toWeb(source) as ReadableStream<Uint8Array> });
    keyIds = message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());
    const decryptionKeys = keyIds.length > 0 && secrets.secretKeys ? await secrets.secretKeys(keyIds) : undefined;
    if (keyIds.length > 0 && !secrets.passphrase && (!decryptionKeys || decryptionKeys.length === 0)) {
      throw decryptionFailed(label, `no secret key for ${keyIds.join(', ')}`, 'import the secret key into GnuPG (gpg --import) or give its key file, and set PASSPHRASE to its passphrase');
    }
    // passphrase packets are opened here (node's hashes; openpgp.js's took seconds per file on gpg's S2K)
    const sessionKeys = keyIds.length > 0 || secrets.passphrase === undefined ? []
      : checked.verdict === 'right' ? checked.sessionKeys : passphraseSessionKeys(message, secrets.passphrase);
    // other passphrase packets (v5/v6, AEAD as GnuPG 2.4 or RFC 9580 write) are left to openpgp.js
    const passwords = keyIds.length === 0 && sessionKeys.length === 0 && secrets.passphrase !== undefined ? [secrets.passphrase] : undefined;
    const result = await decrypt({
      message, format: 'binary', sessionKeys: sessionKeys.length > 0 ? sessionKeys : undefined, passwords,
      decryptionKeys, verificationKeys: secrets.verification?.keys, expectSigned: secrets.verification !== undefined,
      config: { allowUnauthenticatedStream: true },
    });
    const plain = Readable.fromWeb(result.data as unknown as import('node:stream/web').ReadableStream<Uint8Array>);
    if (secrets.verification) checkSigner(result.signatures, secrets.verification, label, plain);
    return mapStreamErrors(plain, label, keyIds);
  } catch (err) {
    if (err instanceof LifeboatError) throw err;
    throw explain(err, label, keyIds);
  }
}

/** duplicity's check: the file must be signed by the --sign-key key (one of its subkeys counts); exit 22 otherwise. */
function checkSigner(signatures: { keyID: { toHex(): string }; verified: Promise<unknown> }[], verification: NonNullable<DecryptionSecrets['verification']>, label: string, plain: Readable): void {
  const allowed = new Set(verification.keys.flatMap((k) => k.getKeyIDs().map((id) => id.toHex().toUpperCase())));
  const ids = signatures.map((s) => s.keyID.toHex().toUpperCase());
  if (!ids.some((id) => allowed.has(id))) {
    plain.destroy(new LifeboatError(`${label}: Volume was signed by key ${ids.join(', ') || 'None'}, not ${verification.keyId}`, {
      code: 'unsigned-volume', exitCode: ExitCode.unsignedVolume, hint: 'the archive was not signed with --sign-key\'s key; check the key id, or restore without --sign-key',
    }));
  }
}

// the passphrase packets and the start of the encrypted data fit in this many bytes
const HEAD_BYTES = 4096;

/** The first `size` bytes of a stream (fewer if it is shorter), and a stream of all of it. */
async function peek(input: Readable, size: number): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < size) {
    const r = await iterator.next();
    if (r.done) { done = true; break; }
    chunks.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    while (!done) {
      const r = await iterator.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const rest = Readable.from(all(), { objectMode: false });
  rest.on('close', () => { void iterator.return?.(); });
  return { head, rest };
}

/** openpgp's enums.packet.symEncryptedSessionKey: the packet tag (RFC 4880 §5.3), which never changes */
const SYM_ENCRYPTED_SESSION_KEY = 3;

function passphraseSessionKeys(message: Message<unknown>, passphrase: string) {
  const packets = message.packets.filterByTag(SYM_ENCRYPTED_SESSION_KEY) as unknown as ParsedSkesk[];
  return packets.map((p) => sessionKeyFromSkesk(p, passphrase)).filter((k) => k !== null);
}

function mapStreamErrors(plain: Readable, label: string, keyIds: string[]): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 16 });
  plain.on('error', (err) => out.destroy(err instanceof LifeboatError ? err : explain(err, label, keyIds)));
  return plain.pipe(out);
}

function explain(err: unknown, label: string, keyIds: string[]): LifeboatError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Message is not signed/.test(message)) {
    return new LifeboatError(`${label}: Volume was signed by key None, not the --sign-key`, {
      code: 'unsigned-volume', exitCode: ExitCode.unsignedVolume, hint: 'the archive was made without --sign-key; restore without it', cause: err,
    });
  }
  if (/signature|Signed digest/i.test(message)) {
    return new LifeboatError(`${label}: bad signature (${message})`, {
      code: 'bad-signature', exitCode: ExitCode.gpgFailed, hint: 'the file was changed or signed by another key; restore from another copy', cause: err,
    });
  }
  if (keyIds.length > 0) {
    return decryptionFailed(label, message, `the file is encrypted to key ${keyIds.join(', ')}: import that secret key and set PASSPHRASE to its passphrase`, err);
  }
  // CFB has no key check: a wrong passphrase shows as garbage that fails to parse or fails the MDC
  // (a damaged volume is caught earlier, by the manifest's hash of the stored bytes)
  return decryptionFailed(label, `bad passphrase, or a damaged file (${message.replace(/^Error decrypting message: /, '')})`,
    'set PASSPHRASE to the passphrase the backup was made with', err);
}

// The one object the pipeline asks to encrypt what it writes and decrypt what it reads, built from
// duplicity's settings (--no-encryption, PASSPHRASE, --encrypt-key, --hidden-encrypt-key, key files).
// Keys are looked up once, and only when needed: a symmetric archive never runs gpg, and reading the
// unencrypted archive dir (status, list, incrementals) needs no secret at all.
import type { Duplex, Readable } from 'node:stream';
import type { PrivateKey, PublicKey } from 'openpgp';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { decryptStream } from './decrypt-stream.js';
import { createEncryptStream, type CompressionAlgorithm } from './encrypt-stream.js';
import { exportPublicKeys, exportSecretKeys, keyMatches, readKeyFiles, unlockKey } from './keys.js';
import type { MessageSigner } from './sign-stream.js';

export interface CryptoSettings {
  /** false with --no-encryption */
  encryption: boolean;
  /** PASSPHRASE: the symmetric passphrase, or the secret key's passphrase when decrypting with keys */
  passphrase?: string;
  /** --encrypt-key (repeatable) */
  encryptKeys: string[];
  /** --hidden-encrypt-key (repeatable) */
  hiddenEncryptKeys: string[];
  /** key files (armored or binary, public or secret) used before the GnuPG keyring */
  keyFiles?: string[];
  /** --sign-key: backups sign every file with this key; reading checks that every file is signed by it (duplicity's check) */
  signKey?: string;
  /** the signing key's passphrase (SIGN_PASSPHRASE, or PASSPHRASE where duplicity reuses it) */
  signPassphrase?: string;
  /** --gpg-binary: the gpg asked for keyring exports */
  gpgBinary?: string;
}

export interface ArchiveCipher {
  /** whether new files are written encrypted (`.gpg`) */
  readonly encrypting: boolean;
  /** plaintext in, OpenPGP bytes out; only when `encrypting` */
  encryptor(): Duplex;
  /** throws the clear refusal when these settings cannot decrypt anything (before a file is fetched) */
  checkCanDecrypt(name: string): void;
  /** the plaintext of a stored `.gpg` file; `label` names it in errors */
  decrypt(input: Readable, label: string): Promise<Readable>;
}

/** Refusal for an encrypted file when the settings cannot decrypt (no passphrase, --no-encryption). */
export function cannotDecrypt(name: string, settings: CryptoSettings): LifeboatError {
  if (!settings.encryption) {
    return new LifeboatError(`${name}: the archive is encrypted, but --no-encryption was given`, {
      code: 'encrypted', exitCode: ExitCode.encryptionMismatch, hint: 'drop --no-encryption and set PASSPHRASE (and --encrypt-key for a public-key archive)',
    });
  }
  return new LifeboatError(`${name}: the archive is encrypted and PASSPHRASE is not set`, {
    code: 'no-passphrase', exitCode: ExitCode.gpgFailed, hint: 'set PASSPHRASE to the backup\'s passphrase (or to the secret key\'s passphrase for a public-key archive)',
  });
}

/**
 * Checks the settings for a backup and loads the recipients' public keys. duplicity would prompt for
 * a missing passphrase; Lifeboat runs from cron, so it says what to set instead.
 */
export async function openArchiveCipher(settings: CryptoSettings, options: { forWriting: boolean }): Promise<ArchiveCipher> {
  const keyIds = [...settings.encryptKeys, ...settings.hiddenEncryptKeys];
  if (options.forWriting && settings.encryption && keyIds.length === 0 && settings.passphrase === undefined) {
    throw new LifeboatError('encryption needs a passphrase or a key, and neither is set', {
      code: 'no-passphrase', exitCode: ExitCode.userError,
      hint: 'set PASSPHRASE in the environment, pass --encrypt-key KEYID, or pass --no-encryption for an unencrypted archive',
    });
  }
  const fileKeys = settings.keyFiles?.length ? await readKeyFiles(settings.keyFiles) : [];
  // the signing key is opened before anything is written: a wrong passphrase stops the run at once
  const signer = options.forWriting && settings.encryption && settings.signKey !== undefined
    ? await openSigner(settings.signKey, settings.signPassphrase, fileKeys, settings.gpgBinary) : undefined;
  let recipients: { keys: PublicKey[]; hiddenKeys: PublicKey[] } | undefined;
  if (options.forWriting && settings.encryption && keyIds.length > 0) {
    recipients = {
      keys: await publicKeysFor(settings.encryptKeys, fileKeys, settings.gpgBinary),
      hiddenKeys: await publicKeysFor(settings.hiddenEncryptKeys, fileKeys, settings.gpgBinary),
    };
  }
  let secretKeys: Promise<PrivateKey[]> | undefined;
  let verificationKeys: Promise<PublicKey[]> | undefined;
  // reads during a backup (rebuilding the archive dir from the target) check no signatures: as in
  // duplicity, a signed incremental may follow an unsigned chain
  const signKey = options.forWriting ? undefined : settings.signKey;
  const loadSecretKeys = async (): Promise<PrivateKey[]> => {
    const fromFiles = await Promise.all(fileKeys.filter((k): k is PrivateKey => k.isPrivate()).map((k) => unlockKey(k, settings.passphrase)));
    if (fromFiles.length > 0) return fromFiles;
    return exportSecretKeys(keyIds, settings.passphrase, settings.gpgBinary);
  };
  const checkCanDecrypt = (name: string) => {
    // a keyed archive may need no passphrase (an unprotected secret key); a symmetric one needs it
    if (!settings.encryption || (settings.passphrase === undefined && keyIds.length === 0 && fileKeys.length === 0)) {
      throw cannotDecrypt(name, settings);
    }
  };
  const compression: CompressionAlgorithm = keyIds.length > 0 ? 'zlib' : 'zip';
  return {
    encrypting: settings.encryption,
    encryptor() {
      if (!settings.encryption) throw new Error('encryptor() without encryption');
      return createEncryptStream(recipients ?? { passphrase: settings.passphrase }, { compression, signer });
    },
    checkCanDecrypt,
    async decrypt(input, label) {
      checkCanDecrypt(label);
      const verification = signKey === undefined ? undefined
        : { keys: await (verificationKeys ??= publicKeysFor([signKey], fileKeys, settings.gpgBinary)), keyId: signKey };
      return decryptStream(input, {
        passphrase: settings.passphrase,
        secretKeys: () => (secretKeys ??= loadSecretKeys()),
        verification,
      }, label);
    },
  };
}

/** The --sign-key secret key, from a key file when one holds it, else from the GnuPG keyring, unlocked. */
async function openSigner(id: string, passphrase: string | undefined, fileKeys: readonly import('openpgp').Key[], gpg?: string): Promise<MessageSigner> {
  const fromFile = fileKeys.find((k): k is PrivateKey => k.isPrivate() && keyMatches(k, id));
  const keys = fromFile ? [await unlockKey(fromFile, passphrase, 'SIGN_PASSPHRASE')] : await exportSecretKeys([id], passphrase, gpg, 'SIGN_PASSPHRASE');
  const key = keys.find((k) => keyMatches(k, id));
  if (!key) {
    throw new LifeboatError(`the secret key of --sign-key "${id}" is not in the GnuPG keyring`, {
      code: 'gpg-key', exitCode: ExitCode.gpgFailed,
      hint: 'signing needs the secret key: import it (gpg --import), give its key file, or leave out --sign-key',
    });
  }
  try {
    // loaded here, not at start-up: sign-stream needs openpgp.js itself (see openpgp-module.ts)
    return await (await import('./sign-stream.js')).MessageSigner.open(key);
  } catch (err) {
    throw new LifeboatError(`the key "${id}" cannot sign (${(err as Error).message})`, {
      code: 'gpg-key', exitCode: ExitCode.gpgFailed, hint: 'use a key with a valid signing (sub)key for --sign-key', cause: err,
    });
  }
}

/** Public keys for ids: from the key files when one matches, else exported from the GnuPG keyring. */
async function publicKeysFor(ids: readonly string[], fileKeys: readonly import('openpgp').Key[], gpg?: string): Promise<PublicKey[]> {
  const out: PublicKey[] = [];
  for (const id of ids) {
    const fromFile = fileKeys.find((k) => keyMatches(k, id));
    out.push(...(fromFile ? [fromFile.toPublic()] : await exportPublicKeys([id], gpg)));
  }
  return out;
}

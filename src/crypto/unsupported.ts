// Encryption has its own issue; until it lands, every place that would decrypt a stored file calls
// this first, so an encrypted archive meets one clear error (exit 45) before any stream is opened.
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

export function isEncryptedName(name: string): boolean {
  return name.endsWith('.gpg') || name.endsWith('.g');
}

export function refuseEncrypted(name: string): void {
  if (!isEncryptedName(name)) return;
  throw new LifeboatError(`${name}: the archive is encrypted, and Lifeboat cannot decrypt yet`, {
    code: 'encrypted', exitCode: ExitCode.encryptionMismatch, hint: 'use duplicity for encrypted archives for now',
  });
}

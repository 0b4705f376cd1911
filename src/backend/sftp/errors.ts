// SSH and SFTP failures as BackendError kinds. Messages name the user, host and path, never a
// password or passphrase (none of the errors ssh2 raises carries one).
import { BackendError } from '../errors.js';

/** SFTP version 3 status codes (draft-ietf-secsh-filexfer-02 §7) */
export const SftpStatus = {
  eof: 1,
  noSuchFile: 2,
  permissionDenied: 3,
  failure: 4,
  badMessage: 5,
  noConnection: 6,
  connectionLost: 7,
  unsupported: 8,
} as const;

export function sftpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** An SFTP request's failure. `what` says which file and operation ("put /srv/b/x"). */
export function classifySftpError(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  const message = (err as Error)?.message ?? String(err);
  switch (sftpStatus(err)) {
    case SftpStatus.noSuchFile:
      return new BackendError('not-found', `${what}: no such file or directory on the server`, { cause: err, hint: 'check the path in the target URL' });
    case SftpStatus.permissionDenied:
      return new BackendError('auth', `${what}: permission denied by the server`, { cause: err, hint: 'check the remote user\'s permissions on the target directory' });
    case SftpStatus.failure:
      // OpenSSH's sftp-server answers a full disk with the generic FAILURE; some servers say why
      if (/no space|quota|disk full/i.test(message)) {
        return new BackendError('no-space', `${what}: no space left on the server`, { cause: err, hint: 'free space on the SFTP server' });
      }
      return new BackendError('permanent', `${what}: the server refused (${message})`, { cause: err });
    case SftpStatus.noConnection:
    case SftpStatus.connectionLost:
      return new BackendError('transient', `${what}: connection lost (${message})`, { cause: err });
    case SftpStatus.unsupported:
      return new BackendError('permanent', `${what}: the server does not support this operation`, { cause: err });
    case undefined:
      // ssh2 fails pending requests with a plain Error when the channel or connection closes
      return new BackendError('transient', `${what}: ${message}`, { cause: err });
    default:
      return new BackendError('permanent', `${what}: ${message}`, { cause: err });
  }
}

/** A failure to reach or log in to the server (host key refusals are raised before this). */
export function classifyConnectError(err: unknown, where: string, tried: string): BackendError {
  if (err instanceof BackendError) return err;
  const e = err as Error & { level?: string; code?: string };
  switch (e.level) {
    case 'client-authentication':
      return new BackendError('auth', `ssh login to ${where} failed: the server accepted none of: ${tried}`, {
        cause: err,
        hint: 'give the key with --ssh-options="-oIdentityFile=/path/to/key", load it into ssh-agent, or put the password in FTP_PASSWORD',
      });
    case 'client-timeout':
      return new BackendError('transient', `ssh connection to ${where} timed out during the handshake`, { cause: err });
    case 'client-dns':
      return new BackendError(e.code === 'EAI_AGAIN' ? 'transient' : 'permanent', `ssh connection to ${where} failed: the host name does not resolve (${e.code ?? e.message})`, { cause: err, hint: 'check the host in the target URL' });
    case 'client-socket':
      switch (e.code) {
        case 'ECONNREFUSED':
          return new BackendError('transient', `ssh connection to ${where} refused`, { cause: err, hint: 'is sshd running there, and is the port right?' });
        case 'ENOTFOUND':
          return new BackendError('permanent', `ssh connection to ${where} failed: the host name does not resolve`, { cause: err, hint: 'check the host in the target URL' });
        default:
          return new BackendError('transient', `ssh connection to ${where} failed (${e.code ?? e.message})`, { cause: err });
      }
    case 'agent':
      return new BackendError('auth', `ssh-agent failed while logging in to ${where}: ${e.message}`, { cause: err, hint: 'check SSH_AUTH_SOCK' });
    default:
      return new BackendError('permanent', `ssh connection to ${where} failed: ${e.message}`, { cause: err });
  }
}

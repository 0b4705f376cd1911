// sftp://user[:password]@host[:port]/relative/dir and sftp://...//absolute/dir (duplicity 0.8's
// syntax; also scp:// and the paramiko+ and pexpect+ prefixes). All of them use the SFTP subsystem:
// duplicity's scp mode runs `scp -t` on the server, which cannot write a temporary name and rename it,
// so it could leave half a volume under its real name; SFTP can.
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BadUrlError } from '../url.js';
import type { BackendOpener } from '../registry.js';
import { connectSftp, type SshEndpoint } from './connection.js';
import { SftpBackend } from './sftp-backend.js';
import { SshOptionsError, parseSshOptions } from './ssh-options.js';

function currentUser(env: NodeJS.ProcessEnv): string {
  return env.LOGNAME || env.USER || userInfo().username;
}

export const open: BackendOpener = async (url, context) => {
  if (url.host === '') throw new BadUrlError(url.raw, 'no host', 'write it as sftp://user@host/relative/dir or sftp://user@host//absolute/dir');
  const home = context.env.HOME || homedir();
  let options;
  try {
    const value = context.options.get('ssh-options');
    options = parseSshOptions(typeof value === 'string' ? value : undefined, home);
  } catch (err) {
    if (!(err instanceof SshOptionsError)) throw err;
    throw new BadUrlError(url.raw, `cannot read --ssh-options: ${err.message}`, 'e.g. --ssh-options="-oIdentityFile=/root/.ssh/backup_key -oPort=2222"');
  }
  let directory: string;
  try {
    directory = decodeURIComponent(url.path).replace(/(.)\/+$/, '$1');
  } catch {
    throw new BadUrlError(url.raw, 'bad percent-encoding in the path', 'encode special characters as %XX');
  }
  const host = url.host.replace(/^\[(.*)\]$/, '$1');
  const endpoint: SshEndpoint = {
    host,
    port: url.port ?? options.port ?? 22,
    username: url.user ?? currentUser(context.env),
    password: url.password ?? context.env.FTP_PASSWORD,
    identityFiles: options.identityFiles,
    defaultIdentityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)),
    agentSocket: context.env.SSH_AUTH_SOCK || undefined,
    userKnownHostsFiles: options.userKnownHostsFiles ?? [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')],
    globalKnownHostsFiles: options.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    strictHostKeyChecking: options.strictHostKeyChecking ?? 'yes',
  };
  return new SftpBackend(directory, () => connectSftp(endpoint), url.display);
};

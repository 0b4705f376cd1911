// A real OpenSSH server (Debian's /usr/sbin/sshd) for tests: its own config, host key, client key,
// authorized_keys and known_hosts in a temporary directory, listening on 127.0.0.1 on a free port.
// Tests run as root, so the server logs in root with the generated key. With `rootPassword`, sshd runs
// in a private mount namespace where a one-line /etc/shadow is bind-mounted over the real one: the
// machine's accounts are never changed.
import { accepts, freePort } from './ports.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const SSHD = '/usr/sbin/sshd';

export interface SshServer {
  port: number;
  dir: string;
  /** the generated client key, authorized for root */
  clientKey: string;
  /** a known_hosts file with the server's host key for [127.0.0.1]:port */
  knownHosts: string;
  /** "ssh-ed25519 AAAA..." */
  hostKeyLine: string;
  /** duplicity's --ssh-options for this server: the client key and the known_hosts file */
  sshOptions: string;
  /** sshd's stderr so far (-e), for assertion messages */
  log(): string;
  stop(): Promise<void>;
}

export interface SshServerOptions {
  /** let root log in with this password too (sshd in its own mount namespace, see above) */
  rootPassword?: string;
  /** sftp-server's command-line flags, e.g. ["-P", "posix-rename,fsync"] to deny requests */
  sftpServerFlags?: string[];
  /**
   * accounts that exist only for this sshd (a passwd file bind-mounted in its own mount namespace, as
   * for rootPassword): they log in with the generated client key and get `ForceCommand` (Match User)
   */
  users?: { name: string; uid: number; home: string; forceCommand: string }[];
}

export function keygen(path: string, type = 'ed25519', passphrase = ''): void {
  // a passphrase on the command line is visible in ps: only throwaway test passphrases come here
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'lifeboat-test', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

function shadowHash(password: string): string {
  const r = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl passwd failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startSshd(options: SshServerOptions = {}): Promise<SshServer> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-sshd-'));
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  // sshd reads authorized_keys as the user logging in: test accounts need to reach it
  if (options.users?.length) {
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'authorized_keys'), 0o644);
  }
  const hostKeyLine = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(config, [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      options.rootPassword ? 'PermitRootLogin yes' : 'PermitRootLogin prohibit-password',
      `PasswordAuthentication ${options.rootPassword ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 100',
      'MaxSessions 100',
      ['Subsystem sftp /usr/lib/openssh/sftp-server', ...(options.sftpServerFlags ?? [])].join(' '),
      ...(options.users ?? []).flatMap((u) => [`Match User ${u.name}`, `  ForceCommand ${u.forceCommand}`]),
      '',
    ].join('\n'));
    let child: ChildProcess;
    const sshdArgs = ['-D', '-e', '-f', config];
    const binds: [string, string][] = [];
    if (options.rootPassword) {
      const shadow = join(dir, 'shadow');
      writeFileSync(shadow, `root:${shadowHash(options.rootPassword)}:19000:0:99999:7:::\n`, { mode: 0o600 });
      binds.push([shadow, '/etc/shadow']);
    }
    if (options.users?.length) {
      const passwd = join(dir, 'passwd');
      writeFileSync(passwd, readFileSync('/etc/passwd', 'utf8') + options.users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:lifeboat test:${u.home}:/bin/sh\n`).join(''), { mode: 0o644 });
      binds.push([passwd, '/etc/passwd']);
    }
    if (binds.length > 0) {
      const script = binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"`).join(' && ');
      child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
        `${script} && shift ${2 * binds.length} && exec "$@"`, 'sh', ...binds.flat(), SSHD, ...sshdArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    } else {
      child = spawn(SSHD, sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let exited = false;
    // a test process that dies without its after() hooks must not leave an sshd behind
    const killOnExit = () => { if (!exited) child.kill('SIGTERM'); };
    process.once('exit', killOnExit);
    child.once('exit', () => { exited = true; process.off('exit', killOnExit); });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await accepts(port))) await sleep(50);
    if (exited || Date.now() >= deadline) {
      child.kill('SIGTERM');
      if (attempt < 3 && /Address already in use|Bind to port/.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start: ${stderr}`);
    }
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
    return {
      port,
      dir,
      clientKey,
      knownHosts,
      hostKeyLine,
      sshOptions: `-oIdentityFile=${clientKey} -oUserKnownHostsFile=${knownHosts} -oGlobalKnownHostsFile=/dev/null`,
      log: () => stderr,
      stop: async () => {
        if (!exited) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

// One SSH connection with its SFTP channel: the server's host key checked against known_hosts, then
// login the way duplicity's paramiko backend tries it: the --ssh-options identity files, ssh-agent,
// ~/.ssh/id_*, and last the password. The password (URL or FTP_PASSWORD) also unlocks encrypted keys.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import ssh2, { type AuthenticationType, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { BackendError } from '../errors.js';
import { classifyConnectError } from './errors.js';
import {
  algorithmsForKeyType, appendKnownHost, checkHostKey, keyTypeOf, keysFor, knownHostsName, loadKnownHosts,
  type HostKeyVerdict,
} from './known-hosts.js';
import type { StrictHostKeyChecking } from './ssh-options.js';

// ssh2 is CommonJS: its utils are reachable through the default export only
const { Client, utils } = ssh2;

export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
  /** login password, and the passphrase of encrypted keys */
  password?: string;
  /** tried first; a missing one is skipped, as ssh does */
  identityFiles: string[];
  /** ~/.ssh/id_*: tried after the agent, when they exist */
  defaultIdentityFiles: string[];
  agentSocket?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
}

export interface SftpSession {
  client: InstanceType<typeof Client>;
  sftp: SFTPWrapper;
  /** ours, so that an idle connection can stop holding the process open (unref) */
  socket: Socket;
  /** set when the connection ends: the next operation opens a new one */
  closed: boolean;
}

type AuthAttempt =
  | { type: 'publickey'; username: string; key: ReturnType<typeof utils.parseKey>; label: string }
  | { type: 'agent'; username: string; agent: string; label: string }
  | { type: 'password'; username: string; password: string; label: string }
  | { type: 'keyboard-interactive'; username: string; label: string };

function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

async function loadKey(path: string, passphrase: string | undefined): Promise<{ key?: ReturnType<typeof utils.parseKey>; skipped?: string }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    return { skipped: `${path} (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'})` };
  }
  const parsed = utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase|decrypt/i.test(parsed.message);
    return { skipped: `${path} (${encrypted ? (passphrase === undefined ? 'encrypted, no passphrase in FTP_PASSWORD' : 'wrong passphrase') : 'not a key ssh2 can read'})` };
  }
  return { key: Array.isArray(parsed) ? parsed[0] : parsed };
}

async function authAttempts(endpoint: SshEndpoint): Promise<{ attempts: AuthAttempt[]; skipped: string[] }> {
  const attempts: AuthAttempt[] = [];
  const skipped: string[] = [];
  const { username, password } = endpoint;
  const addKey = async (path: string, quietIfMissing: boolean) => {
    const { key, skipped: why } = await loadKey(path, password);
    if (key) attempts.push({ type: 'publickey', username, key, label: `key ${path}` });
    else if (why && !(quietIfMissing && why.endsWith('(missing)'))) skipped.push(why);
  };
  for (const path of endpoint.identityFiles) await addKey(path, false);
  if (endpoint.agentSocket) attempts.push({ type: 'agent', username, agent: endpoint.agentSocket, label: 'ssh-agent' });
  for (const path of endpoint.defaultIdentityFiles) {
    if (!endpoint.identityFiles.includes(path)) await addKey(path, true);
  }
  if (password !== undefined) {
    attempts.push({ type: 'password', username, password, label: 'password' });
    attempts.push({ type: 'keyboard-interactive', username, label: 'password (keyboard-interactive)' });
  }
  return { attempts, skipped };
}

function hostKeyRefusal(verdict: HostKeyVerdict, endpoint: SshEndpoint, key: Buffer): BackendError {
  const where = `${endpoint.host}:${endpoint.port}`;
  const type = keyTypeOf(key);
  const files = [...endpoint.userKnownHostsFiles, ...endpoint.globalKnownHostsFiles].join(', ');
  const scan = `ssh-keyscan -p ${endpoint.port} -t ${type} ${endpoint.host} >> ${endpoint.userKnownHostsFiles[0] ?? '~/.ssh/known_hosts'}`;
  if (verdict.status === 'changed') {
    const e = verdict.entry!;
    return new BackendError('auth', `the ${type} host key of ${where} has CHANGED (now ${fingerprint(key)}; ${e.file} line ${e.line} has another one): refusing to connect, this may be a man-in-the-middle attack`, {
      hint: `if the server's key was changed on purpose, remove the old one (ssh-keygen -R "${knownHostsName(endpoint.host, endpoint.port)}" -f ${e.file}), then: ${scan}`,
    });
  }
  if (verdict.status === 'revoked') {
    return new BackendError('auth', `the host key of ${where} (${fingerprint(key)}) is marked @revoked in ${verdict.entry!.file} line ${verdict.entry!.line}: refusing to connect`, {
      hint: 'ask the server\'s administrator for its current host key',
    });
  }
  return new BackendError('auth', `the ${type} host key of ${where} (${fingerprint(key)}) is not in known_hosts (${files}): refusing to connect to an unknown server`, {
    hint: `compare the fingerprint with the server's (ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub there), then: ${scan}; or pass -oUserKnownHostsFile=FILE in --ssh-options`,
  });
}

/** Opens a connection and its SFTP channel, or fails with a classified BackendError. */
export async function connectSftp(endpoint: SshEndpoint): Promise<SftpSession> {
  const knownHosts = await loadKnownHosts([...endpoint.userKnownHostsFiles, ...endpoint.globalKnownHostsFiles]);
  const knownAlgorithms = [...new Set(keysFor(knownHosts, endpoint.host, endpoint.port)
    .filter((e) => !e.marker).flatMap((e) => algorithmsForKeyType(e.keyType)))];
  const { attempts, skipped } = await authAttempts(endpoint);
  const tried = attempts.map((a) => a.label).concat(skipped.map((s) => `skipped ${s}`)).join(', ') || 'nothing (no key, agent or password)';
  const where = `${endpoint.username}@${endpoint.host}:${endpoint.port}`;

  let refusal: BackendError | undefined;
  let next = 0;
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    readyTimeout: 30_000,
    // no SSH-level keepalive: ssh2's interval timer would keep an idle process from exiting;
    // TCP keepalive on our socket finds dead connections instead
    keepaliveInterval: 0,
    // a server with several host keys is asked for one whose type known_hosts has, as ssh does
    algorithms: knownAlgorithms.length > 0 ? { serverHostKey: { remove: knownAlgorithms, prepend: knownAlgorithms } as never } : undefined,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      const verdict = checkHostKey(knownHosts, endpoint.host, endpoint.port, key);
      const strict = endpoint.strictHostKeyChecking;
      if (verdict.status === 'known' || (strict === 'no' && verdict.status !== 'revoked')) return verify(true);
      if (verdict.status === 'unknown' && strict === 'accept-new' && endpoint.userKnownHostsFiles[0]) {
        appendKnownHost(endpoint.userKnownHostsFiles[0], endpoint.host, endpoint.port, key).then(
          () => verify(true),
          (err) => { refusal = new BackendError('permanent', `cannot record the host key of ${where} in ${endpoint.userKnownHostsFiles[0]}: ${(err as Error).message}`); verify(false); },
        );
        return;
      }
      refusal = hostKeyRefusal(verdict, endpoint, key);
      verify(false);
    },
    authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback: (next: never) => void) => {
      while (next < attempts.length) {
        const attempt = attempts[next++];
        const method = attempt.type === 'agent' ? 'publickey' : attempt.type;
        if (methodsLeft && !methodsLeft.includes(method as AuthenticationType)) continue;
        if (attempt.type === 'keyboard-interactive') {
          const password = endpoint.password!;
          return callback({ type: 'keyboard-interactive', username: attempt.username, prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (answers: string[]) => void) => finish(prompts.map(() => password)) } as never);
        }
        const { label: _label, ...auth } = attempt;
        return callback(auth as never);
      }
      callback(false as never);
    },
  };

  const client = new Client();
  const socket = connectTcp({ host: endpoint.host, port: endpoint.port });
  socket.setKeepAlive(true, 15_000);
  socket.setNoDelay(true);
  config.sock = socket;
  return new Promise<SftpSession>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(refusal ?? classifyConnectError(err, where, tried));
    };
    client.on('error', fail);
    client.on('close', () => fail(new Error('the server closed the connection')));
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) {
          fail(new BackendError('permanent', `ssh connection to ${where} works, but the server offers no SFTP subsystem: ${err.message}`, {
            hint: 'enable "Subsystem sftp" in the server\'s sshd_config',
          }));
          return;
        }
        settled = true;
        const session: SftpSession = { client, sftp, socket, closed: false };
        const closed = () => { session.closed = true; };
        client.removeListener('error', fail);
        client.on('error', closed);
        client.on('close', closed);
        client.on('end', closed);
        sftp.on('close', closed);
        resolve(session);
      });
    });
    client.connect(config);
  });
}

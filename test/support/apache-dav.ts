// A real WebDAV server for tests: Debian's Apache 2 with mod_dav_fs, started as a child with its own
// config in a temporary directory, on 127.0.0.1 and a free port, Basic or Digest auth, optionally TLS
// with a self-signed certificate made by openssl. As root, Apache's workers run as www-data.
import { accepts, freePort } from './ports.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const MODULES = '/usr/lib/apache2/modules';

export interface ApacheDavOptions {
  user: string;
  password: string;
  auth?: 'basic' | 'digest';
  tls?: boolean;
}

export interface ApacheDav {
  port: number;
  /** the served directory on disk: the document root, URL path / */
  root: string;
  /** PEM of the self-signed certificate (tls only) */
  certificateFile?: string;
  /** one line per request: method, path, status, the X-Lifeboat-Test header ("-" when absent) */
  accessLog(): string[];
  stop(): Promise<void>;
}

function wwwDataIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'www-data']).toString());
  const gid = Number(execFileSync('id', ['-g', 'www-data']).toString());
  return { uid, gid };
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, path]);
  chownSync(path, ids.uid, ids.gid);
}

export async function startApacheDav(options: ApacheDavOptions): Promise<ApacheDav> {
  const base = mkdtempSync(join(tmpdir(), 'lifeboat-apache-dav-'));
  const root = join(base, 'htdocs');
  for (const dir of [root, join(base, 'run'), join(base, 'lock')]) mkdirSync(dir, { recursive: true });
  const realm = 'lifeboat test';
  const auth = options.auth ?? 'basic';
  // the password files are written here, not by htpasswd/htdigest, so no password is in a process argument
  if (auth === 'basic') {
    const sha = createHash('sha1').update(options.password).digest('base64');
    writeFileSync(join(base, 'passwords'), `${options.user}:{SHA}${sha}\n`);
  } else {
    const ha1 = createHash('md5').update(`${options.user}:${realm}:${options.password}`).digest('hex');
    writeFileSync(join(base, 'passwords'), `${options.user}:${realm}:${ha1}\n`);
  }
  let certificateFile: string | undefined;
  if (options.tls) {
    certificateFile = join(base, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(base, 'key.pem'), '-out', certificateFile], { stdio: 'ignore' });
  }
  const ids = wwwDataIds();
  if (ids) chownTree(base, ids);

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const modules = ['mpm_event', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_basic', 'auth_digest', 'dav', 'dav_fs',
      ...(options.tls ? ['socache_shmcb', 'ssl'] : [])];
    const config = [
      `ServerRoot "${base}"`,
      `Listen 127.0.0.1:${port}`,
      'ServerName 127.0.0.1',
      `PidFile "${base}/run/httpd.pid"`,
      `DefaultRuntimeDir "${base}/run"`,
      `Mutex file:${base}/run default`,
      `ErrorLog "${base}/error.log"`,
      'LogLevel warn',
      // what tests check: method, path, status and the header --webdav-headers sends
      'LogFormat "%m %U %>s %{X-Lifeboat-Test}i" lifeboat',
      `CustomLog "${base}/access.log" lifeboat`,
      ...modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
      ...(ids ? ['User www-data', 'Group www-data'] : []),
      'StartServers 1', 'ServerLimit 1', 'ThreadsPerChild 16', 'MaxRequestWorkers 16',
      'LimitRequestBody 0',
      `DAVLockDB "${base}/lock/DAVLock"`,
      `DocumentRoot "${root}"`,
      ...(options.tls ? ['SSLEngine on', `SSLCertificateFile "${certificateFile}"`, `SSLCertificateKeyFile "${base}/key.pem"`] : []),
      `<Directory "${root}">`,
      '  Dav On',
      `  AuthType ${auth === 'basic' ? 'Basic' : 'Digest'}`,
      `  AuthName "${realm}"`,
      `  AuthUserFile "${base}/passwords"`,
      '  Require valid-user',
      '</Directory>',
      '',
    ].join('\n');
    writeFileSync(join(base, 'httpd.conf'), config);
    const child: ChildProcess = spawn('apache2', ['-d', base, '-f', join(base, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let exited = false;
    child.once('exit', () => { exited = true; });
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline && !(await accepts(port))) await sleep(50);
    if (!exited && Date.now() < deadline) {
      return {
        port, root, certificateFile,
        accessLog: () => readFileSync(join(base, 'access.log'), 'utf8').split('\n').filter((l) => l !== ''),
        stop: async () => {
          if (!exited) {
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await Promise.race([gone, sleep(5000)]);
            if (!exited) child.kill('SIGKILL');
          }
          rmSync(base, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    let log = '';
    try { log = readFileSync(join(base, 'error.log'), 'utf8'); } catch { /* none written */ }
    // another process took the port between probing and binding: try another one
    if (attempt < 3 && /Address already in use/.test(stderr + log)) continue;
    rmSync(base, { recursive: true, force: true });
    throw new Error(`apache2 did not start:\n${stderr}\n${log}`);
  }
}

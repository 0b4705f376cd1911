// The shared conformance suite through sftp:// and scp:// against Debian's real sshd on 127.0.0.1,
// then what only SSH has: host keys (unknown, changed, StrictHostKeyChecking=no), logins (wrong key,
// password, encrypted key with its passphrase in FTP_PASSWORD), relative paths, and no password in
// any message.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { BackendError } from '../../src/backend/errors.js';
import type { Backend } from '../../src/backend/types.js';
import type { BackendContext } from '../../src/backend/url.js';
import { isCi, requireProgram } from '../support/programs.js';
import { SSHD, keygen, startSshd, type SshServer } from '../support/sshd.js';
import { backendConformance, bufferSource } from './suite.js';

const available = existsSync(SSHD);
let server: Promise<SshServer> | undefined;
const sshd = () => (server ??= startSshd());
after(async () => { await (await server)?.stop(); });

/** a context that sees nothing of the machine's own ssh setup: HOME is the server's temp dir */
function contextFor(s: SshServer, sshOptions = s.sshOptions, env: NodeJS.ProcessEnv = {}): BackendContext {
  return { env: { HOME: s.dir, LOGNAME: 'root', ...env }, options: new Map([['ssh-options', sshOptions]]) };
}

function targetDir(s: SshServer, label: string): string {
  return join(s.dir, 'targets', label);
}

async function listNames(backend: Backend): Promise<string[]> {
  const names: string[] = [];
  for await (const { name } of backend.list()) names.push(name);
  return names;
}

function rejectsWith(kind: BackendError['kind'], pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BackendError, `a BackendError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(`${err.message}\n${err.hint ?? ''}`, pattern);
    return true;
  };
}

if (!available) {
  test('sftp backend needs sshd', (t) => { requireProgram(t, 'sshd', 'openssh-server'); });
} else {
  for (const scheme of ['sftp', 'scp', 'paramiko+sftp']) {
    backendConformance(`${scheme}:// (Debian sshd on 127.0.0.1)`, {
      open: async () => {
        const s = await sshd();
        return openBackend(`${scheme}://root@127.0.0.1:${s.port}/${targetDir(s, `${scheme} target`).replace(/ /g, '%20')}`, contextFor(s));
      },
    });
  }

  // a server that refuses posix-rename and fsync: puts fall back to delete + rename
  let restricted: Promise<SshServer> | undefined;
  after(async () => { await (await restricted)?.stop(); });
  backendConformance('sftp:// to sftp-server -P posix-rename,fsync (plain SFTP rename)', {
    open: async () => {
      const s = await (restricted ??= startSshd({ sftpServerFlags: ['-P', 'posix-rename,fsync'] }));
      return openBackend(`sftp://root@127.0.0.1:${s.port}/${targetDir(s, 'plain rename')}`, contextFor(s));
    },
    bigFileSize: 4 * 1024 * 1024 + 17,
  });

  describe('sftp:// specifics against Debian sshd', () => {
    let s: SshServer;
    const opened: Backend[] = [];
    const open = async (url: string, context: BackendContext) => {
      const backend = await openBackend(url, context);
      opened.push(backend);
      return backend;
    };
    before(async () => { s = await sshd(); });
    after(async () => { for (const b of opened) await b.close(); });

    it('creates a missing target directory with its parents, and puts there', async () => {
      const dir = targetDir(s, 'deep/er/still');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s));
      assert.deepEqual(await listNames(backend), [], 'a missing directory lists nothing');
      assert.ok(!existsSync(dir), 'listing does not create the directory');
      await backend.put('a', bufferSource(Buffer.from('hello')));
      assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'hello');
    });

    it('takes a path with one slash as relative to the login directory', async () => {
      // root's home is /root; "../<dir>" from there is the absolute <dir>
      const dir = targetDir(s, 'relative');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/..${dir}`, contextFor(s));
      await backend.put('rel', bufferSource(Buffer.from('relative')));
      assert.equal(readFileSync(join(dir, 'rel'), 'utf8'), 'relative');
    });

    it('takes the port from -oPort= when the URL has none', async () => {
      const dir = targetDir(s, 'port-option');
      const backend = await open(`sftp://root@127.0.0.1/${dir}`, contextFor(s, `${s.sshOptions} -oPort=${s.port}`));
      await backend.put('p', bufferSource(Buffer.from('port')));
      assert.deepEqual(await listNames(backend), ['p']);
    });

    it('refuses a server whose host key is not in known_hosts, with the ssh-keyscan hint', async () => {
      const empty = join(s.dir, 'empty_known_hosts');
      writeFileSync(empty, '');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}//tmp/never`,
        contextFor(s, `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${empty} -oGlobalKnownHostsFile=/dev/null`));
      await assert.rejects(listNames(backend), rejectsWith('auth', new RegExp(`not in known_hosts[\\s\\S]*ssh-keyscan -p ${s.port} -t ssh-ed25519 127\\.0\\.0\\.1`)));
      assert.equal(readFileSync(empty, 'utf8'), '', 'known_hosts is left alone');
    });

    it('refuses a server whose host key changed', async () => {
      const other = join(s.dir, 'other_host_key');
      keygen(other);
      const changed = join(s.dir, 'changed_known_hosts');
      const otherKey = readFileSync(`${other}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' ');
      writeFileSync(changed, `# a comment\n[127.0.0.1]:${s.port} ${otherKey}\n`);
      const backend = await open(`sftp://root@127.0.0.1:${s.port}//tmp/never`,
        contextFor(s, `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${changed} -oGlobalKnownHostsFile=/dev/null`));
      await assert.rejects(listNames(backend), rejectsWith('auth', /has CHANGED[\s\S]*line 2[\s\S]*ssh-keygen -R/));
    });

    it('finds the key in a hashed known_hosts (ssh-keygen -H), and with a different host name refuses', async () => {
      const hashed = join(s.dir, 'hashed_known_hosts');
      writeFileSync(hashed, readFileSync(s.knownHosts));
      const r = (await import('node:child_process')).spawnSync('ssh-keygen', ['-H', '-f', hashed]);
      assert.equal(r.status, 0, String(r.stderr));
      assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
      const dir = targetDir(s, 'hashed');
      const opts = `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${hashed} -oGlobalKnownHostsFile=/dev/null`;
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s, opts));
      await backend.put('h', bufferSource(Buffer.from('hashed')));
      assert.deepEqual(await listNames(backend), ['h']);
      const byName = await open(`sftp://root@localhost:${s.port}/${dir}`, contextFor(s, opts));
      await assert.rejects(listNames(byName), rejectsWith('auth', /not in known_hosts/));
    });

    it('connects to an unknown server with StrictHostKeyChecking=no, and records it with accept-new', async () => {
      const dir = targetDir(s, 'not-strict');
      const none = join(s.dir, 'missing', 'known_hosts');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`,
        contextFor(s, `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${none} -oGlobalKnownHostsFile=/dev/null -oStrictHostKeyChecking=no`));
      assert.deepEqual(await listNames(backend), []);
      assert.ok(!existsSync(none), 'StrictHostKeyChecking=no records nothing');
      const acceptNew = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`,
        contextFor(s, `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${none} -oGlobalKnownHostsFile=/dev/null -oStrictHostKeyChecking=accept-new`));
      assert.deepEqual(await listNames(acceptNew), []);
      assert.equal(readFileSync(none, 'utf8'), `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
      const strict = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`,
        contextFor(s, `-oIdentityFile=${s.clientKey} -oUserKnownHostsFile=${none} -oGlobalKnownHostsFile=/dev/null`));
      assert.deepEqual(await listNames(strict), [], 'the recorded key is trusted afterwards');
    });

    it('fails the login with a key the server does not know, as an auth error naming what was tried', async () => {
      const stranger = join(s.dir, 'stranger_key');
      keygen(stranger);
      const backend = await open(`sftp://root@127.0.0.1:${s.port}//tmp/never`,
        contextFor(s, `-oIdentityFile=${stranger} -oUserKnownHostsFile=${s.knownHosts} -oGlobalKnownHostsFile=/dev/null`));
      await assert.rejects(listNames(backend), rejectsWith('auth', new RegExp(`ssh login to root@127\\.0\\.0\\.1:${s.port} failed[\\s\\S]*key ${stranger}[\\s\\S]*IdentityFile`)));
    });

    it('unlocks an encrypted key with the passphrase from FTP_PASSWORD, and never shows it', async () => {
      const passphrase = 'key-Passphrase-6731';
      const locked = join(s.dir, 'locked_key');
      keygen(locked, 'ed25519', passphrase);
      const authorized = join(s.dir, 'authorized_keys');
      writeFileSync(authorized, readFileSync(authorized, 'utf8') + readFileSync(`${locked}.pub`, 'utf8'));
      const opts = `-oIdentityFile=${locked} -oUserKnownHostsFile=${s.knownHosts} -oGlobalKnownHostsFile=/dev/null`;
      const dir = targetDir(s, 'locked');
      const without = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s, opts));
      await assert.rejects(listNames(without), rejectsWith('auth', /locked_key \(encrypted, no passphrase in FTP_PASSWORD\)/));
      const wrong = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s, opts, { FTP_PASSWORD: 'not-it-9942' }));
      await assert.rejects(listNames(wrong), (err: unknown) => {
        assert.ok(err instanceof BackendError && err.kind === 'auth');
        assert.match(err.message, /wrong passphrase/);
        assert.doesNotMatch(`${err.message} ${err.hint}`, /not-it-9942/);
        return true;
      });
      const right = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s, opts, { FTP_PASSWORD: passphrase }));
      await right.put('k', bufferSource(Buffer.from('key')));
      assert.deepEqual(await listNames(right), ['k']);
      assert.doesNotMatch(right.displayUrl, new RegExp(passphrase));
    });

    it('reports a refused connection as transient', async () => {
      const { createServer } = await import('node:net');
      const probe = createServer();
      const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
      await new Promise((resolve) => probe.close(resolve));
      const backend = await open(`sftp://root@127.0.0.1:${port}//tmp/never`, contextFor(s));
      await assert.rejects(listNames(backend), rejectsWith('transient', /refused/));
    });

    it('reports a file in place of the target directory as a clear error, and leaves the file', async () => {
      const file = targetDir(s, 'a-file');
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'not a directory');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/${file}/sub`, contextFor(s));
      await assert.rejects(backend.put('x', bufferSource(Buffer.from('x'))), (err: unknown) => err instanceof BackendError && /create directory|put/.test(err.message));
      assert.ok(statSync(file).isFile());
      assert.equal(readFileSync(file, 'utf8'), 'not a directory');
    });

    it('reconnects after the server dropped the connection', async () => {
      const dir = targetDir(s, 'reconnect');
      const backend = await open(`sftp://root@127.0.0.1:${s.port}/${dir}`, contextFor(s));
      await backend.put('before', bufferSource(Buffer.from('1')));
      // kill this connection's sshd session process (a child of the listening sshd)
      const { execFileSync } = await import('node:child_process');
      const listener = Number(readFileSync(join(s.dir, 'sshd.pid'), 'utf8'));
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(listener)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
      assert.ok(children.length > 0, 'sshd has a session process');
      for (const pid of children) process.kill(Number(pid), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      const first = await listNames(backend).catch((err: unknown) => err);
      const names = Array.isArray(first) ? first : await listNames(backend);
      assert.deepEqual(names, ['before']);
    });
  });

  describe('sftp:// with a password (sshd in a private mount namespace)', () => {
    const password = 'pw-Secret-48213';
    let ps: SshServer | undefined;
    before(async () => {
      try {
        ps = await startSshd({ rootPassword: password });
      } catch (err) {
        if (isCi()) throw err;
        process.stderr.write(`\n*** SKIPPED password tests: ${(err as Error).message} ***\n`);
      }
    });
    after(async () => { await ps?.stop(); });

    it('logs in with the password from the URL or FTP_PASSWORD, and a wrong one is an auth error without it', async (t) => {
      if (!ps) return t.skip('sshd with a password could not start here');
      const noKeys = `-oUserKnownHostsFile=${ps.knownHosts} -oGlobalKnownHostsFile=/dev/null`;
      const dir = targetDir(ps, 'password');
      const inUrl = await openBackend(`sftp://root:${encodeURIComponent(password)}@127.0.0.1:${ps.port}/${dir}`, contextFor(ps, noKeys));
      await inUrl.put('url', bufferSource(Buffer.from('u')));
      assert.doesNotMatch(inUrl.displayUrl, new RegExp(password));
      await inUrl.close();
      const inEnv = await openBackend(`sftp://root@127.0.0.1:${ps.port}/${dir}`, contextFor(ps, noKeys, { FTP_PASSWORD: password }));
      assert.deepEqual(await listNames(inEnv), ['url']);
      await inEnv.close();
      const wrong = await openBackend(`sftp://root:wrong-Guess-1@127.0.0.1:${ps.port}/${dir}`, contextFor(ps, noKeys));
      await assert.rejects(listNames(wrong), (err: unknown) => {
        assert.ok(err instanceof BackendError && err.kind === 'auth', String(err));
        assert.doesNotMatch(`${err.message} ${err.hint} ${wrong.displayUrl}`, /wrong-Guess-1/);
        return true;
      });
      await wrong.close();
    });
  });
}


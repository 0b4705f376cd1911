// End to end over SFTP against Debian's sshd: `lifeboat duplicity full` and an incremental to an
// sftp:// target, restored by Lifeboat and by the real duplicity 0.8 (its paramiko SFTP backend, with
// the same --ssh-options), both compared with the source tree. Then with a password login: the
// password never shows in `ps` (process arguments), in Lifeboat's output or in its errors.
// DEBUG_ORACLE=1 prints every command with its output.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { makeTree, mutateTree } from '../support/make-tree.js';
import { requireProgram } from '../support/programs.js';
import { lifeboatBin, runProgram, type Run } from '../support/run.js';
import { SSHD, startSshd, type SshServer } from '../support/sshd.js';
import { describeTree, asRestored } from '../support/tree.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-sftp-oracle-'));
after(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
const fresh = (label: string) => join(work, `${label}-${counter++}`);

/** HOME is a scratch dir and there is no agent: only what --ssh-options names is used */
function envFor(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: work, ...extra };
  delete env.SSH_AUTH_SOCK;
  delete env.FTP_PASSWORD;
  return { ...env, ...extra };
}

function ok(r: Run): Run {
  if (process.env.DEBUG_ORACLE) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const lifeboat = (cache: string, args: string[], env = envFor()) =>
  runProgram(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--no-print-statistics', '--archive-dir', cache, ...args], env);

function assertSameTree(actual: string[], expected: string[], label: string): void {
  const missing = expected.filter((l) => !actual.includes(l));
  const extra = actual.filter((l) => !expected.includes(l));
  if (missing.length > 0 || extra.length > 0) {
    assert.fail(`${label}: trees differ\n- expected, not found:\n${missing.join('\n')}\n+ found, not expected:\n${extra.join('\n')}`);
  }
  assert.deepEqual(actual, expected, `${label}: same lines in another order`);
}

async function waitForNextSecond(): Promise<void> {
  await sleep(1100 - (Date.now() % 1000));
}

describe('lifeboat duplicity over sftp://, judged by duplicity 0.8 (paramiko)', () => {
  let server: SshServer;
  before(async () => { if (existsSync(SSHD)) server = await startSshd(); });
  after(async () => { await server?.stop(); });

  it('full + incremental by Lifeboat; Lifeboat and duplicity restore both states over SFTP', async (t) => {
    if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'sshd', 'openssh-server')) return;
    if (!existsSync(SSHD)) return;
    const source = fresh('source');
    // a random big file spreads the full over several 1 MiB volumes
    await makeTree(source, { bigFileBytes: 3 * 1024 * 1024 });
    const before = await describeTree(source);
    const remoteDir = fresh('remote target');
    const url = `sftp://root@127.0.0.1:${server.port}/${remoteDir.replace(/ /g, '%20')}`;
    const sshOptions = `--ssh-options=${server.sshOptions}`;
    const cache = fresh('lifeboat-cache');

    ok(await lifeboat(cache, ['full', '--volsize', '1', sshOptions, source, url]));
    const fullTime = readdirSync(remoteDir).find((n) => /^duplicity-full\.\d{8}T\d{6}Z\.manifest$/.test(n))!.slice(15, 31);
    assert.ok(readdirSync(remoteDir).filter((n) => n.includes('.vol')).length > 1, 'several volumes went over SFTP');
    await mutateTree(source);
    const afterChange = await describeTree(source);
    await waitForNextSecond();
    ok(await lifeboat(cache, ['incr', '--volsize', '1', sshOptions, source, url]));
    const files = readdirSync(remoteDir);
    assert.ok(files.some((n) => /^duplicity-inc\..*\.manifest$/.test(n)), files.join('\n'));
    assert.ok(!files.some((n) => n.includes('.lifeboat-part-')), 'no temporary names left on the server');

    const ours = fresh('lifeboat-restored');
    ok(await lifeboat(fresh('lifeboat-cache'), ['restore', sshOptions, url, ours]));
    assertSameTree(await describeTree(ours), asRestored(afterChange), 'Lifeboat restore (latest) over SFTP');

    const duplicityRestore = async (...args: string[]) => {
      const dest = fresh('duplicity-restored');
      ok(await runProgram('duplicity', ['restore', '--no-encryption', '--archive-dir', fresh('duplicity-cache'), sshOptions, ...args, url, dest], envFor()));
      return describeTree(dest);
    };
    assertSameTree(await duplicityRestore(), asRestored(afterChange), 'duplicity restore (latest) over SFTP');
    assertSameTree(await duplicityRestore('--time', fullTime), asRestored(before), 'duplicity restore (the full) over SFTP');
  });

  it('Lifeboat restores what duplicity stored over SFTP', async (t) => {
    if (!requireProgram(t, 'duplicity') || !requireProgram(t, 'sshd', 'openssh-server')) return;
    if (!existsSync(SSHD)) return;
    const source = fresh('source');
    await makeTree(source, { seed: 7 });
    const url = `sftp://root@127.0.0.1:${server.port}/${fresh('duplicity-target')}`;
    const sshOptions = `--ssh-options=${server.sshOptions}`;
    ok(await runProgram('duplicity', ['full', '--no-encryption', '--archive-dir', fresh('duplicity-cache'), sshOptions, source, url], envFor()));
    const ours = fresh('lifeboat-restored');
    ok(await lifeboat(fresh('lifeboat-cache'), ['restore', sshOptions, url, ours]));
    assertSameTree(await describeTree(ours), asRestored(await describeTree(source)), 'Lifeboat restore of duplicity\'s backup');
  });
});

/** Runs Lifeboat while sampling every process's arguments (`ps -eo args`) until it exits. */
async function runWatchingPs(args: string[], env: NodeJS.ProcessEnv): Promise<{ run: Run; samples: string[] }> {
  const child = spawn(process.execPath, [lifeboatBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  let exited = false;
  const code = new Promise<number>((resolve) => child.on('close', (c) => { exited = true; resolve(c ?? 128); }));
  const samples: string[] = [];
  while (!exited) {
    samples.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
    await sleep(25);
  }
  const stdoutBytes = Buffer.concat(out);
  return { run: { code: await code, stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(err).toString(), command: `lifeboat ${args.join(' ')}` }, samples };
}

describe('an sftp:// password stays secret', () => {
  const password = 'Sftp-Secret-90210';
  let server: SshServer | undefined;
  before(async () => { if (existsSync(SSHD)) server = await startSshd({ rootPassword: password }); });
  after(async () => { await server?.stop(); });

  it('never appears in process arguments, output or errors: URL password, FTP_PASSWORD, wrong password', async (t) => {
    if (!requireProgram(t, 'sshd', 'openssh-server') || !requireProgram(t, 'openssl') || !server) return;
    const source = fresh('source');
    await makeTree(source, { seed: 3 });
    const remoteDir = fresh('password-target');
    const knownHostsOnly = `--ssh-options=-oUserKnownHostsFile=${server.knownHosts} -oGlobalKnownHostsFile=/dev/null`;
    const cache = fresh('lifeboat-cache');
    const base = ['duplicity', '--no-encryption', '--archive-dir', cache, knownHostsOnly];

    const inUrl = await runWatchingPs([...base, 'full', source, `sftp://root:${password}@127.0.0.1:${server.port}/${remoteDir}`], envFor());
    ok(inUrl.run);
    // the password is in Lifeboat's own argv here, as the user typed it; no other process may show it
    const lifeboatLine = (l: string) => l.includes(lifeboatBin);
    assert.ok(inUrl.samples.some((s) => s.split('\n').some(lifeboatLine)), 'ps saw the lifeboat process');
    for (const sample of inUrl.samples) {
      for (const line of sample.split('\n').filter((l) => !lifeboatLine(l))) assert.doesNotMatch(line, new RegExp(password), 'no child process shows the password');
    }
    assert.doesNotMatch(inUrl.run.stdout + inUrl.run.stderr, new RegExp(password));

    await waitForNextSecond();
    const inEnv = await runWatchingPs([...base, 'incr', source, `sftp://root@127.0.0.1:${server.port}/${remoteDir}`], envFor({ FTP_PASSWORD: password }));
    ok(inEnv.run);
    assert.ok(inEnv.samples.length > 0);
    for (const sample of inEnv.samples) assert.doesNotMatch(sample, new RegExp(password), 'FTP_PASSWORD shows in no process arguments');
    assert.doesNotMatch(inEnv.run.stdout + inEnv.run.stderr, new RegExp(password));
    assert.ok(readdirSync(remoteDir).some((n) => /^duplicity-inc\..*\.manifest$/.test(n)));

    const wrong = 'Wrong-Guess-31337';
    const refused = await runWatchingPs([...base, 'incr', source, `sftp://root@127.0.0.1:${server.port}/${remoteDir}`], envFor({ FTP_PASSWORD: wrong }));
    assert.equal(refused.run.code, 51, 'a refused login is duplicity\'s "backend permission denied"');
    assert.match(refused.run.stderr, /ssh login to root@127\.0\.0\.1:\d+ failed/);
    assert.doesNotMatch(refused.run.stdout + refused.run.stderr, new RegExp(wrong));
    for (const sample of refused.samples) assert.doesNotMatch(sample, new RegExp(wrong));
  });
});

// Output that cannot be written. A reader that goes away (`lifeboat ... | head -1`) must not turn into
// a stack trace or a failed backup: what was left to print is dropped and the command ends with its
// own exit status. Any other failure (stdout on a full disk) is said in one line, and a command that
// otherwise succeeded exits non-zero: its output is incomplete.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { profileHome } from '../support/profile-env.js';
import { lifeboatBin } from '../support/run.js';

const home = profileHome('broken-pipe');
after(() => rmSync(home.root, { recursive: true, force: true }));
const source = join(home.root, 'src');
mkdirSync(source);
// enough names that a listing writes well past a pipe's 64 KiB after its reader has gone
for (let i = 0; i < 4000; i++) writeFileSync(join(source, `file-with-a-longish-name-${String(i).padStart(5, '0')}`), '');
const args = `--no-encryption --archive-dir ${join(home.root, 'cache')} --name pipe`;
const target = `file://${join(home.root, 'target')}`;
const profile = home.profile('pipe', `GPG_KEY='disabled'\nSOURCE='${source}'\nTARGET='file://${join(home.root, 'profile-target')}'\nARCH_DIR='${join(home.root, 'arch')}'\n`);

function shell(command: string) {
  return spawnSync('bash', ['-c', `set -o pipefail; ${command}`], { encoding: 'utf8', env: home.env });
}

test('output into a pipe whose reader has gone: no stack trace, the exit status of the command', () => {
  const lifeboat = `"${process.execPath}" "${lifeboatBin}"`;
  for (const command of [
    `duplicity full ${args} ${source} ${target}`,
    `duplicity list-current-files ${args} ${target}`,
    `${profile} backup`,
    `${profile} list`,
    `${profile} status`,
  ]) {
    const run = shell(`${lifeboat} ${command} | head -c 1 >/dev/null`);
    assert.equal(run.status, 0, `${command}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr, /\n\s+at |EPIPE|Unhandled|Error/, command);
  }
});

test('a standard output that cannot be written (a full disk): one line, and a listing that succeeded exits non-zero', () => {
  for (const [command, code] of [[`duplicity list-current-files ${args} ${target}`, ExitCode.userError], [`${profile} list`, ExitCode.profileCommandFailed]] as const) {
    const run = shell(`"${process.execPath}" "${lifeboatBin}" ${command} > /dev/full`);
    assert.equal(run.status, code, `${command}: ${run.stderr}`);
    assert.match(run.stderr, /^lifeboat: cannot write to the standard output \(ENOSPC\); the rest of it is lost$/m, command);
    assert.doesNotMatch(run.stderr, /\n\s+at /, command);
  }
});

// A reader that goes away (`lifeboat ... | head -1`) must not turn into a stack trace or a failed
// backup: what was left to print is dropped and the command ends with its own exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-broken-pipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const lifeboat = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;

test('output into a pipe whose reader has gone: no stack trace, the exit status of the command', () => {
  const source = join(dir, 'src');
  mkdirSync(source);
  // enough names that list-current-files writes well past a pipe's 64 KiB after head has gone
  for (let i = 0; i < 4000; i++) writeFileSync(join(source, `file-with-a-longish-name-${String(i).padStart(5, '0')}`), '');
  const args = `--no-encryption --archive-dir ${join(dir, 'cache')} --name pipe`;
  const target = `file://${join(dir, 'target')}`;
  for (const command of [`duplicity full ${args} ${source} ${target}`, `duplicity list-current-files ${args} ${target}`]) {
    const run = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${lifeboat}" ${command} | head -c 1 >/dev/null`], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${command}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr, /\n\s+at |EPIPE|Unhandled/, command);
  }
});

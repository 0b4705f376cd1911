// The warm-up a delta worker runs before its first job is a real delta: rdiff patches it into the new version.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireProgram } from '../../test/support/programs.js';
import { warmUpDelta } from './delta-warm-up.js';

test('the warm-up delta takes the copy, literal and short-tail paths, and rdiff patches it into the new version', (t) => {
  if (!requireProgram(t, 'rdiff')) return;
  const { basis, changed, delta } = warmUpDelta();
  // copies: most of the new version is basis blocks; literals: the inserted and rewritten bytes at least
  assert.ok(delta.length < changed.length / 4, `delta of ${delta.length} bytes for ${changed.length}: few copies`);
  assert.ok(delta.length > 714, `delta of ${delta.length} bytes: the 714 new bytes are not all in it`);
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-warm-up-'));
  try {
    writeFileSync(join(dir, 'basis'), basis);
    writeFileSync(join(dir, 'delta'), delta);
    execFileSync('rdiff', ['patch', join(dir, 'basis'), join(dir, 'delta'), join(dir, 'patched')]);
    assert.ok(readFileSync(join(dir, 'patched')).equals(changed), 'rdiff patch of the warm-up delta differs from its new version');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
